package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
)

// fetchFixture is a dev PKI whose certificates point at an httptest server; wrap lets a
// test change what the server answers.
type fetchFixture struct {
	pki   *devpki.PKI
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
	f.pki = openTestPKI(t, devpki.Options{BaseURL: base, Now: time.Now})
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
	if r := pkicheck.OCSPStatus(t, data.OCSP[0], f.chain[0], f.pki.Root()); r.Status != ocsp.Good {
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
	if r := pkicheck.OCSPStatus(t, data.OCSP[0], f.chain[0], f.pki.Root()); r.Status != ocsp.Revoked {
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
	pkicheck.ParseCRL(t, data.CRLs[0], g.pki.Root())
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
	other := openTestPKI(t, devpki.Options{Now: time.Now})
	f := newFetchFixture(t, "", func(h http.Handler) http.Handler {
		return other.Handler() // same paths, wrong CA
	})
	rf := &RevocationFetcher{Roots: f.roots, AllowPrivate: true}
	_, err := rf.Revocation(context.Background(), f.chain)
	pkicheck.WantErrorCode(t, err, chungthuc.EUNAVAILABLE)
	if msg := err.Error(); !strings.Contains(msg, "OCSP") || !strings.Contains(msg, "CRL rejected") {
		t.Fatalf("message does not say why: %s", msg)
	}
}

func TestFetcherRefusesPrivateAddresses(t *testing.T) {
	for _, host := range []string{"", "localhost"} { // 127.0.0.1 literally, and a name resolving to it
		f := newFetchFixture(t, host, nil)
		rf := &RevocationFetcher{Roots: f.roots}
		_, err := rf.Revocation(context.Background(), f.chain)
		pkicheck.WantErrorCode(t, err, chungthuc.EUNAVAILABLE)
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
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if f.hits.Load() != 0 {
		t.Fatal("fetched for an untrusted chain")
	}
	_, err = (&RevocationFetcher{AllowPrivate: true}).Revocation(context.Background(), f.chain)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if d, err := rf.Revocation(context.Background(), nil); err != nil || len(d.OCSP)+len(d.CRLs) != 0 {
		t.Fatalf("empty chain: %v", err)
	}
	// A trusted chain without OCSP/CRL locations: nothing to fetch, no error.
	p := openTestPKI(t, devpki.Options{})
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
		pkicheck.WantErrorCode(t, err, chungthuc.EUNAVAILABLE)
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
		pkicheck.WantErrorCode(t, err, chungthuc.EUNAVAILABLE)
		if !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("chunked=%v: %v", chunked, err)
		}
	}
}

// TestFetcherRefusesRedirectToPrivate: the guard is checked when each connection is
// dialled, so an allowed responder cannot redirect the fetcher to a private address.
func TestFetcherRefusesRedirectToPrivate(t *testing.T) {
	var inside atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	target := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { inside.Add(1) }))
	target.Listener.Close()
	target.Listener = ln
	target.Start()
	defer target.Close()
	f := newFetchFixture(t, "", func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/internal", http.StatusFound)
		})
	})
	// The fixture's responder (127.0.0.1) stands for a public address; everything else is
	// judged by PublicAddress.
	responder := netip.MustParseAddr("127.0.0.1")
	rf := &RevocationFetcher{Roots: f.roots, allowed: func(a netip.Addr) bool { return a == responder || PublicAddress(a) }}
	_, err = rf.Revocation(context.Background(), f.chain)
	pkicheck.WantErrorCode(t, err, chungthuc.EUNAVAILABLE)
	if !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("redirect not refused: %v", err)
	}
	if f.hits.Load() == 0 {
		t.Fatal("the responder was never asked")
	}
	if n := inside.Load(); n != 0 {
		t.Fatalf("the private address got %d requests", n)
	}
}

// TestFetcherRefusesUnguardableClient: a RoundTripper whose dialing the guard cannot see
// is refused outright, never used.
func TestFetcherRefusesUnguardableClient(t *testing.T) {
	f := newFetchFixture(t, "", nil)
	used := false
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})
	rf := &RevocationFetcher{Roots: f.roots, Client: &http.Client{Transport: rt}}
	_, err := rf.Revocation(context.Background(), f.chain)
	pkicheck.WantErrorCode(t, err, chungthuc.EUNAVAILABLE)
	if used || f.hits.Load() != 0 || !strings.Contains(err.Error(), "*http.Transport") {
		t.Fatalf("used %v, hits %d: %v", used, f.hits.Load(), err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPublicAddress: every range of nonPublic is refused — its first and last address,
// and for IPv4 ranges their IPv4-mapped and IPv4-compatible forms — while the public
// addresses just outside each IPv4 range and well-known public servers are allowed.
func TestPublicAddress(t *testing.T) {
	for _, r := range nonPublic {
		first := r.prefix.Masked().Addr()
		last := lastAddr(r.prefix)
		for _, a := range []netip.Addr{first, last} {
			if PublicAddress(a) {
				t.Errorf("%s (%s, %s): allowed", a, r.prefix, r.what)
			}
			if a.Is4() {
				b := a.As4()
				mapped := netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: b[0], 13: b[1], 14: b[2], 15: b[3]})
				compat := netip.AddrFrom16([16]byte{12: b[0], 13: b[1], 14: b[2], 15: b[3]})
				if PublicAddress(mapped) || PublicAddress(compat) {
					t.Errorf("%s / %s (%s): allowed", mapped, compat, r.what)
				}
			}
		}
	}
	for _, s := range []string{
		// Each IPv4 range's neighbours that are public.
		"1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255", "128.0.0.0",
		"169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "191.255.255.255", "192.0.1.0", "192.0.3.0",
		"192.88.98.255", "192.88.100.0", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0",
		"198.51.99.255", "198.51.101.0", "203.0.112.255", "203.0.114.0", "223.255.255.255",
		// Real public servers, v4, v6 and IPv4-mapped.
		"8.8.8.8", "203.162.4.190", "2001:4860:4860::8888", "2400:cb00::1", "::ffff:8.8.8.8",
		"2001:db9::1", "2003::1", "64:ff9b:2::1", "2001:200::1", "5f01::1",
	} {
		if !PublicAddress(netip.MustParseAddr(s)) {
			t.Errorf("%s: refused, want allowed", s)
		}
	}
	for _, s := range []string{
		"127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "fe80::1%eth0", "fd00::1",
		"0.0.0.0", "::", "100.64.0.1", "100.127.255.254", "224.0.0.1", "255.255.255.255", "::ffff:127.0.0.1",
		"::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::808:808", "64:ff9b:1::1", "fec0::1",
		"feff::1", "ff02::1", "2001:db8::1", "3fff::1", "2002:7f00:1::1", "2001:0:4136:e378::1", "100::1",
		"2001:10::1", "2001:20::1", "2001:1ff:ffff::1", "5f00::1",
	} {
		if PublicAddress(netip.MustParseAddr(s)) {
			t.Errorf("%s: allowed, want refused", s)
		}
	}
	if PublicAddress(netip.Addr{}) {
		t.Error("the zero Addr is allowed")
	}
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
