package certs

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/cms/tsp"
	"github.com/chungthuc/chungthuc/internal/bertest"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
)

// ktTSANow is the dev TSA clock in tests: fixed, in Vietnam time, inside the validity of
// the test certificates.
var ktTSANow = time.Now().Add(-time.Minute).Truncate(time.Second).In(time.FixedZone("ICT", 7*3600))

// ktTSA is a development TSA on a loopback HTTP server.
type ktTSA struct {
	root   *pkicheck.CA
	cert   *x509.Certificate
	signer crypto.Signer
	srv    *httptest.Server
}

// ktNewTSA starts a TSA: with an RSA key under an intermediate CA if rsaInter, else with a
// P-256 key directly under the root.
func ktNewTSA(tb testing.TB, rsaInter bool) *ktTSA {
	tb.Helper()
	root := pkicheck.NewCA(tb, "Root CA thử nghiệm")
	issuer, chain := root, []*x509.Certificate(nil)
	var signer crypto.Signer
	if rsaInter {
		inter := pkicheck.NewCA(tb, "Intermediate")
		// Re-issue the intermediate under the root.
		tmpl := *inter.Cert
		der, err := x509.CreateCertificate(rand.Reader, &tmpl, root.Cert, inter.Key.Public(), root.Key)
		if err != nil {
			tb.Fatal(err)
		}
		inter.Cert, _ = x509.ParseCertificate(der)
		issuer, chain = inter, []*x509.Certificate{inter.Cert}
		signer, _ = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		signer, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	cert, err := devpki.IssueTSACert(issuer.Cert, issuer.Key, signer.Public(), pkix.Name{CommonName: "TSA thử nghiệm"}, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(devpki.NewTSA(signer, cert, chain, func() time.Time { return ktTSANow }))
	tb.Cleanup(srv.Close)
	return &ktTSA{root: root, cert: cert, signer: signer, srv: srv}
}

func TestDevTSAOpenSSL(t *testing.T) {
	for _, rsaInter := range []bool{false, true} {
		name := map[bool]string{false: "ec-under-root", true: "rsa-under-intermediate"}[rsaInter]
		t.Run(name, func(t *testing.T) {
			tsa := ktNewTSA(t, rsaInter)
			dir := t.TempDir()
			data := filepath.Join(dir, "data.pdf")
			if err := os.WriteFile(data, []byte("%PDF-1.7 bản sao điện tử"), 0o644); err != nil {
				t.Fatal(err)
			}
			rootPEM := tsa.root.WritePEM(t, dir, "root.pem")
			for _, h := range []string{"-sha256", "-sha384", "-sha512"} {
				q, r := filepath.Join(dir, "q.tsq"), filepath.Join(dir, "r.tsr")
				pkicheck.OpenSSL(t, "ts", "-query", "-data", data, h, "-cert", "-out", q)
				query, _ := os.ReadFile(q)
				resp, body := pkicheck.Post(t, tsa.srv.URL, "application/timestamp-query", query)
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/timestamp-reply" {
					t.Fatalf("%s: %s %s", h, resp.Status, resp.Header.Get("Content-Type"))
				}
				if err := os.WriteFile(r, body, 0o644); err != nil {
					t.Fatal(err)
				}
				out := pkicheck.OpenSSL(t, "ts", "-verify", "-data", data, "-in", r, "-CAfile", rootPEM)
				if !strings.Contains(out, "Verification: OK") {
					t.Fatalf("%s: openssl ts -verify: %s", h, out)
				}
				// Against the query: checks imprint, nonce and policy too.
				out = pkicheck.OpenSSL(t, "ts", "-verify", "-queryfile", q, "-in", r, "-CAfile", rootPEM)
				if !strings.Contains(out, "Verification: OK") {
					t.Fatalf("%s: openssl ts -verify -queryfile: %s", h, out)
				}
				text := pkicheck.OpenSSL(t, "ts", "-reply", "-in", r, "-text")
				for _, want := range []string{"Status: Granted.", "Policy OID: 2.999.3161.1", "Time stamp: " + ktTSANow.UTC().Format("Jan _2 15:04:05 2006") + " GMT", "Accuracy: 0x01 seconds", "Nonce: 0x", "TSA: DirName:"} {
					if !strings.Contains(text, want) {
						t.Errorf("%s: reply lacks %q:\n%s", h, want, text)
					}
				}
			}
		})
	}
}

func TestTSAClientAgainstDevTSA(t *testing.T) {
	tsa := ktNewTSA(t, true)
	roots := x509.NewCertPool()
	roots.AddCert(tsa.root.Cert)
	c := &TSAClient{URL: tsa.srv.URL, Roots: roots, Timeout: 5 * time.Second}
	msg := []byte("chứng thực số 123")
	d := sha256.Sum256(msg)
	token, err := c.Timestamp(context.Background(), d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := timestamp.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	if !ts.Time.Equal(ktTSANow) || !bytes.Equal(ts.HashedMessage, d[:]) || !ts.Policy.Equal(devpki.TSAPolicyOID) {
		t.Fatalf("token: time %v policy %v", ts.Time, ts.Policy)
	}

	// openssl accepts the bare token too.
	dir := t.TempDir()
	data, tok := filepath.Join(dir, "data"), filepath.Join(dir, "token.der")
	_ = os.WriteFile(data, msg, 0o644)
	_ = os.WriteFile(tok, token, 0o644)
	out := pkicheck.OpenSSL(t, "ts", "-verify", "-data", data, "-in", tok, "-token_in", "-CAfile", tsa.root.WritePEM(t, dir, "root.pem"))
	if !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl: %s", out)
	}

	// Another root: refused.
	other := pkicheck.NewCA(t, "Other root")
	pool := x509.NewCertPool()
	pool.AddCert(other.Cert)
	c2 := &TSAClient{URL: tsa.srv.URL, Roots: pool}
	_, err = c2.Timestamp(context.Background(), d[:], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
	if !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("unclear: %v", err)
	}
}

// TestTSAClientRejectsBadTokens: answers that are well-formed but wrong.
func TestTSAClientRejectsBadTokens(t *testing.T) {
	tsa := ktNewTSA(t, false)
	d := sha256.Sum256([]byte("x"))

	// A replayed answer (recorded for another request): nonce and imprint differ.
	other := sha256.Sum256([]byte("y"))
	q, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: other[:], Certificates: true, Nonce: big.NewInt(1)}).Marshal()
	_, recorded := pkicheck.Post(t, tsa.srv.URL, "application/timestamp-query", q)
	replay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(recorded)
	}))
	defer replay.Close()
	_, err := (&TSAClient{URL: replay.URL}).Timestamp(context.Background(), d[:], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
	if !strings.Contains(err.Error(), "message imprint") {
		t.Fatalf("unclear: %v", err)
	}

	// A TSA whose certificate lacks the timeStamping EKU.
	leaf := tsa.root.Issue(t, tsa.signer.Public(), "not a TSA", 9)
	noEKU := httptest.NewServer(devpki.NewTSA(tsa.signer, leaf, nil, nil))
	defer noEKU.Close()
	_, err = (&TSAClient{URL: noEKU.URL}).Timestamp(context.Background(), d[:], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
	if !strings.Contains(err.Error(), "timeStamping") {
		t.Fatalf("unclear: %v", err)
	}

	// Garbage with status 200.
	junk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }))
	defer junk.Close()
	_, err = (&TSAClient{URL: junk.URL}).Timestamp(context.Background(), d[:], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
}

func TestDevTSARejectsMalformed(t *testing.T) {
	tsa := ktNewTSA(t, false)
	d := sha256.Sum256([]byte("x"))
	good, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: d[:], Certificates: true}).Marshal()
	sha1Req, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA1, HashedMessage: d[:20]}).Marshal()
	shortReq, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: d[:10]}).Marshal()
	policyReq, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: d[:], TSAPolicyOID: []int{1, 2, 3}}).Marshal()
	cases := []struct {
		name, ctype string
		body        []byte
		status      int
		failure     string // expected in the rejection's text, "" if no TimeStampResp
	}{
		{"garbage", "application/timestamp-query", []byte("not DER"), 400, "wrong format"},
		{"trailing bytes", "application/timestamp-query", append(append([]byte{}, good...), 0), 400, "wrong format"},
		{"sha1", "application/timestamp-query", sha1Req, 400, "unrecognized or unsupported Algorithm"},
		{"short digest", "application/timestamp-query", shortReq, 400, "wrong format"},
		{"foreign policy", "application/timestamp-query", policyReq, 400, "policy"},
		{"wrong type", "text/plain", good, 415, ""},
		{"too large", "application/timestamp-query", make([]byte, 20<<10), 413, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := pkicheck.Post(t, tsa.srv.URL, c.ctype, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
			if c.failure == "" {
				return
			}
			_, err := timestamp.ParseResponse(body)
			if err == nil || !strings.Contains(err.Error(), "rejected") || !strings.Contains(err.Error(), c.failure) {
				t.Fatalf("rejection: %v", err)
			}
		})
	}
	resp, err := http.Get(tsa.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}

const ktTSAPassword = "tsa-pw-8c1e"

func TestTSAClientUnavailable(t *testing.T) {
	d := sha256.Sum256([]byte("x"))
	ctx := context.Background()

	// Nothing listens: connection refused, retried, then EUNAVAILABLE naming the URL.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	u := strings.Replace(deadURL, "http://", "http://user:"+ktTSAPassword+"@", 1) + "/tsa?apikey=" + ktTSAPassword
	_, err := (&TSAClient{URL: u, Username: "u", Password: ktTSAPassword, Retries: 2, Timeout: time.Second}).Timestamp(ctx, d[:], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
	if !strings.Contains(err.Error(), "timestamp authority "+deadURL+"/tsa not available") || strings.Contains(err.Error(), ktTSAPassword) {
		t.Fatalf("error %q: must name the URL and not the password", err)
	}

	// A server that never answers: each attempt ends at Timeout.
	release := make(chan struct{})
	var hangs atomic.Int32
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hangs.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(release)
	_, err = (&TSAClient{URL: hung.URL, Timeout: 50 * time.Millisecond, Retries: 1}).Timestamp(ctx, d[:], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
	if !strings.Contains(err.Error(), "no answer within") || hangs.Load() != 2 {
		t.Fatalf("error %v after %d attempts", err, hangs.Load())
	}

	// The caller's context bounds everything.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = (&TSAClient{URL: hung.URL, Retries: 5}).Timestamp(cctx, d[:], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
}

func TestTSAClientRetries(t *testing.T) {
	tsa := ktNewTSA(t, false)
	d := sha256.Sum256([]byte("x"))
	var calls atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		tsa.srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	if _, err := (&TSAClient{URL: flaky.URL, Retries: 2}).Timestamp(context.Background(), d[:], crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls, want 3", calls.Load())
	}

	// 401 is not retried, and the error does not show the password.
	calls.Store(0)
	auth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if u, p, ok := r.BasicAuth(); !ok || u != "officer" || p != ktTSAPassword {
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		tsa.srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer auth.Close()
	_, err := (&TSAClient{URL: auth.URL, Username: "officer", Password: "wrong-" + ktTSAPassword, Retries: 3}).Timestamp(context.Background(), d[:], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
	if calls.Load() != 1 || strings.Contains(err.Error(), ktTSAPassword) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("%d calls, error %v", calls.Load(), err)
	}
	if _, err := (&TSAClient{URL: auth.URL, Username: "officer", Password: ktTSAPassword}).Timestamp(context.Background(), d[:], crypto.SHA256); err != nil {
		t.Fatal(err)
	}
}

// TestTSAClientReportsRejection: a TSA's own reason for refusing reaches the error.
func TestTSAClientReportsRejection(t *testing.T) {
	tsa := ktNewTSA(t, false)
	d := sha256.Sum256([]byte("x"))
	// The dev TSA accepts no extensions; smuggle one into the query through a proxy.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			t.Error(err)
			return
		}
		req.ExtraExtensions = []pkix.Extension{{Id: []int{1, 2, 3}, Value: []byte{5, 0}}}
		q, _ := req.Marshal()
		r2 := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(q))
		r2.Header.Set("Content-Type", "application/timestamp-query")
		tsa.srv.Config.Handler.ServeHTTP(w, r2)
	}))
	defer proxy.Close()
	_, err := (&TSAClient{URL: proxy.URL, Retries: 2}).Timestamp(context.Background(), d[:], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
	if !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "extension") {
		t.Fatalf("unclear: %v", err)
	}
}

func TestTSAClientBadInput(t *testing.T) {
	d := sha256.Sum256([]byte("x"))
	ctx := context.Background()
	_, err := (&TSAClient{}).Timestamp(ctx, d[:], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EINVALID, ktPIN)
	_, err = (&TSAClient{URL: "ftp://x"}).Timestamp(ctx, d[:], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EINVALID, ktPIN)
	_, err = (&TSAClient{URL: "http://127.0.0.1:1"}).Timestamp(ctx, d[:16], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EINVALID, ktPIN)
	_, err = (&TSAClient{URL: "http://127.0.0.1:1"}).Timestamp(ctx, d[:20], crypto.SHA1)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNSUPPORTED, ktPIN)
}

func TestIssueTSACert(t *testing.T) {
	ca := pkicheck.NewCA(t, "Root")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, err := devpki.IssueTSACert(ca.Cert, ca.Key, key.Public(), pkix.Name{CommonName: "TSA"}, time.Now(), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var critical bool
	for _, e := range cert.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			critical = e.Critical
		}
	}
	if !critical || len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping {
		t.Fatalf("EKU %v critical %v", cert.ExtKeyUsage, critical)
	}
	at := time.Now()
	_, err = devpki.IssueTSACert(ca.Cert, ca.Key, key.Public(), pkix.Name{}, at, at)
	pkicheck.WantCodeWithout(t, err, chungthuc.EINVALID, ktPIN)
	_, err = devpki.IssueTSACert(nil, ca.Key, key.Public(), pkix.Name{}, time.Now(), time.Now().Add(time.Hour))
	pkicheck.WantCodeWithout(t, err, chungthuc.EINVALID, ktPIN)
}

// BenchmarkTSARoundTrip: client → dev TSA (P-256) over loopback HTTP → checked token.
func BenchmarkTSARoundTrip(b *testing.B) {
	tsa := ktNewTSA(b, false)
	roots := x509.NewCertPool()
	roots.AddCert(tsa.root.Cert)
	c := &TSAClient{URL: tsa.srv.URL, Roots: roots}
	d := sha256.Sum256([]byte("x"))
	for b.Loop() {
		if _, err := c.Timestamp(context.Background(), d[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTSAClientAcceptsBER: a TSA that answers in BER (indefinite lengths, as
// BouncyCastle-based TSAs can) is accepted; the token comes back with DER lengths, ready
// to be embedded with cms.AddUnsignedAttribute, and the verifier's parser accepts it.
func TestTSAClientAcceptsBER(t *testing.T) {
	tsa := ktNewTSA(t, false)
	ber := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		tsa.srv.Config.Handler.ServeHTTP(rec, r)
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(bertest.Encode(rec.Body.Bytes(), bertest.Options{Chunk: 32}))
	}))
	defer ber.Close()
	d := sha256.Sum256([]byte("x"))
	token, err := (&TSAClient{URL: ber.URL}).Timestamp(context.Background(), d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if token[1] == 0x80 {
		t.Fatal("token returned in BER")
	}
	tok, err := tsp.ParseToken(token)
	if err != nil || !bytes.Equal(tok.Info.Digest, d[:]) {
		t.Fatalf("verifier's parser: %v", err)
	}
}
