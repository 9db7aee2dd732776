package certs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
)

// keyConfigFixture writes PEM and PKCS#12 files for officer 1 and the seal of HB, issued by
// a dev PKI, into dir.
type keyConfigFixture struct {
	dir      string
	pki      *devpki.PKI
	officer  *chungthuc.SigningKey
	seal     *chungthuc.SigningKey
	password string
}

func newKeyConfigFixture(t *testing.T) *keyConfigFixture {
	t.Helper()
	f := &keyConfigFixture{dir: t.TempDir(), pki: openTestPKI(t, devpki.Options{}), password: "mật-khẩu-p12-9d1e"}
	var err error
	if f.officer, _, err = f.pki.IssueOfficer(testOfficer(1, "Trần Văn Nghĩa", "CHỦ TỊCH"), unitPL); err != nil {
		t.Fatal(err)
	}
	if f.seal, err = f.pki.IssueSeal(unitPL); err != nil {
		t.Fatal(err)
	}
	pkicheck.WriteFile(t, filepath.Join(f.dir, "o1.pem"), EncodeCertificatePEM(f.officer.Chain...))
	_, keyPath := f.pki.OfficerFiles(1)
	key, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "o1.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	_, sealKey := f.pki.SealFiles("HB")
	p12, err := pkcs12.Modern.Encode(rawKey(t, sealKey), f.seal.Chain[0], f.seal.Chain[1:], f.password)
	if err != nil {
		t.Fatal(err)
	}
	pkicheck.WriteFile(t, filepath.Join(f.dir, "pl.p12"), p12)
	return f
}

func (f *keyConfigFixture) write(t *testing.T, cfg any) string {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(f.dir, "keys.json")
	pkicheck.WriteFile(t, p, b)
	return p
}

func (f *keyConfigFixture) getenv(name string) string {
	if name == "PL_P12_PASSWORD" {
		return f.password
	}
	return ""
}

func TestKeyConfigPEMAndPKCS12(t *testing.T) {
	f := newKeyConfigFixture(t)
	path := f.write(t, map[string]any{
		"units":    map[string]any{"HB": map[string]any{"pkcs12": map[string]any{"file": "pl.p12", "password_env": "PL_P12_PASSWORD"}}},
		"officers": map[string]any{"1": map[string]any{"pem": map[string]any{"cert": "o1.pem", "key": filepath.Join(f.dir, "o1.key")}}},
	})
	ks, closer, err := loadKeyConfig(path, f.getenv, f.pki)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	ctx := context.Background()
	seal, err := ks.SealKey(ctx, unitPL)
	if err != nil || !bytes.Equal(seal.Chain[0].Raw, f.seal.Chain[0].Raw) || len(seal.Chain) != 2 {
		t.Fatalf("seal: %v", err)
	}
	o, err := ks.OfficerKey(ctx, testOfficer(1, "Trần Văn Nghĩa", ""))
	if err != nil || !bytes.Equal(o.Chain[0].Raw, f.officer.Chain[0].Raw) {
		t.Fatalf("officer: %v", err)
	}
	if err := CheckKeyMatchesCert(o.Signer, o.Chain[0]); err != nil {
		t.Fatal(err)
	}
	// No fallback: unlisted units and officers have no key.
	if _, err := ks.SealKey(ctx, unitHB); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Fatalf("unlisted unit: %v", err)
	}
	if _, err := ks.OfficerKey(ctx, testOfficer(2, "Lê Thị Ĩ", "")); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Fatalf("unlisted officer: %v", err)
	}
	// The register's certificate must be the configured one.
	other := testOfficer(1, "x", "")
	other.CertPEM = EncodeCertificatePEM(f.seal.Chain[0])
	if _, err := ks.OfficerKey(ctx, other); chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		t.Fatalf("other certificate in the register: %v", err)
	}
}

func TestKeyConfigFallback(t *testing.T) {
	f := newKeyConfigFixture(t)
	if _, err := f.pki.IssueSeal(unitHB); err != nil {
		t.Fatal(err)
	}
	path := f.write(t, map[string]any{
		"fallback": "dev",
		"officers": map[string]any{"1": map[string]any{"pem": map[string]any{"cert": "o1.pem", "key": "o1.key"}}},
	})
	ks, closer, err := loadKeyConfig(path, f.getenv, f.pki)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if sk, err := ks.SealKey(context.Background(), unitHB); err != nil || sk.Chain[0].Subject.SerialNumber != "TL" {
		t.Fatalf("fallback seal: %v", err)
	}
	if cs := ks.(*ConfiguredKeyStore); !cs.UsesFallback() || !cs.Configured("", 1) || cs.Configured("TL", 0) {
		t.Fatal("Configured/UsesFallback wrong")
	}
	// "fallback": "dev" without a fallback store refuses to start.
	if _, _, err := loadKeyConfig(path, f.getenv); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("no fallback store: %v", err)
	}
}

func TestKeyConfigRefusesMismatch(t *testing.T) {
	f := newKeyConfigFixture(t)
	// officer 1's key with the seal's certificate
	pkicheck.WriteFile(t, filepath.Join(f.dir, "wrong.pem"), EncodeCertificatePEM(f.seal.Chain...))
	path := f.write(t, map[string]any{
		"officers": map[string]any{"1": map[string]any{"pem": map[string]any{"cert": "wrong.pem", "key": "o1.key"}}},
	})
	_, _, err := loadKeyConfig(path, f.getenv)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if !strings.Contains(err.Error(), "officer 1") {
		t.Fatalf("error does not name the officer: %v", err)
	}
}

func TestKeyConfigSecretsNotLeaked(t *testing.T) {
	f := newKeyConfigFixture(t)
	secret := "Sup3rSecretPIN-4711"
	for name, cfg := range map[string]map[string]any{
		"wrong password": {"units": map[string]any{"HB": map[string]any{"pkcs12": map[string]any{"file": "pl.p12", "password_env": "WRONG_PW"}}}},
		"secret as file": {"units": map[string]any{"HB": map[string]any{"pkcs12": map[string]any{"file": "pl.p12", "password_file": secret}}}},
		"secret as env":  {"units": map[string]any{"HB": map[string]any{"pkcs12": map[string]any{"file": "pl.p12", "password_env": secret + "!"}}}},
		"secret inline":  {"units": map[string]any{"HB": map[string]any{"pkcs12": map[string]any{"file": "pl.p12", "password": secret}}}},
		"pin inline": {"units": map[string]any{"HB": map[string]any{"pkcs11": map[string]any{
			"module": "/nonexistent.so", "token_label": "t", "key_label": "k", "pin": secret, "cert": "o1.pem"}}}},
	} {
		path := f.write(t, cfg)
		_, _, err := loadKeyConfig(path, func(n string) string {
			if n == "WRONG_PW" {
				return secret
			}
			return ""
		})
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(s, secret) {
				t.Fatalf("%s: the secret appears in the error: %s", name, s)
			}
		}
	}
}

func TestReadKeyConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"not json":       `{"units": `,
		"unknown field":  `{"unit": {}}`,
		"bad fallback":   `{"fallback": "any"}`,
		"bad unit code":  `{"units": {"P L": {"pem": {"cert": "a", "key": "b"}}}}`,
		"bad officer id": `{"officers": {"01": {"pem": {"cert": "a", "key": "b"}}}}`,
		"two sources":    `{"officers": {"1": {"pem": {"cert": "a", "key": "b"}, "pkcs12": {"file": "c"}}}}`,
		"no source":      `{"officers": {"1": {}}}`,
		"pkcs11 no pin":  `{"officers": {"1": {"pkcs11": {"module": "m", "token_label": "t", "key_label": "k", "cert": "c"}}}}`,
		"pkcs11 bad id":  `{"officers": {"1": {"pkcs11": {"module": "m", "token_label": "t", "key_id": "zz", "pin_env": "P", "cert": "c"}}}}`,
		"two values":     `{} {}`,
		"wrong type":     `{"units": []}`,
	} {
		p := filepath.Join(dir, "k.json")
		pkicheck.WriteFile(t, p, []byte(body))
		if _, err := ReadKeyConfig(p); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	if _, err := ReadKeyConfig(filepath.Join(dir, "missing.json")); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("missing file: %v", err)
	}
}
