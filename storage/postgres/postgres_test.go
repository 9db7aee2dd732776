package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/migrations"
	"github.com/chungthuc/chungthuc/storage/logtest"
	"github.com/chungthuc/chungthuc/storage/postgres"
	"github.com/chungthuc/chungthuc/storage/registertest"
)

var ctx = context.Background()

func openFresh(t testing.TB, opt postgres.Options) *postgres.DB {
	t.Helper()
	opt.AutoMigrate = true
	db, err := postgres.Open(ctx, postgres.NewTestDatabase(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	registertest.Run(t, func(t *testing.T) chungthuc.Register { return openFresh(t, postgres.Options{}) })
}

func TestOpenChecksSchemaVersion(t *testing.T) {
	u := postgres.NewTestDatabase(t)
	_, err := postgres.Open(ctx, u, postgres.Options{})
	if chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE ||
		!strings.Contains(err.Error(), fmt.Sprintf("the database schema is at version 0, this build needs %d: run `chungthuc migrate`", latestMigration(t))) {
		t.Fatalf("Open of an empty database = %v", err)
	}
	db, err := postgres.Open(ctx, u, postgres.Options{AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a current database: %v", err)
	}
	if v, err := db.SchemaVersion(ctx); err != nil || v != latestMigration(t) {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
	db.Close()
	db, err = postgres.Open(ctx, u, postgres.Options{})
	if err != nil {
		t.Fatalf("Open of a current database: %v", err)
	}
	if err := db.ExecSQL(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (99, now())"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := postgres.Open(ctx, u, postgres.Options{}); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE ||
		!strings.Contains(err.Error(), "newer than this build") {
		t.Fatalf("Open of a newer database = %v", err)
	}
}

func TestConcurrentMigrate(t *testing.T) {
	u := postgres.NewTestDatabase(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := postgres.Open(ctx, u, postgres.Options{AutoMigrate: true})
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent migration: %v", err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	_, err := postgres.Open(ctx, "postgres://postgres:secret@127.0.0.1:1/x", postgres.Options{ConnectTimeout: time.Second})
	if chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Open of a closed port = %v", err)
	}
	// The dial error is kept as the cause (errors.Is), and the message says only where.
	if !errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(chungthuc.ErrorMessage(err), "refused") {
		t.Fatalf("closed port: cause %v, message %q", errors.Unwrap(err), chungthuc.ErrorMessage(err))
	}
	if _, err := postgres.Open(ctx, "postgres://u:secret@[::1", postgres.Options{}); chungthuc.ErrorCode(err) != chungthuc.EINVALID ||
		strings.Contains(err.Error(), "secret") {
		t.Fatalf("Open of a bad URL = %v", err)
	}
}

func TestClosedPool(t *testing.T) {
	db := openFresh(t, postgres.Options{})
	db.Close()
	if _, err := db.UnitByID(ctx, 1); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("UnitByID on a closed pool = %v", err)
	}
	if err := db.CreateUnit(ctx, &chungthuc.Unit{Code: "HB", Name: "x", Place: "y"}); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("CreateUnit on a closed pool = %v", err)
	}
}

func TestNoTruncate(t *testing.T) {
	db := openFresh(t, postgres.Options{})
	for _, q := range []string{"TRUNCATE audit_log", "TRUNCATE certifications CASCADE", "TRUNCATE books CASCADE"} {
		if err := db.ExecSQL(ctx, q); err == nil || !strings.Contains(err.Error(), "permanent record") {
			t.Errorf("%s: %v", q, err)
		}
	}
}

func TestLog(t *testing.T) {
	logtest.Run(t, logtest.Harness{
		Open: func(t *testing.T) logtest.Register { return openFresh(t, postgres.Options{}) },
		Backup: func(t *testing.T, reg logtest.Register) func(t *testing.T) logtest.Register {
			src := reg.(*postgres.DB).URLForTest()
			dst := postgres.NewTestDatabase(t)
			postgres.DumpRestore(t, src, dst)
			return func(t *testing.T) logtest.Register {
				db, err := postgres.Open(ctx, dst, postgres.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return db
			}
		},
	})
}

// latestMigration is the number of the newest migration file this build embeds.
func latestMigration(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(migrations.Postgres, "*/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations embedded: %v", err)
	}
	return len(files)
}
