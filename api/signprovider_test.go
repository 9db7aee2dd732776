package api

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
)

// TestProviderReturn: signing at the provider's page. The signing page offers it (its CSP
// lets the form go to the provider); the return is accepted only with this session's
// pending request and its state — not with a wrong state, not in another session of the
// same officer, not twice; a refusal at the provider and a refused code leave the entry
// waiting with the reason shown; the right return completes the officer's step.
func TestProviderReturn(t *testing.T) {
	x := newSignEnv(t)
	x.remote.atProvider = true
	base := x.srv.URL
	officer := x.loginAny("canbo")
	_, _, page, csrf := pageCSRF(t, officer, base+"/app/certify")
	formKey := regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`).FindStringSubmatch(page)[1]
	body, ct := multipartBody([][2]string{{"a.jpg", string(scan)}}, map[string]string{"csrf": csrf, "document": "Giấy khai sinh",
		"requester": "Nguyễn Thị Hồng Nhung", "signing": "external", "idempotency_key": formKey})
	req, _ := http.NewRequest("POST", base+"/app/certify", body)
	req.Header.Set("Content-Type", ct)
	res, err := officer.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var id int64
	if _, err := fmt.Sscanf(res.Header.Get("Location"), "/app/c/%d/sign", &id); err != nil {
		t.Fatalf("certify: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	signURL := fmt.Sprintf("%s/app/c/%d/sign", base, id)
	res, err = officer.Get(signURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://provider.example") {
		t.Fatalf("the signing page's CSP does not let the form reach the provider: %q", csp)
	}
	_, _, page, _ = pageCSRF(t, officer, signURL)
	if !strings.Contains(page, `id="provider-form"`) || strings.Contains(page, `id="remote-form"`) {
		t.Fatal("the signing page does not offer the provider's page")
	}
	// start sends the officer to the provider and returns the state of the request.
	start := func(cl *http.Client) string {
		t.Helper()
		res, err := cl.PostForm(fmt.Sprintf("%s/app/c/%d/sign-provider", base, id), url.Values{"csrf": {csrf}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		u, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || err != nil || u.Host != "provider.example" || !strings.HasSuffix(u.Query().Get("redirect_uri"), "/app/csc/callback") {
			t.Fatalf("sign-provider: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		return u.Query().Get("state")
	}
	back := func(cl *http.Client, q string) (int, string) {
		t.Helper()
		res, err := cl.Get(base + "/app/csc/callback?" + q)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Location")
	}
	waiting := func(what string) {
		t.Helper()
		if st, step := x.state(t, id); st != chungthuc.StatusPending || step != chungthuc.StepOfficerSignature {
			t.Fatalf("%s: %s %s", what, st, step)
		}
	}
	signBack := fmt.Sprintf("/app/c/%d/sign?err=", id)

	state := start(officer)
	if st, _ := back(officer, "code=good&state=wrong"+state); st != http.StatusForbidden {
		t.Fatalf("wrong state: %d", st)
	}
	waiting("after a wrong state")
	// The pending request was spent by that attempt.
	if st, _ := back(officer, "code=good&state="+state); st != http.StatusForbidden {
		t.Fatalf("after the request was spent: %d", st)
	}
	// Another session of the same officer with this session's cookie: the MAC is the session's.
	state = start(officer)
	other := x.loginAny("canbo")
	cb, _ := url.Parse(base + "/app/csc/callback")
	var pending []*http.Cookie
	for _, c := range officer.Jar.Cookies(cb) {
		if c.Name == providerCookie {
			pending = append(pending, c)
		}
	}
	if len(pending) != 1 {
		t.Fatal("no pending request cookie on the callback path")
	}
	other.Jar.SetCookies(cb, pending)
	if st, _ := back(other, "code=good&state="+state); st != http.StatusForbidden {
		t.Fatalf("another session: %d", st)
	}
	waiting("after another session's return")
	// Refused at the provider; a code the provider does not accept.
	state = start(officer)
	if st, loc := back(officer, "error=access_denied&state="+state); st != http.StatusSeeOther || loc != signBack+"provider_refused" {
		t.Fatalf("refused at the provider: %d %q", st, loc)
	}
	if _, _, page, _ := pageCSRF(t, officer, base+signBack+"provider_refused"); !strings.Contains(page, "Bạn đã từ chối") {
		t.Fatal("the refusal is not shown")
	}
	state = start(officer)
	if st, loc := back(officer, "code=bad&state="+state); st != http.StatusSeeOther || loc != signBack+"provider_return" {
		t.Fatalf("a refused code: %d %q", st, loc)
	}
	waiting("after a refused code")
	// The right return: the officer's step is done; the same return again is refused.
	state = start(officer)
	if st, loc := back(officer, "code=good&state="+state); st != http.StatusSeeOther || loc != fmt.Sprintf("/app/c/%d?signed=1", id) {
		t.Fatalf("the right return: %d %q", st, loc)
	}
	if st, step := x.state(t, id); st != chungthuc.StatusPending || step != chungthuc.StepSeal {
		t.Fatalf("after the officer's step: %s %s", st, step)
	}
	if st, _ := back(officer, "code=good&state="+state); st != http.StatusForbidden {
		t.Fatalf("the return replayed: %d", st)
	}
}
