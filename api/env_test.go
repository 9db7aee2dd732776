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

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/internal/testscan"
	"github.com/chungthuc/chungthuc/signer"
	"github.com/chungthuc/chungthuc/storage/fs"
	"github.com/chungthuc/chungthuc/storage/sqlite"
	"github.com/chungthuc/chungthuc/verify"
)

// env is a running service on real components (SQLite register, folder object store,
// development PKI, the real signer and verifier) with in-memory accounts, two units (A, B),
// an officer and accounts in each, and an API token per unit.
type env struct {
	t        *testing.T
	srv      *Server
	ts       *httptest.Server
	reg      *sqlite.DB
	acc      *memAccounts
	unitA    *chungthuc.Unit
	unitB    *chungthuc.Unit
	offA     *chungthuc.Officer
	offB     *chungthuc.Officer
	tokenA   string
	tokenB   string
	password string
}

type envOpt func(*Deps)

func newEnv(t testing.TB, opts ...envOpt) *env {
	tt, _ := t.(*testing.T)
	dir := t.TempDir()
	ctx := context.Background()
	reg, err := sqlite.Open(ctx, filepath.Join(dir, "register.db"), sqlite.Options{AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	objects, err := fs.New(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objects.Close() })
	pki, err := certs.OpenDevPKI(filepath.Join(dir, "pki"), certs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mk, err := signer.New(signer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: tt, reg: reg, acc: newMemAccounts(), password: "correct horse battery"}
	mkUnit := func(code, name string) *chungthuc.Unit {
		u := &chungthuc.Unit{Code: code, Name: name, Place: strings.TrimPrefix(name, "Phường ")}
		if err := reg.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, err := pki.IssueSeal(u); err != nil {
			t.Fatal(err)
		}
		return u
	}
	mkOfficer := func(u *chungthuc.Unit, name string) *chungthuc.Officer {
		o := &chungthuc.Officer{UnitID: u.ID, Name: name, Title: "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", Role: chungthuc.RoleOfficer, Active: true}
		if err := reg.CreateOfficer(ctx, o); err != nil {
			t.Fatal(err)
		}
		_, pem, err := pki.IssueOfficer(o, u)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.SetOfficerCert(ctx, o.ID, pem); err != nil {
			t.Fatal(err)
		}
		return o
	}
	e.unitA, e.unitB = mkUnit("PA", "Phường An Hòa"), mkUnit("PB", "Phường Bình Minh")
	e.offA, e.offB = mkOfficer(e.unitA, "Trần Văn Nghĩa"), mkOfficer(e.unitB, "Lê Thị Hương")
	hash, err := HashPassword(e.password)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*chungthuc.Account{
		{UnitID: e.unitA.ID, OfficerID: e.offA.ID, Username: "officer.a", Role: chungthuc.RoleOfficer},
		{UnitID: e.unitB.ID, OfficerID: e.offB.ID, Username: "officer.b", Role: chungthuc.RoleOfficer},
		{UnitID: e.unitA.ID, Username: "clerk.a", Role: chungthuc.RoleClerk},
		{UnitID: e.unitA.ID, Username: "admin.a", Role: chungthuc.RoleUnitAdmin},
		{Username: "city", Role: chungthuc.RoleSystemAdmin},
	} {
		a.PasswordHash = hash
		if err := e.acc.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	mkToken := func(u *chungthuc.Unit, o *chungthuc.Officer) string {
		secret, h, err := NewSecret("ctk_")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.acc.CreateAPIToken(ctx, &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: "one-stop " + u.Code, TokenHash: h}); err != nil {
			t.Fatal(err)
		}
		return secret
	}
	e.tokenA, e.tokenB = mkToken(e.unitA, e.offA), mkToken(e.unitB, e.offB)

	roots := pki.Root()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	svc := &certify.Service{Register: reg, Objects: objects, Keys: pki, Maker: mk, Now: time.Now, BaseURL: base}
	lookup := func(ctx context.Context, sum string) (*verify.RegisterMatch, error) {
		c, err := reg.CertificationBySHA256(ctx, sum)
		if err != nil {
			return nil, err
		}
		u, err := reg.UnitByID(ctx, c.UnitID)
		if err != nil {
			return nil, err
		}
		return &verify.RegisterMatch{Unit: u.Name, Number: c.Number, Book: c.BookCode, CertifiedAt: c.CertifiedAt, Status: c.Status, RevokeReason: c.RevokeReason, RevokedAt: c.RevokedAt}, nil
	}
	d := Deps{
		Register: reg, Accounts: e.acc, Objects: objects, Audit: reg, Certifier: svc,
		Verify: func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error) {
			pool := newPool(roots)
			return verify.Verify(ctx, r, size, verify.Options{Roots: pool, Lookup: lookup})
		},
		BaseURL: base, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TempDir: t.TempDir(),
		PublicRate: 1000, LoginRate: 1000,
	}
	for _, o := range opts {
		o(&d)
	}
	e.srv = New(d)
	ts.Config.Handler = e.srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	e.ts = ts
	return e
}

// scan is a small realistic JPEG scan of one page.
var testScan = testscan.JPEG(testscan.Page(1, 60), 70, 60)

// multipartBody builds a certification request.
func multipartBody(t testing.TB, fields map[string]string, files map[string][]byte) (io.Reader, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for name, data := range files {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// do sends a request and returns the status and body.
func (e *env) do(c *http.Client, method, path string, body io.Reader, header map[string]string) (int, []byte, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = noRedirect()
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// certifyAPI certifies testScan through the JSON API with token.
func (e *env) certifyAPI(token, title string) *CertificationJSON {
	e.t.Helper()
	body, ct := multipartBody(e.t, map[string]string{"doc_title": title, "requester": "Nguyễn Văn An"}, map[string][]byte{"scan1.jpg": testScan})
	st, b, _ := e.do(nil, "POST", "/api/v1/certifications", body, map[string]string{"Content-Type": ct, "Authorization": "Bearer " + token})
	if st != http.StatusCreated {
		e.t.Fatalf("certify: %d %s", st, b)
	}
	var j CertificationJSON
	if err := json.Unmarshal(b, &j); err != nil {
		e.t.Fatal(err)
	}
	return &j
}

// session is a logged-in browser.
type session struct {
	c    *http.Client
	csrf string
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (e *env) login(user string) *session {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	st, b, h := e.do(c, "POST", "/login", strings.NewReader(url.Values{"username": {user}, "password": {e.password}}.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if st != http.StatusSeeOther || h.Get("Location") != "/ws/" {
		e.t.Fatalf("login %s: %d %s", user, st, b)
	}
	st, b, _ = e.do(c, "GET", "/ws/", nil, nil)
	if st != http.StatusOK && st != http.StatusSeeOther {
		e.t.Fatalf("dashboard: %d %s", st, b)
	}
	if st == http.StatusSeeOther {
		_, b, _ = e.do(c, "GET", "/ws/stats", nil, nil)
	}
	m := csrfRe.FindSubmatch(b)
	if m == nil {
		e.t.Fatalf("no csrf token in %s", b)
	}
	return &session{c: c, csrf: string(m[1])}
}

func (e *env) form(s *session, path string, v url.Values) (int, []byte, http.Header) {
	e.t.Helper()
	if v == nil {
		v = url.Values{}
	}
	if s != nil && v.Get("csrf") == "" {
		v.Set("csrf", s.csrf)
	}
	var c *http.Client
	if s != nil {
		c = s.c
	}
	return e.do(c, "POST", path, strings.NewReader(v.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

func tokenOf(verifyURL string) string {
	return verifyURL[strings.LastIndex(verifyURL, "/")+1:]
}

func idPath(id int64) string { return fmt.Sprint(id) }
