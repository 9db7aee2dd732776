package certs

import (
	"bytes"
	"crypto/x509"
	"path/filepath"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func TestLoadPKCS12OpenSSL(t *testing.T) {
	openssl := pkicheck.NeedTool(t, "openssl")
	p, _, keyPath := pemFiles(t)
	leafPath, _ := p.OfficerFiles(1)
	root := filepath.Join(p.Dir, "root.pem")
	dir := t.TempDir()
	const pass = "Mật-khẩu (ĩ) \\"
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"modern", nil}, // OpenSSL 3 default: AES-256-CBC, PBKDF2, HMAC-SHA256 MAC
		{"3des", []string{"-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".p12")
			args := append([]string{"pkcs12", "-export", "-inkey", keyPath, "-in", leafPath, "-certfile", root,
				"-name", "Trần Văn Nghĩa", "-out", out, "-passout", "pass:" + pass}, tc.args...)
			pkicheck.RunTool(t, openssl, args...)
			sk, err := LoadPKCS12(out, pass)
			if err != nil {
				t.Fatal(err)
			}
			if len(sk.Chain) != 2 || sk.Chain[0].Subject.CommonName != "Trần Văn Nghĩa" || !bytes.Equal(sk.Chain[1].Raw, p.Root().Raw) {
				t.Fatalf("chain = %v", sk.Chain)
			}
			_, err = LoadPKCS12(out, "sai")
			pkicheck.WantErrorCode(t, err, chungthuc.EUNAUTHORIZED)
		})
	}
}

func TestLoadPKCS12(t *testing.T) {
	p, certPath, keyPath := pemFiles(t)
	sk, err := LoadPEM(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, enc := range map[string]*pkcs12.Encoder{"modern": pkcs12.Modern, "legacy": pkcs12.LegacyDES} {
		data, err := enc.Encode(rawKey(t, keyPath), sk.Chain[0], []*x509.Certificate{p.Root()}, "pw")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".p12")
		pkicheck.WriteFile(t, path, data)
		got, err := LoadPKCS12(path, "pw")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got.Chain) != 2 {
			t.Errorf("%s: chain of %d", name, len(got.Chain))
		}
	}

	// A file whose key belongs to another certificate is refused.
	if _, err := p.IssueSeal(unitHB); err != nil {
		t.Fatal(err)
	}
	_, sealKey := p.SealFiles("TL")
	data, err := pkcs12.Modern.Encode(rawKey(t, sealKey), sk.Chain[0], nil, "pw")
	if err != nil {
		t.Fatal(err)
	}
	mixed := filepath.Join(dir, "mixed.p12")
	pkicheck.WriteFile(t, mixed, data)
	_, err = LoadPKCS12(mixed, "pw")
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)

	_, err = LoadPKCS12(filepath.Join(dir, "none.p12"), "pw")
	pkicheck.WantErrorCode(t, err, chungthuc.ENOTFOUND)
	garbage := filepath.Join(dir, "garbage.p12")
	pkicheck.WriteFile(t, garbage, []byte("not a PKCS#12 file"))
	_, err = LoadPKCS12(garbage, "pw")
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	// A trust store (certificates only) has no key.
	ts, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{p.Root()}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	pkicheck.WriteFile(t, garbage, ts)
	_, err = LoadPKCS12(garbage, "pw")
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
}
