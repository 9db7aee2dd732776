package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/chungthuc/chungthuc"
)

// fetchFixture is a dev PKI whose certificates point at an httptest server; wrap lets a
// test change what the server answers.
type fetchFixture struct {
	pki   *DevPKI
	srv   *httptest.Server
	chain []*x509.Certificate
	roots *x509.CertPool
	hits  atomic.Int64
}

func newFetchFixture(t *testing.T, host string, wrap func(pki http.Handler) http.Handler) *fetchFixture {
	t.Helper()
	f := &fetchFixture{}
	var h http.Handler
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	base := f.srv.URL
	if host != "" {
		_, port, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
		base = "http://" + host + ":" + port
	}
	f.pki = openTestPKI(t, Options{BaseURL: base, Now: time.Now})
	h = f.pki.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	sk, err := f.pki.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	f.chain = sk.Chain
	f.roots = x509.NewCertPool()
	f.roots.AddCert(f.pki.Root())
	return f
}

func TestFetcherOCSP(t *testing.T) {
	f := newFetchFixture(t, "", nil)
	rf := &RevocationFetcher{Roots: f.roots, AllowPrivate: true}
	data, err := rf.Revocation(context.Background(), f.chain)
	if err != nil {
		t.Fatal(err)
	}
	if len(data.OCSP) != 1 || len(data.CRLs) != 0 {
		t.Fatalf("%d OCSP, %d CRLs", len(data.OCSP), len(data.CRLs))
	}
	if r := ocspStatus(t, data.OCSP[0], f.chain[0], f.pki.Root()); r.Status != ocsp.Good {
		t.Fatalf("status %d", r.Status)
	}
	// A revoked certificate's data is returned: it is the truth a verifier needs.
	if err := f.pki.Revoke(f.chain[0].SerialNumber, ocsp.KeyCompromise, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	data, err = rf.Revocation(context.Background(), f.chain[:1]) // the root is found in Roots
	if err != nil {
		t.Fatal(err)
	}
	if r := ocspStatus(t, data.OCSP[0], f.chain[0], f.pki.Root()); r.Status != ocsp.Revoked {
		t.Fatalf("status %d after revocation", r.Status)
	}
}

// POST refused: GET is tried; OCSP down: the CRL is used.
func TestFetcherFallbacks(t *testing.T) {
	var posts, gets atomic.Int64
	f := newFetchFixture(t, "", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/pki/ocsp") && r.Method == http.MethodPost {
				posts.Add(1)
				http.Error(w, "no POST here", http.StatusMethodNotAllowed)
				return
			}
			if strings.HasPrefix(r.URL.Path, "/pki/ocsp") {
				gets.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	})
	rf := &RevocationFetcher{Roots: f.roots, AllowPrivate: true}
	data, err := rf.Revocation(context.Background(), f.chain)
	if err != nil || len(data.OCSP) != 1 || posts.Load() != 1 || gets.Load() != 1 {
		t.Fatalf("GET fallback: %v, %d OCSP, %d POST, %d GET", err, len(data.OCSP), posts.Load(), gets.Load())
	}

	g := newFetchFixture(t, "", func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/pki/ocsp") {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	rf = &RevocationFetcher{Roots: g.roots, AllowPrivate: true}
	data, err = rf.Revocation(context.Background(), g.chain)
	if err != nil || len(data.OCSP) != 0 || len(data.CRLs) != 1 {
		t.Fatalf("CRL fallback: %v, %d OCSP, %d CRLs", err, len(data.OCSP), len(data.CRLs))
	}
	parseCRL(t, data.CRLs[0], g.pki.Root())
	// The CRL is cached until its nextUpdate (at most an hour).
	before := g.hits.Load()
	if _, err := rf.Revocation(context.Background(), g.chain); err != nil {
		t.Fatal(err)
	}
	if n := g.hits.Load() - before; n != 2 { // OCSP POST and GET, no CRL
		t.Fatalf("%d requests on the second call, want 2 (CRL from cache)", n)
	}
}

// Answers signed by someone else are not revocation data.
func TestFetcherRejectsForeignAnswers(t *testing.T) {
	other := openTestPKI(t, Options{Now: time.Now})
	f := newFetchFixture(t, "", func(h http.Handler) http.Handler {
		return other.Handler() // same paths, wrong CA
	})
	rf := &RevocationFetcher{Roots: f.roots, AllowPrivate: true}
	_, err := rf.Revocation(context.Background(), f.chain)
	wantErrorCode(t, err, chungthuc.EUNAVAILABLE)
	if msg := err.Error(); !strings.Contains(msg, "OCSP") || !strings.Contains(msg, "CRL rejected") {
		t.Fatalf("message does not say why: %s", msg)
	}
}

func TestFetcherRefusesPrivateAddresses(t *testing.T) {
	for _, host := range []string{"", "localhost"} { // 127.0.0.1 literally, and a name resolving to it
		f := newFetchFixture(t, host, nil)
		rf := &RevocationFetcher{Roots: f.roots}
		_, err := rf.Revocation(context.Background(), f.chain)
		wantErrorCode(t, err, chungthuc.EUNAVAILABLE)
		if !strings.Contains(err.Error(), "refusing") {
			t.Fatalf("%q: %v", host, err)
		}
		if n := f.hits.Load(); n != 0 {
			t.Fatalf("%q: the server got %d requests", host, n)
		}
	}
	// A caller-supplied client with a plain transport is guarded the same way.
	f := newFetchFixture(t, "", nil)
	rf := &RevocationFetcher{Roots: f.roots, Client: &http.Client{Transport: &http.Transport{}}}
	if _, err := rf.Revocation(context.Background(), f.chain); err == nil || f.hits.Load() != 0 {
		t.Fatalf("custom transport: %v, %d hits", err, f.hits.Load())
	}
}

func TestFetcherOnlyTrustedChains(t *testing.T) {
	f := newFetchFixture(t, "", nil)
	rf := &RevocationFetcher{Roots: x509.NewCertPool(), AllowPrivate: true}
	_, err := rf.Revocation(context.Background(), f.chain)
	wantErrorCode(t, err, chungthuc.EINVALID)
	if f.hits.Load() != 0 {
		t.Fatal("fetched for an untrusted chain")
	}
	_, err = (&RevocationFetcher{AllowPrivate: true}).Revocation(context.Background(), f.chain)
	wantErrorCode(t, err, chungthuc.EINVALID)
	if d, err := rf.Revocation(context.Background(), nil); err != nil || len(d.OCSP)+len(d.CRLs) != 0 {
		t.Fatalf("empty chain: %v", err)
	}
	// A trusted chain without OCSP/CRL locations: nothing to fetch, no error.
	p := openTestPKI(t, Options{})
	sk, _ := p.IssueSeal(unitPL)
	pool := x509.NewCertPool()
	pool.AddCert(p.Root())
	d, err := (&RevocationFetcher{Roots: pool}).Revocation(context.Background(), sk.Chain)
	if err != nil || len(d.OCSP)+len(d.CRLs) != 0 {
		t.Fatalf("no locations: %v %+v", err, d)
	}
}

func TestFetcherTimeout(t *testing.T) {
	release := make(chan struct{})
	f := newFetchFixture(t, "", func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select { // hang until the client gives up or the test ends
			case <-r.Context().Done():
			case <-release:
			}
		})
	})
	defer close(release)
	rf := &RevocationFetcher{Roots: f.roots, AllowPrivate: true, Timeout: 100 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		_, err := rf.Revocation(context.Background(), f.chain)
		done <- err
	}()
	select {
	case err := <-done:
		wantErrorCode(t, err, chungthuc.EUNAVAILABLE)
		if !strings.Contains(err.Error(), "no answer within") {
			t.Fatalf("timeout not reported: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the fetch did not time out")
	}
}

func TestFetcherSizeCap(t *testing.T) {
	big := bytes.Repeat([]byte{0x30}, MaxRevocationResponse+10)
	for _, chunked := range []bool{false, true} {
		f := newFetchFixture(t, "", func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if chunked {
					w.(http.Flusher).Flush() // no Content-Length: the reader must stop
				}
				w.Write(big)
			})
		})
		rf := &RevocationFetcher{Roots: f.roots, AllowPrivate: true}
		_, err := rf.Revocation(context.Background(), f.chain)
		wantErrorCode(t, err, chungthuc.EUNAVAILABLE)
		if !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("chunked=%v: %v", chunked, err)
		}
	}
}

func TestPublicAddress(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": true, "2001:4860:4860::8888": true, "203.162.4.190": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fd00::1": false, "0.0.0.0": false, "::": false,
		"100.64.0.1": false, "224.0.0.1": false, "255.255.255.255": false, "::ffff:127.0.0.1": false,
	} {
		if got := publicAddress(net.ParseIP(s)); got != want {
			t.Errorf("%s: %v, want %v", s, got, want)
		}
	}
}
