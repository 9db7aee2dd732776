package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
)

// newRolesEnv is newEnv with audit entries recorded and two more accounts of unit HB: the
// records clerk "vanthu" and the unit administrator "quantri.pl".
func newRolesEnv(t *testing.T) (*env, *recordingAudit) {
	audit := &recordingAudit{}
	e := newEnv(t, func(d *Deps) { audit.Auditor = d.Audit; d.Audit = audit })
	hash, _ := credentials.HashPassword(e.password)
	for _, a := range []*chungthuc.Account{
		{UnitID: e.pl.ID, Username: "vanthu", Role: chungthuc.RoleClerk, PasswordHash: hash},
		{UnitID: e.pl.ID, Username: "quantri.pl", Role: chungthuc.RoleUnitAdmin, PasswordHash: hash},
	} {
		if err := e.reg.CreateAccount(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	return e, audit
}

// TestRevokeRoles: within a unit only its certifying officers and its administrator may
// revoke; the records clerk may read but not revoke; the system administrator reads every
// unit's register but revokes nothing. Every revocation names its requester in the audit log.
func TestRevokeRoles(t *testing.T) {
	e, audit := newRolesEnv(t)
	ctx := context.Background()
	first := e.certifyPL().Certification
	second := e.certifyPL().Certification
	revoke := func(user string, id int64) (int, string) {
		cl := e.loginAny(user)
		page, _ := cl.Get(fmt.Sprintf("%s/app/c/%d", e.srv.URL, id))
		b, _ := io.ReadAll(page.Body)
		page.Body.Close()
		// The layout's logout form carries the session's CSRF token on every page.
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no CSRF token on the entry page", user)
		}
		csrf := string(m[1])
		res, err := cl.PostForm(fmt.Sprintf("%s/app/c/%d/revoke", e.srv.URL, id), url.Values{"csrf": {csrf}, "reason": {"Cấp nhầm"}, "confirm": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if page.StatusCode != 200 {
			t.Fatalf("%s reads entry %d: %d", user, id, page.StatusCode)
		}
		return res.StatusCode, string(b)
	}
	for _, user := range []string{"vanthu", "quantri"} {
		st, page := revoke(user, first.ID)
		if st != http.StatusForbidden {
			t.Errorf("%s revokes: %d, want 403", user, st)
		}
		if strings.Contains(page, "/revoke\"") {
			t.Errorf("%s is offered the revoke form", user)
		}
	}
	if c, _ := e.reg.CertificationByID(ctx, first.ID); c.Status != chungthuc.StatusIssued {
		t.Fatalf("entry changed by a refused revocation: %s", c.Status)
	}
	if st, page := revoke("quantri.pl", first.ID); st != http.StatusSeeOther || !strings.Contains(page, "/revoke\"") {
		t.Errorf("unit administrator revokes: %d", st)
	}
	if st, _ := revoke("canbo", second.ID); st != http.StatusSeeOther {
		t.Errorf("officer revokes: %d", st)
	}
	// The audit log names who asked for each revocation.
	actors := map[string]bool{}
	for _, a := range audit.of("revoke.request") {
		actors[a.Actor] = true
	}
	if len(actors) != 2 {
		t.Fatalf("revoke.request actors: %v, want the unit administrator's and the officer's accounts", actors)
	}
}

// loginAny logs in any account (the system administrator has no dashboard of its own).
func (e *env) loginAny(user string) *http.Client {
	e.t.Helper()
	cl, _, st := e.loginTo(user, e.password)
	if st != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d", user, st)
	}
	return cl
}

// recordingAudit keeps a copy of every entry appended through the API.
type recordingAudit struct {
	Auditor
	mu      sync.Mutex
	entries []chungthuc.AuditEntry
}

func (r *recordingAudit) Append(ctx context.Context, e *chungthuc.AuditEntry) error {
	r.mu.Lock()
	r.entries = append(r.entries, *e)
	r.mu.Unlock()
	return r.Auditor.Append(ctx, e)
}

func (r *recordingAudit) of(action string) []chungthuc.AuditEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []chungthuc.AuditEntry
	for _, e := range r.entries {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}
