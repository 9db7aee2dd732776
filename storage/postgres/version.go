package postgres

import (
	"context"
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
	return db.write(ctx, func(t *txn) error {
		c, err := certificationForUpdate(ctx, t, id)
		if err != nil {
			return err
		}
		if c.Status != chungthuc.StatusIssued && c.Status != chungthuc.StatusRevoked {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "certification %d is %s and has no stored copy to renew", id, c.Status)
		}
		var taken bool
		if err := t.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM certifications WHERE sha256 = $1)
			OR EXISTS (SELECT 1 FROM certification_versions WHERE sha256 = $1)`, sha256).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "this SHA-256 is already registered")
		}
		var seq int
		if err := t.QueryRow(ctx, `INSERT INTO certification_versions (certification_id, seq, sha256, object_key, created_at)
			VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM certification_versions WHERE certification_id = $1), $2, $3, $4)
			RETURNING seq`, id, sha256, objectKey, now).Scan(&seq); err != nil {
			return err
		}
		a := &chungthuc.AuditEntry{
			Action: ledger.ActionAddVersion, UnitID: c.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("certification", id),
			Detail:  ledger.Detail(map[string]any{"seq": seq, "sha256": sha256, "object_key": objectKey}),
		}
		t.audit(a)
		t.logVersion(db, c, sha256, objectKey, a)
		return nil
	})
}
