package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/logtest"
	"github.com/chungthuc/chungthuc/storage/registertest"
	"github.com/chungthuc/chungthuc/storage/sqlite"
)

var ctx = context.Background()

func openTemp(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "register.db"), sqlite.Options{AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	registertest.Run(t, func(t *testing.T) chungthuc.Register { return openTemp(t) })
}

func TestOpenChecksSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "register.db")
	_, err := sqlite.Open(ctx, path, sqlite.Options{})
	if chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE ||
		!strings.Contains(err.Error(), "the database schema is at version 0, this build needs 7: run `chungthuc migrate`") {
		t.Fatalf("Open of a new file without AutoMigrate = %v", err)
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != 7 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a current file: %v", err)
	}
	if err := db.ExecSQL(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (99, 'x')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Migrations are explicit: a current file opens without AutoMigrate; a newer one does not.
	_, err = sqlite.Open(ctx, path, sqlite.Options{AutoMigrate: true})
	if chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE || !strings.Contains(err.Error(), "newer than this build") {
		t.Fatalf("Open of a newer file = %v", err)
	}
}

func TestOpenFailures(t *testing.T) {
	for _, p := range []string{"", ":memory:", "a?b"} {
		if _, err := sqlite.Open(ctx, p, sqlite.Options{}); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("Open(%q) = %v", p, err)
		}
	}
	_, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "missing", "dir", "register.db"), sqlite.Options{AutoMigrate: true})
	if chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("Open in a missing directory = %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.db")
	os.WriteFile(junk, []byte(strings.Repeat("not a database ", 1000)), 0o600)
	if _, err := sqlite.Open(ctx, junk, sqlite.Options{AutoMigrate: true}); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("Open of a junk file = %v", err)
	}
}

func TestClosed(t *testing.T) {
	db := openTemp(t)
	db.Close()
	if _, err := db.UnitByID(ctx, 1); err == nil {
		t.Fatal("UnitByID on a closed register succeeded")
	}
}

func TestPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "register.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	u := &chungthuc.Unit{Code: "PL", Name: "Phường Phương Lâm", Place: "Phương Lâm"}
	if err := db.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, err := db.UnitByCode(ctx, "PL"); err != nil || got.Name != "Phường Phương Lâm" {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
	if broken, n, err := db.VerifyChain(ctx); err != nil || broken != 0 || n != 1 {
		t.Fatalf("VerifyChain = %d, %d, %v", broken, n, err)
	}
}

func TestLog(t *testing.T) {
	logtest.Run(t, logtest.Harness{
		Open: func(t *testing.T) logtest.Register { return openTemp(t) },
		Backup: func(t *testing.T, reg logtest.Register) func(t *testing.T) logtest.Register {
			path := filepath.Join(t.TempDir(), "backup.db")
			if err := reg.(*sqlite.DB).Backup(ctx, path); err != nil {
				t.Fatal(err)
			}
			return func(t *testing.T) logtest.Register {
				db, err := sqlite.Open(ctx, path, sqlite.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return db
			}
		},
	})
}
