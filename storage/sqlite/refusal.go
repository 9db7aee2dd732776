package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

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
	return db.write(ctx, func(tx *sql.Tx) error {
		if _, err := unitByID(ctx, tx, r.UnitID); err != nil {
			return err
		}
		o, err := officerByID(ctx, tx, r.OfficerID)
		if err != nil {
			return err
		}
		if o.UnitID != r.UnitID {
			return chungthuc.Errorf(chungthuc.EINVALID, "officer %d does not belong to unit %d", o.ID, r.UnitID)
		}
		// The write transaction serialises writers: the next number cannot be taken twice.
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM refusals WHERE unit_id = ? AND year = ?`,
			r.UnitID, r.Year).Scan(&r.Number); err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO refusals (unit_id, officer_id, year, number, reason, note, title, requester, created_at, received_at, due_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			r.UnitID, r.OfficerID, r.Year, r.Number, string(r.Reason), r.Note, r.Title, r.Requester, ledger.FormatTime(r.CreatedAt),
			timeArg(r.ReceivedAt), timeArg(r.DueAt)).Scan(&r.ID)
		if err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionRefuse, UnitID: r.UnitID, Actor: ledger.Officer(r.OfficerID),
			Subject: ledger.Subject("refusal", r.ID), Detail: ledger.Detail(map[string]any{"reason": r.Reason, "year": r.Year, "number": r.Number}),
		}); err != nil {
			return err
		}
		return db.enqueueEvent(ctx, tx, ledger.EventRefused, ledger.RefusalEvent(r))
	})
}

// RefusalByID returns a refusal; ENOTFOUND if none.
func (db *DB) RefusalByID(ctx context.Context, id int64) (r *chungthuc.Refusal, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		r, err = scanRefusal(tx.QueryRowContext(ctx, `SELECT `+refusalColumns+` FROM refusals WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "refusal %d not found", id)
		}
		return err
	})
	return r, err
}

// Refusals lists a unit's refusals recorded from from (inclusive) to to (exclusive; zero
// times are open ends), oldest first.
func (db *DB) Refusals(ctx context.Context, unitID int64, from, to time.Time) (rs []*chungthuc.Refusal, err error) {
	lo, hi := "", "9999"
	if !from.IsZero() {
		lo = ledger.FormatTime(from)
	}
	if !to.IsZero() {
		hi = ledger.FormatTime(to)
	}
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+refusalColumns+` FROM refusals
			WHERE unit_id = ? AND created_at >= ? AND created_at < ? ORDER BY id`, unitID, lo, hi)
		if err != nil {
			return err
		}
		defer rows.Close()
		rs = []*chungthuc.Refusal{}
		for rows.Next() {
			r, err := scanRefusal(rows)
			if err != nil {
				return err
			}
			rs = append(rs, r)
		}
		return rows.Err()
	})
	return rs, err
}

func scanRefusal(s scanner) (*chungthuc.Refusal, error) {
	var r chungthuc.Refusal
	var reason, created string
	var received, due sql.NullString
	if err := s.Scan(&r.ID, &r.UnitID, &r.OfficerID, &r.Year, &r.Number, &reason, &r.Note, &r.Title, &r.Requester, &created, &received, &due); err != nil {
		return nil, err
	}
	r.Reason = chungthuc.RefusalReason(reason)
	var err error
	if r.ReceivedAt, err = nullTime(received); err != nil {
		return nil, err
	}
	if r.DueAt, err = nullTime(due); err != nil {
		return nil, err
	}
	r.CreatedAt, err = ledger.ParseTime(created)
	return &r, err
}
