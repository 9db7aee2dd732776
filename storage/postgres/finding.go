package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

const findingColumns = `key, kind, COALESCE(certification_id, 0), detail, first_seen, last_seen`

// ReportFinding records a problem with a stored object, or refreshes the open finding of
// that key (LastSeen, Detail). A new finding, or one whose kind changed, is audited
// ("object.finding") in the same transaction. It sets f.FirstSeen and f.LastSeen. EINVALID
// for a malformed finding, ENOTFOUND when CertificationID names no entry.
func (db *DB) ReportFinding(ctx context.Context, f *chungthuc.Finding) error {
	if err := ledger.PrepareFinding(f); err != nil {
		return err
	}
	now := ledger.Micro(db.now())
	return db.write(ctx, func(t *txn) error {
		var kind string
		var first, last = now, now
		err := t.QueryRow(ctx, `SELECT kind, first_seen FROM object_findings WHERE key = $1 AND cleared_at IS NULL FOR UPDATE`,
			f.Key).Scan(&kind, &first)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			kind, first = "", now
		case err != nil:
			return err
		}
		if kind != f.Kind {
			first = now
		}
		if _, err := t.Exec(ctx, `INSERT INTO object_findings (key, kind, certification_id, detail, first_seen, last_seen)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (key) DO UPDATE SET kind = $2, certification_id = $3, detail = $4, first_seen = $5, last_seen = $6, cleared_at = NULL`,
			f.Key, f.Kind, nullID(f.CertificationID), f.Detail, first, last); err != nil {
			return err
		}
		f.FirstSeen, f.LastSeen = first, last
		if kind != f.Kind {
			t.audit(findingAudit(f))
		}
		return nil
	})
}

func findingAudit(f *chungthuc.Finding) *chungthuc.AuditEntry {
	subject := "object:" + f.Key
	if f.CertificationID != 0 {
		subject = ledger.Subject("certification", f.CertificationID)
	}
	return &chungthuc.AuditEntry{Action: ledger.ActionFinding, Actor: ledger.ActorSystem, Subject: subject,
		Detail: ledger.Detail(map[string]any{"key": f.Key, "kind": f.Kind, "detail": f.Detail})}
}

// ClearFinding closes the open finding of key, audited ("object.finding.clear"); when none is
// open it does nothing.
func (db *DB) ClearFinding(ctx context.Context, key string) error {
	now := ledger.Micro(db.now())
	return db.write(ctx, func(t *txn) error {
		var f chungthuc.Finding
		err := t.QueryRow(ctx, `UPDATE object_findings SET cleared_at = $2 WHERE key = $1 AND cleared_at IS NULL
			RETURNING kind, COALESCE(certification_id, 0)`, key, now).Scan(&f.Kind, &f.CertificationID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		f.Key = key
		e := findingAudit(&f)
		e.Action, e.Detail = ledger.ActionFindingClear, ledger.Detail(map[string]any{"key": key, "kind": f.Kind})
		t.audit(e)
		return nil
	})
}

// Findings lists the open findings, newest first (all of them, or those of key).
func (db *DB) Findings(ctx context.Context, key string) ([]*chungthuc.Finding, error) {
	q, args := `SELECT `+findingColumns+` FROM object_findings WHERE cleared_at IS NULL ORDER BY last_seen DESC, key`, []any{}
	if key != "" { // the public status asks this for every verification: the primary key
		q, args = `SELECT `+findingColumns+` FROM object_findings WHERE key = $1 AND cleared_at IS NULL`, []any{key}
	}
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	fs := []*chungthuc.Finding{}
	for rows.Next() {
		var f chungthuc.Finding
		if err := rows.Scan(&f.Key, &f.Kind, &f.CertificationID, &f.Detail, &f.FirstSeen, &f.LastSeen); err != nil {
			return nil, db.mapErr(err)
		}
		f.FirstSeen, f.LastSeen = f.FirstSeen.UTC(), f.LastSeen.UTC()
		fs = append(fs, &f)
	}
	return fs, db.mapErr(rows.Err())
}
