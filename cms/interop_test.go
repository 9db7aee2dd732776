package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/digitorus/pkcs7"
)

func writePEM(t *testing.T, path string, certs ...*x509.Certificate) {
	t.Helper()
	var buf bytes.Buffer
	for _, c := range certs {
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// opensslVerify runs `openssl cms -verify` on a detached DER signature.
func opensslVerify(t *testing.T, der, data []byte, root *x509.Certificate) error {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: apt-get install -y openssl to run this independent check")
	}
	dir := t.TempDir()
	sig, content, ca := filepath.Join(dir, "sig.der"), filepath.Join(dir, "data.bin"), filepath.Join(dir, "root.pem")
	os.WriteFile(sig, der, 0o600)
	os.WriteFile(content, data, 0o600)
	writePEM(t, ca, root)
	out, err := exec.Command(bin, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
		"-content", content, "-CAfile", ca, "-purpose", "any", "-out", os.DevNull).CombinedOutput()
	if err != nil {
		return errors.New(string(out))
	}
	return nil
}

func TestOpenSSLAcceptsSignature(t *testing.T) {
	data := bytes.Repeat([]byte("Số chứng thực 123, quyển số 01/2026-SCT/BS\n"), 100)
	for _, c := range signCases {
		t.Run(caseName(c.kind, c.hash), func(t *testing.T) {
			p := getPKI(t, c.kind)
			der := sign(t, p, c.hash, data)
			if err := opensslVerify(t, der, data, p.root); err != nil {
				t.Fatalf("openssl refused our signature: %s", err)
			}
			// With a time-stamp-like unsigned attribute too (unsigned attributes are not
			// covered by the signature, so openssl must still accept it).
			token := []byte{0x30, 0x03, 0x02, 0x01, 0x05}
			withTS, err := AddUnsignedAttribute(der, OIDAttrTimeStampToken, token)
			if err != nil {
				t.Fatal(err)
			}
			if err := opensslVerify(t, withTS, data, p.root); err != nil {
				t.Fatalf("openssl refused our signature with an unsigned attribute: %s", err)
			}
			// And it refuses other content: the check is real.
			if err := opensslVerify(t, der, append(data, '!'), p.root); err == nil {
				t.Fatal("openssl accepted a signature over other content")
			}
		})
	}
}

func TestPKCS7AcceptsSignature(t *testing.T) {
	data := []byte("content for pkcs7")
	for _, c := range signCases {
		t.Run(caseName(c.kind, c.hash), func(t *testing.T) {
			p := getPKI(t, c.kind)
			der := sign(t, p, c.hash, data)
			p7, err := pkcs7.Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			p7.Content = data
			pool := x509.NewCertPool()
			pool.AddCert(p.root)
			if err := p7.VerifyWithChain(pool); err != nil {
				t.Fatalf("pkcs7 refused our signature: %v", err)
			}
			p7.Content = append(data, '!')
			if err := p7.VerifyWithChain(pool); err == nil {
				t.Fatal("pkcs7 accepted other content")
			}
		})
	}
}

// pkcs7Sign makes a detached signature with digitorus/pkcs7 (which adds signing-time).
func pkcs7Sign(t *testing.T, p *testPKI, digestOID asn1.ObjectIdentifier, data []byte) []byte {
	t.Helper()
	sd, err := pkcs7.NewSignedData(data)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(digestOID)
	if err := sd.AddSignerChain(p.leaf, p.key, []*x509.Certificate{p.inter}, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestVerifyForeignSignatures verifies signatures made by another implementation.
func TestVerifyForeignSignatures(t *testing.T) {
	data := []byte("foreign content")
	for _, kind := range []string{"rsa2048", "p256"} {
		t.Run(kind, func(t *testing.T) {
			p := getPKI(t, kind)
			sd, err := Parse(pkcs7Sign(t, p, pkcs7.OIDDigestAlgorithmSHA256, data))
			if err != nil {
				t.Fatal(err)
			}
			si := sd.Signers[0]
			if si.SigningTime == nil {
				t.Error("signing-time not reported")
			}
			if _, err := si.Verify(sd, digestOf(si.DigestAlgorithm, data)); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("SHA-1 refused", func(t *testing.T) {
		p := getPKI(t, "rsa2048")
		sd, err := Parse(pkcs7Sign(t, p, pkcs7.OIDDigestAlgorithmSHA1, data))
		if err != nil {
			t.Fatal(err)
		}
		si := sd.Signers[0]
		if si.DigestAlgorithm != crypto.SHA1 {
			t.Fatalf("digest algorithm %v", si.DigestAlgorithm)
		}
		if _, err := si.Verify(sd, digestOf(crypto.SHA1, data)); !errors.Is(err, ErrWeakAlgorithm) {
			t.Fatalf("got %v, want ErrWeakAlgorithm", err)
		}
	})
	t.Run("RSA-1024 refused", func(t *testing.T) {
		p := makePKI(t, newKey(t, "rsa1024"), "weak")
		sd, err := Parse(pkcs7Sign(t, p, pkcs7.OIDDigestAlgorithmSHA256, data))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sd.Signers[0].Verify(sd, digestOf(crypto.SHA256, data)); !errors.Is(err, ErrWeakAlgorithm) {
			t.Fatalf("got %v, want ErrWeakAlgorithm", err)
		}
	})
}

// TestVerifyOpenSSLSignatures verifies signatures made by `openssl cms -sign`: with its
// default attributes (signing-time, S/MIME capabilities), without signed attributes, with
// a subject key identifier, and with RSASSA-PSS.
func TestVerifyOpenSSLSignatures(t *testing.T) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: apt-get install -y openssl to run this independent check")
	}
	data := []byte("Signed by openssl.\n")
	cases := []struct {
		kind  string
		md    crypto.Hash
		flags []string
		check func(*SignerInfo) bool
	}{
		{"rsa2048", crypto.SHA256, nil, func(si *SignerInfo) bool { return si.SigningTime != nil }},
		{"p384", crypto.SHA384, nil, func(si *SignerInfo) bool { return si.SigningTime != nil }},
		{"rsa2048", crypto.SHA256, []string{"-noattr"}, func(si *SignerInfo) bool { return si.RawSignedAttrs == nil }},
		{"p256", crypto.SHA256, []string{"-noattr"}, func(si *SignerInfo) bool { return si.RawSignedAttrs == nil }},
		{"p256", crypto.SHA256, []string{"-keyid"}, func(si *SignerInfo) bool { return si.SID.SubjectKeyID != nil && si.Version == 3 }},
		{"rsa3072", crypto.SHA384, []string{"-keyopt", "rsa_padding_mode:pss"}, func(si *SignerInfo) bool { return si.SignatureAlgorithm.Name == "RSASSA-PSS" }},
		{"rsa2048", crypto.SHA512, []string{"-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:32"}, func(si *SignerInfo) bool { return si.SignatureAlgorithm.Name == "RSASSA-PSS" }},
	}
	for _, c := range cases {
		t.Run(caseName(c.kind, c.md)+fmt.Sprint(c.flags), func(t *testing.T) {
			p := getPKI(t, c.kind)
			dir := t.TempDir()
			keyDER, err := x509.MarshalPKCS8PrivateKey(p.key)
			if err != nil {
				t.Fatal(err)
			}
			file := func(name string, b []byte) string {
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
				return path
			}
			key := file("key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
			leaf, inter := filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "inter.pem")
			writePEM(t, leaf, p.leaf)
			writePEM(t, inter, p.inter)
			in, out := file("data.bin", data), filepath.Join(dir, "sig.der")
			md := map[crypto.Hash]string{crypto.SHA256: "sha256", crypto.SHA384: "sha384", crypto.SHA512: "sha512"}[c.md]
			args := append([]string{"cms", "-sign", "-binary", "-in", in, "-signer", leaf, "-inkey", key,
				"-certfile", inter, "-md", md, "-outform", "DER", "-out", out}, c.flags...)
			if msg, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
				t.Fatalf("openssl cms -sign: %v\n%s", err, msg)
			}
			der, _ := os.ReadFile(out)
			sd, err := Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			si, err := sd.Signer()
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(si) {
				t.Fatalf("unexpected shape: %+v", si)
			}
			cert, err := si.Verify(sd, digestOf(c.md, data))
			if err != nil {
				t.Fatal(err)
			}
			if !cert.Equal(p.leaf) {
				t.Fatal("wrong signer certificate")
			}
			if _, err := si.Verify(sd, digestOf(c.md, append(data, '!'))); !errors.Is(err, ErrDigestMismatch) && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("other content: %v", err)
			}
		})
	}
}
