package sqlite

import (
	"context"
	"database/sql"
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
