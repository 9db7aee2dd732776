package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// Append stores e at the end of the audit log, setting ID, At (now when zero), PrevHash and
// Hash (ledger.Hash). EINVALID when e has no action or actor or its Detail is not a JSON
// object.
func (db *DB) Append(ctx context.Context, e *chungthuc.AuditEntry) error {
	if err := ledger.PrepareAudit(e, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		t.audit(e)
		return nil
	})
}

// appendAudits chains the transaction's queued entries to the last entry. It holds a
// transaction-level advisory lock from reading the last hash until commit, so appends are
// serialised and the chain never forks; taking it last keeps it short, and nothing that
// holds it waits for a row lock of another transaction. IDs come from the sequence under the
// lock, so ID order is chain order.
func (db *DB) appendAudits(ctx context.Context, t *txn) error {
	if len(t.audits) == 0 {
		return nil
	}
	if _, err := t.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditLockKey)); err != nil {
		return err
	}
	var prev string
	err := t.QueryRow(ctx, `SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	now := db.now()
	for _, e := range t.audits {
		if e.At.IsZero() {
			e.At = now
		}
		e.At = ledger.Micro(e.At)
		if e.Detail == "" {
			e.Detail = "{}"
		}
		if err := t.QueryRow(ctx, `SELECT nextval('audit_log_id_seq')`).Scan(&e.ID); err != nil {
			return err
		}
		e.PrevHash = prev
		e.Hash = ledger.Hash(e)
		if _, err := t.Exec(ctx, `INSERT INTO audit_log (id, at, action, unit_id, actor, subject, detail, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			e.ID, e.At, e.Action, e.UnitID, e.Actor, e.Subject, e.Detail, e.PrevHash, e.Hash); err != nil {
			return err
		}
		prev = e.Hash
	}
	return nil
}

// VerifyChain walks the audit log in ID order, in one snapshot, recomputing each entry's
// hash and checking that it names the hash of the entry before it. It returns the ID of the
// first broken entry (0 when the chain is intact) and the number of entries checked, up to and
// including the broken one. Deleting the last entries cannot be seen from the chain alone.
func (db *DB) VerifyChain(ctx context.Context) (firstBroken int64, checked int64, err error) {
	err = db.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, at, action, unit_id, actor, subject, detail, prev_hash, hash
			FROM audit_log ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		prev := ""
		var e chungthuc.AuditEntry
		for rows.Next() {
			if err := rows.Scan(&e.ID, &e.At, &e.Action, &e.UnitID, &e.Actor, &e.Subject, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
				return err
			}
			checked++
			if e.PrevHash != prev || ledger.Hash(&e) != e.Hash {
				firstBroken = e.ID
				return nil
			}
			prev = e.Hash
		}
		return rows.Err()
	})
	return firstBroken, checked, err
}
