package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/chungthuc/chungthuc/credentials"
	"github.com/chungthuc/chungthuc/storage/sqlite"
)

// TestTOTPEndToEnd drives `serve` over HTTP with CHUNGTHUC_REQUIRE_TOTP_FOR_ADMIN=true: the
// demo system administrator, after the forced password change, is kept on the enrolment page;
// enrols with a code computed (by the otp library) from the secret the page shows; logs in
// again with the password — no session yet, the code page — where a wrong code is 401 and the
// right one logs in; the same code in a new login is refused; `account totp-reset` turns the
// second factor off, after which the administrator is confined to enrolment again.
func TestTOTPEndToEnd(t *testing.T) {
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(t.TempDir(), "data"), "CHUNGTHUC_REQUIRE_TOTP_FOR_ADMIN": "true",
		"CHUNGTHUC_RATE_LIMIT": "600"}
	base, _ := startServe(t, env)
	password := demoAdminPassword(t, base, env["CHUNGTHUC_DATA"])
	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	type page struct {
		status int
		path   string
		body   string
		csrf   string
	}
	client := func() *http.Client { jar, _ := cookiejar.New(nil); return &http.Client{Jar: jar} }
	do := func(cl *http.Client, method, path string, form url.Values) page {
		t.Helper()
		var res *http.Response
		var err error
		if method == "GET" {
			res, err = cl.Get(base + path)
		} else {
			res, err = cl.PostForm(base+path, form)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		p := page{status: res.StatusCode, path: res.Request.URL.Path, body: string(b)}
		if m := csrfRE.FindStringSubmatch(p.body); m != nil {
			p.csrf = m[1]
		}
		return p
	}
	login := func(cl *http.Client) page {
		t.Helper()
		p := do(cl, "GET", "/login", nil)
		return do(cl, "POST", "/login", url.Values{"csrf": {p.csrf}, "username": {"quantri"}, "password": {password}, "next": {"/app/accounts"}})
	}
	hasSession := func(cl *http.Client) bool {
		u, _ := url.Parse(base + "/")
		for _, c := range cl.Jar.Cookies(u) {
			if c.Name == "ct_session" {
				return true
			}
		}
		return false
	}

	// Confined to the enrolment page.
	cl := client()
	if p := login(cl); p.path != "/app/account/totp" || !strings.Contains(p.body, "Xác thực hai bước") {
		t.Fatalf("administrator's login ended at %s", p.path)
	}
	if p := do(cl, "GET", "/app/webhooks", nil); p.path != "/app/account/totp" {
		t.Fatalf("/app/webhooks while confined ended at %s", p.path)
	}
	p := do(cl, "GET", "/app/account/totp", nil)
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`).FindStringSubmatch(p.body)
	if m == nil || !strings.Contains(p.body, "<svg") {
		t.Fatalf("enrolment page without QR code or secret:\n%s", p.body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if p := do(cl, "POST", "/app/account/totp", url.Values{"csrf": {p.csrf}, "code": {code}}); p.status != 200 || !strings.Contains(p.body, "Đã bật xác thực hai bước") {
		t.Fatalf("enrolment: %d at %s", p.status, p.path)
	}
	if p := do(cl, "GET", "/app/webhooks", nil); p.status != 200 || p.path != "/app/webhooks" {
		t.Fatalf("/app/webhooks after enrolling: %d at %s", p.status, p.path)
	}

	// A new login: the password leads to the code page, no session.
	cl = client()
	p = login(cl)
	if p.status != 200 || p.path != "/login/totp" || hasSession(cl) {
		t.Fatalf("password step: %d at %s (session %v)", p.status, p.path, hasSession(cl))
	}
	if p := do(cl, "GET", "/app/accounts", nil); p.path != "/login" {
		t.Fatalf("workspace before the code: %s", p.path)
	}
	p = do(cl, "GET", "/login/totp", nil)
	wrong := "000000"
	if c, _ := totp.GenerateCode(secret, time.Now()); c == wrong {
		wrong = "111111"
	}
	if q := do(cl, "POST", "/login/totp", url.Values{"csrf": {p.csrf}, "code": {wrong}}); q.status != http.StatusUnauthorized || hasSession(cl) {
		t.Fatalf("wrong code: %d", q.status)
	} else {
		p = q
	}
	// The enrolment used this step's code: the next step's is fresh (accepted one step ahead).
	code, _ = totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if q := do(cl, "POST", "/login/totp", url.Values{"csrf": {p.csrf}, "code": {code}}); q.status != 200 || q.path != "/app/accounts" || !hasSession(cl) {
		t.Fatalf("right code: %d at %s", q.status, q.path)
	}

	// The same code in a new login: refused.
	cl2 := client()
	if p := login(cl2); p.path != "/login/totp" {
		t.Fatalf("second password step: %d at %s\n%s", p.status, p.path, p.body)
	}
	p = do(cl2, "GET", "/login/totp", nil)
	if q := do(cl2, "POST", "/login/totp", url.Values{"csrf": {p.csrf}, "code": {code}}); q.status != http.StatusUnauthorized || hasSession(cl2) {
		t.Fatalf("reused code: %d at %s", q.status, q.path)
	}

	// The operator turns it off; the administrator must enrol again.
	if out := cliOK(t, env)("account", "totp-reset", "--username", "quantri"); !strings.Contains(out, "turned off") {
		t.Fatalf("account totp-reset: %q", out)
	}
	if p := do(cl, "GET", "/app/accounts", nil); p.path != "/login" {
		t.Fatalf("the reset left the session alive: %s", p.path)
	}
	cl = client()
	if p := login(cl); p.path != "/app/account/totp" || !hasSession(cl) {
		t.Fatalf("login after totp-reset ended at %s", p.path)
	}
}

// TestAccountTOTPResetCLI: `account passwd` and `account totp-reset` turn an account's second
// factor off (the latter says whether one was on and keeps the password); an unknown login
// is an error.
func TestAccountTOTPResetCLI(t *testing.T) {
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(t.TempDir(), "data")}
	run := cliOK(t, env)
	run("account", "add", "--username", "canbo.moi", "--role", "officer", "--unit", "HB", "--officer", "1")
	ctx := context.Background()
	enable := func() (enabled func() bool) {
		t.Helper()
		db, err := sqlite.Open(ctx, filepath.Join(env["CHUNGTHUC_DATA"], "register.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		a, err := db.AccountByUsername(ctx, "canbo.moi")
		if err != nil {
			t.Fatal(err)
		}
		secret := credentials.NewTOTPSecret()
		if err := db.SetTOTPPending(ctx, a.ID, secret); err != nil {
			t.Fatal(err)
		}
		if err := db.EnableTOTP(ctx, a.ID, secret, credentials.TOTPStep(time.Now()), time.Now()); err != nil {
			t.Fatal(err)
		}
		return func() bool {
			db, err := sqlite.Open(ctx, filepath.Join(env["CHUNGTHUC_DATA"], "register.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			a, err := db.AccountByID(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return !a.TOTPSince.IsZero()
		}
	}
	enabled := enable()
	run("account", "passwd", "--username", "canbo.moi")
	if enabled() {
		t.Fatal("account passwd left the second factor on")
	}
	enabled = enable()
	if out := run("account", "totp-reset", "--username", "CanBo.Moi"); strings.TrimSpace(out) != "account canbo.moi: two-step verification turned off" {
		t.Fatalf("account totp-reset printed %q", out)
	}
	if enabled() {
		t.Fatal("account totp-reset left the second factor on")
	}
	if out := run("account", "totp-reset", "--username", "canbo.moi"); !strings.Contains(out, "was not on") {
		t.Fatalf("account totp-reset again printed %q", out)
	}
	if code, _, _ := cli(t, env, "account", "totp-reset", "--username", "khong-co"); code == 0 {
		t.Fatal("account totp-reset of an unknown login succeeded")
	}
	if code, _, _ := cli(t, env, "account", "totp-reset"); code != 2 {
		t.Fatalf("account totp-reset without --username: exit %d, want 2", code)
	}
}
