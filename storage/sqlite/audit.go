package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// Append stores e at the end of the audit log, setting ID, At (now when zero), PrevHash and
// Hash (ledger.Hash). EINVALID when e has no action or actor or its Detail is not a JSON
// object. Appends are serialised by the single write transaction, so the chain never forks.
func (db *DB) Append(ctx context.Context, e *chungthuc.AuditEntry) error {
	if err := ledger.PrepareAudit(e, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error { return db.appendAudit(ctx, tx, e) })
}

// appendAudit chains e to the last entry inside the caller's write transaction.
func (db *DB) appendAudit(ctx context.Context, tx *sql.Tx, e *chungthuc.AuditEntry) error {
	if e.At.IsZero() {
		e.At = db.now()
	}
	e.At = ledger.Micro(e.At)
	if e.Detail == "" {
		e.Detail = "{}"
	}
	var last int64
	var prev string
	err := tx.QueryRowContext(ctx, `SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&last, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	e.ID, e.PrevHash = last+1, prev
	e.Hash = ledger.Hash(e)
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, action, unit_id, actor, subject, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, ledger.FormatTime(e.At), e.Action, e.UnitID, e.Actor, e.Subject, e.Detail, e.PrevHash, e.Hash)
	return err
}

// VerifyChain walks the audit log in ID order, in one snapshot, recomputing each entry's
// hash and checking that it names the hash of the entry before it. It returns the ID of the
// first broken entry (0 when the chain is intact) and the number of entries checked, up to and
// including the broken one. Deleting the last entries cannot be seen from the chain alone.
func (db *DB) VerifyChain(ctx context.Context) (firstBroken int64, checked int64, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, at, action, unit_id, actor, subject, detail, prev_hash, hash
			FROM audit_log ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		prev := ""
		for rows.Next() {
			var e chungthuc.AuditEntry
			var at string
			if err := rows.Scan(&e.ID, &at, &e.Action, &e.UnitID, &e.Actor, &e.Subject, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
				return err
			}
			checked++
			t, perr := ledger.ParseTime(at)
			e.At = t
			if perr != nil || e.PrevHash != prev || ledger.Hash(&e) != e.Hash {
				firstBroken = e.ID
				return nil
			}
			prev = e.Hash
		}
		return rows.Err()
	})
	return firstBroken, checked, err
}
