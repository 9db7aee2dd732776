package sqlite

import (
	"context"
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
