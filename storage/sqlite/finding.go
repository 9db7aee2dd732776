package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// ReportFinding records a problem with a stored object, or refreshes the open finding of
// that key (LastSeen, Detail). A new finding, or one whose kind changed, is audited
// ("object.finding") in the same transaction. It sets f.FirstSeen and f.LastSeen. EINVALID
// for a malformed finding, ENOTFOUND when CertificationID names no entry.
func (db *DB) ReportFinding(ctx context.Context, f *chungthuc.Finding) error {
	if err := ledger.PrepareFinding(f); err != nil {
		return err
	}
	now := ledger.Micro(db.now())
	return db.write(ctx, func(tx *sql.Tx) error {
		var kind, first string
		err := tx.QueryRowContext(ctx, `SELECT kind, first_seen FROM object_findings WHERE key = ? AND cleared_at IS NULL`,
			f.Key).Scan(&kind, &first)
		if errors.Is(err, sql.ErrNoRows) {
			kind = ""
		} else if err != nil {
			return err
		}
		firstSeen := now
		if kind == f.Kind {
			if firstSeen, err = ledger.ParseTime(first); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO object_findings (key, kind, certification_id, detail, first_seen, last_seen)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6)
			ON CONFLICT (key) DO UPDATE SET kind = ?2, certification_id = ?3, detail = ?4, first_seen = ?5, last_seen = ?6, cleared_at = NULL`,
			f.Key, f.Kind, nullID(f.CertificationID), f.Detail, ledger.FormatTime(firstSeen), ledger.FormatTime(now)); err != nil {
			return err
		}
		f.FirstSeen, f.LastSeen = firstSeen, now
		if kind != f.Kind {
			return db.appendAudit(ctx, tx, findingAudit(f))
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
	now := ledger.FormatTime(db.now())
	return db.write(ctx, func(tx *sql.Tx) error {
		var f chungthuc.Finding
		var cert sql.NullInt64
		err := tx.QueryRowContext(ctx, `UPDATE object_findings SET cleared_at = ? WHERE key = ? AND cleared_at IS NULL
			RETURNING kind, certification_id`, now, key).Scan(&f.Kind, &cert)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		f.Key, f.CertificationID = key, cert.Int64
		e := findingAudit(&f)
		e.Action, e.Detail = ledger.ActionFindingClear, ledger.Detail(map[string]any{"key": key, "kind": f.Kind})
		return db.appendAudit(ctx, tx, e)
	})
}

// Findings lists the open findings, newest first (all of them, or those of key).
func (db *DB) Findings(ctx context.Context, key string) (fs []*chungthuc.Finding, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		q, args := `SELECT key, kind, COALESCE(certification_id, 0), detail, first_seen, last_seen
			FROM object_findings WHERE cleared_at IS NULL ORDER BY last_seen DESC, key`, []any{}
		if key != "" { // the public status asks this for every verification: the primary key
			q, args = `SELECT key, kind, COALESCE(certification_id, 0), detail, first_seen, last_seen
			FROM object_findings WHERE key = ? AND cleared_at IS NULL`, []any{key}
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		fs = []*chungthuc.Finding{}
		for rows.Next() {
			var f chungthuc.Finding
			var first, last string
			if err := rows.Scan(&f.Key, &f.Kind, &f.CertificationID, &f.Detail, &first, &last); err != nil {
				return err
			}
			if f.FirstSeen, err = ledger.ParseTime(first); err != nil {
				return err
			}
			if f.LastSeen, err = ledger.ParseTime(last); err != nil {
				return err
			}
			fs = append(fs, &f)
		}
		return rows.Err()
	})
	return fs, err
}
