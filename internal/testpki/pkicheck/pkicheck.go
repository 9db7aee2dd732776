// Package pkicheck holds the test helpers shared by the tests of certs and certs/devpki:
// error-code checks, external tools (openssl, certutil), an in-memory CA, OCSP and CRL
// parsing, HTTP requests.
// It lives beside internal/testpki rather than in it because testpki imports certs/devpki,
// whose own (internal) tests use these helpers too and could not import testpki.
package pkicheck

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/chungthuc/chungthuc"
)

// WantErrorCode fails t unless err carries the domain error code and a user message.
func WantErrorCode(t testing.TB, err error, code string) {
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

// NeedTool returns the path of an external program or skips the test, saying why.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install -y %s); skipping the independent check", name, map[string]string{"openssl": "openssl", "certutil": "libnss3-tools"}[name])
	}
	return path
}

// RunTool runs a program (at most a minute) and returns its combined output, failing t on
// error.
func RunTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// OpenSSL runs openssl with args (skipping t when it is not installed) and returns its
// combined output, failing t on error.
func OpenSSL(t testing.TB, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// WriteFile writes data to path (0600), failing t on error.
func WriteFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// OCSPStatus parses an OCSP response for leaf issued by root, failing t unless it parses
// and its signature verifies.
func OCSPStatus(t testing.TB, der []byte, leaf, root *x509.Certificate) *ocsp.Response {
	t.Helper()
	resp, err := ocsp.ParseResponseForCert(der, leaf, root)
	if err != nil {
		t.Fatalf("OCSP response does not parse or verify: %v", err)
	}
	return resp
}

// ParseCRL parses a CRL, failing t unless it parses and root signed it.
func ParseCRL(t testing.TB, der []byte, root *x509.Certificate) *x509.RevocationList {
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

// Post posts body to url and returns the response with its whole body, failing t on error.
func Post(t testing.TB, url, ctype string, body []byte) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, ctype, bytes.NewReader(body))
	return whole(t, resp, err)
}

// WantCodeWithout fails t unless err carries the domain error code, and if its text
// contains secret (a PIN or a password the error must never repeat).
func WantCodeWithout(t testing.TB, err error, code, secret string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if c := chungthuc.ErrorCode(err); c != code {
		t.Fatalf("error code %q (%v), want %q", c, err, code)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error contains the secret: %v", err)
	}
}

// CA is an in-memory ECDSA P-256 certification authority for the tests of the PKCS#11,
// TSA, OCSP and CRL code, valid from an hour ago for a day.
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewCA makes a self-signed CA named cn.
func NewCA(t testing.TB, cn string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Chứng thực thử nghiệm"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, Key: key}
}

// Issue signs a signing (leaf) certificate for pub named cn with the given serial.
func (ca *CA) Issue(t testing.TB, pub crypto.PublicKey, cn string, serial int64) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// WritePEM writes the CA certificate to dir/name and returns the path.
func (ca *CA) WritePEM(t testing.TB, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Get fetches url and returns the response with its whole body, failing t on error.
func Get(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	return whole(t, resp, err)
}

// whole reads and closes the body of a response, failing t on err or a read error.
func whole(t testing.TB, resp *http.Response, err error) (*http.Response, []byte) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
