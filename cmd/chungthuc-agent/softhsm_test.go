package main

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/internal/testpki"
)

// TestAgentSoftHSM signs through the agent's handler with a key generated on a SoftHSM2
// token (pkcs11-tool), opened the way main opens it.
func TestAgentSoftHSM(t *testing.T) {
	var module string
	for _, m := range []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"} {
		if _, err := os.Stat(m); err == nil {
			module = m
		}
	}
	for _, tool := range []string{"softhsm2-util", "pkcs11-tool"} {
		if _, err := exec.LookPath(tool); err != nil || module == "" {
			t.Skip("SoftHSM2 / pkcs11-tool not installed")
		}
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.Mkdir(filepath.Join(dir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	run := func(name string, args ...string) []byte {
		t.Helper()
		out, err := exec.Command(name, args...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		return out
	}
	run("softhsm2-util", "--init-token", "--free", "--label", "agent", "--pin", "4321", "--so-pin", "87654321")
	run("pkcs11-tool", "--module", module, "--token-label", "agent", "--login", "--pin", "4321", "--keypairgen", "--key-type", "EC:prime256v1", "--label", "officer", "--id", "01")
	spki := run("pkcs11-tool", "--module", module, "--token-label", "agent", "--read-object", "--type", "pubkey", "--label", "officer")
	pub, err := x509.ParsePKIXPublicKey(spki)
	if err != nil {
		t.Fatalf("public key from the token: %v", err)
	}
	p := testpki.New()
	leaf := p.Certify("Lê Thị Ĩ", "HB", pub)
	// The wrong PIN: the agent cannot start (checked first: PKCS#11 login state is per process).
	if _, err := certs.OpenPKCS11(certs.PKCS11Config{Module: module, TokenLabel: "agent", KeyLabel: "officer", PIN: "0000"}, leaf); err == nil {
		t.Fatal("wrong PIN accepted")
	}
	key, err := certs.OpenPKCS11(certs.PKCS11Config{Module: module, TokenLabel: "agent", KeyLabel: "officer", PIN: "4321"}, leaf)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = key.Close() }()
	a, err := NewAgent(origin, key, []*x509.Certificate{leaf, p.Root})
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("signed attributes on the token"))
	w := do(a, "POST", "/v1/sign", origin, "application/json", signBody(d[:]))
	var out struct{ Signature string }
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &out) != nil {
		t.Fatalf("sign: %d %s", w.Code, w.Body)
	}
	sig, _ := base64.StdEncoding.DecodeString(out.Signature)
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d[:], sig) {
		t.Fatal("the token's signature does not verify with its certificate")
	}
}
