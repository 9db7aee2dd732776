//go:build cgo

package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/chungthuc/chungthuc"

	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
)

// ktSoftHSMModule returns the path of libsofthsm2.so, or skips the test.
func ktSoftHSMModule(tb testing.TB) string {
	tb.Helper()
	for _, p := range []string{
		os.Getenv("SOFTHSM2_MODULE"),
		"/usr/lib/softhsm/libsofthsm2.so",
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/local/lib/softhsm/libsofthsm2.so",
	} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			if _, err := exec.LookPath("softhsm2-util"); err != nil {
				tb.Skip("softhsm2-util not found; install softhsm2 (apt-get install -y softhsm2) to run PKCS#11 tests")
			}
			return p
		}
	}
	tb.Skip("libsofthsm2.so not found; install softhsm2 (apt-get install -y softhsm2) to run PKCS#11 tests")
	return ""
}

// ktToken is a fresh SoftHSM token in a temporary directory. The module stays initialized
// (one reference held) for the life of the test; a session logged in as user is kept for
// generating keys.
type ktToken struct {
	module, label, conf string
	mod                 *p11Module
	sh                  pkcs11.SessionHandle
}

func ktNewToken(tb testing.TB, label string) *ktToken {
	tb.Helper()
	module := ktSoftHSMModule(tb)
	dir := tb.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		tb.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	// SOFTHSM2_CONF is read at C_Initialize; every test initializes the module afresh.
	tb.Setenv("SOFTHSM2_CONF", conf)
	out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", ktPIN, "--so-pin", "so-"+ktPIN).CombinedOutput()
	if err != nil {
		tb.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	mod, err := p11Acquire(module)
	if err != nil {
		tb.Fatal(err)
	}
	slot, err := p11FindSlot(mod.ctx, label)
	if err != nil {
		mod.release()
		tb.Fatal(err)
	}
	sh, err := mod.ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		mod.release()
		tb.Fatal(err)
	}
	if err := mod.ctx.Login(sh, pkcs11.CKU_USER, ktPIN); err != nil {
		mod.release()
		tb.Fatal(err)
	}
	t := &ktToken{module: module, label: label, conf: conf, mod: mod, sh: sh}
	tb.Cleanup(func() {
		_ = mod.ctx.CloseSession(sh)
		mod.release()
	})
	return t
}

func (t *ktToken) config(keyLabel string) PKCS11Config {
	return PKCS11Config{Module: t.module, TokenLabel: t.label, KeyLabel: keyLabel, PIN: ktPIN}
}

// genEC generates an EC key pair on the token and returns its public key.
func (t *ktToken) genEC(tb testing.TB, label string, id []byte, curve elliptic.Curve) *ecdsa.PublicKey {
	tb.Helper()
	oid := map[elliptic.Curve]asn1.ObjectIdentifier{elliptic.P256(): p11OIDP256, elliptic.P384(): p11OIDP384}[curve]
	params, _ := asn1.Marshal(oid)
	pub, _, err := t.mod.ctx.GenerateKeyPair(t.sh,
		[]*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, nil)},
		[]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
			pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		},
		[]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		})
	if err != nil {
		tb.Fatalf("generate EC key: %v", err)
	}
	p, err := p11ECPublicKey(t.mod.ctx, t.sh, pub)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// genRSA generates an RSA key pair on the token and returns its public key.
func (t *ktToken) genRSA(tb testing.TB, label string, id []byte, bits int) *rsa.PublicKey {
	tb.Helper()
	pub, _, err := t.mod.ctx.GenerateKeyPair(t.sh,
		[]*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, nil)},
		[]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true),
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, bits),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		},
		[]*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		})
	if err != nil {
		tb.Fatalf("generate RSA key: %v", err)
	}
	a, err := t.mod.ctx.GetAttributeValue(t.sh, pub, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil)})
	if err != nil {
		tb.Fatal(err)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(a[0].Value), E: 65537}
}

// ktOpen opens a key and closes it at the end of the test.
func ktOpen(tb testing.TB, cfg PKCS11Config, pub crypto.PublicKey, ca *pkicheck.CA) *PKCS11Key {
	tb.Helper()
	k, err := OpenPKCS11(cfg, ca.Issue(tb, pub, "Nguyễn Văn Thử", 2))
	if err != nil {
		tb.Fatalf("OpenPKCS11: %v", err)
	}
	tb.Cleanup(func() { _ = k.Close() })
	return k
}

func ktDigest(h crypto.Hash, msg string) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256([]byte(msg))
		return d[:]
	case crypto.SHA384:
		d := sha512.Sum384([]byte(msg))
		return d[:]
	}
	d := sha512.Sum512([]byte(msg))
	return d[:]
}

func TestPKCS11SignVerifies(t *testing.T) {
	tok := ktNewToken(t, "chungthuc-sign")
	ca := pkicheck.NewCA(t, "Test CA")
	keys := map[string]struct {
		pub  crypto.PublicKey
		ecdh bool
	}{
		"ec-p256": {pub: tok.genEC(t, "ec-p256", []byte{1}, elliptic.P256())},
		"ec-p384": {pub: tok.genEC(t, "ec-p384", []byte{2}, elliptic.P384())},
		"rsa":     {pub: tok.genRSA(t, "rsa", []byte{3}, 3072)},
	}
	for name, kk := range keys {
		k := ktOpen(t, tok.config(name), kk.pub, ca)
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			t.Run(fmt.Sprintf("%s/%v", name, h), func(t *testing.T) {
				digest := ktDigest(h, "Chứng thực bản sao đúng với bản chính.")
				sig, err := k.Sign(rand.Reader, digest, h)
				if err != nil {
					t.Fatal(err)
				}
				switch p := k.Public().(type) {
				case *ecdsa.PublicKey:
					if !ecdsa.VerifyASN1(p, digest, sig) {
						t.Fatal("ECDSA signature does not verify")
					}
				case *rsa.PublicKey:
					// rsa.VerifyPKCS1v15 checks the DigestInfo names h: a wrong prefix fails here.
					if err := rsa.VerifyPKCS1v15(p, h, digest, sig); err != nil {
						t.Fatal(err)
					}
					if len(sig) != 384 {
						t.Fatalf("RSA-3072 signature of %d bytes", len(sig))
					}
				}
			})
		}
	}
}

// TestPKCS11KeyByID opens a key by CKA_ID alone.
func TestPKCS11KeyByID(t *testing.T) {
	tok := ktNewToken(t, "chungthuc-id")
	ca := pkicheck.NewCA(t, "Test CA")
	pub := tok.genEC(t, "seal", []byte{0xca, 0xfe}, elliptic.P256())
	cfg := tok.config("")
	cfg.KeyID = []byte{0xca, 0xfe}
	k := ktOpen(t, cfg, pub, ca)
	d := ktDigest(crypto.SHA256, "x")
	sig, err := k.Sign(nil, d, crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(pub, d, sig) {
		t.Fatalf("sign by id: %v", err)
	}
}

func TestPKCS11Concurrent(t *testing.T) {
	tok := ktNewToken(t, "chungthuc-conc")
	ca := pkicheck.NewCA(t, "Test CA")
	pub := tok.genEC(t, "officer", []byte{1}, elliptic.P256())
	cfg := tok.config("officer")
	cfg.Sessions = 3
	k := ktOpen(t, cfg, pub, ca)

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				d := ktDigest(crypto.SHA256, fmt.Sprintf("copy %d/%d", g, i))
				sig, err := k.Sign(rand.Reader, d, crypto.SHA256)
				if err != nil {
					errs <- err
					return
				}
				if !ecdsa.VerifyASN1(pub, d, sig) {
					errs <- fmt.Errorf("signature %d/%d does not verify", g, i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	k.mu.Lock()
	n := len(k.idle)
	k.mu.Unlock()
	if n > 3 {
		t.Errorf("%d idle sessions, cap 3", n)
	}
}

func TestPKCS11RefusesMismatchedCertificate(t *testing.T) {
	tok := ktNewToken(t, "chungthuc-mismatch")
	ca := pkicheck.NewCA(t, "Test CA")
	tok.genEC(t, "ec", []byte{1}, elliptic.P256())
	rsaPub := tok.genRSA(t, "rsa", []byte{2}, 2048)

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherRSA, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, c := range []struct {
		name, label string
		pub         crypto.PublicKey
	}{
		{"ec key, other ec cert", "ec", other.Public()},
		{"ec key, rsa cert", "ec", rsaPub},
		{"rsa key, other rsa cert", "rsa", otherRSA.Public()},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := OpenPKCS11(tok.config(c.label), ca.Issue(t, c.pub, "wrong", 3))
			pkicheck.WantCodeWithout(t, err, chungthuc.EINVALID, ktPIN)
			if !strings.Contains(err.Error(), "does not match the certificate") {
				t.Fatalf("unclear error: %v", err)
			}
		})
	}
	// After the refusals the module is still usable (references were released properly).
	if p11Modules.m[tok.module] == nil || p11Modules.m[tok.module].refs != 1 {
		t.Fatalf("module references leaked: %+v", p11Modules.m[tok.module])
	}
}

func TestPKCS11OpenErrors(t *testing.T) {
	tok := ktNewToken(t, "chungthuc-errors")
	ca := pkicheck.NewCA(t, "Test CA")
	pub := tok.genEC(t, "ec", []byte{1}, elliptic.P256())
	cert := ca.Issue(t, pub, "x", 4)
	// Login state is shared by all sessions of the process: log the fixture out, or a
	// wrong PIN would meet "already logged in" instead of a check.
	if err := tok.mod.ctx.Logout(tok.sh); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		edit func(*PKCS11Config)
		code string
		msg  string
	}{
		{"wrong PIN", func(c *PKCS11Config) { c.PIN = ktPIN + "-wrong" }, chungthuc.EUNAUTHORIZED, "wrong PIN"},
		{"no such token", func(c *PKCS11Config) { c.TokenLabel = "absent" }, chungthuc.EUNAVAILABLE, "signing token not available"},
		{"no such module", func(c *PKCS11Config) { c.Module = "/nonexistent/libpkcs11.so" }, chungthuc.EUNAVAILABLE, "signing token not available"},
		{"no such key", func(c *PKCS11Config) { c.KeyLabel = "absent" }, chungthuc.ENOTFOUND, "no private key"},
		{"no key selector", func(c *PKCS11Config) { c.KeyLabel = "" }, chungthuc.EINVALID, "key label or key id"},
		{"no token label", func(c *PKCS11Config) { c.TokenLabel = "" }, chungthuc.EINVALID, "token label"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := tok.config("ec")
			c.edit(&cfg)
			k, err := OpenPKCS11(cfg, cert)
			if err == nil {
				_ = k.Close()
			}
			pkicheck.WantCodeWithout(t, err, c.code, ktPIN)
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %q does not say %q", err, c.msg)
			}
			if strings.Contains(err.Error(), ktPIN) {
				t.Fatalf("error contains the PIN: %v", err)
			}
		})
	}
}

func TestPKCS11SignRejectsBadInput(t *testing.T) {
	tok := ktNewToken(t, "chungthuc-input")
	ca := pkicheck.NewCA(t, "Test CA")
	k := ktOpen(t, tok.config("rsa"), tok.genRSA(t, "rsa", []byte{1}, 2048), ca)
	d := ktDigest(crypto.SHA256, "x")
	_, err := k.Sign(nil, d[:20], crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EINVALID, ktPIN)
	_, err = k.Sign(nil, d[:20], crypto.SHA1)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNSUPPORTED, ktPIN)
	_, err = k.Sign(nil, d, &rsa.PSSOptions{Hash: crypto.SHA256})
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNSUPPORTED, ktPIN)
	_, err = k.Sign(nil, d, nil)
	pkicheck.WantCodeWithout(t, err, chungthuc.EINVALID, ktPIN)
	// The key still works after refusals.
	if _, err := k.Sign(nil, d, crypto.SHA256); err != nil {
		t.Fatal(err)
	}
}

// TestPKCS11TokenGone simulates a token that disappears while the service runs: the module
// finalized under the key, and a closed key. Sign must return EUNAVAILABLE, not panic.
func TestPKCS11TokenGone(t *testing.T) {
	tok := ktNewToken(t, "chungthuc-gone")
	ca := pkicheck.NewCA(t, "Test CA")
	pub := tok.genEC(t, "ec", []byte{1}, elliptic.P256())
	k := ktOpen(t, tok.config("ec"), pub, ca)
	d := ktDigest(crypto.SHA256, "x")
	if _, err := k.Sign(nil, d, crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if err := tok.mod.ctx.Finalize(); err != nil {
		t.Fatal(err)
	}
	_, err := k.Sign(nil, d, crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
	if !strings.Contains(chungthuc.ErrorMessage(err), "signing token not available") {
		t.Fatalf("unclear message: %v", err)
	}
	if err := k.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = k.Sign(nil, d, crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
}

// TestPKCS11TokenDeleted deletes the token's files from under a running key.
func TestPKCS11TokenDeleted(t *testing.T) {
	tok := ktNewToken(t, "chungthuc-deleted")
	ca := pkicheck.NewCA(t, "Test CA")
	pub := tok.genEC(t, "ec", []byte{1}, elliptic.P256())
	k := ktOpen(t, tok.config("ec"), pub, ca)
	d := ktDigest(crypto.SHA256, "x")
	if _, err := k.Sign(nil, d, crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("softhsm2-util", "--delete-token", "--token", tok.label).CombinedOutput()
	if err != nil {
		t.Fatalf("softhsm2-util --delete-token: %v\n%s", err, out)
	}
	_, err = k.Sign(nil, d, crypto.SHA256)
	pkicheck.WantCodeWithout(t, err, chungthuc.EUNAVAILABLE, ktPIN)
	if !strings.Contains(chungthuc.ErrorMessage(err), "signing token not available") {
		t.Fatalf("unclear message: %v", err)
	}
}

// TestPKCS11Reconnects drops every session of the token (as a token reset does): the next
// Sign finds the token again, logs in and succeeds.
func TestPKCS11Reconnects(t *testing.T) {
	tok := ktNewToken(t, "chungthuc-reconnect")
	ca := pkicheck.NewCA(t, "Test CA")
	pub := tok.genEC(t, "ec", []byte{1}, elliptic.P256())
	k := ktOpen(t, tok.config("ec"), pub, ca)
	d := ktDigest(crypto.SHA256, "x")
	if _, err := k.Sign(nil, d, crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if err := tok.mod.ctx.CloseAllSessions(k.slot); err != nil {
		t.Fatal(err)
	}
	sig, err := k.Sign(nil, d, crypto.SHA256)
	if err != nil {
		t.Fatalf("after session loss: %v", err)
	}
	if !ecdsa.VerifyASN1(pub, d, sig) {
		t.Fatal("signature does not verify")
	}
}

// BenchmarkSignP256 compares a P-256 signature on SoftHSM through PKCS#11 with an in-memory
// crypto/ecdsa key, in the same run.
func BenchmarkSignP256(b *testing.B) {
	d := ktDigest(crypto.SHA256, "Chứng thực bản sao")
	b.Run("memory", func(b *testing.B) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		for b.Loop() {
			if _, err := key.Sign(rand.Reader, d, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
	tok := ktNewToken(b, "chungthuc-bench")
	ca := pkicheck.NewCA(b, "Bench CA")
	k := ktOpen(b, tok.config("ec"), tok.genEC(b, "ec", []byte{1}, elliptic.P256()), ca)
	b.Run("pkcs11", func(b *testing.B) {
		for b.Loop() {
			if _, err := k.Sign(nil, d, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pkcs11-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := k.Sign(nil, d, crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// TestPKCS11ScriptToken runs scripts/softhsm.sh (pkcs11-tool from opensc makes the keys)
// and signs with both of its keys.
func TestPKCS11ScriptToken(t *testing.T) {
	ktSoftHSMModule(t)
	if _, err := exec.LookPath("pkcs11-tool"); err != nil {
		t.Skip("pkcs11-tool not found; apt-get install -y opensc")
	}
	out, err := exec.Command("../scripts/softhsm.sh", t.TempDir()).Output()
	if err != nil {
		t.Fatalf("softhsm.sh: %v", err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kv := strings.SplitN(strings.TrimPrefix(line, "export "), "=", 2)
		if len(kv) != 2 {
			t.Fatalf("bad line %q", line)
		}
		env[kv[0]] = strings.Trim(kv[1], "'")
	}
	t.Setenv("SOFTHSM2_CONF", env["SOFTHSM2_CONF"])
	ca := pkicheck.NewCA(t, "Test CA")
	for _, label := range []string{env["PKCS11_EC_KEY_LABEL"], env["PKCS11_RSA_KEY_LABEL"]} {
		cfg := PKCS11Config{Module: env["PKCS11_MODULE"], TokenLabel: env["PKCS11_TOKEN_LABEL"], KeyLabel: label, PIN: env["PKCS11_PIN"]}
		// Read the public key off the token to certify it, as an operator would with a CSR.
		mod, err := p11Acquire(cfg.Module)
		if err != nil {
			t.Fatal(err)
		}
		probe := &PKCS11Key{cfg: cfg, mod: mod, sem: make(chan struct{}, 1)}
		if err := probe.connect(); err != nil {
			t.Fatal(err)
		}
		sh, key, gen, _ := probe.session()
		pub, err := p11PublicKey(mod.ctx, sh, key)
		probe.putSession(sh, gen)
		probe.closeSessions()
		if err != nil || pub == nil {
			t.Fatalf("public key of %s: %v", label, err)
		}
		k, err := OpenPKCS11(cfg, ca.Issue(t, pub, label, 5))
		mod.release()
		if err != nil {
			t.Fatal(err)
		}
		d := ktDigest(crypto.SHA384, label)
		sig, err := k.Sign(nil, d, crypto.SHA384)
		if err != nil {
			t.Fatal(err)
		}
		switch p := pub.(type) {
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(p, d, sig) {
				t.Fatal("EC signature does not verify")
			}
		case *rsa.PublicKey:
			if err := rsa.VerifyPKCS1v15(p, crypto.SHA384, d, sig); err != nil {
				t.Fatal(err)
			}
		}
		_ = k.Close()
	}
}
