package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// ExecSQL runs one statement on the writer connection with every trigger in force
// (registertest.RawSQL; test builds only).
func (db *DB) ExecSQL(ctx context.Context, query string) error {
	_, err := db.w.ExecContext(ctx, query)
	return err
}

// Tamper runs one statement with the permanent-record triggers dropped for the duration of
// one transaction, as someone who can edit the file could (registertest.RawSQL; test builds
// only).
func (db *DB) Tamper(ctx context.Context, query string) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'trigger'`)
		if err != nil {
			return err
		}
		triggers := map[string]string{}
		for rows.Next() {
			var name, def string
			if err := rows.Scan(&name, &def); err != nil {
				rows.Close()
				return err
			}
			triggers[name] = def
		}
		rows.Close()
		for name := range triggers {
			if _, err := tx.ExecContext(ctx, `DROP TRIGGER "`+name+`"`); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, query); err != nil {
			return err
		}
		for _, def := range triggers {
			if _, err := tx.ExecContext(ctx, def); err != nil {
				return err
			}
		}
		return nil
	})
}

// AuditEntries returns the whole audit log in ID order (logtest.Raw; test builds only).
func (db *DB) AuditEntries(ctx context.Context) ([]*chungthuc.AuditEntry, error) {
	var out []*chungthuc.AuditEntry
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, at, action, unit_id, actor, subject, detail, prev_hash, hash FROM audit_log ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e chungthuc.AuditEntry
			var at string
			if err := rows.Scan(&e.ID, &at, &e.Action, &e.UnitID, &e.Actor, &e.Subject, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
				return err
			}
			if e.At, err = ledger.ParseTime(at); err != nil {
				return err
			}
			out = append(out, &e)
		}
		return rows.Err()
	})
	return out, err
}

// TimeSQL writes a time as this database stores it, for test statements.
func (db *DB) TimeSQL(t time.Time) string { return "'" + ledger.FormatTime(t) + "'" }

// Backup copies the register, in one consistent snapshot, to the file path (VACUUM INTO),
// as an operator's backup would (test builds only).
func (db *DB) Backup(ctx context.Context, path string) error {
	_, err := db.w.ExecContext(ctx, `VACUUM INTO ?`, path)
	return err
}

// QueryInt runs a query that returns one integer (test builds only).
func (db *DB) QueryInt(ctx context.Context, query string, args ...any) (n int64, err error) {
	err = db.r.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}
