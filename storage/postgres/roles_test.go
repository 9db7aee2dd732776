package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/postgres"
	"github.com/chungthuc/chungthuc/storage/registertest"
)

// twoRoles makes a fresh database owned by a new role (the one that migrates), migrates it
// as that role and grants a second new role (the one serve uses) what it needs. It returns
// the URLs of both. Roles are dropped when the test ends.
func twoRoles(t *testing.T) (ownerURL, serveURL string) {
	t.Helper()
	db := postgres.NewTestDatabase(t) // skips the test when PostgreSQL is not there
	admin := os.Getenv("CHUNGTHUC_TEST_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres"
	}
	b := make([]byte, 4)
	rand.Read(b)
	owner, serve := "ct_owner_"+hex.EncodeToString(b), "ct_serve_"+hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{"CREATE ROLE " + owner + " LOGIN", "CREATE ROLE " + serve + " LOGIN"} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { // runs before NewTestDatabase's cleanup: drop the database first
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			t.Logf("dropping roles: %v", err)
			return
		}
		defer c.Close(context.Background())
		u, _ := url.Parse(db)
		c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+strings.TrimPrefix(u.Path, "/")+" WITH (FORCE)")
		for _, r := range []string{owner, serve} {
			c.Exec(context.Background(), "DROP OWNED BY "+r)
			c.Exec(context.Background(), "DROP ROLE "+r)
		}
	})
	u, _ := url.Parse(db)
	name := strings.TrimPrefix(u.Path, "/")
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+name+" OWNER TO "+owner); err != nil {
		t.Fatal(err)
	}
	// The public schema belongs to the database owner (PostgreSQL 15: pg_database_owner).
	u.User = url.User(owner)
	ownerURL = u.String()
	u.User = url.User(serve)
	serveURL = u.String()
	m, err := postgres.Open(ctx, ownerURL, postgres.Options{AutoMigrate: true})
	if err != nil {
		t.Fatalf("migrate as the owner: %v", err)
	}
	defer m.Close()
	if err := m.GrantServing(ctx, serve); err != nil {
		t.Fatalf("GrantServing: %v", err)
	}
	if err := m.GrantServing(ctx, owner); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("GrantServing to the owner itself = %v, want EINVALID", err)
	}
	return ownerURL, serveURL
}

// servingRegister hides the raw-SQL test hook: the serving role cannot tamper.
type servingRegister struct {
	chungthuc.Register
	chungthuc.AuditLog
	chungthuc.Webhooks
	chungthuc.Mails
}

// TestLeastPrivilege: the role serve uses does everything the register does (the whole
// conformance suite runs as it), yet cannot alter tables, disable triggers, truncate,
// delete, or rewrite the audit log — each attempt fails.
func TestLeastPrivilege(t *testing.T) {
	_, serveURL := twoRoles(t)
	db, err := postgres.Open(ctx, serveURL, postgres.Options{})
	if err != nil {
		t.Fatalf("Open as the serving role: %v", err)
	}
	defer db.Close()
	role, owner, err := db.CurrentUser(ctx)
	if err != nil || owner || !strings.HasPrefix(role, "ct_serve_") {
		t.Fatalf("CurrentUser = %q owner=%v, %v", role, owner, err)
	}
	// Some data to attack.
	u := &chungthuc.Unit{Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	if err := db.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	o := &chungthuc.Officer{UnitID: u.ID, Name: "Trần Văn Nghĩa", Title: "PHÓ CHỦ TỊCH", Active: true}
	if err := db.CreateOfficer(ctx, o); err != nil {
		t.Fatal(err)
	}
	c := &chungthuc.Certification{UnitID: u.ID, OfficerID: o.ID, Token: registertest.Token(), AccessCodeHash: "h",
		Title: "Giấy khai sinh", Pages: 1, FeeVND: 2000}
	if err := db.Reserve(ctx, c); err != nil {
		t.Fatal(err)
	}
	sha := registertest.SHA(c.Token)
	if err := db.Seal(ctx, c.ID, sha, "copies/"+sha+".pdf", nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Issue(ctx, c.ID, "v", "e"); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatInt(c.ID, 10)
	for _, q := range []string{
		"ALTER TABLE certifications DISABLE TRIGGER USER",
		"ALTER TABLE certifications DISABLE TRIGGER certifications_immutable",
		"ALTER TABLE audit_log DISABLE TRIGGER ALL",
		"ALTER TABLE certifications ADD COLUMN note text",
		"ALTER TABLE certifications DROP CONSTRAINT certifications_unit_id_year_number_key",
		"DROP TRIGGER certifications_immutable ON certifications",
		"CREATE OR REPLACE FUNCTION certifications_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
		"TRUNCATE certifications CASCADE",
		"TRUNCATE audit_log",
		"TRUNCATE number_counters CASCADE",
		"DELETE FROM certifications WHERE id = " + id,
		"DELETE FROM audit_log",
		"DELETE FROM books",
		"DELETE FROM number_counters",
		"UPDATE audit_log SET detail = '{}'",
		"UPDATE schema_migrations SET version = 99",
		"INSERT INTO schema_migrations (version, applied_at) VALUES (99, now())",
		"CREATE TABLE shadow (x int)",
		"SET session_replication_role = replica",
	} {
		err := db.ExecSQL(ctx, q)
		var pe *pgconn.PgError
		if err == nil {
			t.Errorf("as the serving role, %s: allowed", q)
		} else if !errors.As(err, &pe) || (pe.Code != "42501" && pe.Code != "CT001") {
			t.Errorf("as the serving role, %s: %v (want permission denied)", q, err)
		}
	}
	got, err := db.CertificationByID(ctx, c.ID)
	if err != nil || got.Status != chungthuc.StatusIssued {
		t.Fatalf("after the attempts: %+v, %v", got, err)
	}
}

// TestServingRoleConformance runs the register's conformance suite as the serving role: the
// grants are enough for everything the service does.
func TestServingRoleConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("creates a database and two roles per subtest")
	}
	open := func(t *testing.T) chungthuc.Register {
		_, serveURL := twoRoles(t)
		db, err := postgres.Open(ctx, serveURL, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return servingRegister{db, db, db, db}
	}
	registertest.Run(t, open)
	registertest.RunAccounts(t, func(t *testing.T) chungthuc.Accounts {
		_, serveURL := twoRoles(t)
		db, err := postgres.Open(ctx, serveURL, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestRepairLock: one session at a time holds the repair lock.
func TestRepairLock(t *testing.T) {
	u := postgres.NewTestDatabase(t)
	a, err := postgres.Open(ctx, u, postgres.Options{AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, u, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	release, ok, err := a.TryRepairLock(ctx)
	if err != nil || !ok {
		t.Fatalf("first TryRepairLock = %v, %v", ok, err)
	}
	if _, ok, err := b.TryRepairLock(ctx); err != nil || ok {
		t.Fatalf("second TryRepairLock while held = %v, %v; want not ok", ok, err)
	}
	release()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rel, ok, err := b.TryRepairLock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			rel()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock was not released")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestErrorClasses: PostgreSQL refusing work answers EUNAVAILABLE, not an internal error:
// a database that does not accept connections (55000) and terminated sessions (57P01).
func TestErrorClasses(t *testing.T) {
	u := postgres.NewTestDatabase(t)
	db, err := postgres.Open(ctx, u, postgres.Options{AutoMigrate: true, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := strings.TrimPrefix(mustURL(t, u).Path, "/")
	admin, err := pgx.Connect(ctx, strings.Replace(u, "/"+name, "/postgres", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true")
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // the first calls may meet the terminated connections, later ones the refusal
		_, err := db.Units(ctx)
		if code := chungthuc.ErrorCode(err); code != chungthuc.EUNAVAILABLE {
			t.Fatalf("call %d with the database refusing connections = %v (%s), want EUNAVAILABLE", i, err, code)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
