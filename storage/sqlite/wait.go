package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// AwaitSignature records that a Pending entry waits for a signature made outside the
// service (see chungthuc.SignatureWaits), audited in the same transaction.
func (db *DB) AwaitSignature(ctx context.Context, w *chungthuc.SignatureWait, actor string) error {
	if err := ledger.CheckWait(w, actor); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		c, err := certificationByID(ctx, tx, w.CertificationID)
		if err != nil {
			return err
		}
		var have string
		err = tx.QueryRowContext(ctx, `SELECT step FROM signature_waits WHERE certification_id = ?`, c.ID).Scan(&have)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if c.Status != chungthuc.StatusPending {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "certification %d is %s and cannot wait for a signature", c.ID, c.Status)
		}
		now := db.now()
		switch {
		case w.Step == chungthuc.StepOfficerSignature && have == "":
			_, err = tx.ExecContext(ctx, `INSERT INTO signature_waits (certification_id, unit_id, step, expires_at, state, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)`, c.ID, c.UnitID, string(w.Step), ledger.FormatTime(w.ExpiresAt), w.State, ledger.FormatTime(now))
		case w.Step == chungthuc.StepSeal && have == string(chungthuc.StepOfficerSignature):
			_, err = tx.ExecContext(ctx, `UPDATE signature_waits SET step = ?, expires_at = ?, state = ?, updated_at = ?
				WHERE certification_id = ?`, string(w.Step), ledger.FormatTime(w.ExpiresAt), w.State, ledger.FormatTime(now), c.ID)
		default:
			return ledger.WaitConflict(c.ID, w.Step, have)
		}
		if err != nil {
			return err
		}
		w.UnitID, w.UpdatedAt, w.ExpiresAt = c.UnitID, ledger.Micro(now), ledger.Micro(w.ExpiresAt)
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: chungthuc.ActionAwaitSignature, UnitID: c.UnitID, Actor: actor,
			Subject: ledger.Subject("certification", c.ID), Detail: ledger.WaitDetail(c, w),
		})
	})
}

const waitColumns = `certification_id, unit_id, step, expires_at, updated_at`

// SignatureWait returns an entry's wait, closed or open; ENOTFOUND when it never had one.
func (db *DB) SignatureWait(ctx context.Context, id int64) (w *chungthuc.SignatureWait, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		w, err = scanWait(tx.QueryRowContext(ctx, `SELECT `+waitColumns+`, state FROM signature_waits WHERE certification_id = ?`, id), true)
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "certification %d does not wait for a signature", id)
		}
		return err
	})
	return w, err
}

// SignatureWaits lists open waits of a unit (or all) at a step (or both), soonest first,
// without their state (a state holds a prepared file of megabytes; a queue page lists dozens).
func (db *DB) SignatureWaits(ctx context.Context, unitID int64, step chungthuc.SignatureStep, limit int) ([]*chungthuc.SignatureWait, error) {
	return db.waits(ctx, `SELECT `+waitColumns+` FROM signature_waits
		WHERE step <> 'closed' AND (? = 0 OR unit_id = ?) AND (? = '' OR step = ?)
		ORDER BY expires_at, certification_id LIMIT ?`, false, unitID, unitID, string(step), string(step), ledger.WaitLimit(limit))
}

// ExpiredWaits lists open waits whose deadline is at or before now, without their state.
func (db *DB) ExpiredWaits(ctx context.Context, now time.Time, limit int) ([]*chungthuc.SignatureWait, error) {
	return db.waits(ctx, `SELECT `+waitColumns+` FROM signature_waits
		WHERE step <> 'closed' AND expires_at <= ? ORDER BY expires_at, certification_id LIMIT ?`,
		false, ledger.FormatTime(now), ledger.WaitLimit(limit))
}

func (db *DB) waits(ctx context.Context, query string, state bool, args ...any) (ws []*chungthuc.SignatureWait, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			w, err := scanWait(rows, state)
			if err != nil {
				return err
			}
			ws = append(ws, w)
		}
		return rows.Err()
	})
	return ws, err
}

func scanWait(s scanner, state bool) (*chungthuc.SignatureWait, error) {
	w := &chungthuc.SignatureWait{}
	var step, expires, updated string
	dst := []any{&w.CertificationID, &w.UnitID, &step, &expires, &updated}
	if state {
		dst = append(dst, &w.State)
	}
	if err := s.Scan(dst...); err != nil {
		return nil, err
	}
	w.Step = chungthuc.SignatureStep(step)
	var err error
	if w.ExpiresAt, err = ledger.ParseTime(expires); err != nil {
		return nil, err
	}
	if w.UpdatedAt, err = ledger.ParseTime(updated); err != nil {
		return nil, err
	}
	return w, nil
}

// SetUnitExternalSigning records the certificate of the unit's seal applied outside the
// service and the unit's default signing mode (see chungthuc.Directory), audited.
func (db *DB) SetUnitExternalSigning(ctx context.Context, id int64, sealCertPEM []byte, byDefault bool) error {
	detail, err := ledger.UnitExternalDetail(sealCertPEM, byDefault)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		if _, err := unitByID(ctx, tx, id); err != nil {
			return err
		}
		if len(sealCertPEM) == 0 {
			sealCertPEM = nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE units SET seal_cert_pem = ?, external_signing = ? WHERE id = ?`, sealCertPEM, byDefault, id); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionUnitExternal, UnitID: id, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("unit", id), Detail: detail,
		})
	})
}
