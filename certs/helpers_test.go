package certs

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs/devpki"
)

// pkiTestNow is the clock of the tests.
var pkiTestNow = time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)

func openTestPKI(t testing.TB, opt devpki.Options) *devpki.PKI {
	t.Helper()
	if opt.Now == nil {
		opt.Now = func() time.Time { return pkiTestNow }
	}
	p, err := devpki.Open(filepath.Join(t.TempDir(), "pki"), opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	unitPL = &chungthuc.Unit{ID: 1, Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	unitHB = &chungthuc.Unit{ID: 2, Code: "TL", Name: "Xã Tân Lạc", Place: "Tân Lạc"}
)

func testOfficer(id int64, name, title string) *chungthuc.Officer {
	return &chungthuc.Officer{ID: id, UnitID: 1, Name: name, Title: title, Role: chungthuc.RoleOfficer, Active: true}
}

// wantCode fails unless err carries the domain error code.
func wantErrorCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := chungthuc.ErrorCode(err); got != code {
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
	var ce *chungthuc.Error
	if !errors.As(err, &ce) || ce.Message == "" {
		t.Fatalf("error %v has no user message", err)
	}
}

// tool returns the path of an external program or skips the test, saying why.
func needTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install -y %s); skipping the independent check", name, map[string]string{"openssl": "openssl", "certutil": "libnss3-tools"}[name])
	}
	return path
}

// run runs a program and returns its combined output, failing the test on error.
func runTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeTestFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// rawKey reads a key file as the concrete private key, for building test fixtures.
func rawKey(t testing.TB, keyPath string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := parsePrivateKeyPEM(data, keyPath, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loadKeyConfig reads the key configuration at path and opens its keys with getenv and
// the first fallback store, if any, as the service does.
func loadKeyConfig(path string, getenv func(string) string, fallback ...chungthuc.KeyStore) (chungthuc.KeyStore, io.Closer, error) {
	c, err := ReadKeyConfig(path)
	if err != nil {
		return nil, nil, err
	}
	var fb chungthuc.KeyStore
	if len(fallback) > 0 {
		fb = fallback[0]
	}
	s, err := c.Open(getenv, fb)
	if err != nil {
		return nil, nil, err
	}
	return s, s, nil
}

func ocspStatus(t testing.TB, der []byte, leaf, root *x509.Certificate) *ocsp.Response {
	t.Helper()
	resp, err := ocsp.ParseResponseForCert(der, leaf, root)
	if err != nil {
		t.Fatalf("OCSP response does not parse or verify: %v", err)
	}
	return resp
}

func parseCRL(t testing.TB, der []byte, root *x509.Certificate) *x509.RevocationList {
	t.Helper()
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(root); err != nil {
		t.Fatalf("CRL not signed by the root: %v", err)
	}
	return crl
}
