package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// Rate records the one rating of an issued certification with its audit entry
// (chungthuc.Reports).
func (db *DB) Rate(ctx context.Context, r *chungthuc.Rating, actor string) error {
	if err := ledger.PrepareRating(r, actor); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		c, err := certificationByID(ctx, tx, r.CertificationID)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM satisfaction_ratings WHERE certification_id = ?`, c.ID).Scan(&n); err != nil {
			return err
		}
		r.UnitID, r.CreatedAt = c.UnitID, ledger.Micro(db.now())
		a, err := ledger.Ratable(c, n, actor, r.CreatedAt)
		if err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, a); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO satisfaction_ratings (certification_id, unit_id, rating, comment, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.ID, c.UnitID, string(r.Value), r.Comment, ledger.FormatTime(r.CreatedAt))
		return err
	})
}

// Rated reports whether certification id has been rated (chungthuc.Reports).
func (db *DB) Rated(ctx context.Context, id int64) (rated bool, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM satisfaction_ratings WHERE certification_id = ?)`, id).Scan(&rated)
	})
	return rated, err
}

// Statistics returns a unit's figures for [from, to) (chungthuc.Reports). Times are stored
// as fixed-width UTC text, so comparing the text compares the times.
func (db *DB) Statistics(ctx context.Context, unitID int64, from, to, now time.Time) (*chungthuc.Statistics, error) {
	st := &chungthuc.Statistics{RefusalReasons: map[chungthuc.RefusalReason]int64{}, Ratings: map[chungthuc.Satisfaction]int64{}}
	lo, hi, at := ledger.FormatTime(from), ledger.FormatTime(to), ledger.FormatTime(now)
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*), COALESCE(SUM(copies), 0), COALESCE(SUM(status = 'revoked'), 0),
			COALESCE(SUM(pages), 0), COALESCE(SUM(fee_vnd), 0)
			FROM certifications WHERE unit_id = ? AND certified_at >= ? AND certified_at < ? AND status IN ('issued', 'revoked')`,
			unitID, lo, hi).Scan(&st.Certifications, &st.Copies, &st.Revoked, &st.Pages, &st.Fees); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*),
			COALESCE(SUM(status IN ('issued', 'revoked') AND certified_at < due_at), 0),
			COALESCE(SUM(status IN ('issued', 'revoked') AND certified_at >= due_at), 0),
			COALESCE(SUM(status = 'pending' AND due_at <= ?), 0),
			COALESCE(SUM(status = 'pending' AND due_at > ?), 0)
			FROM certifications WHERE unit_id = ? AND received_at >= ? AND received_at < ? AND status <> 'void'`,
			at, at, unitID, lo, hi).Scan(&st.Received, &st.OnTime, &st.Late, &st.Overdue, &st.Pending); err != nil {
			return err
		}
		var rn, ro, rl int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*), COALESCE(SUM(created_at < due_at), 0), COALESCE(SUM(created_at >= due_at), 0)
			FROM refusals WHERE unit_id = ? AND received_at >= ? AND received_at < ?`, unitID, lo, hi).Scan(&rn, &ro, &rl); err != nil {
			return err
		}
		st.Received, st.OnTime, st.Late = st.Received+rn, st.OnTime+ro, st.Late+rl
		if err := countBy(ctx, tx, `SELECT reason, count(*) FROM refusals WHERE unit_id = ? AND created_at >= ? AND created_at < ? GROUP BY reason`,
			[]any{unitID, lo, hi}, func(k string, n int64) { st.RefusalReasons[chungthuc.RefusalReason(k)] = n; st.Refusals += n }); err != nil {
			return err
		}
		return countBy(ctx, tx, `SELECT rating, count(*) FROM satisfaction_ratings WHERE unit_id = ? AND created_at >= ? AND created_at < ? GROUP BY rating`,
			[]any{unitID, lo, hi}, func(k string, n int64) { st.Ratings[chungthuc.Satisfaction(k)] = n })
	})
	return st, err
}

// countBy runs a query of (key, count) rows and hands each to fn.
func countBy(ctx context.Context, tx *sql.Tx, q string, args []any, fn func(string, int64)) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		fn(k, n)
	}
	return rows.Err()
}
