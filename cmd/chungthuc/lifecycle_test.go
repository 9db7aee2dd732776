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

// TestAccountPasswdAndTokenRevoke: `account passwd` replaces a password (the old one stops
// working, the account's sessions end), `token revoke` revokes a token.
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
	if err != nil {
		t.Fatal(err)
	}
	s := &chungthuc.Session{TokenHash: credentials.TokenHash(credentials.NewToken()), AccountID: acct.ID,
		CSRFToken: credentials.NewToken(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateSession(ctx, s); err != nil {
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
	if _, err := db.SessionByHash(ctx, s.TokenHash); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Fatalf("account passwd left the account's session: %v", err)
	}
	if credentials.CheckPassword(acct.PasswordHash, old) || !credentials.CheckPassword(acct.PasswordHash, f[1]) {
		t.Fatal("the stored password is not the new one")
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

// TestAccountDisableAndTokenList: `account disable` refuses the login and ends its sessions,
// `account enable` allows it again, `account logout` ends its sessions and says how many; `token list` shows every token or one unit's, revoked
// ones marked, never a secret; unknown names and units fail.
func TestAccountDisableAndTokenList(t *testing.T) {
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(t.TempDir(), "data")}
	run := cliOK(t, env)
	run("account", "add", "--username", "vanthu.moi", "--role", "clerk", "--unit", "HB")
	tok1 := strings.TrimSpace(run("token", "create", "--unit", "HB", "--officer", "1", "--name", "Một cửa"))
	tok2 := strings.TrimSpace(run("token", "create", "--unit", "HB", "--officer", "1"))
	run("token", "revoke", "--id", "1")

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
	s := &chungthuc.Session{TokenHash: credentials.TokenHash(credentials.NewToken()), AccountID: acct.ID,
		CSRFToken: credentials.NewToken(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	db.Close()

	if out := run("account", "disable", "--username", "VanThu.Moi"); !strings.Contains(out, "vanthu.moi disabled") {
		t.Fatalf("account disable printed %q", out)
	}
	check := func(wantDisabled bool) {
		t.Helper()
		db, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		a, err := db.AccountByUsername(ctx, "vanthu.moi")
		if err != nil || a.Disabled != wantDisabled {
			t.Fatalf("account after the command: %+v %v, want disabled=%v", a, err, wantDisabled)
		}
		if _, err := db.SessionByHash(ctx, s.TokenHash); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
			t.Fatalf("the session of the disabled account is still there: %v", err)
		}
	}
	check(true)
	run("account", "enable", "--username", "vanthu.moi")
	check(false)
	db, err = sqlite.Open(ctx, path, sqlite.Options{})
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
	if out := run("account", "logout", "--username", "vanthu.moi"); out != "account vanthu.moi: 2 sessions ended\n" {
		t.Fatalf("account logout printed %q", out)
	}
	if out := run("account", "logout", "--username", "vanthu.moi"); out != "account vanthu.moi: 0 sessions ended\n" {
		t.Fatalf("account logout again printed %q", out)
	}
	check(false)
	for _, args := range [][]string{
		{"account", "disable"}, {"account", "disable", "--username", "khong-co"}, {"account", "enable", "--username", "khong-co"},
		{"account", "logout", "--username", "khong-co"}, {"account", "logout"},
		{"token", "list", "--unit", "ZZ"},
	} {
		if code, _, _ := cli(t, env, args...); code == 0 {
			t.Fatalf("%v succeeded", args)
		}
	}

	out := run("token", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("token list printed %d lines:\n%s", len(lines), out)
	}
	for i, want := range []struct{ id, state, name string }{{"1", "revoked ", "Một cửa"}, {"2", "active", "one-stop shop"}} {
		f := strings.Split(lines[i], "\t")
		if len(f) != 6 || f[0] != want.id || f[1] != "HB" || f[2] != "1" || !strings.HasPrefix(f[4], want.state) || f[5] != want.name {
			t.Fatalf("token list line %d = %q", i, lines[i])
		}
	}
	if strings.Contains(out, tok1) || strings.Contains(out, tok2) || strings.Contains(out, credentials.TokenHash(tok1)) {
		t.Fatal("token list shows a secret or its hash")
	}
	if got := run("token", "list", "--unit", "hb"); got != out {
		t.Fatalf("token list --unit HB = %q, want %q", got, out)
	}
}

// cliOK returns a runner of the CLI in env that fails the test on a non-zero exit and returns
// standard output.
func cliOK(t *testing.T, env map[string]string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		code, out, errs := cli(t, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		return out
	}
}
