package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
)

// adminEnv is newEnv with a unit administrator of HB (quantri.pl), one of TM (quantri.tm)
// and a clerk of HB (vanthu), all with e.password, and an audit recorder.
func adminEnv(t *testing.T) (*env, *recordingAudit, map[string]*chungthuc.Account) {
	audit := &recordingAudit{}
	e := newEnv(t, func(d *Deps) { audit.Auditor = d.Audit; d.Audit = audit })
	hash, _ := credentials.HashPassword(e.password)
	accts := map[string]*chungthuc.Account{}
	for _, a := range []*chungthuc.Account{
		{UnitID: e.pl.ID, Username: "quantri.pl", Role: chungthuc.RoleUnitAdmin, PasswordHash: hash},
		{UnitID: e.tm.ID, Username: "quantri.tm", Role: chungthuc.RoleUnitAdmin, PasswordHash: hash},
		{UnitID: e.pl.ID, Username: "vanthu", Role: chungthuc.RoleClerk, PasswordHash: hash},
	} {
		if err := e.reg.CreateAccount(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"canbo", "canbo.tm", "quantri"} {
		a, err := e.reg.AccountByUsername(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		accts[name] = a
	}
	for _, name := range []string{"quantri.pl", "quantri.tm", "vanthu"} {
		a, _ := e.reg.AccountByUsername(context.Background(), name)
		accts[name] = a
	}
	return e, audit, accts
}

// adminClient logs user in and returns the client and the session's CSRF token.
func (e *env) adminClient(user string) (*http.Client, string) {
	e.t.Helper()
	cl := e.loginAny(user)
	_, _, _, csrf := pageCSRF(e.t, cl, e.srv.URL+"/app/password")
	return cl, csrf
}

// TestAccountAdminRoles: only administrators reach the account pages (clerks and officers:
// 403 for every route); a unit administrator sees and manages only their unit's accounts
// and tokens — another unit's account or token, and the system administrator's account,
// are 404 like missing ones; the system administrator manages every unit's.
func TestAccountAdminRoles(t *testing.T) {
	e, _, accts := adminEnv(t)
	base := e.srv.URL
	tokens, _ := e.reg.ListAPITokens(context.Background(), 0)
	var plTok, tmTok int64
	for _, tk := range tokens {
		if tk.UnitID == e.pl.ID {
			plTok = tk.ID
		} else {
			tmTok = tk.ID
		}
	}
	routes := func(id, tok int64) []string {
		return []string{"/app/accounts", fmt.Sprintf("/app/accounts/%d/disable", id), fmt.Sprintf("/app/accounts/%d/enable", id),
			fmt.Sprintf("/app/accounts/%d/reset", id), fmt.Sprintf("/app/accounts/%d/sessions", id), fmt.Sprintf("/app/tokens/%d/revoke", tok)}
	}
	for _, user := range []string{"vanthu", "canbo"} {
		cl, csrf := e.adminClient(user)
		if st, _, _, _ := pageCSRF(t, cl, base+"/app/accounts"); st != http.StatusForbidden {
			t.Errorf("%s GET /app/accounts: %d, want 403", user, st)
		}
		for _, path := range routes(accts["vanthu"].ID, plTok) {
			if st, _, _ := postForm(t, cl, base+path, url.Values{"csrf": {csrf}, "confirm": {"1"}, "username": {"x.y.z"}, "role": {"clerk"}}); st != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", user, path, st)
			}
		}
		if _, _, _, body := pageCSRF(t, cl, base+"/app/"); strings.Contains(body, `href="/app/accounts"`) {
			t.Errorf("%s is offered the accounts page", user)
		}
	}

	cl, csrf := e.adminClient("quantri.pl")
	st, _, page, _ := pageCSRF(t, cl, base+"/app/accounts")
	if st != 200 || !strings.Contains(page, "<h1>Tài khoản</h1>") || !strings.Contains(page, ">vanthu<") || strings.Contains(page, ">canbo.tm<") ||
		strings.Contains(page, ">quantri<") || !strings.Contains(page, "one-stop HB") || strings.Contains(page, "one-stop TM") {
		t.Fatalf("unit administrator's page: %d\n%s", st, page)
	}
	for _, target := range []string{"canbo.tm", "quantri"} {
		for _, path := range routes(accts[target].ID, tmTok)[1:] {
			if st, _, _ := postForm(t, cl, base+path, url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != http.StatusNotFound {
				t.Errorf("quantri.pl POST %s (%s): %d, want 404", path, target, st)
			}
		}
	}
	if a, _ := e.reg.AccountByID(context.Background(), accts["canbo.tm"].ID); a.Disabled || a.MustChangePassword {
		t.Fatal("a refused action changed another unit's account")
	}
	// A unit administrator cannot create a system administrator nor an account elsewhere.
	st, _, _ = postForm(t, cl, base+"/app/accounts", url.Values{"csrf": {csrf}, "username": {"tm.moi"}, "role": {"clerk"}, "unit": {itoa(e.tm.ID)}})
	if st != 200 {
		t.Fatalf("unit admin adds a clerk: %d", st)
	}
	if a, err := e.reg.AccountByUsername(context.Background(), "tm.moi"); err != nil || a.UnitID != e.pl.ID {
		t.Fatalf("a unit administrator's new account: %+v %v (want their own unit)", a, err)
	}
	if st, _, _ := postForm(t, cl, base+"/app/accounts", url.Values{"csrf": {csrf}, "username": {"sys.moi"}, "role": {"system_admin"}}); st != http.StatusNotFound {
		t.Fatalf("unit admin adds a system administrator: %d", st)
	}

	// The system administrator sees every unit's.
	cl, csrf = e.adminClient("quantri")
	st, _, page, _ = pageCSRF(t, cl, base+"/app/accounts")
	if st != 200 || !strings.Contains(page, ">canbo.tm<") || !strings.Contains(page, ">quantri.pl<") || !strings.Contains(page, "one-stop TM") {
		t.Fatalf("system administrator's page: %d\n%s", st, page)
	}
	if st, loc, _ := postForm(t, cl, base+fmt.Sprintf("/app/accounts/%d/sessions", accts["canbo.tm"].ID), url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != http.StatusSeeOther || loc != "/app/accounts?done=sessions" {
		t.Fatalf("system admin ends sessions in TM: %d %q", st, loc)
	}
	if st, _, _ := postForm(t, cl, base+"/app/accounts/999999/disable", url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != http.StatusNotFound {
		t.Fatalf("unknown account: %d", st)
	}
	if st, _, _ := postForm(t, cl, base+"/app/tokens/999999/revoke", url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != http.StatusNotFound {
		t.Fatalf("unknown token: %d", st)
	}
}

// TestAccountAdminActions: add (generated password shown once, must change), disable (its
// sessions end, its officer's API token stops working, it cannot log in), enable, reset
// (new generated password, forced change, sessions ended), end all sessions, revoke a token;
// destructive actions need the confirmation; each is audited, and an action whose audit
// write fails answers an error.
func TestAccountAdminActions(t *testing.T) {
	e, audit, accts := adminEnv(t)
	base := e.srv.URL
	ctx := context.Background()
	cl, csrf := e.adminClient("quantri.pl")
	secretRE := regexp.MustCompile(`<code class="code">([^<]+)</code>`)

	// Add.
	st, _, page := postForm(t, cl, base+"/app/accounts", url.Values{"csrf": {csrf}, "username": {"Hang.NT"}, "role": {"clerk"}})
	m := secretRE.FindStringSubmatch(page)
	if st != 200 || m == nil {
		t.Fatalf("add: %d\n%s", st, page)
	}
	added, err := e.reg.AccountByUsername(ctx, "hang.nt")
	if err != nil || !added.MustChangePassword || added.Role != chungthuc.RoleClerk || !credentials.CheckPassword(added.PasswordHash, m[1]) {
		t.Fatalf("added: %+v %v", added, err)
	}
	if _, _, _, again := pageCSRF(t, cl, base+"/app/accounts"); strings.Contains(again, m[1]) {
		t.Fatal("the generated password is shown again")
	}
	if _, loc, st := e.loginTo("hang.nt", m[1]); st != http.StatusSeeOther || loc != passwordPath {
		t.Fatalf("first login of the new account: %d %q", st, loc)
	}
	if st, _, page := postForm(t, cl, base+"/app/accounts", url.Values{"csrf": {csrf}, "username": {"hang.nt"}, "role": {"clerk"}}); st != http.StatusBadRequest || !strings.Contains(page, "Không tạo được tài khoản") {
		t.Fatalf("duplicate username: %d", st)
	}

	// Disable the officer: confirmation first.
	off := accts["canbo"]
	offCl := e.loginAny("canbo")
	path := fmt.Sprintf("%s/app/accounts/%d/disable", base, off.ID)
	if st, _, page := postForm(t, cl, path, url.Values{"csrf": {csrf}}); st != http.StatusBadRequest || !strings.Contains(page, "Xác nhận") {
		t.Fatalf("disable without confirmation: %d", st)
	}
	if a, _ := e.reg.AccountByID(ctx, off.ID); a.Disabled {
		t.Fatal("disabled without confirmation")
	}
	if st, _ := e.apiGet(e.plToken); st != http.StatusNotFound {
		t.Fatalf("token before disable: %d", st)
	}
	if st, loc, _ := postForm(t, cl, path, url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != http.StatusSeeOther || loc != "/app/accounts?done=disable" {
		t.Fatalf("disable: %d %q", st, loc)
	}
	if st, loc, _, _ := pageCSRF(t, offCl, base+"/app/"); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("disabled account's session: %d %q", st, loc)
	}
	if _, _, st := e.loginTo("canbo", e.password); st != http.StatusUnauthorized {
		t.Fatalf("disabled account logs in: %d", st)
	}
	if st, _ := e.apiGet(e.plToken); st != http.StatusUnauthorized {
		t.Fatalf("the disabled officer's API token: %d, want 401", st)
	}
	if st, loc, _ := postForm(t, cl, fmt.Sprintf("%s/app/accounts/%d/enable", base, off.ID), url.Values{"csrf": {csrf}}); st != http.StatusSeeOther || loc != "/app/accounts?done=enable" {
		t.Fatalf("enable: %d %q", st, loc)
	}
	if _, _, st := e.loginTo("canbo", e.password); st != http.StatusSeeOther {
		t.Fatalf("enabled account logs in: %d", st)
	}
	// No administrator disables themselves.
	if st, _, _ := postForm(t, cl, fmt.Sprintf("%s/app/accounts/%d/disable", base, accts["quantri.pl"].ID), url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != http.StatusBadRequest {
		t.Fatalf("self-disable: %d", st)
	}

	// Reset the clerk's password.
	clerkCl := e.loginAny("vanthu")
	st, _, page = postForm(t, cl, fmt.Sprintf("%s/app/accounts/%d/reset", base, accts["vanthu"].ID), url.Values{"csrf": {csrf}, "confirm": {"1"}})
	m = secretRE.FindStringSubmatch(page)
	if st != 200 || m == nil {
		t.Fatalf("reset: %d", st)
	}
	if st, _, _, _ := pageCSRF(t, clerkCl, base+"/app/"); st != http.StatusSeeOther {
		t.Fatalf("the clerk's session after a reset: %d", st)
	}
	if _, _, st := e.loginTo("vanthu", e.password); st != http.StatusUnauthorized {
		t.Fatal("the old password works after a reset")
	}
	if _, loc, st := e.loginTo("vanthu", m[1]); st != http.StatusSeeOther || loc != passwordPath {
		t.Fatalf("login with the reset password: %d %q", st, loc)
	}

	// End all sessions.
	offCl = e.loginAny("canbo")
	if st, _, _ := postForm(t, cl, fmt.Sprintf("%s/app/accounts/%d/sessions", base, off.ID), url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != http.StatusSeeOther {
		t.Fatalf("end sessions: %d", st)
	}
	if st, _, _, _ := pageCSRF(t, offCl, base+"/app/"); st != http.StatusSeeOther {
		t.Fatalf("a session after 'end all sessions': %d", st)
	}

	// Revoke the TM token? Not ours (404); a new HB token: ours.
	tk := &chungthuc.APIToken{UnitID: e.pl.ID, OfficerID: e.plOff.ID, Name: "one-stop HB 2", TokenHash: credentials.TokenHash("x-" + credentials.NewToken())}
	secret := credentials.NewToken()
	tk.TokenHash = credentials.TokenHash(secret)
	if err := e.reg.CreateAPIToken(ctx, tk); err != nil {
		t.Fatal(err)
	}
	st, _, page, _ = pageCSRF(t, cl, base+"/app/accounts")
	if st != 200 || !strings.Contains(page, "one-stop HB 2") || strings.Contains(page, secret) || strings.Contains(page, tk.TokenHash) {
		t.Fatalf("token list: %d", st)
	}
	if st, _ := e.apiGet(secret); st != http.StatusNotFound {
		t.Fatalf("new token before revoke: %d", st)
	}
	if st, _, _ := postForm(t, cl, fmt.Sprintf("%s/app/tokens/%d/revoke", base, tk.ID), url.Values{"csrf": {csrf}}); st != http.StatusBadRequest {
		t.Fatalf("revoke without confirmation: %d", st)
	}
	if st, loc, _ := postForm(t, cl, fmt.Sprintf("%s/app/tokens/%d/revoke", base, tk.ID), url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != http.StatusSeeOther || loc != "/app/accounts?done=revoke" {
		t.Fatalf("revoke: %d %q", st, loc)
	}
	if st, _ := e.apiGet(secret); st != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", st)
	}

	want := map[string]int{"account.add": 1, "account.disable": 1, "account.enable": 1, "account.reset": 1, "account.sessions": 1, "token.revoke": 1}
	for action, n := range want {
		got := audit.of(action)
		if len(got) != n {
			t.Errorf("%s audited %d times, want %d", action, len(got), n)
			continue
		}
		if got[0].Actor != "account:"+itoa(accts["quantri.pl"].ID) {
			t.Errorf("%s actor %q", action, got[0].Actor)
		}
	}
}

// TestAccountAdminAuditFailure: when the audit write of an administrator's action fails the
// answer is an error, not success.
func TestAccountAdminAuditFailure(t *testing.T) {
	fa := &failingAudit{actions: map[string]bool{"account.sessions": true, "account.add": true}}
	e := newEnv(t, func(d *Deps) { fa.Auditor = d.Audit; d.Audit = fa })
	cl, csrf := e.adminClient("quantri")
	fa.fail.Store(true)
	a, _ := e.reg.AccountByUsername(context.Background(), "canbo")
	if st, _, _ := postForm(t, cl, fmt.Sprintf("%s/app/accounts/%d/sessions", e.srv.URL, a.ID), url.Values{"csrf": {csrf}, "confirm": {"1"}}); st < 500 {
		t.Fatalf("end sessions with the audit log down: %d", st)
	}
	if st, _, page := postForm(t, cl, e.srv.URL+"/app/accounts", url.Values{"csrf": {csrf}, "username": {"moi.tao"}, "role": {"clerk"}, "unit": {itoa(e.pl.ID)}}); st < 500 || strings.Contains(page, `class="code"`) {
		t.Fatalf("add with the audit log down: %d", st)
	}
}

// apiGet asks the JSON API for an entry that does not exist with token: 404 while the token
// works, 401 once it does not.
func (e *env) apiGet(token string) (int, string) {
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/certifications/999999", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, body := e.do(req)
	return res.StatusCode, body
}
