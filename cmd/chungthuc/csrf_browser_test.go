package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc/storage/sqlite"
)

// TestBrowserCSRF: an officer logged in to the service in Chromium opens a page of another
// loopback origin (same site: 127.0.0.1, another port — so the Lax session cookie goes
// along) that auto-submits multipart forms to the revoke and the refuse routes. Both are
// refused (403, the CSRF page) and the register is unchanged: the copy is still issued, no
// refusal is written. As a control, the same page with the session's real token does
// revoke — so the cookie did travel and only the token stood in the way.
func TestBrowserCSRF(t *testing.T) {
	if _, err := exec.LookPath("chromedriver"); err != nil {
		t.Skip("chromium/chromedriver not installed: browser test skipped")
	}
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	scans := writeScans(t, dir, 1, 100<<10)
	code, stdout, stderr := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c.pdf"), scans[0])
	var c struct {
		ID        int64  `json:"id"`
		VerifyURL string `json:"verify_url"`
	}
	if err := json.Unmarshal([]byte(stdout), &c); code != 0 || err != nil || c.ID == 0 {
		t.Fatalf("certify: exit %d %v\n%s%s", code, err, stdout, stderr)
	}
	token := c.VerifyURL[strings.LastIndex(c.VerifyURL, "/")+1:]
	base, _ := startServe(t, env)
	password := demoPassword(t, base, env["CHUNGTHUC_DATA"])

	// The attacker's origin: a form posted as multipart/form-data, submitted on load.
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var action, fields string
		switch r.URL.Path {
		case "/revoke":
			action = fmt.Sprintf("%s/app/c/%d/revoke", base, c.ID)
			fields = `<input name="reason" value="thu hồi giả mạo"><input name="confirm" value="1">`
		case "/refuse":
			action = base + "/app/refuse"
			fields = `<input name="reason" value="other"><input name="title" value="x"><input name="requester" value="y">`
		default:
			http.NotFound(w, r)
			return
		}
		if tok := r.URL.Query().Get("csrf"); tok != "" {
			fields = `<input name="csrf" value="` + html.EscapeString(tok) + `">` + fields
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>quà tặng</title><form id="f" method="post" enctype="multipart/form-data" action="%s">%s</form><script>document.getElementById("f").submit()</script>`, action, fields)
	}))
	defer attacker.Close()
	if !strings.HasPrefix(attacker.URL, "http://127.0.0.1:") || !strings.HasPrefix(base, "http://127.0.0.1:") || attacker.URL == base {
		t.Fatalf("not two origins of one site: %s %s", attacker.URL, base)
	}

	b := loggedIn(t, dir, base, "canbo", password)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	status := func() string {
		res, err := http.Get(base + "/api/v1/verify/" + token)
		must(err)
		defer res.Body.Close()
		var v map[string]any
		must(json.NewDecoder(res.Body).Decode(&v))
		s, _ := v["status"].(string)
		return s
	}
	before := status()
	if before == "" {
		t.Fatal("no status in the verification answer")
	}
	// landed waits for the auto-submitted form's answer and returns the page's text.
	landed := func(target string) string {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if u, _ := b.URL(); strings.HasPrefix(u, target) {
				if txt, err := b.Text("body"); err == nil && txt != "" {
					return txt
				}
			}
		}
		u, _ := b.URL()
		t.Fatalf("the form did not land on %s (at %s)", target, u)
		return ""
	}
	for _, p := range []struct{ page, target string }{
		{"/revoke", fmt.Sprintf("%s/app/c/%d/revoke", base, c.ID)},
		{"/refuse", base + "/app/refuse"},
	} {
		must(b.Navigate(attacker.URL + p.page))
		txt := landed(p.target)
		if !strings.Contains(txt, "CSRF") || !strings.Contains(txt, "403") && !strings.Contains(txt, "Yêu cầu không hợp lệ") {
			t.Fatalf("%s: the forged request was not refused as CSRF:\n%s", p.page, txt)
		}
	}
	if s := status(); s != before {
		t.Fatalf("the forged revoke changed the copy: %s → %s", before, s)
	}
	reg, err := sqlite.Open(context.Background(), filepath.Join(env["CHUNGTHUC_DATA"], "register.db"), sqlite.Options{})
	must(err)
	defer reg.Close()
	units, err := reg.Units(context.Background())
	must(err)
	for _, u := range units {
		rs, err := reg.Refusals(context.Background(), u.ID, time.Now().AddDate(-1, 0, 0), time.Now().AddDate(0, 0, 1))
		must(err)
		if len(rs) != 0 {
			t.Fatalf("the forged refusal was written: %+v", rs[0])
		}
	}

	// Control: with the session's token (read from the real page) the same cross-origin
	// form revokes — the session cookie went along, only the token was missing.
	must(b.Navigate(fmt.Sprintf("%s/app/c/%d", base, c.ID)))
	tok, err := b.Attr(`input[name=csrf]`, "value")
	must(err)
	must(b.Navigate(attacker.URL + "/revoke?csrf=" + tok))
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline) && status() == before; time.Sleep(100 * time.Millisecond) {
	}
	if s := status(); s == before {
		t.Fatalf("control: the form with the real token did not revoke (status %s): the test cannot tell a refused forgery from a lost cookie", s)
	}
}
