package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

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
	return db.write(ctx, func(t *txn) error {
		if o.UnitID != 0 {
			u, err := unitByID(ctx, t, o.UnitID)
			if err != nil {
				return err
			}
			if err := ledger.CheckOfficerTitles(o, u); err != nil {
				return err
			}
		}
		err := t.QueryRow(ctx, `INSERT INTO officers (unit_id, name, title, role, active, cert_pem, titles, authority,
			decision_no, decision_date, valid_from, valid_until, signature_image, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			nullID(o.UnitID), o.Name, o.Title, string(o.Role), o.Active, o.CertPEM, o.Titles, string(o.Authority),
			o.DecisionNo, o.DecisionDate, o.ValidFrom, o.ValidUntil, o.SignatureImage, now).Scan(&o.ID)
		if err != nil {
			return err
		}
		o.CreatedAt = now
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionOfficerCreate, UnitID: o.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("officer", o.ID),
			Detail:  ledger.Detail(map[string]any{"name": o.Name, "role": o.Role, "active": o.Active}),
		})
		return nil
	})
}

// OfficerByID returns the officer with this ID; ENOTFOUND if none.
func (db *DB) OfficerByID(ctx context.Context, id int64) (*chungthuc.Officer, error) {
	o, err := officerByID(ctx, db.pool, id)
	return o, db.mapErr(err)
}

// UpdateOfficer records o's profile as an administrator set it: name, titles, role, active,
// authority and its decision, and signature image (not its unit, certificate or creation).
// EINVALID for a malformed record or a title outside the unit's list, ENOTFOUND for an
// unknown officer. Audited with the signature image's SHA-256.
func (db *DB) UpdateOfficer(ctx context.Context, o *chungthuc.Officer) error {
	if err := ledger.PrepareOfficer(o); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		old, err := officerByID(ctx, t, o.ID)
		if err != nil {
			return err
		}
		o.UnitID, o.CertPEM, o.CreatedAt = old.UnitID, old.CertPEM, old.CreatedAt
		if o.UnitID != 0 {
			u, err := unitByID(ctx, t, o.UnitID)
			if err != nil {
				return err
			}
			if err := ledger.CheckOfficerTitles(o, u); err != nil {
				return err
			}
		}
		if _, err := t.Exec(ctx, `UPDATE officers SET name = $1, title = $2, role = $3, active = $4, titles = $5,
			authority = $6, decision_no = $7, decision_date = $8, valid_from = $9, valid_until = $10, signature_image = $11
			WHERE id = $12`, o.Name, o.Title, string(o.Role), o.Active, o.Titles, string(o.Authority), o.DecisionNo,
			o.DecisionDate, o.ValidFrom, o.ValidUntil, o.SignatureImage, o.ID); err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionOfficerUpdate, UnitID: o.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("officer", o.ID), Detail: ledger.Detail(ledger.OfficerDetail(o)),
		})
		return nil
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
	return db.write(ctx, func(t *txn) error {
		var unit *int64
		err := t.QueryRow(ctx, `UPDATE officers SET cert_pem = $1 WHERE id = $2 RETURNING unit_id`, certPEM, id).Scan(&unit)
		if errors.Is(err, pgx.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "officer %d not found", id)
		} else if err != nil {
			return err
		}
		var unitID int64
		if unit != nil {
			unitID = *unit
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionOfficerCert, UnitID: unitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("officer", id), Detail: ledger.Detail(detail),
		})
		return nil
	})
}

func officerByID(ctx context.Context, q querier, id int64) (*chungthuc.Officer, error) {
	o, err := scanOfficer(q.QueryRow(ctx, `SELECT `+officerColumns+` FROM officers WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "officer %d not found", id)
	}
	return o, err
}

func scanOfficer(row pgx.Row) (*chungthuc.Officer, error) {
	var o chungthuc.Officer
	var unit *int64
	var role, authority string
	if err := row.Scan(&o.ID, &unit, &o.Name, &o.Title, &role, &o.Active, &o.CertPEM, &o.Titles, &authority, &o.DecisionNo,
		&o.DecisionDate, &o.ValidFrom, &o.ValidUntil, &o.SignatureImage, &o.CreatedAt); err != nil {
		return nil, err
	}
	if unit != nil {
		o.UnitID = *unit
	}
	if o.Titles == nil {
		o.Titles = []string{}
	}
	for _, t := range []*time.Time{o.DecisionDate, o.ValidFrom, o.ValidUntil} {
		if t != nil {
			*t = t.UTC()
		}
	}
	o.Role, o.Authority, o.CreatedAt = chungthuc.Role(role), chungthuc.Authority(authority), o.CreatedAt.UTC()
	return &o, nil
}
