package signer

import (
	"context"
	"crypto/x509"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/internal/testscan"
)

// softHSMKeys makes a SoftHSM2 token with scripts/softhsm.sh (an EC P-256 officer key and an
// RSA-3072 seal key), certifies both keys with f's root and opens them through PKCS#11.
func softHSMKeys(b *testing.B, f *fixture) (officer, seal *chungthuc.SigningKey) {
	dir := b.TempDir()
	out, err := exec.Command("../scripts/softhsm.sh", dir).CombinedOutput()
	if err != nil {
		b.Skipf("SoftHSM2 not available (%v): PKCS#11 benchmark skipped\n%s", err, out)
	}
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`export (\w+)='([^']*)'`).FindAllStringSubmatch(string(out), -1) {
		env[m[1]] = m[2]
	}
	b.Setenv("SOFTHSM2_CONF", env["SOFTHSM2_CONF"])
	open := func(label, cn string) *chungthuc.SigningKey {
		der := filepath.Join(dir, label+".der")
		if out, err := exec.Command("pkcs11-tool", "--module", env["PKCS11_MODULE"], "--token-label", env["PKCS11_TOKEN_LABEL"],
			"--read-object", "--type", "pubkey", "--label", label, "-o", der).CombinedOutput(); err != nil {
			b.Skipf("pkcs11-tool: %v\n%s", err, out)
		}
		raw, _ := os.ReadFile(der)
		pub, err := x509.ParsePKIXPublicKey(raw)
		if err != nil {
			b.Fatal(err)
		}
		cert := f.pki.Certify(cn, "Phường Phương Lâm", pub)
		k, err := certs.OpenPKCS11(certs.PKCS11Config{Module: env["PKCS11_MODULE"], TokenLabel: env["PKCS11_TOKEN_LABEL"], KeyLabel: label, PIN: env["PKCS11_PIN"]}, cert)
		if err != nil {
			b.Skipf("PKCS#11: %v", err)
		}
		b.Cleanup(func() { k.Close() })
		return &chungthuc.SigningKey{Signer: k, Chain: []*x509.Certificate{cert, f.pki.Root}}
	}
	return open(env["PKCS11_EC_KEY_LABEL"], "Trần Văn Nghĩa"), open(env["PKCS11_RSA_KEY_LABEL"], "Phường Phương Lâm")
}

// BenchmarkLevels compares, in one run, a 1 MB certification at PAdES B-B with keys in
// memory (as loaded from PEM files) against B-LTA with both keys on a SoftHSM2 token, a TSA
// over loopback HTTP and embedded revocation data (issue 6).
func BenchmarkLevels(b *testing.B) {
	scans := testscan.Scans(3, 1<<20, 200)
	f := newFixture("Trần Văn Nghĩa")
	b.Run("B-B/file-keys", func(b *testing.B) {
		s, err := New(Options{})
		if err != nil {
			b.Fatal(err)
		}
		req := f.request(scans, "Trần Văn Nghĩa")
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := s.MakeCopy(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("B-LTA/softhsm", func(b *testing.B) {
		officer, seal := softHSMKeys(b, f)
		srv := httptest.NewServer(f.pki.TSA())
		defer srv.Close()
		s, err := New(Options{Level: chungthuc.PAdESLTA, Timestamper: &certs.TSAClient{URL: srv.URL, Timeout: 10 * time.Second}, Revocation: f.pki.Revocation()})
		if err != nil {
			b.Fatal(err)
		}
		req := f.request(scans, "Trần Văn Nghĩa")
		req.Officer, req.Seal = officer, seal
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := s.MakeCopy(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
