package devpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
	"golang.org/x/crypto/ocsp"
)

// ktOCSPFixture: a CA, a good and a revoked leaf, and a responder for the CA.
type ktOCSPFixture struct {
	ca            *pkicheck.CA
	good, revoked *x509.Certificate
	revokedAt     time.Time
	srv           *httptest.Server
}

func ktNewOCSP(tb testing.TB) *ktOCSPFixture {
	tb.Helper()
	ca := pkicheck.NewCA(tb, "CA OCSP")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f := &ktOCSPFixture{
		ca:        ca,
		good:      ca.Issue(tb, key.Public(), "Cán bộ Tốt", 100),
		revoked:   ca.Issue(tb, key.Public(), "Cán bộ Thu hồi", 101),
		revokedAt: time.Now().Add(-30 * time.Minute).Truncate(time.Second),
	}
	status := func(serial *big.Int) (bool, time.Time, int) {
		if serial.Cmp(f.revoked.SerialNumber) == 0 {
			return true, f.revokedAt, ocsp.KeyCompromise
		}
		return false, time.Time{}, 0
	}
	f.srv = httptest.NewServer(NewOCSPResponder(ca.Cert, ca.Key, status, nil))
	tb.Cleanup(f.srv.Close)
	return f
}

func TestDevOCSPGo(t *testing.T) {
	f := ktNewOCSP(t)
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		for _, method := range []string{"POST", "GET"} {
			for _, c := range []struct {
				cert   *x509.Certificate
				status int
			}{{f.good, ocsp.Good}, {f.revoked, ocsp.Revoked}} {
				req, err := ocsp.CreateRequest(c.cert, f.ca.Cert, &ocsp.RequestOptions{Hash: h})
				if err != nil {
					t.Fatal(err)
				}
				var resp *http.Response
				var body []byte
				if method == "POST" {
					resp, body = pkicheck.Post(t, f.srv.URL, "application/ocsp-request", req)
				} else {
					resp, body = pkicheck.Get(t, f.srv.URL+"/"+url.PathEscape(base64.StdEncoding.EncodeToString(req)))
					if !strings.HasPrefix(resp.Header.Get("Cache-Control"), "max-age=") {
						t.Errorf("GET answer not cacheable: %q", resp.Header.Get("Cache-Control"))
					}
				}
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
					t.Fatalf("%s %v: %s %s", method, h, resp.Status, resp.Header.Get("Content-Type"))
				}
				r, err := ocsp.ParseResponseForCert(body, c.cert, f.ca.Cert)
				if err != nil {
					t.Fatalf("%s %v: %v", method, h, err)
				}
				if r.Status != c.status || r.SerialNumber.Cmp(c.cert.SerialNumber) != 0 || !r.NextUpdate.After(r.ThisUpdate) {
					t.Fatalf("%s %v: status %d serial %v", method, h, r.Status, r.SerialNumber)
				}
				// NSS refuses an answer whose thisUpdate is after its producedAt (which
				// x/crypto truncates to the minute) as "not yet valid".
				if r.ThisUpdate.After(r.ProducedAt) {
					t.Fatalf("%s %v: thisUpdate %v after producedAt %v", method, h, r.ThisUpdate, r.ProducedAt)
				}
				if c.status == ocsp.Revoked && (!r.RevokedAt.Equal(f.revokedAt) || r.RevocationReason != ocsp.KeyCompromise) {
					t.Fatalf("revoked at %v reason %d", r.RevokedAt, r.RevocationReason)
				}
			}
		}
	}
}

func TestDevOCSPOpenSSL(t *testing.T) {
	f := ktNewOCSP(t)
	dir := t.TempDir()
	caPEM := f.ca.WritePEM(t, dir, "ca.pem")
	for name, c := range map[string]*x509.Certificate{"good": f.good, "revoked": f.revoked} {
		leaf := filepath.Join(dir, name+".pem")
		_ = os.WriteFile(leaf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o644)
		out := pkicheck.OpenSSL(t, "ocsp", "-issuer", caPEM, "-cert", leaf, "-url", f.srv.URL, "-CAfile", caPEM, "-no_nonce")
		if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, leaf+": "+name) {
			t.Fatalf("openssl ocsp %s:\n%s", name, out)
		}
		if name == "revoked" && !strings.Contains(out, "Reason: keyCompromise") {
			t.Fatalf("no reason:\n%s", out)
		}
	}
}

func TestDevOCSPRejects(t *testing.T) {
	f := ktNewOCSP(t)
	other := pkicheck.NewCA(t, "Other CA")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	foreign := other.Issue(t, key.Public(), "foreign", 5)
	foreignReq, _ := ocsp.CreateRequest(foreign, other.Cert, nil)

	parse := func(body []byte) error {
		_, err := ocsp.ParseResponse(body, nil)
		return err
	}
	wantStatus := func(name string, err error, want ocsp.ResponseStatus) {
		t.Helper()
		var re ocsp.ResponseError
		if !errors.As(err, &re) || re.Status != want {
			t.Fatalf("%s: %v, want %v", name, err, want)
		}
	}

	resp, body := pkicheck.Post(t, f.srv.URL, "application/ocsp-request", foreignReq)
	if resp.StatusCode != 200 {
		t.Fatalf("foreign: %s", resp.Status)
	}
	wantStatus("foreign issuer", parse(body), ocsp.Unauthorized)

	resp, body = pkicheck.Post(t, f.srv.URL, "application/ocsp-request", []byte("junk"))
	if resp.StatusCode != 400 {
		t.Fatalf("junk: %s", resp.Status)
	}
	wantStatus("junk", parse(body), ocsp.Malformed)

	resp, body = pkicheck.Get(t, f.srv.URL+"/not%20base64!")
	if resp.StatusCode != 400 {
		t.Fatalf("bad GET: %s", resp.Status)
	}
	wantStatus("bad GET", parse(body), ocsp.Malformed)

	if resp, _ := pkicheck.Post(t, f.srv.URL, "text/plain", foreignReq); resp.StatusCode != 415 {
		t.Fatalf("content type: %s", resp.Status)
	}
	if resp, _ := pkicheck.Post(t, f.srv.URL, "application/ocsp-request", make([]byte, 20<<10)); resp.StatusCode != 413 {
		t.Fatalf("large: %s", resp.Status)
	}
	req, _ := http.NewRequest(http.MethodPut, f.srv.URL, nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Fatalf("PUT: %v %v", resp, err)
	}

	// A signer that is not the issuer's key: internalError, never a response signed by
	// the wrong key.
	wrong, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	bad := httptest.NewServer(NewOCSPResponder(f.ca.Cert, wrong, func(*big.Int) (bool, time.Time, int) { return false, time.Time{}, 0 }, nil))
	defer bad.Close()
	goodReq, _ := ocsp.CreateRequest(f.good, f.ca.Cert, nil)
	resp, body = pkicheck.Post(t, bad.URL, "application/ocsp-request", goodReq)
	if resp.StatusCode != 500 {
		t.Fatalf("wrong key: %s", resp.Status)
	}
	wantStatus("wrong key", parse(body), ocsp.InternalError)
}

func BenchmarkDevOCSP(b *testing.B) {
	f := ktNewOCSP(b)
	req, _ := ocsp.CreateRequest(f.good, f.ca.Cert, nil)
	h := NewOCSPResponder(f.ca.Cert, f.ca.Key, func(*big.Int) (bool, time.Time, int) { return false, time.Time{}, 0 }, nil)
	for b.Loop() {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(req)))
		r.Header.Set("Content-Type", "application/ocsp-request")
		h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
