package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
)

// enableTOTP gives the account a second factor directly in the register and returns its
// secret; the step last accepted is two steps ago, so the current code is fresh.
func (e *env) enableTOTP(username string) (*chungthuc.Account, string) {
	e.t.Helper()
	ctx := context.Background()
	a, err := e.reg.AccountByUsername(ctx, username)
	if err != nil {
		e.t.Fatal(err)
	}
	secret := credentials.NewTOTPSecret()
	if err := e.reg.SetTOTPPending(ctx, a.ID, secret); err != nil {
		e.t.Fatal(err)
	}
	if err := e.reg.EnableTOTP(ctx, a.ID, secret, credentials.TOTPStep(time.Now())-2, time.Now()); err != nil {
		e.t.Fatal(err)
	}
	return a, secret
}

func totpNow(t testing.TB, secret string) string {
	t.Helper()
	c, err := credentials.TOTPCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// otherCode is a six-digit code that is none of secret's codes around now.
func otherCode(t testing.TB, secret string) string {
	t.Helper()
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", (123456+i*7919)%1000000)
		if _, ok := credentials.CheckTOTP(secret, c, time.Now()); !ok {
			return c
		}
	}
}

// submitCode fetches the code page with cl (its CSRF token) and posts code; it returns the
// status, Location and body of the answer.
func (e *env) submitCode(cl *http.Client, code string) (int, string, string) {
	e.t.Helper()
	st, loc, _, csrf := pageCSRF(e.t, cl, e.srv.URL+totpLoginPath)
	if st != http.StatusOK || csrf == "" {
		e.t.Fatalf("code page: %d → %s", st, loc)
	}
	return postForm(e.t, cl, e.srv.URL+totpLoginPath, url.Values{"csrf": {csrf}, "code": {code}})
}

// hasSession says whether the client holds a session cookie for the site.
func (e *env) hasSession(cl *http.Client) bool {
	u, _ := url.Parse(e.srv.URL + "/app/")
	for _, c := range cl.Jar.Cookies(u) {
		if c.Name == sessionCookie && c.Value != "" {
			return true
		}
	}
	return false
}

var alertRe = regexp.MustCompile(`(?s)class="alert" role="alert">(.*?)<`)

// TestTOTPEnrol: the page shows a QR code and the secret in groups; a wrong code does not
// enable the second factor (400, the same secret shown again); the right code does, ends the
// other sessions and is audited; the page then says it is on.
func TestTOTPEnrol(t *testing.T) {
	e, audit, accts := adminEnv(t)
	cl, csrf := e.adminClient("canbo")
	other, _ := e.adminClient("canbo")
	st, _, body, _ := pageCSRF(t, cl, e.srv.URL+totpPath)
	if st != http.StatusOK || !strings.Contains(body, "<svg") || !strings.Contains(body, "Xác thực hai bước") {
		t.Fatalf("enrolment page: %d\n%s", st, body)
	}
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	if len(secret) != 32 || !strings.Contains(m[1], " ") {
		t.Fatalf("secret %q", m[1])
	}
	// A second visit shows the same pending secret.
	if _, _, again, _ := pageCSRF(t, cl, e.srv.URL+totpPath); !strings.Contains(again, m[1]) {
		t.Fatal("the pending secret changed between visits")
	}

	st, _, body = postForm(t, cl, e.srv.URL+totpPath, url.Values{"csrf": {csrf}, "code": {otherCode(t, secret)}})
	if st != http.StatusBadRequest || !strings.Contains(body, m[1]) {
		t.Fatalf("wrong code: %d", st)
	}
	if tt, _ := e.reg.TOTPOf(context.Background(), accts["canbo"].ID); tt.Secret != "" {
		t.Fatal("a wrong code enabled the second factor")
	}
	if a, _ := e.reg.AccountByID(context.Background(), accts["canbo"].ID); !a.TOTPSince.IsZero() {
		t.Fatal("a wrong code enabled the second factor")
	}
	if len(audit.of("totp.enable.refused")) != 1 {
		t.Fatal("refused enrolment not audited")
	}
	// Without the CSRF token: 403.
	if st, _, _ := postForm(t, cl, e.srv.URL+totpPath, url.Values{"code": {totpNow(t, secret)}}); st != http.StatusForbidden {
		t.Fatalf("enrolment without CSRF token: %d", st)
	}
	st, loc, _ := postForm(t, cl, e.srv.URL+totpPath, url.Values{"csrf": {csrf}, "code": {totpNow(t, secret)}})
	if st != http.StatusSeeOther || loc != totpPath+"?done=on" {
		t.Fatalf("right code: %d → %s", st, loc)
	}
	tt, _ := e.reg.TOTPOf(context.Background(), accts["canbo"].ID)
	if tt.Secret != secret || tt.Pending != "" || tt.LastStep == 0 {
		t.Fatalf("after enrolment: enabled %v, pending %v, step %d", tt.Secret == secret, tt.Pending != "", tt.LastStep)
	}
	if a := audit.of("totp.enable"); len(a) != 1 || strings.Contains(a[0].Detail, secret) || !strings.Contains(a[0].Detail, `"sessions_ended":1`) {
		t.Fatalf("enrolment audit %+v", a)
	}
	if st, _, _, _ := pageCSRF(t, other, e.srv.URL+"/app/"); st != http.StatusSeeOther {
		t.Fatalf("the other session survived the enrolment: %d", st)
	}
	_, _, body, _ = pageCSRF(t, cl, e.srv.URL+totpPath)
	if !strings.Contains(body, "đang bật") || strings.Contains(body, secret[:8]) {
		t.Fatal("the page does not say the second factor is on, or still shows the secret")
	}
}

// TestTOTPLogin: with a second factor the password alone gives no session but the code
// page; a wrong code is 401 with one message, audited (why totp) and counted by the
// throttle; the right code logs in (to next) and is audited; the same code again, in a new
// login, is refused; the code page without a pending login sends back to the login page.
func TestTOTPLogin(t *testing.T) {
	e, audit, _ := adminEnv(t)
	acct, secret := e.enableTOTP("canbo")

	cl, loc, st := e.loginTo("canbo", e.password)
	if st != http.StatusSeeOther || loc != totpLoginPath {
		t.Fatalf("password step: %d → %s", st, loc)
	}
	if e.hasSession(cl) {
		t.Fatal("the password alone gave a session cookie")
	}
	if st, loc, _, _ := pageCSRF(t, cl, e.srv.URL+"/app/register"); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("workspace after the password alone: %d → %s", st, loc)
	}
	if n := len(audit.of("login")); n != 0 {
		t.Fatalf("%d login audits after the password alone", n)
	}

	st, _, body := e.submitCode(cl, otherCode(t, secret))
	msg := alertRe.FindStringSubmatch(body)
	if st != http.StatusUnauthorized || msg == nil || strings.TrimSpace(msg[1]) != messages["vi"]["totp.bad"] || e.hasSession(cl) {
		t.Fatalf("wrong code: %d, %q", st, msg)
	}
	failed := audit.of("login.failed")
	if len(failed) != 1 || !strings.Contains(failed[0].Detail, `"why":"totp"`) || failed[0].Subject != fmt.Sprintf("account:%d", acct.ID) {
		t.Fatalf("wrong code audit %+v", failed)
	}
	counts, err := e.reg.LoginFailures(context.Background(), []string{fmt.Sprintf("totp:account:%d", acct.ID)})
	if err != nil || counts[0].Count != 1 {
		t.Fatalf("account code failures = %+v, %v; want 1", counts, err)
	}

	// Without the login cookie's CSRF token: 403.
	if st, _, _ := postForm(t, cl, e.srv.URL+totpLoginPath, url.Values{"code": {totpNow(t, secret)}}); st != http.StatusForbidden {
		t.Fatalf("code without CSRF token: %d", st)
	}

	code := totpNow(t, secret)
	st, loc, _ = e.submitCode(cl, code)
	if st != http.StatusSeeOther || loc != "/app/register" || !e.hasSession(cl) {
		t.Fatalf("right code: %d → %s (session %v)", st, loc, e.hasSession(cl))
	}
	if st, _, _, _ := pageCSRF(t, cl, e.srv.URL+"/app/register"); st != http.StatusOK {
		t.Fatalf("workspace after the code: %d", st)
	}
	if l := audit.of("login"); len(l) != 1 || !strings.Contains(l[0].Detail, `"second_factor":"totp"`) {
		t.Fatalf("login audit %+v", l)
	}
	// The successful login forgot the account's code failures.
	if counts, _ := e.reg.LoginFailures(context.Background(), []string{fmt.Sprintf("totp:account:%d", acct.ID)}); counts[0].Count != 0 {
		t.Fatalf("code failures after a login: %d", counts[0].Count)
	}
	// The pending login was used (and its cookie cleared): the code page sends to the login.
	if st, loc, _, _ := pageCSRF(t, cl, e.srv.URL+totpLoginPath); st != http.StatusSeeOther || loc != "/login" {
		t.Fatalf("code page after the login: %d → %s", st, loc)
	}

	// The same code again, in a new login with the right password: refused.
	cl2, loc, st := e.loginTo("canbo", e.password)
	if st != http.StatusSeeOther || loc != totpLoginPath {
		t.Fatalf("second password step: %d → %s", st, loc)
	}
	st, _, body = e.submitCode(cl2, code)
	if msg := alertRe.FindStringSubmatch(body); st != http.StatusUnauthorized || e.hasSession(cl2) || msg == nil || strings.TrimSpace(msg[1]) != messages["vi"]["totp.bad"] {
		t.Fatalf("reused code: %d", st)
	}
	if f := audit.of("login.failed"); !strings.Contains(f[len(f)-1].Detail, `"why":"totp_reused"`) {
		t.Fatalf("reused code audit %+v", f[len(f)-1])
	}

	// An account without a second factor never gets a pending login.
	fresh, loc, _ := e.loginTo("quantri", e.password)
	if loc != "/app/register" {
		t.Fatalf("login without a second factor → %s", loc)
	}
	if st, loc, _, _ := pageCSRF(t, fresh, e.srv.URL+totpLoginPath); st != http.StatusSeeOther || loc != "/login" {
		t.Fatalf("code page without a pending login: %d → %s", st, loc)
	}
}

// TestTOTPThrottle: wrong codes are throttled like wrong passwords, on the same keys — past
// the free ones, even the right code is refused while the delay runs, with the same message,
// and so is the right password of a new login from that address.
func TestTOTPThrottle(t *testing.T) {
	old := throttle
	throttle = credentials.Throttle{Free: 2, Base: time.Hour, Max: time.Hour, Window: 24 * time.Hour}
	defer func() { throttle = old }()
	e, audit, _ := adminEnv(t)
	_, secret := e.enableTOTP("canbo")
	cl, _, _ := e.loginTo("canbo", e.password)
	for i := range 3 {
		if st, _, _ := e.submitCode(cl, otherCode(t, secret)); st != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i, st)
		}
	}
	st, _, body := e.submitCode(cl, totpNow(t, secret))
	if msg := alertRe.FindStringSubmatch(body); st != http.StatusUnauthorized || e.hasSession(cl) || msg == nil || strings.TrimSpace(msg[1]) != messages["vi"]["totp.bad"] {
		t.Fatalf("right code while throttled: %d", st)
	}
	if f := audit.of("login.failed"); !strings.Contains(f[len(f)-1].Detail, `"why":"throttled"`) {
		t.Fatalf("throttled audit %+v", f[len(f)-1])
	}
	if _, _, st := e.loginTo("canbo", e.password); st != http.StatusUnauthorized {
		t.Fatalf("password step after wrong codes: %d, want 401", st)
	}
}

// TestTOTPParallelLogins: two browsers that passed the password step submit the same code
// at once; one session results.
func TestTOTPParallelLogins(t *testing.T) {
	e, _, _ := adminEnv(t)
	_, secret := e.enableTOTP("canbo")
	type browser struct {
		cl   *http.Client
		csrf string
	}
	var bs []browser
	for range 4 {
		cl, _, _ := e.loginTo("canbo", e.password)
		_, _, _, csrf := pageCSRF(t, cl, e.srv.URL+totpLoginPath)
		bs = append(bs, browser{cl, csrf})
	}
	code := totpNow(t, secret)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for _, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := b.cl.PostForm(e.srv.URL+totpLoginPath, url.Values{"csrf": {b.csrf}, "code": {code}})
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode == http.StatusSeeOther {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("one code logged %d browsers in, want 1", ok)
	}
}

// TestTOTPDisable: a wrong code and a wrong password are refused (400); a current code or the
// password turns the second factor off (audited); the next login needs the password only.
func TestTOTPDisable(t *testing.T) {
	e, audit, _ := adminEnv(t)
	acct, secret := e.enableTOTP("canbo")
	cl, _, _ := e.loginTo("canbo", e.password)
	if st, _, _ := e.submitCode(cl, totpNow(t, secret)); st != http.StatusSeeOther {
		t.Fatal(st)
	}
	_, _, _, csrf := pageCSRF(t, cl, e.srv.URL+totpPath)
	off := e.srv.URL + totpPath + "/disable"
	for _, v := range []url.Values{{"code": {otherCode(t, secret)}}, {"current": {"sai mật khẩu rồi"}}, {}} {
		v.Set("csrf", csrf)
		if st, _, _ := postForm(t, cl, off, v); st != http.StatusBadRequest {
			t.Fatalf("disable with %v: %d", v, st)
		}
	}
	// The code used to log in cannot be used again.
	if st, _, _ := postForm(t, cl, off, url.Values{"csrf": {csrf}, "code": {totpNow(t, secret)}}); st != http.StatusBadRequest {
		t.Fatalf("disable with the login's code: %d", st)
	}
	if st, loc, _ := postForm(t, cl, off, url.Values{"csrf": {csrf}, "current": {e.password}}); st != http.StatusSeeOther || loc != totpPath+"?done=off" {
		t.Fatalf("disable with the password: %d → %s", st, loc)
	}
	if a, _ := e.reg.AccountByID(context.Background(), acct.ID); !a.TOTPSince.IsZero() {
		t.Fatal("still enabled")
	}
	if len(audit.of("totp.disable")) != 1 || len(audit.of("totp.disable.refused")) != 4 {
		t.Fatalf("audits: %d disable, %d refused", len(audit.of("totp.disable")), len(audit.of("totp.disable.refused")))
	}
	if _, loc, st := e.loginTo("canbo", e.password); st != http.StatusSeeOther || loc != "/app/register" {
		t.Fatalf("login after disabling: %d → %s", st, loc)
	}
}

// TestTOTPAdminReset: an administrator's password reset removes the account's second factor
// (the detail says so), as does the accounts page's own action; a unit administrator cannot
// reach another unit's account.
func TestTOTPAdminReset(t *testing.T) {
	e, audit, accts := adminEnv(t)
	e.enableTOTP("canbo")
	cl, csrf := e.adminClient("quantri.pl")
	_, _, body, _ := pageCSRF(t, cl, e.srv.URL+"/app/accounts")
	if !strings.Contains(body, fmt.Sprintf(`/app/accounts/%d/totp`, accts["canbo"].ID)) {
		t.Fatal("the accounts page offers no way to turn the second factor off")
	}
	st, _, _ := postForm(t, cl, fmt.Sprintf("%s/app/accounts/%d/reset", e.srv.URL, accts["canbo"].ID), url.Values{"csrf": {csrf}, "confirm": {"1"}})
	if st != http.StatusOK {
		t.Fatalf("reset: %d", st)
	}
	if a, _ := e.reg.AccountByID(context.Background(), accts["canbo"].ID); !a.TOTPSince.IsZero() {
		t.Fatal("the password reset left the second factor on")
	}
	if r := audit.of("account.reset"); len(r) != 1 || !strings.Contains(r[0].Detail, `"totp_disabled":true`) {
		t.Fatalf("reset audit %+v", r)
	}

	e.enableTOTP("canbo")
	st, loc, _ := postForm(t, cl, fmt.Sprintf("%s/app/accounts/%d/totp", e.srv.URL, accts["canbo"].ID), url.Values{"csrf": {csrf}, "confirm": {"1"}})
	if st != http.StatusSeeOther || loc != "/app/accounts?done=totp" {
		t.Fatalf("totp reset: %d → %s", st, loc)
	}
	if a, _ := e.reg.AccountByID(context.Background(), accts["canbo"].ID); !a.TOTPSince.IsZero() {
		t.Fatal("the totp action left the second factor on")
	}
	if r := audit.of("account.totp"); len(r) != 1 || !strings.Contains(r[0].Detail, `"totp_disabled":true`) {
		t.Fatalf("totp reset audit %+v", r)
	}
	e.enableTOTP("canbo.tm")
	if st, _, _ := postForm(t, cl, fmt.Sprintf("%s/app/accounts/%d/totp", e.srv.URL, accts["canbo.tm"].ID), url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != http.StatusNotFound {
		t.Fatalf("another unit's account: %d", st)
	}
}

// TestRequireTOTPForAdmin: with RequireTOTPForAdmin the system administrator without a
// second factor lands on the enrolment page and can reach nothing else under /app (GET → 303
// there, POST → 403) but the password page and logging out; after enrolling, everything;
// officers are not confined; without the setting, nobody is.
func TestRequireTOTPForAdmin(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.RequireTOTPForAdmin = true })
	cl, loc, st := e.loginTo("quantri", e.password)
	if st != http.StatusSeeOther || loc != totpPath {
		t.Fatalf("admin login: %d → %s", st, loc)
	}
	for _, p := range []string{"/app/", "/app/accounts", "/app/stats", "/app/webhooks"} {
		if st, loc, _, _ := pageCSRF(t, cl, e.srv.URL+p); st != http.StatusSeeOther || loc != totpPath {
			t.Fatalf("GET %s: %d → %s", p, st, loc)
		}
	}
	st, _, body, csrf := pageCSRF(t, cl, e.srv.URL+totpPath)
	if st != http.StatusOK || !strings.Contains(body, messages["vi"]["TotpRequired"]) {
		t.Fatalf("enrolment page: %d", st)
	}
	if st, _, _, _ := pageCSRF(t, cl, e.srv.URL+passwordPath); st != http.StatusOK {
		t.Fatalf("password page: %d", st)
	}
	if st, _, _ := postForm(t, cl, e.srv.URL+"/app/accounts", url.Values{"csrf": {csrf}, "username": {"moi"}, "role": {"clerk"}}); st != http.StatusForbidden {
		t.Fatalf("POST /app/accounts while confined: %d", st)
	}
	secret := strings.ReplaceAll(regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`).FindStringSubmatch(body)[1], " ", "")
	if st, _, _ := postForm(t, cl, e.srv.URL+totpPath, url.Values{"csrf": {csrf}, "code": {totpNow(t, secret)}}); st != http.StatusSeeOther {
		t.Fatalf("enrolment: %d", st)
	}
	if st, _, _, _ := pageCSRF(t, cl, e.srv.URL+"/app/accounts"); st != http.StatusOK {
		t.Fatalf("accounts after enrolling: %d", st)
	}
	// Officers are not confined.
	if _, loc, st := e.loginTo("canbo", e.password); st != http.StatusSeeOther || loc != "/app/register" {
		t.Fatalf("officer login: %d → %s", st, loc)
	}
	// Without the setting the administrator is not confined.
	e2 := newEnv(t, nil)
	if _, loc, st := e2.loginTo("quantri", e2.password); st != http.StatusSeeOther || loc != "/app/register" {
		t.Fatalf("admin login without the setting: %d → %s", st, loc)
	}
}

// BenchmarkLoginTOTP is a whole login with a second factor — the password step, the code
// page, the code — to compare with BenchmarkLogin (the password alone) in the same run. The
// register's last accepted step is moved back before each login, as a fresh code would be.
func BenchmarkLoginTOTP(b *testing.B) {
	e := newEnv(b, nil)
	acct, secret := e.enableTOTP("canbo")
	code := totpNow(b, secret)
	step, _ := credentials.CheckTOTP(secret, code, time.Now())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// Let the same code count as fresh: what a new 30-second step would do.
		if _, err := e.reg.DisableTOTP(context.Background(), acct.ID); err != nil {
			b.Fatal(err)
		}
		if err := e.reg.SetTOTPPending(context.Background(), acct.ID, secret); err != nil {
			b.Fatal(err)
		}
		if err := e.reg.EnableTOTP(context.Background(), acct.ID, secret, step-1, time.Now()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cl, loc, st := e.loginTo("canbo", e.password)
		if st != http.StatusSeeOther || loc != totpLoginPath {
			b.Fatalf("password step %d: %d", i, st)
		}
		if st, _, _ := e.submitCode(cl, code); st != http.StatusSeeOther {
			b.Fatalf("code %d: %d", i, st)
		}
	}
}

// TestTOTPPendingExpires: a pending login older than pendingLoginTTL is refused even with the
// right code (401, "log in again"), and the password step can be done again.
func TestTOTPPendingExpires(t *testing.T) {
	var mu sync.Mutex
	offset := time.Duration(0)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(offset) }
	e := newEnv(t, func(d *Deps) { d.Now = now })
	_, secret := e.enableTOTP("canbo")
	cl, loc, _ := e.loginTo("canbo", e.password)
	if loc != totpLoginPath {
		t.Fatal(loc)
	}
	_, _, _, csrf := pageCSRF(t, cl, e.srv.URL+totpLoginPath)
	mu.Lock()
	offset = pendingLoginTTL + time.Second
	mu.Unlock()
	code, _ := credentials.TOTPCode(secret, now())
	st, _, body := postForm(t, cl, e.srv.URL+totpLoginPath, url.Values{"csrf": {csrf}, "code": {code}})
	if msg := alertRe.FindStringSubmatch(body); st != http.StatusUnauthorized || e.hasSession(cl) || msg == nil || strings.TrimSpace(msg[1]) != messages["vi"]["totp.expired"] {
		t.Fatalf("expired pending login: %d %q", st, msg)
	}
	cl, loc, _ = e.loginTo("canbo", e.password)
	if loc != totpLoginPath {
		t.Fatal(loc)
	}
	if st, loc, _ := e.submitCode(cl, code); st != http.StatusSeeOther || loc != "/app/register" {
		t.Fatalf("new login: %d → %s", st, loc)
	}
}
