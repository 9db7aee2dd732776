package devpki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
)

func TestDevRevokeOCSPAndCRL(t *testing.T) {
	p := openTestPKI(t, Options{BaseURL: "https://ct.example/"})
	sk, _, err := p.IssueOfficer(testOfficer(7, "Trần Văn Nghĩa", ""), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	leaf, root := sk.Chain[0], p.Root()
	if got := strings.Join(leaf.OCSPServer, ","); got != "https://ct.example/pki/ocsp" {
		t.Fatalf("OCSP URL %q", got)
	}
	if got := strings.Join(leaf.CRLDistributionPoints, ","); got != "https://ct.example/pki/root.crl" {
		t.Fatalf("CRL DP %q", got)
	}
	ctx := context.Background()

	data, err := p.Revocation(ctx, sk.Chain)
	if err != nil {
		t.Fatal(err)
	}
	if len(data.OCSP) != 1 || len(data.CRLs) != 1 {
		t.Fatalf("%d OCSP, %d CRLs; want 1 and 1 (none for the root)", len(data.OCSP), len(data.CRLs))
	}
	if r := pkicheck.OCSPStatus(t, data.OCSP[0], leaf, root); r.Status != ocsp.Good {
		t.Fatalf("status %d before revocation", r.Status)
	}
	if crl := pkicheck.ParseCRL(t, data.CRLs[0], root); len(crl.RevokedCertificateEntries) != 0 {
		t.Fatal("fresh CRL lists certificates")
	}
	firstCRL := pkicheck.ParseCRL(t, data.CRLs[0], root)

	at := pkiTestNow.Add(-time.Hour)
	if err := p.Revoke(leaf.SerialNumber, ocsp.KeyCompromise, at); err != nil {
		t.Fatal(err)
	}
	pkicheck.WantErrorCode(t, p.Revoke(leaf.SerialNumber, ocsp.Superseded, at), chungthuc.ECONFLICT)

	data, err = p.Revocation(ctx, sk.Chain)
	if err != nil {
		t.Fatal(err)
	}
	r := pkicheck.OCSPStatus(t, data.OCSP[0], leaf, root)
	if r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise || !r.RevokedAt.Equal(at) {
		t.Fatalf("after revocation: status %d reason %d at %v", r.Status, r.RevocationReason, r.RevokedAt)
	}
	crl := pkicheck.ParseCRL(t, data.CRLs[0], root)
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 ||
		crl.RevokedCertificateEntries[0].ReasonCode != ocsp.KeyCompromise {
		t.Fatalf("CRL entries %+v", crl.RevokedCertificateEntries)
	}
	if crl.Number.Cmp(firstCRL.Number) <= 0 {
		t.Fatalf("CRL number did not increase: %v then %v", firstCRL.Number, crl.Number)
	}

	// Another process on the same directory (here: another PKI) sees the record, and
	// this one sees what the other revokes.
	q, err := Open(p.Dir, Options{Now: func() time.Time { return pkiTestNow }})
	if err != nil {
		t.Fatal(err)
	}
	if revoked, _, _ := q.status(leaf.SerialNumber); !revoked {
		t.Fatal("second instance does not see the revocation")
	}
	sk2, _, err := q.IssueOfficer(testOfficer(8, "Lê Thị Ĩ", ""), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Revoke(sk2.Chain[0].SerialNumber, 0, pkiTestNow); err != nil {
		t.Fatal(err)
	}
	crlDER, err := p.CRL()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pkicheck.ParseCRL(t, crlDER, root).RevokedCertificateEntries); n != 2 {
		t.Fatalf("first instance's CRL lists %d certificates, want 2", n)
	}
	recs, err := p.Revoked()
	if err != nil || len(recs) != 2 {
		t.Fatalf("Revoked: %v, %d records", err, len(recs))
	}
	st, err := os.Stat(filepath.Join(p.Dir, revokedFile))
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("revoked.json: %v %v", st, err)
	}
}

func TestDevRevocationForeignAndRoot(t *testing.T) {
	p := openTestPKI(t, Options{})
	other := openTestPKI(t, Options{})
	sk, err := other.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	data, err := p.Revocation(context.Background(), sk.Chain)
	if err != nil || len(data.OCSP)+len(data.CRLs) != 0 {
		t.Fatalf("foreign chain: %v, %+v", err, data)
	}
	data, err = p.Revocation(context.Background(), []*x509.Certificate{p.Root()})
	if err != nil || len(data.OCSP)+len(data.CRLs) != 0 {
		t.Fatalf("root alone: %v, %+v", err, data)
	}
	own, err := p.IssueSeal(unitHB)
	if err != nil {
		t.Fatal(err)
	}
	if len(own.Chain[0].OCSPServer)+len(own.Chain[0].CRLDistributionPoints) != 0 {
		t.Fatal("no base URL, yet the certificate names OCSP/CRL locations")
	}
	if _, err := p.OCSPResponse(sk.Chain[0]); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("OCSP for a foreign certificate: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Revocation(ctx, own.Chain); err == nil {
		t.Fatal("cancelled context accepted")
	}
}

func TestDevRevokeBadInput(t *testing.T) {
	p := openTestPKI(t, Options{})
	for name, err := range map[string]error{
		"nil serial":  p.Revoke(nil, 0, pkiTestNow),
		"zero serial": p.Revoke(big.NewInt(0), 0, pkiTestNow),
		"reason 7":    p.Revoke(big.NewInt(5), 7, pkiTestNow),
		"reason 11":   p.Revoke(big.NewInt(5), 11, pkiTestNow),
		"zero time":   p.Revoke(big.NewInt(5), 0, time.Time{}),
		"root":        p.Revoke(p.Root().SerialNumber, 0, pkiTestNow),
	} {
		if chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if _, err := Open(t.TempDir(), Options{BaseURL: "ftp://x"}); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("ftp base URL: %v", err)
	}
}

// A damaged records file must never make a revoked certificate look good.
func TestDevRevocationDamagedFileFailsClosed(t *testing.T) {
	p := openTestPKI(t, Options{})
	sk, err := p.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.Dir, revokedFile), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if revoked, _, _ := p.status(sk.Chain[0].SerialNumber); !revoked {
		t.Fatal("damaged records: status good")
	}
	if _, err := p.CRL(); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("CRL with damaged records: %v", err)
	}
	if _, err := p.Revocation(context.Background(), sk.Chain); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("Revocation with damaged records: %v", err)
	}
}

func TestDevPKIHandler(t *testing.T) {
	p := openTestPKI(t, Options{Now: time.Now})
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	sk, err := p.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	leaf, root := sk.Chain[0], p.Root()
	if err := p.Revoke(leaf.SerialNumber, ocsp.CessationOfOperation, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	req, err := ocsp.CreateRequest(leaf, root, nil)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	// POST
	resp, err := http.Post(srv.URL+"/pki/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if r := pkicheck.OCSPStatus(t, body, leaf, root); r.Status != ocsp.Revoked || r.RevocationReason != ocsp.CessationOfOperation {
		t.Fatalf("POST: status %d reason %d", r.Status, r.RevocationReason)
	}
	// GET (RFC 6960 A.1)
	_, body = get("/pki/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(req)))
	if r := pkicheck.OCSPStatus(t, body, leaf, root); r.Status != ocsp.Revoked {
		t.Fatalf("GET: status %d", r.Status)
	}
	resp, body = get("/pki/root.crl")
	if resp.Header.Get("Content-Type") != "application/pkix-crl" || len(pkicheck.ParseCRL(t, body, root).RevokedCertificateEntries) != 1 {
		t.Fatalf("root.crl: %s", resp.Header.Get("Content-Type"))
	}
	if _, body = get("/pki/root.pem"); !bytes.Equal(body, p.RootPEM()) {
		t.Fatal("root.pem differs")
	}
	if resp, _ = get("/root.pem"); resp.StatusCode != 200 {
		t.Fatal("path without /pki not served")
	}
	if resp, _ = get("/pki/root.key"); resp.StatusCode != 404 {
		t.Fatalf("/pki/root.key: %d", resp.StatusCode)
	}
	// TSA over HTTP, checked by the production client against the root.
	pool := x509.NewCertPool()
	pool.AddCert(root)
	c := &certs.TSAClient{URL: srv.URL + "/pki/tsa", Roots: pool, Timeout: 10 * time.Second}
	sum := sha256.Sum256([]byte("bản sao"))
	if _, err := c.Timestamp(context.Background(), sum[:], crypto.SHA256); err != nil {
		t.Fatal(err)
	}
}

func TestDevTSA(t *testing.T) {
	p := openTestPKI(t, Options{})
	fixed := pkiTestNow.Add(3 * time.Hour)
	ts, h, err := p.TSA(func() time.Time { return fixed })
	if err != nil || h == nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("chứng thực"))
	tok, err := ts.Timestamp(context.Background(), sum[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := timestamp.Parse(tok)
	if err != nil {
		t.Fatal(err)
	}
	if !parsed.Time.Equal(fixed) || !bytes.Equal(parsed.HashedMessage, sum[:]) || !parsed.Policy.Equal(TSAPolicyOID) {
		t.Fatalf("token: %v %x %v", parsed.Time, parsed.HashedMessage, parsed.Policy)
	}
	if len(parsed.Certificates) == 0 {
		t.Fatal("no certificates in the token")
	}
	tsaCert := parsed.Certificates[0]
	if err := tsaCert.CheckSignatureFrom(p.Root()); err != nil {
		t.Fatal(err)
	}
	critical := false
	for _, e := range tsaCert.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			critical = e.Critical
		}
	}
	if !critical || len(tsaCert.ExtKeyUsage) != 1 || tsaCert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping {
		t.Fatalf("TSA EKU: critical=%v %v", critical, tsaCert.ExtKeyUsage)
	}
	if st, err := os.Stat(filepath.Join(p.Dir, "tsa.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("tsa.key: %v %v", st, err)
	}
	// Reopened, the PKI keeps the same TSA certificate; the dev PKI answers for it.
	q, err := Open(p.Dir, Options{Now: func() time.Time { return pkiTestNow }})
	if err != nil {
		t.Fatal(err)
	}
	k, err := q.tsaKey()
	if err != nil || !bytes.Equal(k.cert.Raw, tsaCert.Raw) {
		t.Fatalf("TSA certificate changed on reopening: %v", err)
	}
	data, err := q.Revocation(context.Background(), []*x509.Certificate{tsaCert, q.Root()})
	if err != nil || len(data.OCSP) != 1 {
		t.Fatalf("revocation data for the TSA: %v", err)
	}
	if _, err := ts.Timestamp(context.Background(), sum[:20], crypto.SHA256); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("short digest: %v", err)
	}
	if _, err := ts.Timestamp(context.Background(), sum[:20], crypto.SHA1); chungthuc.ErrorCode(err) != chungthuc.EUNSUPPORTED {
		t.Fatalf("SHA-1: %v", err)
	}
}

func BenchmarkDevRevocation(b *testing.B) {
	p := openTestPKI(b, Options{BaseURL: "http://127.0.0.1:8080"})
	sk, err := p.IssueSeal(unitPL)
	if err != nil {
		b.Fatal(err)
	}
	if err := p.Revoke(big.NewInt(12345), 0, pkiTestNow); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Revocation(ctx, sk.Chain); err != nil {
			b.Fatal(err)
		}
	}
}
