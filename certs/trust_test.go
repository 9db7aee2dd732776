package certs

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
)

func TestLoadTrustAnchors(t *testing.T) {
	a := openTestPKI(t, devpki.Options{})
	b := openTestPKI(t, devpki.Options{})
	sealA, err := a.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	sealB, err := b.IssueSeal(unitHB)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(pool *x509.CertPool, c *x509.Certificate) error {
		_, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: pkiTestNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		return err
	}

	// A bundle file.
	bundle := filepath.Join(t.TempDir(), "anchors.pem")
	pkicheck.WriteFile(t, bundle, append(append([]byte("# gốc tin cậy\n"), a.RootPEM()...), b.RootPEM()...))
	anchors, err := LoadTrustAnchors(bundle)
	pool := poolOf(anchors)
	if err != nil {
		t.Fatal(err)
	}
	if len(anchors) != 2 || verify(pool, sealA.Chain[0]) != nil || verify(pool, sealB.Chain[0]) != nil {
		t.Fatalf("bundle: %d anchors", len(anchors))
	}

	// A directory: PEM, DER, duplicates dropped, other files ignored.
	dir := t.TempDir()
	pkicheck.WriteFile(t, filepath.Join(dir, "a.pem"), a.RootPEM())
	pkicheck.WriteFile(t, filepath.Join(dir, "b.CRT"), b.Root().Raw)
	pkicheck.WriteFile(t, filepath.Join(dir, "c.cer"), a.RootPEM())
	pkicheck.WriteFile(t, filepath.Join(dir, "README.txt"), []byte("not a certificate"))
	if err := os.Mkdir(filepath.Join(dir, "sub.pem"), 0o700); err != nil {
		t.Fatal(err)
	}
	anchors, err = LoadTrustAnchors(dir)
	pool = poolOf(anchors)
	if err != nil {
		t.Fatal(err)
	}
	if len(anchors) != 2 || verify(pool, sealB.Chain[0]) != nil {
		t.Fatalf("directory: %d anchors", len(anchors))
	}

	// Only a's root: b's seal does not verify.
	only := filepath.Join(t.TempDir(), "a.pem")
	pkicheck.WriteFile(t, only, a.RootPEM())
	anchors, err = LoadTrustAnchors(only)
	pool = poolOf(anchors)
	if err != nil {
		t.Fatal(err)
	}
	if verify(pool, sealB.Chain[0]) == nil {
		t.Error("a certificate of an untrusted root verified")
	}

	// Errors name the file.
	_, err = LoadTrustAnchors(filepath.Join(dir, "missing"))
	pkicheck.WantErrorCode(t, err, chungthuc.ENOTFOUND)
	bad := filepath.Join(dir, "d.pem")
	pkicheck.WriteFile(t, bad, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	_, err = LoadTrustAnchors(dir)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if !strings.Contains(err.Error(), bad) {
		t.Errorf("error %q does not name %s", err, bad)
	}
	pkicheck.WriteFile(t, bad, []byte("garbage"))
	_, err = LoadTrustAnchors(dir)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if !strings.Contains(err.Error(), bad) {
		t.Errorf("error %q does not name %s", err, bad)
	}
	empty := t.TempDir()
	_, err = LoadTrustAnchors(empty)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
}

// TestTrustPool: the pool holds the anchors, the roots given and the self-signed tops of the
// chains — not a chain's leaf or an intermediate — and an anchor file that cannot be loaded
// is an error, not a smaller pool.
func TestTrustPool(t *testing.T) {
	a, b, c := openTestPKI(t, devpki.Options{}), openTestPKI(t, devpki.Options{}), openTestPKI(t, devpki.Options{})
	anchors := filepath.Join(t.TempDir(), "anchors.pem")
	if err := os.WriteFile(anchors, a.RootPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	seal, err := c.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	leafOnly := []*x509.Certificate{seal.Chain[0]}
	pool, err := TrustPool(anchors, []*x509.Certificate{b.Root(), nil}, [][]*x509.Certificate{seal.Chain, leafOnly, nil})
	if err != nil {
		t.Fatal(err)
	}
	want := x509.NewCertPool()
	for _, p := range []*devpki.PKI{a, b, c} {
		want.AddCert(p.Root())
	}
	if !pool.Equal(want) {
		t.Error("the pool is not exactly the anchors, the roots given and the chains' roots")
	}
	if pool, err := TrustPool("", nil, [][]*x509.Certificate{leafOnly}); err != nil || !pool.Equal(x509.NewCertPool()) {
		t.Errorf("a chain without its root adds an anchor: %v", err)
	}
	for _, bad := range []string{filepath.Join(t.TempDir(), "missing.pem"), writeTemp(t, "garbage")} {
		if _, err := TrustPool(bad, []*x509.Certificate{b.Root()}, nil); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func writeTemp(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "f.pem")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func poolOf(certs []*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}
