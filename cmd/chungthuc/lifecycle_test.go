package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"

	"github.com/chungthuc/chungthuc/credentials"
	"github.com/chungthuc/chungthuc/storage/sqlite"
)

// TestAccountPasswdAndTokenRevoke: `account add` and `account passwd` give generated
// passwords that must be changed at the next login; `account passwd` replaces a password
// (the old one stops working) and ends the account's sessions; `token revoke` revokes a token.
func TestAccountPasswdAndTokenRevoke(t *testing.T) {
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(t.TempDir(), "data")}
	run := func(args ...string) string {
		t.Helper()
		code, out, errs := cli(t, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		return out
	}
	f := strings.Fields(run("account", "add", "--username", "canbo.moi", "--role", "officer", "--unit", "HB", "--officer", "1"))
	old := f[1]
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(env["CHUNGTHUC_DATA"], "register.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := db.AccountByUsername(ctx, "canbo.moi")
	if err != nil || !acct.MustChangePassword {
		t.Fatalf("account add: %+v %v (want a password that must change)", acct, err)
	}
	if err := db.SetPassword(ctx, acct.ID, acct.PasswordHash, false); err != nil { // as if changed on the web
		t.Fatal(err)
	}
	sess := &chungthuc.Session{TokenHash: credentials.TokenHash(credentials.NewToken()), AccountID: acct.ID,
		CSRFToken: credentials.NewToken(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f = strings.Fields(run("account", "passwd", "--username", "CanBo.Moi"))
	if len(f) != 2 || f[0] != "canbo.moi" || f[1] == old {
		t.Fatalf("account passwd printed %q", f)
	}
	tok := strings.TrimSpace(run("token", "create", "--unit", "HB", "--officer", "1"))
	if code, _, _ := cli(t, env, "token", "revoke"); code != 2 {
		t.Fatalf("token revoke without --id: exit %d, want 2", code)
	}
	if code, _, _ := cli(t, env, "account", "passwd", "--username", "khong-co"); code == 0 {
		t.Fatal("account passwd of an unknown account succeeded")
	}

	db, err = sqlite.Open(ctx, filepath.Join(env["CHUNGTHUC_DATA"], "register.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acct, err = db.AccountByUsername(ctx, "canbo.moi")
	if err != nil {
		t.Fatal(err)
	}
	if credentials.CheckPassword(acct.PasswordHash, old) || !credentials.CheckPassword(acct.PasswordHash, f[1]) {
		t.Fatal("the stored password is not the new one")
	}
	if !acct.MustChangePassword {
		t.Fatal("account passwd: the new password need not be changed")
	}
	if _, err := db.SessionByHash(ctx, sess.TokenHash); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Fatalf("account passwd left the account's session: %v", err)
	}
	tk, err := db.APITokenByHash(ctx, credentials.TokenHash(tok))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	run("token", "revoke", "--id", "1")
	if tk.ID != 1 {
		t.Fatalf("token id %d", tk.ID)
	}
	db, err = sqlite.Open(ctx, filepath.Join(env["CHUNGTHUC_DATA"], "register.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tk, err = db.APITokenByHash(ctx, credentials.TokenHash(tok))
	if err != nil || tk.RevokedAt.IsZero() {
		t.Fatalf("after token revoke: %+v %v", tk, err)
	}
}
