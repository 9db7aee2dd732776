//go:build cgo

package certs

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
)

// TestKeyConfigPKCS11 opens a seal key on a SoftHSM token through a key configuration,
// with the PIN from a file and from the environment, and refuses a certificate of another
// key and a wrong PIN without showing the PIN.
func TestKeyConfigPKCS11(t *testing.T) {
	tok := ktNewToken(t, "chungthuc-keys")
	ca := pkicheck.NewCA(t, "Test CA")
	pub := tok.genEC(t, "seal-pl", []byte{0x0a}, elliptic.P256())
	other := tok.genEC(t, "other", []byte{0x0b}, elliptic.P256())
	dir := t.TempDir()
	pkicheck.WriteFile(t, filepath.Join(dir, "seal.pem"), EncodeCertificatePEM(ca.Issue(t, pub, "Phường Hòa Bình", 10), ca.Cert))
	pkicheck.WriteFile(t, filepath.Join(dir, "other.pem"), EncodeCertificatePEM(ca.Issue(t, other, "Khác", 11), ca.Cert))
	pkicheck.WriteFile(t, filepath.Join(dir, "pin"), []byte(ktPIN+"\n"))
	// Login state is shared by the sessions of the process: log the fixture out, so that
	// the PIN of the configuration is what gets checked.
	if err := tok.mod.ctx.Logout(tok.sh); err != nil {
		t.Fatal(err)
	}

	write := func(entry map[string]any) string {
		b, _ := json.Marshal(map[string]any{"units": map[string]any{"HB": map[string]any{"pkcs11": entry}}})
		p := filepath.Join(dir, "keys.json")
		pkicheck.WriteFile(t, p, b)
		return p
	}
	base := func() map[string]any {
		return map[string]any{"module": tok.module, "token_label": tok.label, "key_label": "seal-pl", "cert": "seal.pem"}
	}

	checkNoPIN := func(what string, err error) {
		t.Helper()
		for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(s, ktPIN) {
				t.Fatalf("%s: the PIN appears in the error: %s", what, s)
			}
		}
	}
	// A wrong PIN (first: a successful login would be shared by later sessions).
	e := base()
	e["pin_env"] = "PL_PIN"
	_, _, err := loadKeyConfig(write(e), func(string) string { return ktPIN + "-wrong" })
	pkicheck.WantErrorCode(t, err, chungthuc.EUNAUTHORIZED)
	checkNoPIN("wrong PIN", err)

	e = base()
	e["pin_file"] = "pin"
	ks, closer, err := loadKeyConfig(write(e), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	sk, err := ks.SealKey(context.Background(), unitPL)
	if err != nil || len(sk.Chain) != 2 {
		t.Fatalf("seal: %v", err)
	}
	if err := CheckKeyMatchesCert(sk.Signer, sk.Chain[0]); err != nil {
		t.Fatal(err)
	}
	closer.Close()

	e = base()
	delete(e, "key_label")
	e["key_id"] = "0a"
	e["pin_env"] = "PL_PIN"
	ks, closer, err = loadKeyConfig(write(e), func(n string) string {
		if n == "PL_PIN" {
			return ktPIN
		}
		return ""
	})
	if err != nil {
		t.Fatalf("by key id: %v", err)
	}
	closer.Close()
	_ = ks

	// The certificate of another key on the same token: refused at load.
	e = base()
	e["cert"] = "other.pem"
	e["pin_file"] = "pin"
	_, _, err = loadKeyConfig(write(e), func(string) string { return "" })
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	checkNoPIN("mismatch", err)

}
