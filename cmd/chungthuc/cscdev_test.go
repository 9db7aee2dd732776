package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/csc"
)

// TestCSCDev runs `chungthuc csc-dev` with openssl-made EC and RSA credentials and drives
// it with the real CSC client over loopback HTTP.
func TestCSCDev(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	openssl := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", p("ca.key"), "-subj", "/CN=Dev Root", "-days", "2", "-out", p("ca.pem"))
	var credArgs []string
	for _, k := range []struct{ id, alg, opt string }{{"officer-2", "EC", "ec_paramgen_curve:P-256"}, {"seal-HB", "RSA", "rsa_keygen_bits:2048"}} {
		openssl("genpkey", "-algorithm", k.alg, "-pkeyopt", k.opt, "-out", p(k.id+".key"))
		openssl("req", "-new", "-key", p(k.id+".key"), "-subj", "/CN="+k.id, "-out", p(k.id+".csr"))
		openssl("x509", "-req", "-in", p(k.id+".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "1", "-out", p(k.id+".pem"))
		leaf, _ := os.ReadFile(p(k.id + ".pem"))
		root, _ := os.ReadFile(p("ca.pem"))
		if err := os.WriteFile(p(k.id+".chain.pem"), append(leaf, root...), 0o600); err != nil {
			t.Fatal(err)
		}
		credArgs = append(credArgs, "--credential", k.id+"="+p(k.id+".chain.pem")+":"+p(k.id+".key"))
	}

	// Refusals before listening.
	for _, bad := range [][]string{
		append([]string{"csc-dev", "--client-secret", "s", "--addr", "0.0.0.0:0"}, credArgs...),
		{"csc-dev", "--client-secret", "s"},
		append([]string{"csc-dev"}, credArgs...),
		{"csc-dev", "--client-secret", "s", "--credential", "nofiles"},
	} {
		if code, _, _ := cli(t, map[string]string{}, bad...); code != 2 {
			t.Fatalf("%v: exit %d, want 2", bad, code)
		}
	}

	ctx := context.Background()
	base := runCSCDev(t, append([]string{"--addr", "127.0.0.1:0", "--client-secret", "s3cret", "--otp", "246810"}, credArgs...)...)
	c, err := csc.New(csc.Config{BaseURL: base, ClientID: "chungthuc", ClientSecret: "s3cret", AllowLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.List(ctx, tok)
	if err != nil || strings.Join(ids, ",") != "officer-2,seal-HB" {
		t.Fatalf("list %v %v", ids, err)
	}
	for _, id := range ids {
		cr, err := c.CredentialInfo(ctx, tok, id)
		if err != nil {
			t.Fatal(err)
		}
		chain, err := cr.Chain()
		if err != nil || len(chain) != 2 {
			t.Fatalf("%s chain: %d %v", id, len(chain), err)
		}
		cert, err := x509.ParseCertificate(chain[0])
		if err != nil || cert.Subject.CommonName != id {
			t.Fatalf("%s certificate: %v", id, err)
		}
		d := sha256.Sum256([]byte("signed attributes of " + id))
		hashes := [][]byte{d[:]}
		if _, _, err := c.Authorize(ctx, tok, id, hashes, map[string]string{"OTP": "123456"}); chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN {
			t.Fatalf("the default code was accepted by a server configured with another: %v", err)
		}
		sad, _, err := c.Authorize(ctx, tok, id, hashes, map[string]string{"OTP": "246810"})
		if err != nil {
			t.Fatal(err)
		}
		sigs, err := c.SignHash(ctx, tok, id, sad, csc.SignAlgoFor(cr), hashes)
		if err != nil {
			t.Fatal(err)
		}
		switch pub := cert.PublicKey.(type) {
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(pub, d[:], sigs[0]) {
				t.Fatal("EC signature does not verify")
			}
		case *rsa.PublicKey:
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sigs[0]); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("key type %T", pub)
		}
	}
}
