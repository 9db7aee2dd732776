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
	run := cliOK(t, env)
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

// TestAccountDisableAndTokenList: `account disable` disables a login, ends its sessions and
// revokes its officer's tokens; `account enable` enables it (tokens stay revoked); `token
// list` prints every token, or one unit's, without secrets; bad arguments fail.
func TestAccountDisableAndTokenList(t *testing.T) {
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(t.TempDir(), "data")}
	run := cliOK(t, env)
	run("account", "add", "--username", "canbo.moi", "--role", "officer", "--unit", "HB", "--officer", "1")
	run("account", "add", "--username", "vanthu", "--role", "clerk", "--unit", "HB")
	tok1 := strings.TrimSpace(run("token", "create", "--unit", "HB", "--officer", "1", "--name", "một cửa 1"))
	tok2 := strings.TrimSpace(run("token", "create", "--unit", "HB", "--officer", "1", "--name", "một cửa 2"))
	run("token", "revoke", "--id", "2")

	out := run("token", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "1\tHB\t1\t") || !strings.Contains(lines[0], "\tactive\tmột cửa 1") ||
		!strings.Contains(lines[1], "\trevoked ") || strings.Contains(out, tok1) || strings.Contains(out, tok2) ||
		strings.Contains(out, credentials.TokenHash(tok1)) {
		t.Fatalf("token list:\n%s", out)
	}
	if out := run("token", "list", "--unit", "hb"); len(strings.Split(strings.TrimSpace(out), "\n")) != 2 {
		t.Fatalf("token list --unit hb:\n%s", out)
	}
	if code, _, _ := cli(t, env, "token", "list", "--unit", "XX"); code == 0 {
		t.Fatal("token list of an unknown unit succeeded")
	}

	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(env["CHUNGTHUC_DATA"], "register.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := db.AccountByUsername(ctx, "canbo.moi")
	if err != nil {
		t.Fatal(err)
	}
	sess := &chungthuc.Session{TokenHash: credentials.TokenHash(credentials.NewToken()), AccountID: acct.ID,
		CSRFToken: credentials.NewToken(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if out := run("account", "disable", "--username", "CanBo.Moi"); strings.TrimSpace(out) != "canbo.moi disabled" {
		t.Fatalf("account disable printed %q", out)
	}
	if code, _, _ := cli(t, env, "account", "disable"); code != 2 {
		t.Fatalf("account disable without --username: exit %d, want 2", code)
	}
	if code, _, _ := cli(t, env, "account", "enable", "--username", "khong-co"); code == 0 {
		t.Fatal("account enable of an unknown account succeeded")
	}
	if out := run("token", "list"); strings.Count(out, "\trevoked ") != 2 {
		t.Fatalf("after disable, token list:\n%s", out)
	}
	db, err = sqlite.Open(ctx, filepath.Join(env["CHUNGTHUC_DATA"], "register.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acct, _ = db.AccountByUsername(ctx, "canbo.moi")
	_, serr := db.SessionByHash(ctx, sess.TokenHash)
	clerk, _ := db.AccountByUsername(ctx, "vanthu")
	db.Close()
	if !acct.Disabled || chungthuc.ErrorCode(serr) != chungthuc.ENOTFOUND || clerk.Disabled {
		t.Fatalf("after disable: disabled=%v session=%v clerk disabled=%v", acct.Disabled, serr, clerk.Disabled)
	}
	run("account", "enable", "--username", "canbo.moi")
	db, err = sqlite.Open(ctx, filepath.Join(env["CHUNGTHUC_DATA"], "register.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acct, _ = db.AccountByUsername(ctx, "canbo.moi")
	tk, _ := db.APITokenByHash(ctx, credentials.TokenHash(tok1))
	if acct.Disabled || tk.RevokedAt.IsZero() {
		t.Fatalf("after enable: disabled=%v token revoked=%v", acct.Disabled, !tk.RevokedAt.IsZero())
	}
}

// TestAccountLogout: `account logout` ends every session of a login and says how many; the
// login itself keeps working; unknown or missing names fail.
func TestAccountLogout(t *testing.T) {
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(t.TempDir(), "data")}
	run := cliOK(t, env)
	run("account", "add", "--username", "vanthu.moi", "--role", "clerk", "--unit", "HB")
	ctx := context.Background()
	path := filepath.Join(env["CHUNGTHUC_DATA"], "register.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := db.AccountByUsername(ctx, "vanthu.moi")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		s := &chungthuc.Session{TokenHash: credentials.TokenHash(credentials.NewToken()), AccountID: acct.ID,
			CSRFToken: credentials.NewToken(), ExpiresAt: time.Now().Add(time.Hour)}
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if out := run("account", "logout", "--username", "VanThu.Moi"); out != "account vanthu.moi: 2 sessions ended\n" {
		t.Fatalf("account logout printed %q", out)
	}
	if out := run("account", "logout", "--username", "vanthu.moi"); out != "account vanthu.moi: 0 sessions ended\n" {
		t.Fatalf("account logout again printed %q", out)
	}
	for _, args := range [][]string{{"account", "logout", "--username", "khong-co"}, {"account", "logout"}} {
		if code, _, _ := cli(t, env, args...); code == 0 {
			t.Fatalf("%v succeeded", args)
		}
	}
}
