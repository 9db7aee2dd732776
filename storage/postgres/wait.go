package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// AwaitSignature records that a Pending entry waits for a signature made outside the
// service (see chungthuc.SignatureWaits), audited in the same transaction. The entry's row
// is locked first, so two instances advancing the same wait are serialised.
func (db *DB) AwaitSignature(ctx context.Context, w *chungthuc.SignatureWait, actor string) error {
	if err := ledger.CheckWait(w, actor); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		c, err := certificationForUpdate(ctx, t, w.CertificationID)
		if err != nil {
			return err
		}
		var have string
		err = t.QueryRow(ctx, `SELECT step FROM signature_waits WHERE certification_id = $1`, c.ID).Scan(&have)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if c.Status != chungthuc.StatusPending {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "certification %d is %s and cannot wait for a signature", c.ID, c.Status)
		}
		now := ledger.Micro(db.now())
		switch {
		case w.Step == chungthuc.StepOfficerSignature && have == "":
			_, err = t.Exec(ctx, `INSERT INTO signature_waits (certification_id, unit_id, step, expires_at, state, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, c.ID, c.UnitID, string(w.Step), ledger.Micro(w.ExpiresAt), w.State, now)
		case w.Step == chungthuc.StepSeal && have == string(chungthuc.StepOfficerSignature):
			_, err = t.Exec(ctx, `UPDATE signature_waits SET step = $1, expires_at = $2, state = $3, updated_at = $4
				WHERE certification_id = $5`, string(w.Step), ledger.Micro(w.ExpiresAt), w.State, now, c.ID)
		default:
			return ledger.WaitConflict(c.ID, w.Step, have)
		}
		if err != nil {
			return err
		}
		w.UnitID, w.UpdatedAt, w.ExpiresAt = c.UnitID, now, ledger.Micro(w.ExpiresAt)
		t.audit(&chungthuc.AuditEntry{
			Action: chungthuc.ActionAwaitSignature, UnitID: c.UnitID, Actor: actor,
			Subject: ledger.Subject("certification", c.ID), Detail: ledger.WaitDetail(c, w),
		})
		return nil
	})
}

const waitColumns = `certification_id, unit_id, step, expires_at, updated_at`

// SignatureWait returns an entry's wait, closed or open; ENOTFOUND when it never had one.
func (db *DB) SignatureWait(ctx context.Context, id int64) (*chungthuc.SignatureWait, error) {
	w, err := scanWait(db.pool.QueryRow(ctx, `SELECT `+waitColumns+`, state FROM signature_waits WHERE certification_id = $1`, id), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "certification %d does not wait for a signature", id)
	}
	return w, db.mapErr(err)
}

// SignatureWaits lists open waits of a unit (or all) at a step (or both), soonest first,
// without their state (a state holds a prepared file of megabytes; a queue page lists dozens).
func (db *DB) SignatureWaits(ctx context.Context, unitID int64, step chungthuc.SignatureStep, limit int) ([]*chungthuc.SignatureWait, error) {
	return db.waits(ctx, `SELECT `+waitColumns+` FROM signature_waits
		WHERE step <> 'closed' AND ($1::bigint = 0 OR unit_id = $1::bigint) AND ($2::text = '' OR step = $2::text)
		ORDER BY expires_at, certification_id LIMIT $3`, false, unitID, string(step), ledger.WaitLimit(limit))
}

// ExpiredWaits lists open waits whose deadline is at or before now, without their state.
func (db *DB) ExpiredWaits(ctx context.Context, now time.Time, limit int) ([]*chungthuc.SignatureWait, error) {
	return db.waits(ctx, `SELECT `+waitColumns+` FROM signature_waits
		WHERE step <> 'closed' AND expires_at <= $1 ORDER BY expires_at, certification_id LIMIT $2`,
		false, ledger.Micro(now), ledger.WaitLimit(limit))
}

func (db *DB) waits(ctx context.Context, query string, state bool, args ...any) ([]*chungthuc.SignatureWait, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	var ws []*chungthuc.SignatureWait
	for rows.Next() {
		w, err := scanWait(rows, state)
		if err != nil {
			return nil, db.mapErr(err)
		}
		ws = append(ws, w)
	}
	return ws, db.mapErr(rows.Err())
}

func scanWait(row pgx.Row, state bool) (*chungthuc.SignatureWait, error) {
	w := &chungthuc.SignatureWait{}
	var step string
	dst := []any{&w.CertificationID, &w.UnitID, &step, &w.ExpiresAt, &w.UpdatedAt}
	if state {
		dst = append(dst, &w.State)
	}
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	w.Step = chungthuc.SignatureStep(step)
	w.ExpiresAt, w.UpdatedAt = w.ExpiresAt.UTC(), w.UpdatedAt.UTC()
	return w, nil
}

// SetUnitExternalSigning records the certificate of the unit's seal applied outside the
// service and the unit's default signing mode (see chungthuc.Directory), audited.
func (db *DB) SetUnitExternalSigning(ctx context.Context, id int64, sealCertPEM []byte, byDefault bool) error {
	detail, err := ledger.UnitExternalDetail(sealCertPEM, byDefault)
	if err != nil {
		return err
	}
	if len(sealCertPEM) == 0 {
		sealCertPEM = nil
	}
	return db.write(ctx, func(t *txn) error {
		tag, err := t.Exec(ctx, `UPDATE units SET seal_cert_pem = $1, external_signing = $2 WHERE id = $3`, sealCertPEM, byDefault, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "unit %d not found", id)
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionUnitExternal, UnitID: id, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("unit", id), Detail: detail,
		})
		return nil
	})
}
