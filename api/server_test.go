package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/credentials"
	"github.com/chungthuc/chungthuc/internal/testpki"
	"github.com/chungthuc/chungthuc/internal/testscan"
	"github.com/chungthuc/chungthuc/signer"
	"github.com/chungthuc/chungthuc/storage/fs"
	"github.com/chungthuc/chungthuc/storage/sqlite"
	"github.com/chungthuc/chungthuc/translog"
	"github.com/chungthuc/chungthuc/verify"
)

type keys struct {
	pki   *testpki.PKI
	cache map[string]*chungthuc.SigningKey
}

func (k *keys) OfficerKey(_ context.Context, o *chungthuc.Officer) (*chungthuc.SigningKey, error) {
	return k.get(fmt.Sprintf("o%d", o.ID), o.Name), nil
}
func (k *keys) SealKey(_ context.Context, u *chungthuc.Unit) (*chungthuc.SigningKey, error) {
	return k.get("u"+u.Code, u.Name), nil
}
func (k *keys) get(id, cn string) *chungthuc.SigningKey {
	if k.cache[id] == nil {
		k.cache[id] = k.pki.Leaf(cn, "Test", "ecdsa")
	}
	return k.cache[id]
}

// env is a running service over a real SQLite register and file object store.
type env struct {
	t        testing.TB
	srv      *httptest.Server
	handler  http.Handler
	reg      *sqlite.DB
	svc      *certify.Service
	pl, tm   *chungthuc.Unit
	plOff    *chungthuc.Officer
	tmOff    *chungthuc.Officer
	plToken  string
	tmToken  string
	password string
	log      *translog.Log
	objDir   string // the object store's directory
}

var maker = func() *signer.Signer {
	s, err := signer.New(signer.Options{})
	if err != nil {
		panic(err)
	}
	return s
}()

var scan = testscan.Scans(1, 60<<10, 72)[0]

func newEnv(t testing.TB, mod func(*Deps)) *env { t.Helper(); return newEnvClock(t, nil, mod) }

// newEnvClock is newEnv with the register's clock (nil: time.Now), for seeding entries,
// refusals and ratings at chosen times.
func newEnvClock(t testing.TB, regNow chungthuc.Clock, mod func(*Deps)) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	reg, err := sqlite.Open(ctx, filepath.Join(dir, "r.db"), sqlite.Options{AutoMigrate: true, Now: regNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	objs, err := fs.New(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	p := testpki.New()
	e := &env{t: t, reg: reg, password: "mật-khẩu-đủ-dài-1", objDir: filepath.Join(dir, "objects")}
	t.Cleanup(func() { objs.Close() })
	e.svc = &certify.Service{Register: reg, Objects: objs, Keys: &keys{pki: p, cache: map[string]*chungthuc.SigningKey{}}, Maker: maker, Now: time.Now, BaseURL: "https://ct.example.vn"}
	t.Cleanup(e.svc.Close)
	e.pl = &chungthuc.Unit{Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình", Body: "Ủy ban nhân dân phường Hòa Bình", Province: "tỉnh Phú Thọ", Demo: true}
	e.tm = &chungthuc.Unit{Code: "TM", Name: "Xã Trung Minh", Place: "Trung Minh", SealImage: testscan.SealPNG(96), SealMM: 36}
	for _, u := range []*chungthuc.Unit{e.pl, e.tm} {
		if err := reg.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	e.plOff = &chungthuc.Officer{UnitID: e.pl.ID, Name: "Trần Văn Nghĩa", Title: "PHÓ CHỦ TỊCH", Role: chungthuc.RoleOfficer, Active: true}
	e.tmOff = &chungthuc.Officer{UnitID: e.tm.ID, Name: "Lê Thị Ĩ", Title: "CHỦ TỊCH", Role: chungthuc.RoleOfficer, Active: true}
	for _, o := range []*chungthuc.Officer{e.plOff, e.tmOff} {
		if err := reg.CreateOfficer(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	hash, _ := credentials.HashPassword(e.password)
	for _, a := range []*chungthuc.Account{
		{UnitID: e.pl.ID, OfficerID: e.plOff.ID, Username: "canbo", Role: chungthuc.RoleOfficer, PasswordHash: hash},
		{UnitID: e.tm.ID, OfficerID: e.tmOff.ID, Username: "canbo.tm", Role: chungthuc.RoleOfficer, PasswordHash: hash},
		{Username: "quantri", Role: chungthuc.RoleSystemAdmin, PasswordHash: hash},
	} {
		if err := reg.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	e.plToken, e.tmToken = credentials.NewToken(), credentials.NewToken()
	for _, tk := range []*chungthuc.APIToken{
		{UnitID: e.pl.ID, OfficerID: e.plOff.ID, Name: "one-stop HB", TokenHash: credentials.TokenHash(e.plToken)},
		{UnitID: e.tm.ID, OfficerID: e.tmOff.ID, Name: "one-stop TM", TokenHash: credentials.TokenHash(e.tmToken)},
	} {
		if err := reg.CreateAPIToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	_, logKey, err := translog.GenerateKey("ct.example.vn/log")
	if err != nil {
		t.Fatal(err)
	}
	if e.log, err = translog.New(translog.Options{Register: reg, Store: objs, Key: logKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		t.Fatal(err)
	}
	if err := e.log.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.log.Check(ctx); err != nil {
		t.Fatal(err)
	}
	reg.SetLogHooks(e.log.Hooks())
	pool := x509Pool(p)
	d := Deps{Log: e.log, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Public: reg, Register: reg, Accounts: reg, AccountAdmin: reg, Audit: reg, Certify: e.svc, BaseURL: "https://ct.example.vn",
		Verify: func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error) {
			return verify.Verify(ctx, r, size, verify.Options{Roots: pool, Lookup: func(ctx context.Context, sum string) (*verify.RegisterMatch, error) {
				c, err := reg.CertificationBySHA256(ctx, sum)
				if err != nil {
					return nil, err
				}
				return &verify.RegisterMatch{Unit: "x", Number: c.Number, Book: c.BookCode, CertifiedAt: c.CertifiedAt, Status: c.Status, RevokeReason: c.RevokeReason, RevokedAt: c.RevokedAt}, nil
			}})
		}, RateLimit: 10000, Webhooks: reg, Mail: reg}
	if mod != nil {
		mod(&d)
	}
	h, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// certifyPL certifies one copy for unit HB through the workflow.
func (e *env) certifyPL() *certify.Output {
	out, err := e.svc.Certify(context.Background(), certify.Input{UnitCode: "HB", OfficerID: e.plOff.ID, DocTitle: "Giấy khai sinh",
		Requester: "Nguyễn Thị Hồng Nhung", Scans: []chungthuc.Scan{{Name: "a.jpg", Data: scan}}, KeepScans: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) do(req *http.Request) (*http.Response, string) {
	e.t.Helper()
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(b)
}

func (e *env) get(path string, hdr ...string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(req)
}

// multipartBody builds a form with files (name → bytes, in order) and fields, the csrf
// field first (as the templates have it).
func multipartBody(files [][2]string, fields map[string]string) (*bytes.Buffer, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if v, ok := fields["csrf"]; ok {
		mw.WriteField("csrf", v)
	}
	for k, v := range fields {
		if k != "csrf" {
			mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		w, _ := mw.CreateFormFile("file", f[0])
		w.Write([]byte(f[1]))
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func TestPublicVerificationAndDownload(t *testing.T) {
	e := newEnv(t, nil)
	out := e.certifyPL()
	c := out.Certification
	res, body := e.get("/v/" + c.Token)
	if res.StatusCode != 200 || !strings.Contains(body, "Bản sao hợp lệ") || !strings.Contains(body, c.SHA256) ||
		!strings.Contains(body, "Phường Hòa Bình") || !strings.Contains(body, "Trần Văn Nghĩa") {
		t.Fatalf("GET /v/token: %d\n%s", res.StatusCode, body)
	}
	if strings.Contains(body, "Nguyễn Thị Hồng Nhung") || strings.Contains(body, "Giấy khai sinh") {
		t.Fatal("the public page shows document content (requester or title)")
	}
	// Unknown and malformed tokens: the same not-found page.
	r1, b1 := e.get("/v/AAAAAAAAAAAAAAAAAAAAAAAAAAA")
	r2, b2 := e.get("/v/x")
	if r1.StatusCode != 404 || r2.StatusCode != 404 || b1 != b2 {
		t.Fatalf("unknown tokens: %d %d, same body %v", r1.StatusCode, r2.StatusCode, b1 == b2)
	}
	// JSON status.
	res, body = e.get("/api/v1/verify/" + c.Token)
	if res.StatusCode != 200 || !strings.Contains(body, `"status": "valid"`) {
		t.Fatalf("GET /api/v1/verify/token: %d %s", res.StatusCode, body)
	}
	// Download needs the access code; a wrong code gets 403 like an unknown link.
	form := func(code string) *http.Request {
		req, _ := http.NewRequest("POST", e.srv.URL+"/v/"+c.Token+"/download", strings.NewReader(url.Values{"code": {code}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	if res, _ := e.do(form("WRONGCODE2")); res.StatusCode != 403 {
		t.Fatalf("wrong code: %d", res.StatusCode)
	}
	res, body = e.do(form(strings.ToLower(out.AccessCode)))
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || body != string(out.PDF) {
		t.Fatalf("download: %d %s (%d bytes)", res.StatusCode, res.Header.Get("Content-Type"), len(body))
	}
	// Hash-only check.
	res, body = e.get("/api/v1/verify/sha256/" + c.SHA256)
	if res.StatusCode != 200 || !strings.Contains(body, `"number": 1`) {
		t.Fatalf("hash check: %d %s", res.StatusCode, body)
	}
	if res, _ = e.get("/api/v1/verify/sha256/" + strings.Repeat("0", 64)); res.StatusCode != 404 {
		t.Fatalf("unknown hash: %d", res.StatusCode)
	}
	// Upload to verify.
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/verify", bytes.NewReader(out.PDF))
	req.Header.Set("Content-Type", "application/pdf")
	res, body = e.do(req)
	if res.StatusCode != 200 || !strings.Contains(body, `"valid": true`) {
		t.Fatalf("POST /api/v1/verify: %d %s", res.StatusCode, body[:min(len(body), 500)])
	}
	req, _ = http.NewRequest("POST", e.srv.URL+"/api/v1/verify", strings.NewReader("GIF89a not a pdf"))
	req.Header.Set("Content-Type", "application/pdf")
	if res, _ = e.do(req); res.StatusCode != 415 {
		t.Fatalf("non-PDF upload: %d", res.StatusCode)
	}
	// After revocation the link says so.
	if _, err := e.svc.Revoke(context.Background(), e.pl.ID, c.ID, "Bản chính giả mạo"); err != nil {
		t.Fatal(err)
	}
	_, body = e.get("/api/v1/verify/" + c.Token)
	if !strings.Contains(body, `"status": "revoked"`) || !strings.Contains(body, "Bản chính giả mạo") {
		t.Fatalf("revoked status: %s", body)
	}
	if res, _ = e.do(form(out.AccessCode)); res.StatusCode != 403 {
		t.Fatalf("download of a revoked copy: %d", res.StatusCode)
	}
}

// login returns a client with a session for username.
func (e *env) login(username, password string) (*http.Client, string, int) {
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Get(e.srv.URL + "/login")
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)[1]
	res, err = cl.PostForm(e.srv.URL+"/login", url.Values{"csrf": {string(csrf)}, "username": {username}, "password": {password}, "next": {"/app/"}})
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return cl, "", res.StatusCode
	}
	res, _ = cl.Get(e.srv.URL + "/app/")
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)
	if m == nil {
		e.t.Fatalf("no CSRF token on the dashboard:\n%s", b)
	}
	return cl, string(m[1]), http.StatusSeeOther
}

func TestLoginThrottlingAndCSRF(t *testing.T) {
	e := newEnv(t, nil)
	if _, _, code := e.login("canbo", "wrong"); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	if _, _, code := e.login("nobody", "wrong"); code != 401 {
		t.Fatalf("unknown user: %d", code)
	}
	cl, csrf, code := e.login("CanBo", e.password)
	if code != 303 {
		t.Fatalf("login: %d", code)
	}
	res, _ := cl.Get(e.srv.URL + "/app/")
	if res.StatusCode != 200 {
		t.Fatalf("dashboard: %d", res.StatusCode)
	}
	// A POST without the CSRF token is refused.
	out := e.certifyPL()
	res, _ = cl.PostForm(fmt.Sprintf("%s/app/c/%d/revoke", e.srv.URL, out.Certification.ID), url.Values{"reason": {"x"}})
	if res.StatusCode != 403 {
		t.Fatalf("revoke without CSRF: %d", res.StatusCode)
	}
	res, _ = cl.PostForm(fmt.Sprintf("%s/app/c/%d/revoke", e.srv.URL, out.Certification.ID), url.Values{"reason": {"Sai sót"}, "csrf": {csrf}, "confirm": {"1"}})
	if res.StatusCode != 303 {
		t.Fatalf("revoke with CSRF: %d", res.StatusCode)
	}
	// Without a session the workspace redirects to the login page.
	res, _ = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(e.srv.URL + "/app/register")
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous workspace: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestWorkspaceCertify(t *testing.T) {
	e := newEnv(t, nil)
	cl, csrf, _ := e.login("canbo", e.password)
	body, ct := multipartBody([][2]string{{"trang1.jpg", string(scan)}, {"trang2.jpg", string(scan)}},
		map[string]string{"csrf": csrf, "title": "Bằng tốt nghiệp", "requester": "Phạm Thị Ánh"})
	res, err := cl.Post(e.srv.URL+"/app/certify", ct, body)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/app/c/") {
		t.Fatalf("certify form: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = cl.Get(e.srv.URL + res.Header.Get("Location"))
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(b), "Bằng tốt nghiệp") || !strings.Contains(string(b), "4.000 ₫") {
		t.Fatalf("certify result: %d\n%s", res.StatusCode, b)
	}
	for _, p := range []string{"/app/register?q=ANH", "/app/stats", "/app/stats?format=csv", "/app/refuse", "/app/certify"} {
		res, _ := cl.Get(e.srv.URL + p)
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d\n%s", p, res.StatusCode, b)
		}
		if p == "/app/register?q=ANH" && !strings.Contains(string(b), "Phạm Thị Ánh") {
			t.Fatalf("register search without marks does not find the entry:\n%s", b)
		}
		if p == "/app/stats?format=csv" && !strings.Contains(string(b), "Phường Hòa Bình") {
			t.Fatalf("CSV: %s", b)
		}
	}
	// A multipart POST without the session's CSRF token certifies nothing.
	body, ct = multipartBody([][2]string{{"trang1.jpg", string(scan)}}, map[string]string{"csrf": "forged", "title": "X"})
	if res, _ = cl.Post(e.srv.URL+"/app/certify", ct, body); res.StatusCode != 403 {
		t.Fatalf("certify with a forged CSRF token: %d", res.StatusCode)
	}
	if _, total, _ := e.reg.Certifications(context.Background(), chungthuc.CertificationFilter{UnitID: e.pl.ID}); total != 1 {
		t.Fatalf("%d entries, want 1", total)
	}
	res, _ = cl.PostForm(e.srv.URL+"/app/refuse", url.Values{"csrf": {csrf}, "reason": {"classified"}, "note": {"Đóng dấu MẬT"}})
	if res.StatusCode != 303 {
		t.Fatalf("refuse: %d", res.StatusCode)
	}
}

func TestAPICertifications(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.MaxUpload = 2 << 20 })
	post := func(token string, files [][2]string, fields map[string]string) (*http.Response, string) {
		body, ct := multipartBody(files, fields)
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/certifications", body)
		req.Header.Set("Content-Type", ct)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return e.do(req)
	}
	res, body := post(e.plToken, [][2]string{{"a.jpg", string(scan)}}, map[string]string{"title": "Giấy khai sinh", "requester": "Nguyễn Văn A"})
	if res.StatusCode != 201 {
		t.Fatalf("POST certifications: %d %s", res.StatusCode, body)
	}
	var c struct {
		ID         int64  `json:"id"`
		Number     int64  `json:"number"`
		Book       string `json:"book"`
		VerifyURL  string `json:"verify_url"`
		AccessCode string `json:"access_code"`
		SHA256     string `json:"sha256"`
		FeeVND     int64  `json:"fee_vnd"`
	}
	json.Unmarshal([]byte(body), &c)
	if c.ID == 0 || c.Number != 1 || c.Book == "" || c.AccessCode == "" || len(c.SHA256) != 64 || c.FeeVND != 2000 || !strings.HasPrefix(c.VerifyURL, "https://ct.example.vn/v/") {
		t.Fatalf("201 body: %s", body)
	}
	for name, tc := range map[string]struct {
		token  string
		files  [][2]string
		fields map[string]string
		want   int
	}{
		"no token":      {"", [][2]string{{"a.jpg", string(scan)}}, map[string]string{"title": "x"}, 401},
		"bad token":     {"nope", [][2]string{{"a.jpg", string(scan)}}, map[string]string{"title": "x"}, 401},
		"no file":       {e.plToken, nil, map[string]string{"title": "x"}, 400},
		"no title":      {e.plToken, [][2]string{{"a.jpg", string(scan)}}, nil, 400},
		"wrong type":    {e.plToken, [][2]string{{"a.gif", "GIF89a......"}}, map[string]string{"title": "x"}, 415},
		"too large":     {e.plToken, [][2]string{{"a.jpg", string(scan) + strings.Repeat("x", 3<<20)}}, map[string]string{"title": "x"}, 413},
		"corrupt image": {e.plToken, [][2]string{{"a.jpg", "\xFF\xD8\xFF garbage"}}, map[string]string{"title": "x"}, 400},
	} {
		if res, body := post(tc.token, tc.files, tc.fields); res.StatusCode != tc.want || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d, want %d: %s", name, res.StatusCode, tc.want, body)
		}
	}
	// Nothing half-done: only the one good certification is in the register.
	if _, total, _ := e.reg.Certifications(context.Background(), chungthuc.CertificationFilter{UnitID: e.pl.ID}); total != 1 {
		t.Fatalf("%d entries after the failures, want 1", total)
	}
	auth := func(method, path, token string, body io.Reader) (*http.Response, string) {
		req, _ := http.NewRequest(method, e.srv.URL+path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		return e.do(req)
	}
	id := fmt.Sprint(c.ID)
	if res, _ := auth("GET", "/api/v1/certifications/"+id, e.plToken, nil); res.StatusCode != 200 {
		t.Fatalf("GET own: %d", res.StatusCode)
	}
	if res, body := auth("GET", "/api/v1/certifications/"+id+"/pdf", e.plToken, nil); res.StatusCode != 200 || !strings.HasPrefix(body, "%PDF-") {
		t.Fatalf("GET pdf: %d", res.StatusCode)
	}
	// Another unit's token sees nothing of this unit.
	for _, p := range []string{"/api/v1/certifications/" + id, "/api/v1/certifications/" + id + "/pdf"} {
		if res, _ := auth("GET", p, e.tmToken, nil); res.StatusCode != 404 {
			t.Errorf("TM token GET %s: %d, want 404", p, res.StatusCode)
		}
	}
	if res, _ := auth("POST", "/api/v1/certifications/"+id+"/revoke", e.tmToken, strings.NewReader(`{"reason":"x"}`)); res.StatusCode != 404 {
		t.Errorf("TM token revoke: %d, want 404", res.StatusCode)
	}
	if res, _ := auth("POST", "/api/v1/certifications/"+id+"/revoke", e.plToken, strings.NewReader(`{}`)); res.StatusCode != 400 {
		t.Errorf("revoke without reason: %d, want 400", res.StatusCode)
	}
	if res, body := auth("POST", "/api/v1/certifications/"+id+"/revoke", e.plToken, strings.NewReader(`{"reason":"Sai thông tin"}`)); res.StatusCode != 200 || !strings.Contains(body, `"status": "revoked"`) {
		t.Errorf("revoke: %d %s", res.StatusCode, body)
	}
	if res, _ := auth("POST", "/api/v1/certifications/"+id+"/revoke", e.plToken, strings.NewReader(`{"reason":"again"}`)); res.StatusCode != 409 {
		t.Errorf("revoke twice: %d, want 409", res.StatusCode)
	}
}

// TestUnitIsolation: an officer of ward TM can never read or act on ward HB's entries.
func TestUnitIsolation(t *testing.T) {
	e := newEnv(t, nil)
	out := e.certifyPL()
	id := out.Certification.ID
	cl, csrf, _ := e.login("canbo.tm", e.password)
	for _, p := range []string{"/app/c/%d", "/app/c/%d/pdf", "/app/c/%d/receipt"} {
		res, _ := cl.Get(e.srv.URL + fmt.Sprintf(p, id))
		if res.StatusCode != 404 {
			t.Errorf("TM officer GET %s: %d, want 404", fmt.Sprintf(p, id), res.StatusCode)
		}
	}
	res, _ := cl.PostForm(fmt.Sprintf("%s/app/c/%d/revoke", e.srv.URL, id), url.Values{"csrf": {csrf}, "reason": {"x"}, "confirm": {"1"}})
	if res.StatusCode != 404 {
		t.Errorf("TM officer revoke: %d, want 404", res.StatusCode)
	}
	res, _ = cl.Get(e.srv.URL + "/app/register")
	b, _ := io.ReadAll(res.Body)
	if strings.Contains(string(b), "Nguyễn Thị Hồng Nhung") {
		t.Error("TM's register lists HB's entry")
	}
	c, _ := e.reg.CertificationByID(context.Background(), id)
	if c.Status != chungthuc.StatusIssued {
		t.Fatalf("HB's entry changed: %s", c.Status)
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t, nil)
	doc := openAPIDoc("x")["paths"].(map[string]any)
	routed := map[string]bool{}
	chi.Walk(e.handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/api/") {
			route = strings.TrimSuffix(route, "/")
			routed[route] = true
			ops, ok := doc[route].(map[string]any)
			if !ok || ops[strings.ToLower(method)] == nil {
				t.Errorf("route %s %s is not in the OpenAPI document", method, route)
			}
		}
		return nil
	})
	for p := range doc {
		if !routed[p] {
			t.Errorf("OpenAPI path %s is not routed", p)
		}
	}
	res, body := e.get("/api/openapi.json")
	if res.StatusCode != 200 || !strings.Contains(body, `"openapi": "3.0.3"`) {
		t.Fatalf("openapi.json: %d", res.StatusCode)
	}
}

func TestOperations(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		d.Ready = func(context.Context) error { return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "object store down") }
		d.RateLimit = 5
	})
	if res, _ := e.get("/healthz"); res.StatusCode != 200 {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
	if res, body := e.get("/readyz"); res.StatusCode != 503 || !strings.Contains(body, "object store down") {
		t.Fatalf("readyz: %d %s", res.StatusCode, body)
	}
	codes := map[int]int{}
	for i := 0; i < 8; i++ {
		res, _ := e.get("/api/v1/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAA")
		codes[res.StatusCode]++
	}
	if codes[429] == 0 {
		t.Fatalf("no rate limiting: %v", codes)
	}
	res, body := e.get("/metrics")
	if res.StatusCode != 200 || !strings.Contains(body, "chungthuc_http_request_duration_seconds_bucket") || !strings.Contains(body, "chungthuc_verifications_total") {
		t.Fatalf("metrics: %d\n%s", res.StatusCode, body)
	}
	if res, body := e.get("/no/such/page"); res.StatusCode != 404 || !strings.Contains(body, "<html") {
		t.Fatalf("404 page: %d", res.StatusCode)
	}
	if res, body := e.get("/api/v1/nothing"); res.StatusCode != 404 || !strings.Contains(body, `"error"`) {
		t.Fatalf("API 404: %d %s", res.StatusCode, body)
	}
}
