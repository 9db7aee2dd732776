package devpki

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
)

// opensslCSR makes a key and a PKCS#10 request with openssl, as on an officer's own
// machine (the subject the requester claims is deliberately not the officer's).
func opensslCSR(t *testing.T, keyAlg ...string) (keyPath string, csr []byte) {
	t.Helper()
	pkicheck.NeedTool(t, "openssl")
	dir := t.TempDir()
	keyPath = filepath.Join(dir, "officer.key")
	csrPath := filepath.Join(dir, "officer.csr")
	pkicheck.RunTool(t, "openssl", append([]string{"genpkey", "-out", keyPath}, keyAlg...)...)
	pkicheck.RunTool(t, "openssl", "req", "-new", "-key", keyPath, "-subj", "/C=VN/O=Giả mạo/CN=Người khác", "-utf8", "-out", csrPath)
	csr, err := os.ReadFile(csrPath)
	if err != nil {
		t.Fatal(err)
	}
	return keyPath, csr
}

func TestIssueOfficerFromCSR(t *testing.T) {
	p := openTestPKI(t, Options{})
	o := testOfficer(7, "Lê Thị Ĩ", "PHÓ CHỦ TỊCH")
	for _, alg := range [][]string{{"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"}, {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"}} {
		_, csr := opensslCSR(t, alg...)
		chain, certPEM, err := p.IssueOfficerFromCSR(o, unitPL, csr)
		if err != nil {
			t.Fatal(err)
		}
		leaf := chain[0]
		b, _ := pem.Decode(csr)
		req, _ := x509.ParseCertificateRequest(b.Bytes)
		if !bytes.Equal(leaf.RawSubjectPublicKeyInfo, req.RawSubjectPublicKeyInfo) {
			t.Fatal("the certificate is not for the request's key")
		}
		if leaf.Subject.CommonName != "Lê Thị Ĩ" || leaf.Subject.Organization[0] != unitPL.Name {
			t.Fatalf("subject %q is not the officer record's", leaf.Subject)
		}
		if leaf.CheckSignatureFrom(p.Root()) != nil || len(chain) != 2 || !chain[1].Equal(p.Root()) {
			t.Fatal("not issued by the development root")
		}
		if leaf.KeyUsage&x509.KeyUsageContentCommitment == 0 {
			t.Fatal("no nonRepudiation")
		}
		if !sameLeaf(certPEM, leaf) {
			t.Fatal("PEM is not the leaf")
		}
		roots := x509.NewCertPool()
		roots.AddCert(p.Root())
		got, err := CheckOfficerCertificate(append(certPEM, p.RootPEM()...), roots, pkiTestNow)
		if err != nil || !got[0].Equal(leaf) {
			t.Fatalf("CheckOfficerCertificate: %v", err)
		}
	}
	// No key is kept: the dev PKI's own key for officer 7 does not exist.
	if _, err := p.OfficerKey(context.Background(), o); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Fatalf("a key file was created: %v", err)
	}
}

func TestIssueFromCSRRefusals(t *testing.T) {
	p := openTestPKI(t, Options{})
	o := testOfficer(7, "Lê Thị Ĩ", "")
	_, good := opensslCSR(t, "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
	b, _ := pem.Decode(good)
	tampered := bytes.Clone(b.Bytes)
	tampered[len(tampered)-5] ^= 0x40 // inside the signature value
	_, weak := opensslCSR(t, "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024")
	_, ed := opensslCSR(t, "-algorithm", "ED25519")
	for name, csr := range map[string][]byte{
		"empty":         nil,
		"garbage":       []byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"),
		"certificate":   p.RootPEM(),
		"bad signature": tampered,
		"RSA-1024":      weak,
		"Ed25519":       ed,
		"too large":     bytes.Repeat([]byte{'A'}, MaxCSRSize+1),
	} {
		t.Run(name, func(t *testing.T) {
			chain, pemOut, err := p.IssueOfficerFromCSR(o, unitPL, csr)
			pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
			if chain != nil || pemOut != nil {
				t.Fatal("something was issued")
			}
		})
	}
	if _, _, err := p.IssueOfficerFromCSR(&chungthuc.Officer{Name: "x"}, unitPL, good); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("officer without ID: %v", err)
	}
	other := testOfficer(8, "Trần Văn Nghĩa", "")
	other.UnitID = 2
	if _, _, err := p.IssueOfficerFromCSR(other, unitPL, good); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("officer of another unit: %v", err)
	}
}

func TestCheckOfficerCertificateRefusals(t *testing.T) {
	p := openTestPKI(t, Options{})
	_, csr := opensslCSR(t, "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
	chain, certPEM, err := p.IssueOfficerFromCSR(testOfficer(7, "Lê Thị Ĩ", ""), unitPL, csr)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.Root())
	stranger := openTestPKI(t, Options{})
	strangerRoots := x509.NewCertPool()
	strangerRoots.AddCert(stranger.Root())
	for _, c := range []struct {
		name  string
		pem   []byte
		roots *x509.CertPool
		now   time.Time
		code  string
	}{
		{"untrusted root", certPEM, strangerRoots, pkiTestNow, chungthuc.EFORBIDDEN},
		{"no roots", certPEM, nil, pkiTestNow, chungthuc.EFORBIDDEN},
		{"expired", certPEM, roots, chain[0].NotAfter.Add(time.Hour), chungthuc.EFORBIDDEN},
		{"not yet valid", certPEM, roots, chain[0].NotBefore.Add(-time.Hour), chungthuc.EFORBIDDEN},
		{"a CA", p.RootPEM(), roots, pkiTestNow, chungthuc.EINVALID},
		{"not a certificate", csr, roots, pkiTestNow, chungthuc.EINVALID},
		{"empty", nil, roots, pkiTestNow, chungthuc.EINVALID},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := CheckOfficerCertificate(c.pem, c.roots, c.now)
			pkicheck.WantErrorCode(t, err, c.code)
			if got != nil {
				t.Fatal("a chain was returned")
			}
		})
	}
	// Revocation: CheckNotRevoked refuses the certificate once revoked; others pass.
	ctx := context.Background()
	if err := p.CheckNotRevoked(ctx, chain); err != nil {
		t.Fatal(err)
	}
	if err := p.Revoke(chain[0].SerialNumber, 1, pkiTestNow); err != nil {
		t.Fatal(err)
	}
	pkicheck.WantErrorCode(t, p.CheckNotRevoked(ctx, chain), chungthuc.EFORBIDDEN)
	if err := stranger.CheckNotRevoked(ctx, chain); err != nil {
		t.Fatalf("another PKI's certificate: %v", err)
	}
}
