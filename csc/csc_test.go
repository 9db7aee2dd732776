package csc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testpki"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	srv    *DevServer
	url    string
	clock  *clock
	ec, rs *DevCredential
}

func newFixture(t testing.TB) *fixture {
	p := testpki.New()
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec := &DevCredential{ID: "officer-7", Description: "Lê Thị Ĩ", Key: ek,
		Chain: []*x509.Certificate{p.Certify("Lê Thị Ĩ", "Ủy ban nhân dân phường Hòa Bình", ek.Public()), p.Root}}
	rs := &DevCredential{ID: "seal-HB", Description: "con dấu", Key: rk,
		Chain: []*x509.Certificate{p.Certify("Ủy ban nhân dân phường Hòa Bình", "Ủy ban nhân dân phường Hòa Bình", rk.Public()), p.Root}}
	srv := NewDevServer("ct-client", "s3cret", "123456", ec, rs)
	c := &clock{t: time.Now()}
	srv.Now = c.now
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &fixture{srv: srv, url: hs.URL, clock: c, ec: ec, rs: rs}
}

func (f *fixture) client(t testing.TB, login bool, secret string) *Client {
	c, err := New(Config{BaseURL: f.url, ClientID: "ct-client", ClientSecret: secret, Login: login, AllowLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func digest(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func wantCode(t *testing.T, err error, code, what string) {
	t.Helper()
	if chungthuc.ErrorCode(err) != code {
		t.Fatalf("%s: got %v, want code %s", what, err, code)
	}
}

func TestSignHashFlow(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, login := range []bool{false, true} {
		c := f.client(t, login, "s3cret")
		info, err := c.Info(ctx)
		if err != nil || info.Specs != "2.0.0.0" {
			t.Fatalf("info: %+v %v", info, err)
		}
		tok, err := c.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids, err := c.List(ctx, tok)
		if err != nil || strings.Join(ids, ",") != "officer-7,seal-HB" {
			t.Fatalf("list: %v %v", ids, err)
		}
		for _, dc := range []*DevCredential{f.ec, f.rs} {
			cr, err := c.CredentialInfo(ctx, tok, dc.ID)
			if err != nil {
				t.Fatal(err)
			}
			chain, err := cr.Chain()
			if err != nil || len(chain) != 2 || cr.SCAL != "2" || cr.Auth.Mode != "explicit" {
				t.Fatalf("info: %+v %v", cr, err)
			}
			cert, err := x509.ParseCertificate(chain[0])
			if err != nil {
				t.Fatal(err)
			}
			hashes := [][]byte{digest("attrs 1 " + dc.ID), digest("attrs 2 " + dc.ID)}
			if _, _, err := c.Authorize(ctx, tok, dc.ID, hashes, map[string]string{"OTP": "654321"}); chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN || !strings.Contains(err.Error(), "OTP is invalid") {
				t.Fatalf("wrong OTP: %v", err)
			}
			sad, exp, err := c.Authorize(ctx, tok, dc.ID, hashes, map[string]string{"OTP": "123456"})
			if err != nil || exp <= 0 {
				t.Fatal(err)
			}
			sigs, err := c.SignHash(ctx, tok, dc.ID, sad, SignAlgoFor(cr), hashes)
			if err != nil {
				t.Fatal(err)
			}
			for i, sig := range sigs {
				if err := verifyDigest(cert, hashes[i], sig); err != nil {
					t.Fatalf("%s signature %d does not verify: %v", dc.ID, i, err)
				}
			}
			if err := verifyDigest(cert, hashes[1], sigs[0]); err == nil {
				t.Fatal("a signature verifies over the other hash: the test cannot fail")
			}
			// The SAD is spent.
			_, err = c.SignHash(ctx, tok, dc.ID, sad, SignAlgoFor(cr), hashes)
			wantCode(t, err, chungthuc.EINVALID, "SAD reuse")
		}
	}
}

func verifyDigest(cert *x509.Certificate, d, sig []byte) error {
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, d, sig) {
			return errBad
		}
		return nil
	}
	return errBad
}

var errBad = chungthuc.Errorf(chungthuc.EINVALID, "bad signature")

func TestSADRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.client(t, false, "s3cret")
	tok, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := [][]byte{digest("the authorised attributes")}
	other := [][]byte{digest("other attributes")}
	authorize := func() string {
		sad, _, err := c.Authorize(ctx, tok, f.ec.ID, h, map[string]string{"OTP": "123456"})
		if err != nil {
			t.Fatal(err)
		}
		return sad
	}
	// Other hashes with a SAD for h.
	_, err = c.SignHash(ctx, tok, f.ec.ID, authorize(), OIDECDSAWithSHA256, other)
	wantCode(t, err, chungthuc.EINVALID, "SAD for other hashes")
	// A SAD for one credential used with another.
	_, err = c.SignHash(ctx, tok, f.rs.ID, authorize(), OIDRSAEncryption, h)
	wantCode(t, err, chungthuc.EINVALID, "SAD for another credential")
	// Expired.
	sad := authorize()
	f.clock.add(6 * time.Minute)
	_, err = c.SignHash(ctx, tok, f.ec.ID, sad, OIDECDSAWithSHA256, h)
	if chungthuc.ErrorCode(err) != chungthuc.EINVALID || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired SAD: %v", err)
	}
	// Wrong algorithm for the key.
	_, err = c.SignHash(ctx, tok, f.ec.ID, authorize(), OIDRSAEncryption, h)
	wantCode(t, err, chungthuc.EINVALID, "RSA algorithm for an EC key")
	// Not a SHA-256 hash.
	_, _, err = c.Authorize(ctx, tok, f.ec.ID, [][]byte{[]byte("short")}, map[string]string{"OTP": "123456"})
	wantCode(t, err, chungthuc.EINVALID, "malformed hash")
	// Unknown credential.
	_, err = c.CredentialInfo(ctx, tok, "nobody")
	wantCode(t, err, chungthuc.EINVALID, "unknown credential")
	// No token.
	_, err = c.List(ctx, "")
	wantCode(t, err, chungthuc.EUNAUTHORIZED, "no token")
	// Wrong client secret, both grants.
	for _, login := range []bool{false, true} {
		_, err = f.client(t, login, "wrong").Token(ctx)
		wantCode(t, err, chungthuc.EUNAUTHORIZED, "wrong client secret")
	}
}

func TestClientTransportRefusals(t *testing.T) {
	ctx := context.Background()
	// The address guard: loopback without AllowLoopback.
	hs := httptest.NewServer(NewDevServer("a", "b", "1"))
	defer hs.Close()
	if _, err := New(Config{BaseURL: hs.URL}); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("http accepted without AllowLoopback: %v", err)
	}
	tls := httptest.NewTLSServer(NewDevServer("a", "b", "1"))
	defer tls.Close()
	c, err := New(Config{BaseURL: tls.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Info(ctx)
	if chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN || strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("loopback over https passed the guard: %v", err)
	}
	// Unreachable: a closed port; the message names no host.
	closed := httptest.NewServer(http.NotFoundHandler())
	u := closed.URL
	closed.Close()
	c, _ = New(Config{BaseURL: u, AllowLoopback: true, Timeout: 2 * time.Second})
	_, err = c.Info(ctx)
	if chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE || strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("unreachable: %v", err)
	}
	// An oversized answer.
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"name":"` + strings.Repeat("x", MaxResponse) + `"}`))
	}))
	defer big.Close()
	c, _ = New(Config{BaseURL: big.URL, AllowLoopback: true})
	_, err = c.Info(ctx)
	wantCode(t, err, chungthuc.ETOOLARGE, "oversized answer")
	// A server error and a non-JSON answer.
	for _, h := range []http.HandlerFunc{
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) },
		func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) },
	} {
		s := httptest.NewServer(h)
		c, _ = New(Config{BaseURL: s.URL, AllowLoopback: true})
		_, err = c.Info(ctx)
		s.Close()
		wantCode(t, err, chungthuc.EUNAVAILABLE, "failing service")
	}
	// Malformed configuration.
	for _, bad := range []string{"", "ftp://x", "https://user:pw@x", "://"} {
		if _, err := New(Config{BaseURL: bad}); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Fatalf("%q accepted: %v", bad, err)
		}
	}
}

// BenchmarkSignHash compares a full SCAL2 round trip over loopback HTTP (authorize +
// signHash, token reused) with signing the same digest in process.
func BenchmarkSignHash(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	c := f.client(b, false, "s3cret")
	tok, err := c.Token(ctx)
	if err != nil {
		b.Fatal(err)
	}
	h := [][]byte{digest("attrs")}
	b.Run("csc-roundtrip-ec", func(b *testing.B) {
		for b.Loop() {
			sad, _, err := c.Authorize(ctx, tok, f.ec.ID, h, map[string]string{"OTP": "123456"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.SignHash(ctx, tok, f.ec.ID, sad, OIDECDSAWithSHA256, h); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("in-process-ec", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.ec.Key.Sign(rand.Reader, h[0], crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
}
