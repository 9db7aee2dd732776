package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

const unitColumns = `id, code, name, place, seal_image, body, province, seal_mm, demo, titles, seal_cert_pem, external_signing, created_at`

// CreateUnit stores u and sets its ID and CreatedAt. EINVALID for a malformed unit, ECONFLICT
// when the code is taken.
func (db *DB) CreateUnit(ctx context.Context, u *chungthuc.Unit) error {
	if err := ledger.PrepareUnit(u); err != nil {
		return err
	}
	now := ledger.Micro(db.now())
	return db.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM units WHERE code = ?`, u.Code).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "unit code %q is taken", u.Code)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO units (code, name, place, seal_image, body, province, seal_mm, demo, titles, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Code, u.Name, u.Place, u.SealImage, u.Body, u.Province, u.SealMM, u.Demo, jsonList(u.Titles), ledger.FormatTime(now)).Scan(&u.ID)
		if err != nil {
			return err
		}
		u.CreatedAt = now
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionUnitCreate, UnitID: u.ID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("unit", u.ID), Detail: ledger.Detail(map[string]any{"code": u.Code, "name": u.Name}),
		})
	})
}

// UpdateUnit records u's profile: name, place, body, province, seal image and size, and
// allowed titles (its code, demo mark and creation stay). EINVALID for a malformed unit,
// ENOTFOUND for an unknown one. Audited with the seal image's SHA-256.
func (db *DB) UpdateUnit(ctx context.Context, u *chungthuc.Unit) error {
	if err := ledger.PrepareUnit(u); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		old, err := unitByID(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE units SET name = ?, place = ?, seal_image = ?, body = ?, province = ?,
			seal_mm = ?, titles = ? WHERE id = ?`, u.Name, u.Place, u.SealImage, u.Body, u.Province, u.SealMM, jsonList(u.Titles), u.ID); err != nil {
			return err
		}
		u.Code, u.Demo, u.CreatedAt = old.Code, old.Demo, old.CreatedAt
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionUnitUpdate, UnitID: u.ID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("unit", u.ID), Detail: ledger.Detail(ledger.UnitDetail(u)),
		})
	})
}

// jsonList is a list of strings as stored (a JSON array, never null).
func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l) // strings always marshal
	return string(b)
}

func parseList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, err
	}
	if l == nil {
		l = []string{}
	}
	return l, nil
}

// UnitByCode returns the unit with this code (case-insensitive); ENOTFOUND if none.
func (db *DB) UnitByCode(ctx context.Context, code string) (u *chungthuc.Unit, err error) {
	code = ledger.UnitCode(code)
	err = db.read(ctx, func(tx *sql.Tx) error {
		u, err = scanUnit(tx.QueryRowContext(ctx, `SELECT `+unitColumns+` FROM units WHERE code = ?`, code))
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "unit %q not found", code)
		}
		return err
	})
	return u, err
}

// UnitByID returns the unit with this ID; ENOTFOUND if none.
func (db *DB) UnitByID(ctx context.Context, id int64) (u *chungthuc.Unit, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		u, err = unitByID(ctx, tx, id)
		return err
	})
	return u, err
}

// Units lists every unit, oldest first.
func (db *DB) Units(ctx context.Context) (us []*chungthuc.Unit, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+unitColumns+` FROM units ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUnit(rows)
			if err != nil {
				return err
			}
			us = append(us, u)
		}
		return rows.Err()
	})
	return us, err
}

func unitByID(ctx context.Context, tx *sql.Tx, id int64) (*chungthuc.Unit, error) {
	u, err := scanUnit(tx.QueryRowContext(ctx, `SELECT `+unitColumns+` FROM units WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "unit %d not found", id)
	}
	return u, err
}

func scanUnit(s scanner) (*chungthuc.Unit, error) {
	var u chungthuc.Unit
	var created, titles string
	if err := s.Scan(&u.ID, &u.Code, &u.Name, &u.Place, &u.SealImage, &u.Body, &u.Province, &u.SealMM, &u.Demo, &titles, &u.SealCertPEM, &u.ExternalSigning, &created); err != nil {
		return nil, err
	}
	var err error
	if u.Titles, err = parseList(titles); err != nil {
		return nil, err
	}
	u.CreatedAt, err = ledger.ParseTime(created)
	return &u, err
}
