package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// AddVersion records a later version of an Issued or Revoked entry's copy. EINVALID for a
// malformed hash or key, ENOTFOUND for an unknown entry, ECONFLICT when the entry has no
// stored copy or the hash is already registered (as a copy or a version).
func (db *DB) AddVersion(ctx context.Context, id int64, sha256, objectKey string) error {
	sha256 = strings.ToLower(strings.TrimSpace(sha256))
	if err := ledger.CheckSeal(sha256, objectKey, nil); err != nil {
		return err
	}
	now := ledger.Micro(db.now())
	return db.writeLog(ctx, func(tx *sql.Tx, lg *leafLog) error {
		c, err := certificationByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Status != chungthuc.StatusIssued && c.Status != chungthuc.StatusRevoked {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "certification %d is %s and has no stored copy to renew", id, c.Status)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM certifications WHERE sha256 = ?) + (SELECT count(*) FROM certification_versions WHERE sha256 = ?)`,
			sha256, sha256).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "this SHA-256 is already registered")
		}
		var seq int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM certification_versions WHERE certification_id = ?`, id).Scan(&seq); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO certification_versions (certification_id, seq, sha256, object_key, created_at) VALUES (?, ?, ?, ?, ?)`,
			id, seq, sha256, objectKey, ledger.FormatTime(now)); err != nil {
			return err
		}
		a := &chungthuc.AuditEntry{
			Action: ledger.ActionAddVersion, UnitID: c.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("certification", id),
			Detail:  ledger.Detail(map[string]any{"seq": seq, "sha256": sha256, "object_key": objectKey}),
		}
		if err := db.appendAudit(ctx, tx, a); err != nil {
			return err
		}
		return lg.version(c, sha256, objectKey, a)
	})
}

// certificationByVersion finds the entry one of whose later versions has this hash.
func (db *DB) certificationByVersion(ctx context.Context, sha256 string) (c *chungthuc.Certification, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT certification_id FROM certification_versions WHERE sha256 = ?`, sha256).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "no certification has this SHA-256")
		} else if err != nil {
			return err
		}
		c, err = certificationByID(ctx, tx, id)
		return err
	})
	return c, err
}
