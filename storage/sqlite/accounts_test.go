package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/registertest"
)

func openAccounts(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "register.db"), Options{AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestAccounts(t *testing.T) {
	registertest.RunAccounts(t, func(t *testing.T) chungthuc.Accounts { return openAccounts(t) })
}

// TestAccountsAuditNoSecrets reads the audit rows written by account and token changes: they
// name what changed and never carry a password hash or token hash.
func TestAccountsAuditNoSecrets(t *testing.T) {
	ctx := context.Background()
	db := openAccounts(t)
	defer db.Close()
	u := &chungthuc.Unit{Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	o := &chungthuc.Officer{Name: "Nguyễn Thị Hằng", Active: true}
	if err := db.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	o.UnitID = u.ID
	if err := db.CreateOfficer(ctx, o); err != nil {
		t.Fatal(err)
	}
	h1, h2 := registertest.PasswordHash(), registertest.PasswordHash()
	a := &chungthuc.Account{UnitID: u.ID, OfficerID: o.ID, Username: "hang.nt", PasswordHash: h1, Role: chungthuc.RoleOfficer}
	if err := db.CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPassword(ctx, a.ID, h2, false); err != nil {
		t.Fatal(err)
	}
	tok := &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: "Một cửa", TokenHash: registertest.SecretHash()}
	if err := db.CreateAPIToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeAPIToken(ctx, tok.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	totp := registertest.TOTPSecret()
	if err := db.SetTOTPPending(ctx, a.ID, totp); err != nil {
		t.Fatal(err)
	}
	if err := db.EnableTOTP(ctx, a.ID, totp, 1, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DisableTOTP(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := db.r.QueryContext(ctx, `SELECT action, unit_id, subject, detail FROM audit_log WHERE id > 2 ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var action, subject, detail string
		var unit int64
		if err := rows.Scan(&action, &unit, &subject, &detail); err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{h1, h2, tok.TokenHash, "argon2id", totp, totp[:16]} {
			if strings.Contains(detail, secret) || strings.Contains(subject, secret) {
				t.Errorf("%s entry carries a secret: %s", action, detail)
			}
		}
		if unit != u.ID {
			t.Errorf("%s entry has unit %d, want %d", action, unit, u.ID)
		}
		got = append(got, action+" "+subject)
	}
	want := "account.create account:1,account.password account:1,token.create token:1,token.revoke token:1,account.totp.enable account:1,account.totp.disable account:1"
	if strings.Join(got, ",") != want {
		t.Fatalf("audit entries %q, want %q", strings.Join(got, ","), want)
	}
}

// TestUsernameUniqueInSchema checks that the schema itself refuses a username that is not
// lower-case, so that no writer can bypass the case-insensitive uniqueness.
func TestUsernameUniqueInSchema(t *testing.T) {
	ctx := context.Background()
	db := openAccounts(t)
	defer db.Close()
	err := mapErr(db.ExecSQL(ctx, `INSERT INTO accounts (username, password_hash, role, created_at)
		VALUES ('Root', 'x', 'system_admin', '2026-01-01T00:00:00.000000Z')`))
	if err == nil {
		t.Fatal("an upper-case username was stored")
	}
	err = mapErr(db.ExecSQL(ctx, `INSERT INTO accounts (username, password_hash, role, created_at)
		VALUES ('clerk', 'x', 'clerk', '2026-01-01T00:00:00.000000Z')`))
	if err == nil {
		t.Fatal("a clerk without a unit was stored")
	}
}

func BenchmarkAccounts(b *testing.B) {
	db := openAccounts(b)
	defer db.Close()
	registertest.BenchmarkAccounts(b, db)
}
