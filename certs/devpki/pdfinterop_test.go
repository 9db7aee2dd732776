package devpki

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
	"github.com/digitorus/pdfsign/sign"
	"github.com/digitorus/pdfsign/verify"
)

// minimalPDF returns a valid one-page PDF with a correct cross-reference table.
func minimalPDF() []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
		"<< /Length 0 >>\nstream\n\nendstream",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// signPDF signs in with sk into out as an approval signature.
//
// pdfsign sizes /Contents from the signature algorithm of the certificate (its issuer's),
// not from the key that signs, and only its ECDSA and DSA cases add room (its RSA cases are
// empty): an RSA-3072 signature overflows the estimate, and pdfsign's retry then reserves
// an odd number of hex digits, which its own verifier rejects ("malformed hex string").
// For RSA keys it is therefore given a copy of the certificate that claims ECDSA-SHA512,
// which makes the first estimate large enough (what is embedded is cert.Raw, unchanged),
// and no chain, because pdfsign checks the chain with the claimed algorithm. The verifiers
// find the root in their own trust store.
func signPDF(t *testing.T, in, out string, sk *chungthuc.SigningKey, name string) {
	t.Helper()
	cert, chain := sk.Chain[0], sk.Chain
	if _, ok := cert.PublicKey.(*rsa.PublicKey); ok {
		c := *cert
		c.SignatureAlgorithm = x509.ECDSAWithSHA512
		cert, chain = &c, []*x509.Certificate{&c}
	}
	err := sign.SignFile(in, out, sign.SignData{
		Signature: sign.SignDataSignature{
			CertType: sign.ApprovalSignature,
			Info:     sign.SignDataSignatureInfo{Name: name, Reason: "Chung thuc ban sao", Date: time.Now()},
		},
		Signer:            sk.Signer,
		DigestAlgorithm:   0,
		Certificate:       cert,
		CertificateChains: [][]*x509.Certificate{chain},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSignersAcceptedByPDFVerifiers signs a PDF with an officer key and then the unit seal
// (the order of the workflow), through the opaque signers, and checks that both pdfsig
// (poppler/NSS, trusting the development root) and pdfsign's own verifier accept the
// certificates' key usages.
func TestSignersAcceptedByPDFVerifiers(t *testing.T) {
	for _, alg := range []string{AlgECDSAP256, AlgRSA3072} {
		t.Run(alg, func(t *testing.T) {
			p := openTestPKI(t, Options{Algorithm: alg, Now: time.Now})
			officerKey, _, err := p.IssueOfficer(testOfficer(1, "Lê Thị Ĩ (Bé)", "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"), unitPL)
			if err != nil {
				t.Fatal(err)
			}
			seal, err := p.IssueSeal(unitPL)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			in, once, twice := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "once.pdf"), filepath.Join(dir, "twice.pdf")
			pkicheck.WriteFile(t, in, minimalPDF())
			signPDF(t, in, once, officerKey, "Officer")
			signPDF(t, once, twice, seal, "Seal")

			t.Run("pdfsig", func(t *testing.T) {
				pdfsig, err := lookPathOrSkip("pdfsig")
				if err != nil {
					t.Skip(err)
				}
				certutil := pkicheck.NeedTool(t, "certutil")
				db := "sql:" + t.TempDir()
				pkicheck.RunTool(t, certutil, "-N", "-d", db, "--empty-password")
				pkicheck.RunTool(t, certutil, "-A", "-d", db, "-n", "root", "-t", "C,C,C", "-i", filepath.Join(p.Dir, "root.pem"))
				out := pkicheck.RunTool(t, pdfsig, "-nssdir", db, twice)
				if n := strings.Count(out, "Signature is Valid"); n != 2 {
					t.Errorf("pdfsig: %d valid signatures, want 2:\n%s", n, out)
				}
				if n := strings.Count(out, "Certificate is Trusted"); n != 2 {
					t.Errorf("pdfsig: %d trusted certificates, want 2:\n%s", n, out)
				}
				if !strings.Contains(out, "Lê Thị Ĩ (Bé)") || !strings.Contains(out, "Phường Hòa Bình") {
					t.Errorf("pdfsig does not show the Vietnamese subject names:\n%s", out)
				}
			})
			t.Run("pdfsign", func(t *testing.T) {
				f, err := os.Open(twice)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				opts := verify.DefaultVerifyOptions()
				opts.AllowUntrustedRoots = true // its verifier cannot take our root; the pool is the system's
				resp, err := verify.VerifyFileWithOptions(f, opts)
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.Signers) != 2 {
					t.Fatalf("pdfsign verifier found %d signatures", len(resp.Signers))
				}
				for i, s := range resp.Signers {
					if !s.ValidSignature {
						t.Errorf("pdfsign: signature %d invalid", i)
					}
					leaf := s.Certificates[0]
					if !leaf.KeyUsageValid || !leaf.ExtKeyUsageValid {
						t.Errorf("pdfsign: signature %d: key usage %q, extended key usage %q", i, leaf.KeyUsageError, leaf.ExtKeyUsageError)
					}
				}

			})
		})
	}
}
