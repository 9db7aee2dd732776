package postgres

import "context"

// ExecSQL runs one statement with every trigger in force (registertest.RawSQL; test builds
// only).
func (db *DB) ExecSQL(ctx context.Context, query string) error {
	_, err := db.pool.Exec(ctx, query)
	return err
}

// Tamper runs one statement with the permanent-record triggers disabled for one transaction,
// as the owner of the tables could (registertest.RawSQL; test builds only).
func (db *DB) Tamper(ctx context.Context, query string) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	tables := []string{"audit_log", "certifications", "books"}
	for _, t := range tables {
		if _, err := tx.Exec(ctx, `ALTER TABLE `+t+` DISABLE TRIGGER USER`); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, query); err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := tx.Exec(ctx, `ALTER TABLE `+t+` ENABLE TRIGGER USER`); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
