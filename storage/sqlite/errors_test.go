package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
)

func TestMapErr(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "r.db"), Options{AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Append(ctx, &chungthuc.AuditEntry{Action: "login", Actor: "cli"}); err != nil {
		t.Fatal(err)
	}
	err = mapErr(db.ExecSQL(ctx, "DELETE FROM audit_log"))
	t.Logf("%v", err)
	if chungthuc.ErrorCode(err) != chungthuc.ECONFLICT || chungthuc.ErrorMessage(err) != "permanent record: audit_log is append-only" {
		t.Fatalf("trigger error mapped to %v", err)
	}
	err = mapErr(db.ExecSQL(ctx, "INSERT INTO units (code, name, place, created_at) VALUES ('A','a','a','x'), ('A','a','a','x')"))
	if chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		t.Fatalf("unique violation mapped to %v", err)
	}
	err = mapErr(db.ExecSQL(ctx, "INSERT INTO officers (unit_id, name, title, role, active, created_at) VALUES (999, 'a', '', 'officer', 1, 'x')"))
	if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Fatalf("foreign key violation mapped to %v", err)
	}
	if err := mapErr(db.ExecSQL(ctx, "SELEC 1")); chungthuc.ErrorCode(err) != chungthuc.EINTERNAL || !strings.Contains(err.Error(), "sqlite:") {
		t.Fatalf("syntax error mapped to %v", err)
	}
}

// TestRegisterFilesPrivate: the register and its WAL are 0600, and a file left 0644 by an
// older version is tightened when opened.
func TestRegisterFilesPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "register.db")
	check := func() {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(p)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s: mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
			}
		}
	}
	db, err := Open(context.Background(), path, Options{AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL file to check: %v", err)
	}
	check()
	db.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check()
}
