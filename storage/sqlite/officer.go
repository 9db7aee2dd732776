package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

const officerColumns = `id, unit_id, name, title, role, active, cert_pem, titles, authority, decision_no,
	decision_date, valid_from, valid_until, signature_image, created_at`

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
			u, err := unitByID(ctx, tx, o.UnitID)
			if err != nil {
				return err
			}
			if err := ledger.CheckOfficerTitles(o, u); err != nil {
				return err
			}
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO officers (unit_id, name, title, role, active, cert_pem, titles, authority,
			decision_no, decision_date, valid_from, valid_until, signature_image, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			nullID(o.UnitID), o.Name, o.Title, string(o.Role), o.Active, o.CertPEM, jsonList(o.Titles), string(o.Authority),
			o.DecisionNo, timeArg(o.DecisionDate), timeArg(o.ValidFrom), timeArg(o.ValidUntil), o.SignatureImage,
			ledger.FormatTime(now)).Scan(&o.ID)
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

// UpdateOfficer records o's profile as an administrator set it: name, titles, role, active,
// authority and its decision, and signature image (not its unit, certificate or creation).
// EINVALID for a malformed record or a title outside the unit's list, ENOTFOUND for an
// unknown officer. Audited with the signature image's SHA-256.
func (db *DB) UpdateOfficer(ctx context.Context, o *chungthuc.Officer) error {
	if err := ledger.PrepareOfficer(o); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		old, err := officerByID(ctx, tx, o.ID)
		if err != nil {
			return err
		}
		o.UnitID, o.CertPEM, o.CreatedAt = old.UnitID, old.CertPEM, old.CreatedAt
		if o.UnitID != 0 {
			u, err := unitByID(ctx, tx, o.UnitID)
			if err != nil {
				return err
			}
			if err := ledger.CheckOfficerTitles(o, u); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE officers SET name = ?, title = ?, role = ?, active = ?, titles = ?,
			authority = ?, decision_no = ?, decision_date = ?, valid_from = ?, valid_until = ?, signature_image = ?
			WHERE id = ?`, o.Name, o.Title, string(o.Role), o.Active, jsonList(o.Titles), string(o.Authority), o.DecisionNo,
			timeArg(o.DecisionDate), timeArg(o.ValidFrom), timeArg(o.ValidUntil), o.SignatureImage, o.ID); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionOfficerUpdate, UnitID: o.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("officer", o.ID), Detail: ledger.Detail(ledger.OfficerDetail(o)),
		})
	})
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
	var role, created, titles, authority string
	var decided, from, until sql.NullString
	if err := s.Scan(&o.ID, &unit, &o.Name, &o.Title, &role, &o.Active, &o.CertPEM, &titles, &authority, &o.DecisionNo,
		&decided, &from, &until, &o.SignatureImage, &created); err != nil {
		return nil, err
	}
	o.UnitID, o.Role, o.Authority = unit.Int64, chungthuc.Role(role), chungthuc.Authority(authority)
	var err error
	if o.Titles, err = parseList(titles); err != nil {
		return nil, err
	}
	if o.DecisionDate, err = nullTime(decided); err != nil {
		return nil, err
	}
	if o.ValidFrom, err = nullTime(from); err != nil {
		return nil, err
	}
	if o.ValidUntil, err = nullTime(until); err != nil {
		return nil, err
	}
	o.CreatedAt, err = ledger.ParseTime(created)
	return &o, err
}
