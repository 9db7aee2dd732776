package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

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
	return db.write(ctx, func(t *txn) error {
		err := t.QueryRow(ctx, `INSERT INTO units (code, name, place, seal_image, body, province, seal_mm, demo, titles, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (code) DO NOTHING RETURNING id`,
			u.Code, u.Name, u.Place, u.SealImage, u.Body, u.Province, u.SealMM, u.Demo, u.Titles, now).Scan(&u.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "unit code %q is taken", u.Code)
		} else if err != nil {
			return err
		}
		u.CreatedAt = now
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionUnitCreate, UnitID: u.ID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("unit", u.ID), Detail: ledger.Detail(map[string]any{"code": u.Code, "name": u.Name}),
		})
		return nil
	})
}

// UpdateUnit records u's profile: name, place, body, province, seal image and size, and
// allowed titles (its code, demo mark and creation stay). EINVALID for a malformed unit,
// ENOTFOUND for an unknown one. Audited with the seal image's SHA-256.
func (db *DB) UpdateUnit(ctx context.Context, u *chungthuc.Unit) error {
	if err := ledger.PrepareUnit(u); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		old, err := unitByID(ctx, t, u.ID)
		if err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `UPDATE units SET name = $1, place = $2, seal_image = $3, body = $4, province = $5,
			seal_mm = $6, titles = $7 WHERE id = $8`, u.Name, u.Place, u.SealImage, u.Body, u.Province, u.SealMM, u.Titles, u.ID); err != nil {
			return err
		}
		u.Code, u.Demo, u.CreatedAt = old.Code, old.Demo, old.CreatedAt
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionUnitUpdate, UnitID: u.ID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("unit", u.ID), Detail: ledger.Detail(ledger.UnitDetail(u)),
		})
		return nil
	})
}

// UnitByCode returns the unit with this code (case-insensitive); ENOTFOUND if none.
func (db *DB) UnitByCode(ctx context.Context, code string) (*chungthuc.Unit, error) {
	code = ledger.UnitCode(code)
	u, err := scanUnit(db.pool.QueryRow(ctx, `SELECT `+unitColumns+` FROM units WHERE code = $1`, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "unit %q not found", code)
	}
	return u, db.mapErr(err)
}

// UnitByID returns the unit with this ID; ENOTFOUND if none.
func (db *DB) UnitByID(ctx context.Context, id int64) (*chungthuc.Unit, error) {
	u, err := unitByID(ctx, db.pool, id)
	return u, db.mapErr(err)
}

// Units lists every unit, oldest first.
func (db *DB) Units(ctx context.Context) ([]*chungthuc.Unit, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+unitColumns+` FROM units ORDER BY id`)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	var us []*chungthuc.Unit
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, db.mapErr(err)
		}
		us = append(us, u)
	}
	return us, db.mapErr(rows.Err())
}

// querier is a pool, a connection or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func unitByID(ctx context.Context, q querier, id int64) (*chungthuc.Unit, error) {
	u, err := scanUnit(q.QueryRow(ctx, `SELECT `+unitColumns+` FROM units WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "unit %d not found", id)
	}
	return u, err
}

func scanUnit(row pgx.Row) (*chungthuc.Unit, error) {
	var u chungthuc.Unit
	if err := row.Scan(&u.ID, &u.Code, &u.Name, &u.Place, &u.SealImage, &u.Body, &u.Province, &u.SealMM, &u.Demo, &u.Titles, &u.SealCertPEM, &u.ExternalSigning, &u.CreatedAt); err != nil {
		return nil, err
	}
	if u.Titles == nil {
		u.Titles = []string{}
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}
