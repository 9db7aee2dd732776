package postgres

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
)

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
	tables := []string{"audit_log", "certifications", "books", "log_leaves", "log_hashes", "certification_versions", "number_counters"}
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

// adminURL is the URL of a database where the tests may CREATE and DROP databases:
// CHUNGTHUC_TEST_DATABASE_URL, or the local trust-auth server.
func adminURL() string {
	if u := os.Getenv("CHUNGTHUC_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres"
}

// NewTestDatabase creates an empty database chungthuc_test_<random>, drops it when the test ends,
// and returns its URL. It skips the test when PostgreSQL is not reachable.
func NewTestDatabase(t testing.TB) string {
	t.Helper()
	admin, err := url.Parse(adminURL())
	if err != nil {
		t.Fatalf("CHUNGTHUC_TEST_DATABASE_URL: %v", err)
	}
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, admin.String())
	if err != nil {
		t.Skipf("PostgreSQL not reachable at %s: integration tests skipped (%v)", admin.Redacted(), err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	rand.Read(b)
	name := "chungthuc_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("CREATE DATABASE: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), admin.String())
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	u := *admin
	u.Path = "/" + name
	return u.String()
}

// AuditEntries returns the whole audit log in ID order (logtest.Raw; test builds only).
func (db *DB) AuditEntries(ctx context.Context) ([]*chungthuc.AuditEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, at, action, unit_id, actor, subject, detail, prev_hash, hash FROM audit_log ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*chungthuc.AuditEntry
	for rows.Next() {
		var e chungthuc.AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Action, &e.UnitID, &e.Actor, &e.Subject, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, &e)
	}
	return out, rows.Err()
}

// TimeSQL writes a time as a literal of this database, for test statements.
func (db *DB) TimeSQL(t time.Time) string {
	return "'" + t.UTC().Format("2006-01-02T15:04:05.000000Z07:00") + "'::timestamptz"
}

// DumpRestore copies the database at src into the empty database at dst with pg_dump and
// psql, as an operator restoring a backup would (test builds only). It skips the test when
// the PostgreSQL client tools are missing.
func DumpRestore(t testing.TB, src, dst string) {
	t.Helper()
	dump, err := exec.LookPath("pg_dump")
	if err != nil {
		t.Skip("pg_dump not installed")
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	out, err := exec.Command(dump, "--no-owner", "--no-privileges", "--dbname", src).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	cmd := exec.Command(psql, "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", dst)
	cmd.Stdin = bytes.NewReader(out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("psql restore: %v: %s", err, msg)
	}
}

// URLForTest returns the URL the register was opened with (test builds only).
func (db *DB) URLForTest() string { return db.pool.Config().ConnString() }
