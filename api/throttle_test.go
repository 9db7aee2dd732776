package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
)

// loginFrom logs in through the handler as a client at addr (host:port) and returns the
// status and the page's error message.
func (e *env) loginFrom(addr, username, password string) (int, string) {
	e.t.Helper()
	req := httptest.NewRequest("GET", "/login", nil)
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	var cookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == loginCSRFCookie {
			cookie = c
		}
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(rec.Body.String())
	if cookie == nil || m == nil {
		e.t.Fatalf("login page without its CSRF token (%d)", rec.Code)
	}
	form := url.Values{"csrf": {m[1]}, "username": {username}, "password": {password}}
	req = httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = addr
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	msg := regexp.MustCompile(`(?s)class="alert" role="alert">(.*?)<`).FindStringSubmatch(rec.Body.String())
	if msg == nil {
		return rec.Code, ""
	}
	return rec.Code, strings.TrimSpace(msg[1])
}

// TestLoginThrottle: failures from one address slow that address down — even the right
// password is refused there while the delay runs — but the right password from another
// address still works (no lock-out); every failure has the same message; the administrator
// cannot be locked out.
func TestLoginThrottle(t *testing.T) {
	old := throttle
	throttle = credentials.Throttle{Free: 3, Base: time.Hour, Max: time.Hour, Window: 24 * time.Hour}
	defer func() { throttle = old }()
	e := newEnv(t, nil)
	attacker, office := "198.51.100.7:4000", "203.0.113.9:5000"
	var msgs []string
	for i := range 6 {
		code, msg := e.loginFrom(attacker, "quantri", "sai-mat-khau")
		if code != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, code)
		}
		msgs = append(msgs, msg)
	}
	code, msg := e.loginFrom(attacker, "quantri", e.password)
	if code != http.StatusUnauthorized {
		t.Fatalf("the right password from the attacking address while it is throttled: %d", code)
	}
	msgs = append(msgs, msg)
	_, msg = e.loginFrom(attacker, "khong-ton-tai", "x")
	msgs = append(msgs, msg)
	if code, _ := e.loginFrom(office, "quantri", e.password); code != http.StatusSeeOther {
		t.Fatalf("the right password from another address after the attack: %d, want 303", code)
	}
	// An unknown user from a fresh address: the same message.
	_, msg = e.loginFrom("192.0.2.1:1", "khong-ton-tai", "x")
	msgs = append(msgs, msg)
	for _, m := range msgs {
		if m == "" || m != msgs[0] {
			t.Fatalf("failure messages differ: %q", msgs)
		}
	}
	if strings.Contains(strings.ToLower(msgs[0]), "khóa") || strings.Contains(msgs[0], "locked") {
		t.Fatalf("the message speaks of a lock: %q", msgs[0])
	}
}

// TestLoginParallelFailuresCount: ten wrong passwords sent at once all count.
func TestLoginParallelFailuresCount(t *testing.T) {
	e := newEnv(t, nil)
	addr := "198.51.100.20:4000"
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.loginFrom(addr, "canbo", "sai-mat-khau")
		}()
	}
	wg.Wait()
	got, err := e.reg.LoginFailures(context.Background(), loginKeys("canbo", "198.51.100.20"))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Count != 10 || got[1].Count != 10 {
		t.Fatalf("ten parallel failures counted %+v", got)
	}
}

// TestClientNet: IPv6 clients are limited per /64.
func TestClientNet(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9:5000":           "203.0.113.9",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:443": "2001:db8:1:2::/64",
		"[::ffff:203.0.113.9]:80":    "203.0.113.9",
		"[fe80::1%eth0]:80":          "fe80::/64",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = in
		if got := clientNet(r); got != want {
			t.Errorf("clientNet(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestTokenOfInactiveOfficer: a token whose officer is no longer active is refused on every
// bearer route, like a revoked token.
func TestTokenOfInactiveOfficer(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	gone := &chungthuc.Officer{UnitID: e.pl.ID, Name: "Nguyễn Văn Cũ", Title: "PHÓ CHỦ TỊCH", Role: chungthuc.RoleOfficer, Active: false}
	if err := e.reg.CreateOfficer(ctx, gone); err != nil {
		t.Fatal(err)
	}
	tok := credentials.NewToken()
	if err := e.reg.CreateAPIToken(ctx, &chungthuc.APIToken{UnitID: e.pl.ID, OfficerID: gone.ID, Name: "cũ", TokenHash: credentials.TokenHash(tok)}); err != nil {
		t.Fatal(err)
	}
	revoked := credentials.NewToken()
	rt := &chungthuc.APIToken{UnitID: e.pl.ID, OfficerID: e.plOff.ID, Name: "thu hồi", TokenHash: credentials.TokenHash(revoked)}
	if err := e.reg.CreateAPIToken(ctx, rt); err != nil {
		t.Fatal(err)
	}
	if err := e.reg.RevokeAPIToken(ctx, rt.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	id := e.certifyPL().Certification.ID
	for _, bearer := range []string{tok, revoked} {
		for _, rq := range []struct{ method, path, ct, body string }{
			{"GET", fmt.Sprintf("/api/v1/certifications/%d", id), "", ""},
			{"GET", fmt.Sprintf("/api/v1/certifications/%d/pdf", id), "", ""},
			{"POST", fmt.Sprintf("/api/v1/certifications/%d/revoke", id), "application/json", `{"reason":"Cấp nhầm"}`},
			{"POST", "/api/v1/certifications", "multipart/form-data; boundary=x", "--x--\r\n"},
		} {
			req, _ := http.NewRequest(rq.method, e.srv.URL+rq.path, strings.NewReader(rq.body))
			req.Header.Set("Authorization", "Bearer "+bearer)
			if rq.ct != "" {
				req.Header.Set("Content-Type", rq.ct)
			}
			if res, body := e.do(req); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with a dead token: %d %s", rq.method, rq.path, res.StatusCode, body)
			}
		}
	}
	c, err := e.reg.CertificationByID(ctx, id)
	if err != nil || c.Status != chungthuc.StatusIssued {
		t.Fatalf("after the refused requests: %v %v", c.Status, err)
	}
	// The live officer's token still works.
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/certifications/%d", e.srv.URL, id), nil)
	req.Header.Set("Authorization", "Bearer "+e.plToken)
	if res, body := e.do(req); res.StatusCode != 200 {
		t.Fatalf("live token: %d %s", res.StatusCode, body)
	}
}
