package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
)

// Least privilege. Production runs with two PostgreSQL roles:
//
//   - the owner of the schema, used only by `chungthuc migrate` (CHUNGTHUC_MIGRATE_DATABASE_URL):
//     it creates and alters tables and owns the triggers;
//   - the serving role, used by `chungthuc serve` and the administrative commands
//     (CHUNGTHUC_DATABASE_URL): after GrantServing it may read every table and write only
//     as the application does. It does not own the tables, so it cannot ALTER them, disable
//     their triggers, or TRUNCATE them; it has no DELETE but on login sessions.
//
// The owner of a table bypasses GRANT/REVOKE and may disable its triggers, which is why the
// service must not run as the owner.

// servingWrites lists, per table, what the serving role may do besides SELECT. A table the
// list does not name gets INSERT only (append-only), so a table added by a later migration
// works for appending without widening anything; one that needs more must be listed here.
var servingWrites = map[string]string{
	"schema_migrations":      "",
	"units":                  "INSERT, UPDATE",
	"officers":               "INSERT, UPDATE",
	"books":                  "INSERT, UPDATE",
	"number_counters":        "INSERT, UPDATE",
	"certifications":         "INSERT, UPDATE",
	"certification_versions": "INSERT",
	"refusals":               "INSERT",
	"audit_log":              "INSERT",
	"accounts":               "INSERT, UPDATE",
	"sessions":               "INSERT, UPDATE, DELETE",
	"api_tokens":             "INSERT, UPDATE",
	"object_findings":        "INSERT, UPDATE",
	"webhook_endpoints":      "INSERT, DELETE",
	"webhook_events":         "INSERT",
	"webhook_deliveries":     "INSERT, UPDATE, DELETE",
	"login_failures":         "INSERT, UPDATE, DELETE",
	"mail_outbox":            "INSERT, UPDATE, DELETE",
	"signature_waits":        "INSERT, UPDATE",
	"pending_logins":         "INSERT, DELETE",
}

// GrantServing gives role what the service needs on the schema and takes away anything
// else it had on its tables and sequences (run by the owner, after migrating). EINVALID for
// an empty role or the owner itself; EUNAVAILABLE when the database cannot be reached.
func (db *DB) GrantServing(ctx context.Context, role string) error {
	if strings.TrimSpace(role) == "" {
		return chungthuc.Errorf(chungthuc.EINVALID, "the serving role is not named")
	}
	return db.mapErr(pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var me string
		if err := tx.QueryRow(ctx, `SELECT current_user`).Scan(&me); err != nil {
			return err
		}
		if me == role {
			return chungthuc.Errorf(chungthuc.EINVALID, "the serving role %q is the role that migrates (the owner): give `serve` a role of its own", role)
		}
		r := pgx.Identifier{role}.Sanitize()
		rows, err := tx.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)
		if err != nil {
			return err
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		stmts := []string{
			`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ` + r,
			`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ` + r,
			`REVOKE CREATE ON SCHEMA public FROM ` + r,
			`GRANT USAGE ON SCHEMA public TO ` + r,
			`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ` + r,
		}
		for _, t := range tables {
			priv, ok := servingWrites[t]
			if !ok {
				priv = "INSERT"
			}
			if priv != "" {
				priv = ", " + priv
			}
			stmts = append(stmts, `GRANT SELECT`+priv+` ON `+pgx.Identifier{t}.Sanitize()+` TO `+r)
		}
		for _, q := range stmts {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}))
}

// CurrentUser returns the role the connection runs as and whether it owns the register's
// tables (then it can alter them and disable their triggers: see GrantServing).
func (db *DB) CurrentUser(ctx context.Context) (role string, owner bool, err error) {
	err = db.pool.QueryRow(ctx, `SELECT current_user, COALESCE((SELECT tableowner = current_user FROM pg_tables
		WHERE schemaname = 'public' AND tablename = 'certifications'), false)`).Scan(&role, &owner)
	return role, owner, db.mapErr(err)
}

// repairLockKey is the session advisory lock held while a repair pass runs, so that one
// instance at a time repairs ("ctrepai").
const repairLockKey = 0x63_74_72_65_70_61_69

// TryRepairLock takes the repair lock if no other session holds it. It returns ok false
// when another instance holds it; release frees it (and the connection it is held on).
func (db *DB) TryRepairLock(ctx context.Context) (release func(), ok bool, err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, false, db.mapErr(err)
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(repairLockKey)).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, db.mapErr(err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(repairLockKey)); err != nil {
			_ = conn.Conn().Close(context.Background()) // the session ends, and its lock with it
		}
		conn.Release()
	}, true, nil
}
