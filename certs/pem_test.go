package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
)

func TestParseCertificatePEM(t *testing.T) {
	p := openTestPKI(t, devpki.Options{})
	seal, err := p.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	bundle := append([]byte("Bundle của Phường Hòa Bình\n"), EncodeCertificatePEM(seal.Chain...)...)
	bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("ignored")})...)
	certs, err := ParseCertificatePEM(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 || !bytes.Equal(certs[1].Raw, p.Root().Raw) {
		t.Fatalf("got %d certificates", len(certs))
	}
	for _, bad := range [][]byte{nil, []byte("not PEM"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 1, 2}})} {
		_, err := ParseCertificatePEM(bad)
		pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	}
}

// pemFiles writes a dev officer's chain (root first, to test ordering) and key to dir.
func pemFiles(t *testing.T) (p *devpki.PKI, certPath, keyPath string) {
	t.Helper()
	p = openTestPKI(t, devpki.Options{})
	sk, _, err := p.IssueOfficer(testOfficer(1, "Trần Văn Nghĩa", "CHỦ TỊCH"), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath = filepath.Join(dir, "chain.pem")
	pkicheck.WriteFile(t, certPath, EncodeCertificatePEM(p.Root(), sk.Chain[0]))
	_, keyPath = p.OfficerFiles(1)
	return p, certPath, keyPath
}

func TestLoadPEM(t *testing.T) {
	p, certPath, keyPath := pemFiles(t)
	sk, err := LoadPEM(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(sk.Chain) != 2 || sk.Chain[0].Subject.CommonName != "Trần Văn Nghĩa" || !bytes.Equal(sk.Chain[1].Raw, p.Root().Raw) {
		t.Fatalf("chain not ordered leaf first: %v", sk.Chain)
	}

	// A PKCS#1 / SEC 1 key file works too, and an unrelated certificate is dropped.
	other, err := p.IssueSeal(unitHB)
	if err != nil {
		t.Fatal(err)
	}
	withOther := filepath.Join(t.TempDir(), "c.pem")
	pkicheck.WriteFile(t, withOther, EncodeCertificatePEM(other.Chain[0], p.Root(), sk.Chain[0]))
	sk2, err := LoadPEM(withOther, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(sk2.Chain) != 2 || !bytes.Equal(sk2.Chain[0].Raw, sk.Chain[0].Raw) {
		t.Errorf("chain = %d certificates", len(sk2.Chain))
	}

	// Errors.
	_, err = LoadPEM(filepath.Join(t.TempDir(), "none.pem"), keyPath)
	pkicheck.WantErrorCode(t, err, chungthuc.ENOTFOUND)
	_, err = LoadPEM(certPath, filepath.Join(t.TempDir(), "none.key"))
	pkicheck.WantErrorCode(t, err, chungthuc.ENOTFOUND)
	_, sealKey := p.SealFiles("TL")
	_, err = LoadPEM(certPath, sealKey)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if !strings.Contains(err.Error(), "matches none") {
		t.Errorf("mismatch error: %v", err)
	}
	garbage := filepath.Join(t.TempDir(), "g.key")
	pkicheck.WriteFile(t, garbage, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("junk")}))
	_, err = LoadPEM(certPath, garbage)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	pkicheck.WriteFile(t, garbage, []byte("no key here"))
	_, err = LoadPEM(certPath, garbage)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if !strings.Contains(err.Error(), garbage) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestLoadPEMEncryptedKeys(t *testing.T) {
	openssl := pkicheck.NeedTool(t, "openssl")
	_, certPath, keyPath := pemFiles(t)
	dir := t.TempDir()
	const pass = "mật khẩu Ĩ"
	for _, tc := range []struct{ name, cipher, prf string }{
		{"aes256-sha256", "aes-256-cbc", "hmacWithSHA256"},
		{"aes128-sha1", "aes-128-cbc", "hmacWithSHA1"},
		{"aes192-sha512", "aes-192-cbc", "hmacWithSHA512"},
		{"3des-sha256", "des3", "hmacWithSHA256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := filepath.Join(dir, tc.name+".key")
			pkicheck.RunTool(t, openssl, "pkcs8", "-topk8", "-in", keyPath, "-out", enc, "-v2", tc.cipher, "-v2prf", tc.prf, "-passout", "pass:"+pass)
			if _, err := LoadPEM(certPath, enc, pass); err != nil {
				t.Fatal(err)
			}
			_, err := LoadPEM(certPath, enc, "sai mật khẩu")
			pkicheck.WantErrorCode(t, err, chungthuc.EUNAUTHORIZED)
			if strings.Contains(err.Error(), "sai mật khẩu") {
				t.Errorf("error %q repeats the password", err)
			}
			_, err = LoadPEM(certPath, enc)
			pkicheck.WantErrorCode(t, err, chungthuc.EUNAUTHORIZED)
		})
	}

	// PBES1 and legacy OpenSSL PEM encryption are refused with advice.
	pbes1 := filepath.Join(dir, "pbes1.key")
	pkicheck.RunTool(t, openssl, "pkcs8", "-topk8", "-in", keyPath, "-out", pbes1, "-v1", "PBE-SHA1-3DES", "-passout", "pass:x")
	_, err := LoadPEM(certPath, pbes1, "x")
	pkicheck.WantErrorCode(t, err, chungthuc.EUNSUPPORTED)
	legacy := filepath.Join(dir, "legacy.key")
	pkicheck.RunTool(t, openssl, "ec", "-in", keyPath, "-out", legacy, "-aes256", "-passout", "pass:x")
	_, err = LoadPEM(certPath, legacy, "x")
	pkicheck.WantErrorCode(t, err, chungthuc.EUNSUPPORTED)

	// The traditional unencrypted formats load.
	sec1 := filepath.Join(dir, "sec1.key")
	pkicheck.RunTool(t, openssl, "ec", "-in", keyPath, "-out", sec1)
	if data, _ := os.ReadFile(sec1); !bytes.Contains(data, []byte("EC PRIVATE KEY")) {
		t.Fatalf("openssl wrote %s", data)
	}
	if _, err := LoadPEM(certPath, sec1); err != nil {
		t.Fatal(err)
	}
}

func TestLoadPEMRSAPKCS1(t *testing.T) {
	openssl := pkicheck.NeedTool(t, "openssl")
	p := openTestPKI(t, devpki.Options{Algorithm: devpki.AlgRSA3072})
	if _, err := p.IssueSeal(unitPL); err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := p.SealFiles("HB")
	pkcs1 := filepath.Join(t.TempDir(), "rsa.key")
	pkicheck.RunTool(t, openssl, "rsa", "-in", keyPath, "-out", pkcs1, "-traditional")
	sk, err := LoadPEM(certPath, pkcs1)
	if err != nil {
		t.Fatal(err)
	}
	if sk.Chain[0].PublicKeyAlgorithm != x509.RSA {
		t.Errorf("algorithm %v", sk.Chain[0].PublicKeyAlgorithm)
	}
}

func TestDecryptPKCS8Malformed(t *testing.T) {
	for _, der := range [][]byte{nil, {0x30, 0x00}, {0x30, 0x03, 0x02, 0x01, 0x01}, bytes.Repeat([]byte{0x30}, 50)} {
		if _, err := decryptPKCS8(der, "x"); err == nil {
			t.Errorf("%x: no error", der)
		}
	}
}
