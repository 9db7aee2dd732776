package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

const officerColumns = `id, unit_id, name, title, role, active, cert_pem, created_at`

// CreateOfficer stores o and sets its ID and CreatedAt. EINVALID for a malformed officer,
// ENOTFOUND when its unit does not exist.
func (db *DB) CreateOfficer(ctx context.Context, o *chungthuc.Officer) error {
	if err := ledger.PrepareOfficer(o); err != nil {
		return err
	}
	if len(o.CertPEM) > 0 {
		if _, err := ledger.CertFingerprint(o.CertPEM); err != nil {
			return err
		}
	}
	now := ledger.Micro(db.now())
	return db.write(ctx, func(tx *sql.Tx) error {
		if o.UnitID != 0 {
			if _, err := unitByID(ctx, tx, o.UnitID); err != nil {
				return err
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO officers (unit_id, name, title, role, active, cert_pem, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			nullID(o.UnitID), o.Name, o.Title, string(o.Role), o.Active, o.CertPEM, ledger.FormatTime(now)).Scan(&o.ID)
		if err != nil {
			return err
		}
		o.CreatedAt = now
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionOfficerCreate, UnitID: o.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("officer", o.ID),
			Detail:  ledger.Detail(map[string]any{"name": o.Name, "role": o.Role, "active": o.Active}),
		})
	})
}

// OfficerByID returns the officer with this ID; ENOTFOUND if none.
func (db *DB) OfficerByID(ctx context.Context, id int64) (o *chungthuc.Officer, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		o, err = officerByID(ctx, tx, id)
		return err
	})
	return o, err
}

// SetOfficerCert replaces the officer's signing certificate (PEM; empty removes it). EINVALID
// when certPEM holds no X.509 certificate, ENOTFOUND when the officer does not exist.
func (db *DB) SetOfficerCert(ctx context.Context, id int64, certPEM []byte) error {
	detail := map[string]any{"removed": true}
	if len(certPEM) > 0 {
		fp, err := ledger.CertFingerprint(certPEM)
		if err != nil {
			return err
		}
		detail = map[string]any{"cert_sha256": fp}
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		o, err := officerByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE officers SET cert_pem = ? WHERE id = ?`, certPEM, id); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionOfficerCert, UnitID: o.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("officer", id), Detail: ledger.Detail(detail),
		})
	})
}

func officerByID(ctx context.Context, tx *sql.Tx, id int64) (*chungthuc.Officer, error) {
	o, err := scanOfficer(tx.QueryRowContext(ctx, `SELECT `+officerColumns+` FROM officers WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "officer %d not found", id)
	}
	return o, err
}

func scanOfficer(s scanner) (*chungthuc.Officer, error) {
	var o chungthuc.Officer
	var unit sql.NullInt64
	var role, created string
	if err := s.Scan(&o.ID, &unit, &o.Name, &o.Title, &role, &o.Active, &o.CertPEM, &created); err != nil {
		return nil, err
	}
	o.UnitID, o.Role = unit.Int64, chungthuc.Role(role)
	var err error
	o.CreatedAt, err = ledger.ParseTime(created)
	return &o, err
}
