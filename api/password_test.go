package api

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
)

// loginTo logs user in without following the redirect: the client, where the login sent
// it and the status.
func (e *env) loginTo(user, password string) (*http.Client, string, int) {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, _, _, csrf := pageCSRF(e.t, cl, e.srv.URL+"/login")
	st, loc, _ := postForm(e.t, cl, e.srv.URL+"/login", url.Values{"csrf": {csrf}, "username": {user}, "password": {password}, "next": {"/app/register"}})
	return cl, loc, st
}

// pageCSRF fetches path with cl and returns the status, Location, body and CSRF token.
func pageCSRF(t testing.TB, cl *http.Client, u string) (int, string, string, string) {
	t.Helper()
	res, err := cl.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csrf := ""
	if m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b); m != nil {
		csrf = string(m[1])
	}
	return res.StatusCode, res.Header.Get("Location"), string(b), csrf
}

func postForm(t testing.TB, cl *http.Client, u string, v url.Values) (int, string, string) {
	t.Helper()
	res, err := cl.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

// TestPasswordChange: an account with a generated password is sent to the password page at
// login and can do nothing else until it chose a new password (GET → 303 to the page, POST →
// 403, logging out works); every rule of a new password is enforced; a change ends the
// account's other sessions but not this one, the old password stops working and the change
// is audited.
func TestPasswordChange(t *testing.T) {
	audit := &recordingAudit{}
	e := newEnv(t, func(d *Deps) { audit.Auditor = d.Audit; d.Audit = audit })
	ctx := context.Background()
	hash, _ := credentials.HashPassword(e.password)
	user := "vanthu.hoabinh"
	acct := &chungthuc.Account{UnitID: e.pl.ID, Username: user, Role: chungthuc.RoleClerk, PasswordHash: hash, MustChangePassword: true}
	if err := e.reg.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	base := e.srv.URL

	// Login sends a forced account to the password page, whatever next said.
	jarCl := func() *http.Client {
		cl, loc, st := e.loginTo(user, e.password)
		if st != http.StatusSeeOther || loc != passwordPath {
			t.Fatalf("forced login: %d %q, want 303 to %s", st, loc, passwordPath)
		}
		return cl
	}
	cl, other := jarCl(), jarCl()
	st, loc, _, _ := pageCSRF(t, cl, base+"/app/")
	if st != http.StatusSeeOther || loc != passwordPath {
		t.Fatalf("forced account GET /app/: %d %q, want 303 to %s", st, loc, passwordPath)
	}
	st, loc, _, _ = pageCSRF(t, cl, base+"/app/register?q=x")
	if st != http.StatusSeeOther || loc != passwordPath {
		t.Fatalf("forced account GET /app/register: %d %q", st, loc)
	}
	st, _, body, csrf := pageCSRF(t, cl, base+passwordPath)
	if st != 200 || csrf == "" || !strings.Contains(body, "<h1>Đổi mật khẩu</h1>") || !strings.Contains(body, "do hệ thống tạo ra") {
		t.Fatalf("password page: %d\n%s", st, body)
	}
	if st, _, _ := postForm(t, cl, base+"/app/refuse", url.Values{"csrf": {csrf}, "reason": {"x"}}); st != http.StatusForbidden {
		t.Fatalf("forced account POST /app/refuse: %d, want 403", st)
	}

	// Every rule.
	good := "một mật khẩu mới đủ dài"
	for _, c := range []struct {
		what, current, pw, again, want string
	}{
		{"wrong current", "sai-mật-khẩu-hiện-tại", good, good, "Mật khẩu hiện tại không đúng."},
		{"short", e.password, "ngắn-11-ký", "ngắn-11-ký", "ít nhất 12 ký tự"},
		{"mismatch", e.password, good, good + "!", "không giống nhau"},
		{"username", e.password, "VanThu.HoaBinh", "VanThu.HoaBinh", "trùng tên đăng nhập"},
		{"same", e.password, e.password, e.password, "khác mật khẩu hiện tại"},
	} {
		st, _, body := postForm(t, cl, base+passwordPath, url.Values{"csrf": {csrf}, "current": {c.current}, "new": {c.pw}, "new2": {c.again}})
		if st != http.StatusBadRequest || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want 400 with %q", c.what, st, c.want)
		}
	}
	if a, _ := e.reg.AccountByID(ctx, acct.ID); a.PasswordHash != hash || !a.MustChangePassword {
		t.Fatal("a refused change changed the account")
	}
	if n := len(audit.of("account.password.refused")); n != 5 {
		t.Errorf("%d refused changes audited, want 5", n)
	}
	// Without the CSRF token: 403, nothing changed.
	if st, _, _ := postForm(t, cl, base+passwordPath, url.Values{"current": {e.password}, "new": {good}, "new2": {good}}); st != http.StatusForbidden {
		t.Fatalf("change without CSRF: %d", st)
	}

	st, loc, _ = postForm(t, cl, base+passwordPath, url.Values{"csrf": {csrf}, "current": {e.password}, "new": {good}, "new2": {good}})
	if st != http.StatusSeeOther || loc != passwordPath+"?changed=1" {
		t.Fatalf("change: %d %q", st, loc)
	}
	a, _ := e.reg.AccountByID(ctx, acct.ID)
	if a.MustChangePassword || !credentials.CheckPassword(a.PasswordHash, good) {
		t.Fatalf("after the change: %+v", a)
	}
	if st, _, _, _ := pageCSRF(t, cl, base+"/app/"); st != 200 {
		t.Fatalf("this session after the change: %d, want 200", st)
	}
	if st, loc, _, _ := pageCSRF(t, other, base+"/app/"); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("the other session after the change: %d %q, want 303 to /login", st, loc)
	}
	if _, _, st := e.login(user, e.password); st != http.StatusUnauthorized {
		t.Fatalf("old password after the change: %d", st)
	}
	if _, _, st := e.login(user, good); st != http.StatusSeeOther {
		t.Fatalf("new password: %d", st)
	}
	ch := audit.of("account.password.change")
	if len(ch) != 1 || ch[0].Actor != "account:"+itoa(acct.ID) || !strings.Contains(ch[0].Detail, `"sessions_ended":1`) {
		t.Fatalf("audit: %+v", ch)
	}
}

// TestPasswordChangeAuditFailure: a change whose audit entry cannot be written answers an
// error, not success.
func TestPasswordChangeAuditFailure(t *testing.T) {
	fa := &failingAudit{actions: map[string]bool{"account.password.change": true}}
	e := newEnv(t, func(d *Deps) { fa.Auditor = d.Audit; d.Audit = fa })
	cl, csrf, st := e.login("canbo", e.password)
	if st != http.StatusSeeOther {
		t.Fatal(st)
	}
	fa.fail.Store(true)
	good := "một mật khẩu mới đủ dài"
	st, _, _ = postForm(t, cl, e.srv.URL+passwordPath, url.Values{"csrf": {csrf}, "current": {e.password}, "new": {good}, "new2": {good}})
	if st < 500 {
		t.Fatalf("change with the audit log down: %d, want 5xx", st)
	}
}

// BenchmarkPasswordChange measures a password change over HTTP (check the current password,
// hash the new one, store it, end the other sessions, audit) against its peer, a login
// (check the password, create a session, audit); run both in the same run and compare.
func BenchmarkPasswordChange(b *testing.B) {
	e := newEnv(b, nil)
	cl, csrf, st := e.login("canbo", e.password)
	if st != http.StatusSeeOther {
		b.Fatal(st)
	}
	pw := []string{e.password, "một mật khẩu mới đủ dài"}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cur, next := pw[i%2], pw[(i+1)%2]
		st, _, _ := postForm(b, cl, e.srv.URL+passwordPath, url.Values{"csrf": {csrf}, "current": {cur}, "new": {next}, "new2": {next}})
		if st != http.StatusSeeOther {
			b.Fatalf("change %d: %d", i, st)
		}
	}
}

// BenchmarkLogin is the peer of BenchmarkPasswordChange: one successful login over HTTP.
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, st := e.loginTo("canbo", e.password); st != http.StatusSeeOther {
			b.Fatalf("login %d: %d", i, st)
		}
	}
}
