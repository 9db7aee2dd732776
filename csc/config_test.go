package csc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
)

func TestSignersConfig(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RS_SECRET": "s3cret"}
	conf := `{"signers": [
	  {"unit": "hb", "officer": 7, "url": "` + f.url + `", "client_id": "ct-client", "client_secret_file": "` + secret + `", "credential_id": "officer-7", "allow_loopback": true},
	  {"unit": "HB", "seal": true, "url": "` + f.url + `", "client_id": "ct-client", "client_secret_env": "RS_SECRET", "credential_id": "seal-HB", "allow_loopback": true, "login": true}]}`
	s, err := ParseSigners([]byte(conf), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if !s.Has("HB", 7) || !s.Has("hb", 0) || s.Has("HB", 8) || s.Has("TM", 0) || s.Len() != 2 {
		t.Fatal("Has")
	}
	if s.AtProvider("HB", 7) || s.ProviderOrigin("HB", 7) != f.url || s.ProviderOrigin("TM", 0) != "" {
		t.Fatal("explicit credentials: AtProvider / ProviderOrigin")
	}
	ctx := context.Background()
	d := sha256.Sum256([]byte("signed attributes"))
	if _, _, err := s.Sign(ctx, "HB", 7, d[:], "000000"); chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN {
		t.Fatalf("wrong code: %v", err)
	}
	sig, chain, err := s.Sign(ctx, "HB", 7, d[:], " 123456 ")
	if err != nil || len(chain) != 2 || !ecdsa.VerifyASN1(f.ec.Key.Public().(*ecdsa.PublicKey), d[:], sig) {
		t.Fatalf("officer: %v %d", err, len(chain))
	}
	sig, _, err = s.Sign(ctx, "HB", 0, d[:], "123456")
	if err != nil || rsa.VerifyPKCS1v15(f.rs.Key.Public().(*rsa.PublicKey), crypto.SHA256, d[:], sig) != nil {
		t.Fatalf("seal: %v", err)
	}
	if _, _, err := s.Sign(ctx, "TM", 0, d[:], "123456"); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Fatalf("unconfigured: %v", err)
	}
	var none *Signers
	if none.Has("HB", 7) || none.Len() != 0 {
		t.Fatal("nil Signers")
	}

	// Every mistake is reported, none with a secret.
	bad := `{"signers": [
	  {"unit": "", "officer": 1, "url": "https://x.example", "client_id": "a", "client_secret_env": "E", "credential_id": "c"},
	  {"unit": "HB", "officer": 1, "seal": true, "url": "https://x.example", "client_id": "a", "client_secret_env": "E", "credential_id": "c"},
	  {"unit": "HB", "officer": 2, "url": "https://x.example", "client_id": "a", "credential_id": "c"},
	  {"unit": "HB", "officer": 3, "url": "http://x.example", "client_id": "a", "client_secret_env": "E", "credential_id": "c"},
	  {"unit": "HB", "officer": 4, "url": "https://x.example", "client_id": "a", "client_secret_file": "/nonexistent/s", "credential_id": "c"},
	  {"unit": "HB", "officer": 5, "url": "https://x.example", "client_id": "a", "client_secret_env": "EMPTY", "credential_id": ""},
	  {"unit": "HB", "officer": 6, "url": "https://x.example", "client_id": "a", "client_secret_env": "E", "credential_id": "c", "auth_mode": "push"}]}`
	_, err = ParseSigners([]byte(bad), func(k string) string {
		if k == "E" {
			return "topsecret"
		}
		return ""
	})
	msg := chungthuc.ErrorMessage(err)
	for _, want := range []string{"signers[0]: unit", "signers[1]: exactly one of officer", "signers[2]: exactly one of client_secret",
		"signers[3]: url", "signers[4]: cannot read", "signers[5]: credential_id", "signers[6]: auth_mode"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in %s", want, msg)
		}
	}
	if chungthuc.ErrorCode(err) != chungthuc.EINVALID || strings.Contains(msg, "topsecret") {
		t.Fatalf("bad config: %v", err)
	}
	for _, junk := range []string{`{"signers": [{"unit": "HB", "pin": "1"}]}`, `[`} {
		if _, err := ParseSigners([]byte(junk), os.Getenv); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Fatalf("%s: %v", junk, err)
		}
	}
	if _, err := LoadSigners(filepath.Join(dir, "missing.json"), os.Getenv); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("missing file: %v", err)
	}
}
