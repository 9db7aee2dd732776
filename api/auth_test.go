package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("mật khẩu rất dài")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatal(h, err)
	}
	if !CheckPassword(h, "mật khẩu rất dài") || CheckPassword(h, "mật khẩu rất dàI") {
		t.Fatal("check")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", strings.Replace(h, "m=19456", "m=99999999", 1)} {
		if CheckPassword(bad, "x") {
			t.Fatalf("malformed hash %q matched", bad)
		}
	}
	if _, err := HashPassword("short"); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatal("short password accepted")
	}
}

func TestLoginLockout(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, chungthuc.Vietnam)
	clock := &now
	e := newEnv(t, func(d *Deps) { d.Now = func() time.Time { return *clock } })
	try := func(user, pass string) int {
		st, _, _ := e.form(nil, "/login", url.Values{"username": {user}, "password": {pass}})
		return st
	}
	unknown := func() []byte {
		_, b, _ := e.form(nil, "/login", url.Values{"username": {"nobody"}, "password": {"x"}})
		return b
	}()
	for i := 0; i < maxFailedLogins; i++ {
		if st := try("officer.a", "wrong password"); st != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, st)
		}
	}
	// Locked: even the right password fails, with the same answer as an unknown user.
	st, b, _ := e.form(nil, "/login", url.Values{"username": {"officer.a"}, "password": {e.password}})
	if st != http.StatusUnauthorized || !bytes.Contains(b, []byte("tạm khóa")) || !bytes.Contains(unknown, []byte("tạm khóa")) {
		t.Fatalf("locked account: %d", st)
	}
	*clock = now.Add(lockDuration + time.Second)
	if st := try("officer.a", e.password); st != http.StatusSeeOther {
		t.Fatalf("after the lock: %d", st)
	}
	a, _ := e.acc.AccountByUsername(context.Background(), "officer.a")
	if a.FailedLogins != 0 || !a.LockedUntil.IsZero() {
		t.Fatalf("login state not reset: %+v", a)
	}
}

func TestLoginThrottle(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.LoginRate = 3 })
	n := 0
	for i := 0; i < 6; i++ {
		if st, _, _ := e.form(nil, "/login", url.Values{"username": {"x"}, "password": {"y"}}); st == http.StatusTooManyRequests {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("throttled %d of 6, want 3", n)
	}
}

func TestSessionAndCSRF(t *testing.T) {
	e := newEnv(t)
	// Not logged in: pages redirect to the login, posts are refused.
	if st, _, h := e.do(nil, "GET", "/ws/register", nil, nil); st != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login?next=") {
		t.Fatalf("anonymous: %d %v", st, h)
	}
	if st, _, _ := e.form(nil, "/ws/refuse", url.Values{"reason": {"altered"}}); st != http.StatusUnauthorized {
		t.Fatalf("anonymous post: %d", st)
	}
	s := e.login("officer.a")
	if st, _, _ := e.form(s, "/ws/refuse", url.Values{"reason": {"altered"}, "csrf": {"forged"}}); st != http.StatusForbidden {
		t.Fatalf("forged csrf: %d", st)
	}
	if st, b, _ := e.form(s, "/ws/refuse", url.Values{"reason": {"altered"}, "doc_title": {"Bằng tốt nghiệp"}}); st != 200 || !bytes.Contains(b, []byte("Đã ghi nhận")) {
		t.Fatalf("refuse: %d %s", st, b)
	}
	if st, _, _ := e.form(s, "/ws/refuse", url.Values{"reason": {"made_up"}}); st != http.StatusBadRequest {
		t.Fatalf("bad reason: %d", st)
	}
	// Logout ends the session on the server.
	if st, _, _ := e.form(s, "/ws/logout", nil); st != http.StatusSeeOther {
		t.Fatalf("logout: %d", st)
	}
	if st, _, _ := e.do(s.c, "GET", "/ws/", nil, nil); st != http.StatusSeeOther {
		t.Fatalf("after logout: %d", st)
	}
	// Open redirects are refused.
	c := noRedirect()
	st, _, h := e.do(c, "GET", "/lang/en?next=//evil.example/", nil, nil)
	if st != http.StatusSeeOther || h.Get("Location") != "/" {
		t.Fatalf("lang redirect: %d %s", st, h.Get("Location"))
	}
}

// TestUnitIsolation: an officer (or token) of unit B can never read or act on unit A's
// register, on every route that names an entry.
func TestUnitIsolation(t *testing.T) {
	e := newEnv(t)
	c := e.certifyAPI(e.tokenA, "Giấy khai sinh")
	id := idPath(c.ID)
	sb := e.login("officer.b")
	sa := e.login("officer.a")
	routes := []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/ws/c/" + id, nil},
		{"GET", "/ws/c/" + id + "/pdf", nil},
		{"POST", "/ws/c/" + id + "/revoke", url.Values{"reason": {"x"}}},
	}
	for _, r := range routes {
		var st int
		if r.method == "GET" {
			st, _, _ = e.do(sb.c, "GET", r.path, nil, nil)
		} else {
			st, _, _ = e.form(sb, r.path, r.form)
		}
		if st != http.StatusNotFound {
			t.Errorf("officer B %s %s: %d, want 404", r.method, r.path, st)
		}
	}
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/v1/certifications/" + id, ""},
		{"GET", "/api/v1/certifications/" + id + "/pdf", ""},
		{"POST", "/api/v1/certifications/" + id + "/revoke", `{"reason":"x"}`},
	} {
		st, _, _ := e.do(nil, r.method, r.path, strings.NewReader(r.body), map[string]string{"Authorization": "Bearer " + e.tokenB})
		if st != http.StatusNotFound {
			t.Errorf("token B %s %s: %d, want 404", r.method, r.path, st)
		}
	}
	// B's register list and stats never show A's entries.
	_, b, _ := e.do(sb.c, "GET", "/ws/register", nil, nil)
	if bytes.Contains(b, []byte("/ws/c/"+id+"\"")) || !bytes.Contains(b, []byte("0 mục")) {
		t.Errorf("B's register shows A's entry")
	}
	// A sees and can act on its own entry; the clerk of A can read but not revoke.
	if st, _, _ := e.do(sa.c, "GET", "/ws/c/"+id, nil, nil); st != 200 {
		t.Errorf("officer A: %d", st)
	}
	clerk := e.login("clerk.a")
	if st, _, _ := e.do(clerk.c, "GET", "/ws/c/"+id, nil, nil); st != 200 {
		t.Errorf("clerk A read: %d", st)
	}
	if st, _, _ := e.form(clerk, "/ws/c/"+id+"/revoke", url.Values{"reason": {"x"}}); st != http.StatusForbidden {
		t.Errorf("clerk A revoke: %d", st)
	}
	if st, _, _ := e.do(clerk.c, "GET", "/ws/new", nil, nil); st != http.StatusForbidden {
		t.Errorf("clerk A certify page: %d", st)
	}
	if st, _, _ := e.do(sa.c, "GET", "/ws/stats", nil, nil); st != http.StatusForbidden {
		t.Errorf("officer stats: %d", st)
	}
	if st, _, _ := e.form(sa, "/ws/c/"+id+"/revoke", url.Values{"reason": {"Nhầm"}}); st != http.StatusSeeOther {
		t.Errorf("officer A revoke: %d", st)
	}
	if st, _, _ := e.form(sa, "/ws/c/"+id+"/revoke", url.Values{"reason": {"again"}}); st != http.StatusConflict {
		t.Errorf("revoke twice: %d", st)
	}
}

func TestAPIAuthAndBadInput(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.MaxUploadBytes = 256 << 10 })
	mk := func(fields map[string]string, files map[string][]byte) (io.Reader, map[string]string) {
		b, ct := multipartBody(t, fields, files)
		return b, map[string]string{"Content-Type": ct, "Authorization": "Bearer " + e.tokenA}
	}
	good := map[string]string{"doc_title": "Giấy khai sinh"}
	cases := []struct {
		name   string
		status int
		req    func() (io.Reader, map[string]string)
	}{
		{"no token", 401, func() (io.Reader, map[string]string) { b, h := mk(good, nil); delete(h, "Authorization"); return b, h }},
		{"bad token", 401, func() (io.Reader, map[string]string) {
			b, h := mk(good, nil)
			h["Authorization"] = "Bearer ctk_nope"
			return b, h
		}},
		{"no file", 400, func() (io.Reader, map[string]string) { return mk(good, nil) }},
		{"no title", 400, func() (io.Reader, map[string]string) { return mk(nil, map[string][]byte{"a.jpg": testScan}) }},
		{"wrong type", 415, func() (io.Reader, map[string]string) {
			return mk(good, map[string][]byte{"a.exe": []byte("MZ\x90\x00 this is not a scan")})
		}},
		{"not multipart", 415, func() (io.Reader, map[string]string) {
			return strings.NewReader(`{}`), map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + e.tokenA}
		}},
		{"too large", 413, func() (io.Reader, map[string]string) {
			return mk(good, map[string][]byte{"a.jpg": append(append([]byte{}, testScan...), make([]byte, 300<<10)...)})
		}},
		{"broken jpeg", 400, func() (io.Reader, map[string]string) {
			return mk(good, map[string][]byte{"a.jpg": testScan[:600]})
		}},
	}
	for _, c := range cases {
		body, h := c.req()
		st, b, _ := e.do(nil, "POST", "/api/v1/certifications", body, h)
		var eb errorBody
		if st != c.status || json.Unmarshal(b, &eb) != nil || eb.Message == "" || eb.Error == "" {
			t.Errorf("%s: %d %s", c.name, st, b)
		}
	}
	// Nothing half-done is left in the register.
	list, total, err := e.reg.Certifications(context.Background(), chungthuc.CertificationFilter{UnitID: e.unitA.ID})
	if err != nil || total != 0 {
		t.Fatalf("register after bad input: %d entries %+v %v", total, list, err)
	}
	// An HTML client gets a friendly page.
	s := e.login("officer.a")
	body, ct := multipartBody(t, good, nil)
	st, b, _ := e.do(s.c, "POST", "/ws/new?csrf="+s.csrf, body, map[string]string{"Content-Type": ct})
	if st != 400 || !bytes.Contains(b, []byte("Thông tin chưa hợp lệ")) || !bytes.Contains(b, []byte("<html")) {
		t.Fatalf("html error: %d %s", st, b)
	}
}

func TestWorkspaceFlow(t *testing.T) {
	e := newEnv(t)
	s := e.login("officer.a")
	st, b, _ := e.do(s.c, "GET", "/ws/new", nil, nil)
	if st != 200 || !bytes.Contains(b, []byte("Chứng thực và ký số")) {
		t.Fatalf("new page: %d", st)
	}
	var buf bytes.Buffer
	body, ct := multipartBody(t, map[string]string{"doc_title": "Bằng tốt nghiệp THPT", "issuer": "Sở GD&ĐT", "requester": "Phạm Thị Mai"},
		map[string][]byte{"p1.jpg": testScan, "p2.jpg": testScan, "p3.jpg": testScan})
	io.Copy(&buf, body)
	st, b, _ = e.do(s.c, "POST", "/ws/new?csrf="+s.csrf, &buf, map[string]string{"Content-Type": ct})
	if st != http.StatusCreated || !bytes.Contains(b, []byte("BIÊN NHẬN")) || !bytes.Contains(b, []byte("5.000 ₫")) {
		t.Fatalf("certify: %d %s", st, b)
	}
	code := regexp.MustCompile(`id="access-code">([A-Z0-9]+)<`).FindSubmatch(b)
	link := regexp.MustCompile(`/v/([A-Za-z0-9_-]+)/qr.png`).FindSubmatch(b)
	if code == nil || link == nil {
		t.Fatal("no access code or QR on the receipt")
	}
	if st, _, _ := e.form(nil, "/v/"+string(link[1])+"/download", url.Values{"code": {string(code[1])}}); st != 200 {
		t.Fatalf("citizen download with the receipt's code: %d", st)
	}
	// Dashboard counts, the register list with filters, the entry page.
	_, b, _ = e.do(s.c, "GET", "/ws/", nil, nil)
	if !bytes.Contains(b, []byte("5.000 ₫")) {
		t.Fatalf("dashboard: %s", b)
	}
	for q, want := range map[string]bool{"q=t%E1%BB%91t+nghi%E1%BB%87p": true, "q=khai+sinh": false, "number=1": true, "number=2": false, "status=revoked": false, "status=issued": true, "from=2000-01-01&to=2000-01-02": false} {
		_, b, _ := e.do(s.c, "GET", "/ws/register?"+q, nil, nil)
		if got := bytes.Contains(b, []byte("Bằng tốt nghiệp THPT")); got != want {
			t.Errorf("filter %s: found %v", q, got)
		}
	}
	// Stats for the unit administrator and the city, with CSV.
	adm := e.login("admin.a")
	_, b, _ = e.do(adm.c, "GET", "/ws/stats", nil, nil)
	if !bytes.Contains(b, []byte("5.000 ₫")) {
		t.Fatalf("stats: %s", b)
	}
	city := e.login("city")
	st, b, h := e.do(city.c, "GET", "/ws/stats.csv", nil, nil)
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !bytes.Contains(b, []byte("PA,Phường An Hòa")) || !bytes.Contains(b, []byte("PB,Phường Bình Minh")) || !bytes.Contains(b, []byte(",1,0,0,3,5000")) {
		t.Fatalf("csv: %d %s", st, b)
	}
	// English switch.
	e.do(s.c, "GET", "/lang/en?next=/ws/", nil, nil)
	_, b, _ = e.do(s.c, "GET", "/ws/", nil, nil)
	if !bytes.Contains(b, []byte("This month")) {
		t.Fatal("English not applied")
	}
}

// TestOpenAPIInSync: every API route is documented, and every documented path is a route.
func TestOpenAPIInSync(t *testing.T) {
	e := newEnv(t)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	routed := map[string]bool{}
	chi.Walk(e.srv.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(strings.ReplaceAll(route, "/*/", "/"), "/")
		if strings.HasPrefix(route, "/api/v1/") || route == "/api/v1" {
			routed[method+" "+route] = true
		}
		return nil
	})
	for r := range routed {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for d := range documented {
		if !routed[d] {
			t.Errorf("openapi.json documents %s, which is not a route", d)
		}
	}
}

// TestMessages: every key a template uses exists in both languages.
func TestMessages(t *testing.T) {
	re := regexp.MustCompile(`\.T "([^"]+)"`)
	entries, _ := templateFS.ReadDir("templates")
	for _, en := range entries {
		b, _ := templateFS.ReadFile("templates/" + en.Name())
		for _, m := range re.FindAllSubmatch(b, -1) {
			if _, ok := messages[string(m[1])]; !ok {
				t.Errorf("%s: no message %q", en.Name(), m[1])
			}
		}
	}
	for code := range statusOf {
		if _, ok := messages["error."+code]; !ok {
			t.Errorf("no message for error.%s", code)
		}
	}
}
