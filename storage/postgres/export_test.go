package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
