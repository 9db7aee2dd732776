package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// Rate records the one rating of an issued certification with its audit entry
// (chungthuc.Reports).
func (db *DB) Rate(ctx context.Context, r *chungthuc.Rating, actor string) error {
	if err := ledger.PrepareRating(r, actor); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		c, err := certificationForUpdate(ctx, t, r.CertificationID) // one rating at a time per entry
		if err != nil {
			return err
		}
		var n int
		if err := t.QueryRow(ctx, `SELECT count(*) FROM satisfaction_ratings WHERE certification_id = $1`, c.ID).Scan(&n); err != nil {
			return err
		}
		r.UnitID, r.CreatedAt = c.UnitID, ledger.Micro(db.now())
		a, err := ledger.Ratable(c, n, actor, r.CreatedAt)
		if err != nil {
			return err
		}
		t.audit(a)
		_, err = t.Exec(ctx, `INSERT INTO satisfaction_ratings (certification_id, unit_id, rating, comment, created_at) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, c.UnitID, string(r.Value), r.Comment, r.CreatedAt)
		return err
	})
}

// Rated reports whether certification id has been rated (chungthuc.Reports).
func (db *DB) Rated(ctx context.Context, id int64) (bool, error) {
	var rated bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM satisfaction_ratings WHERE certification_id = $1)`, id).Scan(&rated)
	return rated, db.mapErr(err)
}

// Statistics returns a unit's figures for [from, to) (chungthuc.Reports).
func (db *DB) Statistics(ctx context.Context, unitID int64, from, to, now time.Time) (*chungthuc.Statistics, error) {
	st := &chungthuc.Statistics{RefusalReasons: map[chungthuc.RefusalReason]int64{}, Ratings: map[chungthuc.Satisfaction]int64{}}
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*), COALESCE(SUM(copies), 0), count(*) FILTER (WHERE status = 'revoked'),
			COALESCE(SUM(pages), 0), COALESCE(SUM(fee_vnd), 0)
			FROM certifications WHERE unit_id = $1 AND certified_at >= $2 AND certified_at < $3 AND status IN ('issued', 'revoked')`,
			unitID, from, to).Scan(&st.Certifications, &st.Copies, &st.Revoked, &st.Pages, &st.Fees); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT count(*),
			count(*) FILTER (WHERE status IN ('issued', 'revoked') AND certified_at < due_at),
			count(*) FILTER (WHERE status IN ('issued', 'revoked') AND certified_at >= due_at),
			count(*) FILTER (WHERE status = 'pending' AND due_at <= $4),
			count(*) FILTER (WHERE status = 'pending' AND due_at > $4)
			FROM certifications WHERE unit_id = $1 AND received_at >= $2 AND received_at < $3 AND status <> 'void'`,
			unitID, from, to, now).Scan(&st.Received, &st.OnTime, &st.Late, &st.Overdue, &st.Pending); err != nil {
			return err
		}
		var rn, ro, rl int64
		if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE created_at < due_at), count(*) FILTER (WHERE created_at >= due_at)
			FROM refusals WHERE unit_id = $1 AND received_at >= $2 AND received_at < $3`, unitID, from, to).Scan(&rn, &ro, &rl); err != nil {
			return err
		}
		st.Received, st.OnTime, st.Late = st.Received+rn, st.OnTime+ro, st.Late+rl
		if err := countBy(ctx, tx, `SELECT reason, count(*) FROM refusals WHERE unit_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY reason`,
			[]any{unitID, from, to}, func(k string, n int64) { st.RefusalReasons[chungthuc.RefusalReason(k)] = n; st.Refusals += n }); err != nil {
			return err
		}
		return countBy(ctx, tx, `SELECT rating, count(*) FROM satisfaction_ratings WHERE unit_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY rating`,
			[]any{unitID, from, to}, func(k string, n int64) { st.Ratings[chungthuc.Satisfaction(k)] = n })
	})
	return st, db.mapErr(err)
}

// countBy runs a query of (key, count) rows and hands each to fn.
func countBy(ctx context.Context, tx pgx.Tx, q string, args []any, fn func(string, int64)) error {
	rows, err := tx.Query(ctx, q, args...)
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
