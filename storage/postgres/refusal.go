package postgres

import (
	"context"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// CreateRefusal records a refused request and sets its ID and CreatedAt. EINVALID for an
// unknown reason, ENOTFOUND for an unknown unit or officer, EINVALID for an officer of another
// unit.
func (db *DB) CreateRefusal(ctx context.Context, r *chungthuc.Refusal) error {
	if err := ledger.PrepareRefusal(r, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		if _, err := unitByID(ctx, t, r.UnitID); err != nil {
			return err
		}
		o, err := officerByID(ctx, t, r.OfficerID)
		if err != nil {
			return err
		}
		if o.UnitID != r.UnitID {
			return chungthuc.Errorf(chungthuc.EINVALID, "officer %d does not belong to unit %d", o.ID, r.UnitID)
		}
		err = t.QueryRow(ctx, `INSERT INTO refusals (unit_id, officer_id, reason, note, title, requester, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			r.UnitID, r.OfficerID, string(r.Reason), r.Note, r.Title, r.Requester, r.CreatedAt).Scan(&r.ID)
		if err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionRefuse, UnitID: r.UnitID, Actor: ledger.Officer(r.OfficerID),
			Subject: ledger.Subject("refusal", r.ID), Detail: ledger.Detail(map[string]any{"reason": r.Reason}),
		})
		return db.enqueueEvent(ctx, t, ledger.EventRefused, ledger.RefusalEvent(r))
	})
}
