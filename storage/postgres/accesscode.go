package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// ReissueAccessCode makes codeHash the code in force of issued entry id, audited in the same
// transaction (chungthuc.AccessCodes).
func (db *DB) ReissueAccessCode(ctx context.Context, id int64, codeHash, actor string) error {
	if strings.TrimSpace(codeHash) == "" || strings.TrimSpace(actor) == "" {
		return chungthuc.Errorf(chungthuc.EINVALID, "a reissued access code needs its hash and who reissued it")
	}
	return db.write(ctx, func(t *txn) error {
		c, err := certificationForUpdate(ctx, t, id)
		if err != nil {
			return err
		}
		if c.Status != chungthuc.StatusIssued {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "certification %d is %s: only an issued copy gets a new access code", id, c.Status)
		}
		at := ledger.Micro(db.now())
		t.audit(&chungthuc.AuditEntry{At: at, Action: chungthuc.ActionAccessCodeReissue, UnitID: c.UnitID, Actor: actor,
			Subject: ledger.Subject("certification", id), Detail: ledger.Detail(map[string]any{"number": c.Number, "year": c.Year})})
		if _, err = t.Exec(ctx, `INSERT INTO access_code_reissues (certification_id, code_hash, actor, created_at) VALUES ($1, $2, $3, $4)`,
			id, codeHash, actor, at); err != nil {
			return err
		}
		// An e-mail not yet sent must not carry the voided code (it then says the code is on the receipt).
		_, err = t.Exec(ctx, `UPDATE mail_outbox SET access_code = NULL WHERE certification_id = $1 AND state IN ('held', 'pending')`, id)
		return err
	})
}

// AccessCodeHash returns the hash of the code in force for c (chungthuc.AccessCodes).
func (db *DB) AccessCodeHash(ctx context.Context, c *chungthuc.Certification) (string, error) {
	var hash string
	err := db.pool.QueryRow(ctx, `SELECT code_hash FROM access_code_reissues WHERE certification_id = $1 ORDER BY id DESC LIMIT 1`, c.ID).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return c.AccessCodeHash, nil
	}
	return hash, db.mapErr(err)
}
