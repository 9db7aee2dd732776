package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

const refusalColumns = `id, unit_id, officer_id, year, number, reason, note, title, requester, created_at, received_at, due_at`

// CreateRefusal records a refused request and sets its ID, CreatedAt, Year and Number (the
// next refusal slip number of the unit and year, from 1). EINVALID for an unknown reason,
// "other" without its text, or text that cannot be printed; ENOTFOUND for an unknown unit or
// officer, EINVALID for an officer of another unit.
func (db *DB) CreateRefusal(ctx context.Context, r *chungthuc.Refusal) error {
	if err := ledger.PrepareRefusal(r, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		// Lock the unit's row: refusals of one unit are numbered one at a time.
		var id int64
		err := t.QueryRow(ctx, `SELECT id FROM units WHERE id = $1 FOR UPDATE`, r.UnitID).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "unit %d not found", r.UnitID)
		} else if err != nil {
			return err
		}
		o, err := officerByID(ctx, t, r.OfficerID)
		if err != nil {
			return err
		}
		if o.UnitID != r.UnitID {
			return chungthuc.Errorf(chungthuc.EINVALID, "officer %d does not belong to unit %d", o.ID, r.UnitID)
		}
		if err := t.QueryRow(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM refusals WHERE unit_id = $1 AND year = $2`,
			r.UnitID, r.Year).Scan(&r.Number); err != nil {
			return err
		}
		err = t.QueryRow(ctx, `INSERT INTO refusals (unit_id, officer_id, year, number, reason, note, title, requester, created_at, received_at, due_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			r.UnitID, r.OfficerID, r.Year, r.Number, string(r.Reason), r.Note, r.Title, r.Requester, r.CreatedAt, r.ReceivedAt, r.DueAt).Scan(&r.ID)
		if err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionRefuse, UnitID: r.UnitID, Actor: ledger.Officer(r.OfficerID),
			Subject: ledger.Subject("refusal", r.ID), Detail: ledger.Detail(map[string]any{"reason": r.Reason, "year": r.Year, "number": r.Number}),
		})
		return db.enqueueEvent(ctx, t, ledger.EventRefused, ledger.RefusalEvent(r))
	})
}

// RefusalByID returns a refusal; ENOTFOUND if none.
func (db *DB) RefusalByID(ctx context.Context, id int64) (*chungthuc.Refusal, error) {
	r, err := scanRefusal(db.pool.QueryRow(ctx, `SELECT `+refusalColumns+` FROM refusals WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "refusal %d not found", id)
	}
	return r, db.mapErr(err)
}

// Refusals lists a unit's refusals recorded from from (inclusive) to to (exclusive; zero
// times are open ends), oldest first.
func (db *DB) Refusals(ctx context.Context, unitID int64, from, to time.Time) ([]*chungthuc.Refusal, error) {
	var lo, hi *time.Time
	if !from.IsZero() {
		lo = &from
	}
	if !to.IsZero() {
		hi = &to
	}
	rows, err := db.pool.Query(ctx, `SELECT `+refusalColumns+` FROM refusals
		WHERE unit_id = $1 AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL OR created_at < $3)
		ORDER BY id`, unitID, lo, hi)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	rs := []*chungthuc.Refusal{}
	for rows.Next() {
		r, err := scanRefusal(rows)
		if err != nil {
			return nil, db.mapErr(err)
		}
		rs = append(rs, r)
	}
	return rs, db.mapErr(rows.Err())
}

func scanRefusal(row pgx.Row) (*chungthuc.Refusal, error) {
	var r chungthuc.Refusal
	var reason string
	if err := row.Scan(&r.ID, &r.UnitID, &r.OfficerID, &r.Year, &r.Number, &reason, &r.Note, &r.Title, &r.Requester, &r.CreatedAt, &r.ReceivedAt, &r.DueAt); err != nil {
		return nil, err
	}
	r.Reason, r.CreatedAt = chungthuc.RefusalReason(reason), r.CreatedAt.UTC()
	r.ReceivedAt, r.DueAt = utc(r.ReceivedAt), utc(r.DueAt)
	return &r, nil
}
