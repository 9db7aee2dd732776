package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// TestWebhookPage: only the system administrator sees and changes the webhook endpoints
// (403 for officers, clerks and unit administrators, for every method); an address that is
// not public is refused; the secret is shown once, never on the list; a reload of the add
// form adds nothing; removing needs a confirmation; both changes are audited.
func TestWebhookPage(t *testing.T) {
	e, audit := newRolesEnv(t)
	ctx := context.Background()
	existing := &chungthuc.WebhookEndpoint{URL: "https://tinh.example.vn/hook", Secret: []byte("bí mật đã có 0123456")}
	if err := e.reg.AddWebhookEndpoint(ctx, existing); err != nil {
		t.Fatal(err)
	}
	post := func(cl *http.Client, path string, v url.Values) (int, string) {
		t.Helper()
		res, err := cl.PostForm(e.srv.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, user := range []string{"canbo", "vanthu", "quantri.pl"} {
		cl, csrf, _ := e.login(user, e.password)
		res, err := cl.Get(e.srv.URL + "/app/webhooks")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 403 || strings.Contains(string(b), existing.URL) {
			t.Errorf("%s GET /app/webhooks: %d", user, res.StatusCode)
		}
		if st, _ := post(cl, "/app/webhooks", url.Values{"csrf": {csrf}, "url": {"https://8.8.8.8/x"}, "idempotency_key": {"form-k" + user}}); st != 403 {
			t.Errorf("%s add: %d", user, st)
		}
		if st, _ := post(cl, fmt.Sprintf("/app/webhooks/%d/remove", existing.ID), url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != 403 {
			t.Errorf("%s remove: %d", user, st)
		}
		if st, _ := post(cl, fmt.Sprintf("/app/webhooks/%d/test", existing.ID), url.Values{"csrf": {csrf}}); st != 403 {
			t.Errorf("%s test event: %d", user, st)
		}
		if strings.Contains(string(b), `href="/app/webhooks"`) {
			t.Errorf("%s sees the webhook link", user)
		}
	}
	if es, _ := e.reg.WebhookEndpoints(ctx); len(es) != 1 {
		t.Fatalf("endpoints after refused requests: %d", len(es))
	}

	cl := e.loginAny("quantri")
	page := func() string {
		res, err := cl.Get(e.srv.URL + "/app/webhooks")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("admin GET: %d\n%s", res.StatusCode, b)
		}
		return string(b)
	}
	p := page()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(p)[1]
	key := regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`).FindStringSubmatch(p)[1]
	if !strings.Contains(p, existing.URL) || strings.Contains(p, "bí mật đã có") || !strings.Contains(p, `href="/app/webhooks"`) {
		t.Fatalf("admin page:\n%s", p)
	}
	for _, bad := range []string{"http://127.0.0.1:8080/hook", "https://10.0.0.5/hook", "https://user:pw@8.8.8.8/hook", "ftp://8.8.8.8/", "https://khong-co.invalid/"} {
		if st, b := post(cl, "/app/webhooks", url.Values{"csrf": {csrf}, "url": {bad}, "idempotency_key": {newFormKey()}}); st != 400 || !strings.Contains(b, "Địa chỉ không dùng được") {
			t.Errorf("add %s: %d", bad, st)
		}
	}
	st, b := post(cl, "/app/webhooks", url.Values{"csrf": {csrf}, "url": {"https://8.8.8.8/motcua"}, "idempotency_key": {key}})
	m := regexp.MustCompile(`id="webhook-secret" class="code mono">([A-Za-z0-9_-]{43})<`).FindStringSubmatch(b)
	if st != 200 || m == nil {
		t.Fatalf("add: %d\n%s", st, b)
	}
	es, _ := e.reg.WebhookEndpoints(ctx)
	if len(es) != 2 || es[1].URL != "https://8.8.8.8/motcua" || string(es[1].Secret) != m[1] {
		t.Fatalf("endpoints %+v", es)
	}
	if strings.Contains(page(), m[1]) {
		t.Error("the secret is shown again")
	}
	if st, _ := post(cl, "/app/webhooks", url.Values{"csrf": {csrf}, "url": {"https://8.8.8.8/motcua"}, "idempotency_key": {key}}); st != http.StatusSeeOther {
		t.Errorf("reload of the add: %d", st)
	}
	if es, _ := e.reg.WebhookEndpoints(ctx); len(es) != 2 {
		t.Fatalf("a reload added an endpoint: %d", len(es))
	}
	// A test event goes to that endpoint only.
	if st, _ := post(cl, fmt.Sprintf("/app/webhooks/%d/test", es[1].ID), url.Values{"csrf": {csrf}}); st != http.StatusSeeOther {
		t.Errorf("test event: %d", st)
	}
	if st, _ := post(cl, "/app/webhooks/999/test", url.Values{"csrf": {csrf}}); st != 404 {
		t.Errorf("test event to an unknown endpoint: %d", st)
	}
	now := time.Now()
	ds, err := e.reg.ClaimDeliveries(ctx, "t", now, now.Add(time.Minute), 10)
	if err != nil || len(ds) != 1 || ds[0].Type != "webhook.test" || ds[0].Endpoint.ID != es[1].ID {
		t.Fatalf("test event deliveries %+v %v", ds, err)
	}
	if tests := audit.of(actionWebhookTest); len(tests) != 1 || !strings.Contains(tests[0].Detail, ds[0].EventID) {
		t.Errorf("test event audit %+v", tests)
	}
	if st, _ := post(cl, fmt.Sprintf("/app/webhooks/%d/remove", es[1].ID), url.Values{"csrf": {csrf}}); st != 400 {
		t.Errorf("remove without confirmation: %d", st)
	}
	if st, _ := post(cl, fmt.Sprintf("/app/webhooks/%d/remove", es[1].ID), url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != http.StatusSeeOther {
		t.Errorf("remove: %d", st)
	}
	if st, _ := post(cl, "/app/webhooks/999/remove", url.Values{"csrf": {csrf}, "confirm": {"1"}}); st != 404 {
		t.Errorf("remove unknown: %d", st)
	}
	if es, _ := e.reg.WebhookEndpoints(ctx); len(es) != 1 || es[0].ID != existing.ID {
		t.Fatalf("after remove: %+v", es)
	}
	adds, removes := audit.of(actionWebhookAdd), audit.of(actionWebhookRemove)
	if len(adds) != 1 || len(removes) != 1 || adds[0].Actor == "" || strings.Contains(adds[0].Detail, m[1]) || !strings.Contains(adds[0].Detail, "8.8.8.8") {
		t.Errorf("audited adds %+v, removes %+v", adds, removes)
	}
}
