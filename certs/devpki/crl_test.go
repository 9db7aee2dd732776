package devpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
)

func TestDevCRL(t *testing.T) {
	ca := pkicheck.NewCA(t, "CA CRL")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := ca.Issue(t, key.Public(), "good", 200)
	revoked := ca.Issue(t, key.Public(), "revoked", 201)
	now := time.Now().Truncate(time.Second)
	der, err := NewCRL(ca.Cert, ca.Key, big.NewInt(7), []x509.RevocationListEntry{
		{SerialNumber: revoked.SerialNumber, RevocationTime: now.Add(-time.Hour), ReasonCode: 1},
	}, now.Add(-time.Minute), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(ca.Cert); err != nil {
		t.Fatal(err)
	}
	if crl.Number.Int64() != 7 || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(revoked.SerialNumber) != 0 {
		t.Fatalf("CRL content: number %v entries %v", crl.Number, crl.RevokedCertificateEntries)
	}

	// openssl checks the CRL's signature and uses it in path validation.
	dir := t.TempDir()
	caPEM := ca.WritePEM(t, dir, "ca.pem")
	crlDER := filepath.Join(dir, "crl.der")
	_ = os.WriteFile(crlDER, der, 0o644)
	out := pkicheck.OpenSSL(t, "crl", "-inform", "DER", "-in", crlDER, "-CAfile", caPEM, "-noout")
	if !strings.Contains(out, "verify OK") {
		t.Fatalf("openssl crl: %s", out)
	}
	crlPEM := filepath.Join(dir, "crl.pem")
	_ = os.WriteFile(crlPEM, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644)
	for name, c := range map[string]*x509.Certificate{"good": good, "revoked": revoked} {
		leaf := filepath.Join(dir, name+".pem")
		_ = os.WriteFile(leaf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o644)
		out, err := exec.Command("openssl", "verify", "-crl_check", "-CAfile", caPEM, "-CRLfile", crlPEM, leaf).CombinedOutput()
		switch name {
		case "good":
			if err != nil || !strings.Contains(string(out), ": OK") {
				t.Fatalf("good leaf: %v %s", err, out)
			}
		case "revoked":
			if err == nil || !strings.Contains(string(out), "certificate revoked") {
				t.Fatalf("revoked leaf: %v %s", err, out)
			}
		}
	}
}

func TestDevCRLErrors(t *testing.T) {
	ca := pkicheck.NewCA(t, "CA CRL")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := ca.Issue(t, key.Public(), "not a CA", 3) // no cRLSign
	now := time.Now()
	cases := map[string]func() ([]byte, error){
		"no issuer":    func() ([]byte, error) { return NewCRL(nil, ca.Key, big.NewInt(1), nil, now, now.Add(time.Hour)) },
		"no number":    func() ([]byte, error) { return NewCRL(ca.Cert, ca.Key, nil, nil, now, now.Add(time.Hour)) },
		"empty window": func() ([]byte, error) { return NewCRL(ca.Cert, ca.Key, big.NewInt(1), nil, now, now) },
		"not a CRL CA": func() ([]byte, error) { return NewCRL(leaf, key, big.NewInt(1), nil, now, now.Add(time.Hour)) },
		"wrong key":    func() ([]byte, error) { return NewCRL(ca.Cert, key, big.NewInt(1), nil, now, now.Add(time.Hour)) },
		"entry no time": func() ([]byte, error) {
			return NewCRL(ca.Cert, ca.Key, big.NewInt(1), []x509.RevocationListEntry{{SerialNumber: big.NewInt(3)}}, now, now.Add(time.Hour))
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f()
			pkicheck.WantCodeWithout(t, err, chungthuc.EINVALID, ktPIN)
		})
	}
}
