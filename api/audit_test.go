package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chungthuc/chungthuc"
)

// failingAudit refuses the actions listed while fail is set.
type failingAudit struct {
	Auditor
	fail    atomic.Bool
	actions map[string]bool
}

func (f *failingAudit) Append(ctx context.Context, e *chungthuc.AuditEntry) error {
	if f.fail.Load() && f.actions[e.Action] {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "audit log down")
	}
	return f.Auditor.Append(ctx, e)
}

// failingSessions fails DeleteSession while fail is set.
type failingSessions struct {
	AccountStore
	fail atomic.Bool
}

func (f *failingSessions) DeleteSession(ctx context.Context, hash string) error {
	if f.fail.Load() {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "database down")
	}
	return f.AccountStore.DeleteSession(ctx, hash)
}

// TestAuditFailuresAreNotDropped: a download or a login whose audit record cannot be
// written does not happen (503); a failed login is still refused; a logout whose session
// cannot be deleted says so and the session stays usable until it is.
func TestAuditFailuresAreNotDropped(t *testing.T) {
	audit := &failingAudit{actions: map[string]bool{"download": true, "login": true, "login.failed": true}}
	sessions := &failingSessions{}
	e := newEnv(t, func(d *Deps) {
		audit.Auditor, d.Audit = d.Audit, audit
		sessions.AccountStore, d.Accounts = d.Accounts, sessions
	})
	out := e.certifyPL()
	c := out.Certification
	download := func() int {
		req, _ := http.NewRequest("POST", e.srv.URL+"/v/"+c.Token+"/download", strings.NewReader(url.Values{"code": {out.AccessCode}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, _ := e.do(req)
		return res.StatusCode
	}
	cl, csrf, code := e.login("canbo", e.password)
	if code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	workspacePDF := func() int {
		res, err := cl.Get(fmt.Sprintf("%s/app/c/%d/pdf", e.srv.URL, c.ID))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	audit.fail.Store(true)
	if code := download(); code != http.StatusServiceUnavailable {
		t.Fatalf("citizen download without its audit record: %d, want 503", code)
	}
	if code := workspacePDF(); code != http.StatusServiceUnavailable {
		t.Fatalf("workspace download without its audit record: %d, want 503", code)
	}
	if _, _, code := e.login("canbo", e.password); code != http.StatusServiceUnavailable {
		t.Fatalf("login without its audit record: %d, want 503", code)
	}
	if _, _, code := e.login("canbo", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong password while the audit log is down: %d, want 401", code)
	}
	// Every failed write was counted, the dropped login.failed record included.
	for _, want := range []string{`chungthuc_audit_write_failures_total{action="download"} 2`, `chungthuc_audit_write_failures_total{action="login"} 1`, `chungthuc_audit_write_failures_total{action="login.failed"} 1`} {
		if m := e.metricsText(); !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, m)
		}
	}
	audit.fail.Store(false)
	if code := download(); code != http.StatusOK {
		t.Fatalf("download: %d", code)
	}
	if code := workspacePDF(); code != http.StatusOK {
		t.Fatalf("workspace download: %d", code)
	}

	sessions.fail.Store(true)
	res, err := cl.PostForm(e.srv.URL+"/logout", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("logout while sessions cannot be deleted: %d, want 503", res.StatusCode)
	}
	if m := e.metricsText(); !strings.Contains(m, "chungthuc_session_delete_failures_total 1") {
		t.Errorf("failed session delete not counted:\n%s", m)
	}
	if code := workspacePDF(); code != http.StatusOK {
		t.Fatalf("the session should still work after a failed logout: %d", code)
	}
	sessions.fail.Store(false)
	res, err = cl.PostForm(e.srv.URL+"/logout", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if code := workspacePDF(); code != http.StatusSeeOther {
		t.Fatalf("after logout the workspace answers %d, want a redirect to the login", code)
	}
}

// metricsText is the service's /metrics page.
func (e *env) metricsText() string {
	res, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
