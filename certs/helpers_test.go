package certs

import (
	"crypto"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs/devpki"
)

// pkiTestNow is the clock of the tests.
var pkiTestNow = time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)

func openTestPKI(t testing.TB, opt devpki.Options) *devpki.PKI {
	t.Helper()
	if opt.Now == nil {
		opt.Now = func() time.Time { return pkiTestNow }
	}
	p, err := devpki.Open(filepath.Join(t.TempDir(), "pki"), opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	unitPL = &chungthuc.Unit{ID: 1, Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	unitHB = &chungthuc.Unit{ID: 2, Code: "TL", Name: "Xã Tân Lạc", Place: "Tân Lạc"}
)

func testOfficer(id int64, name, title string) *chungthuc.Officer {
	return &chungthuc.Officer{ID: id, UnitID: 1, Name: name, Title: title, Role: chungthuc.RoleOfficer, Active: true}
}

// rawKey reads a key file as the concrete private key, for building test fixtures.
func rawKey(t testing.TB, keyPath string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := parsePrivateKeyPEM(data, keyPath, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loadKeyConfig reads the key configuration at path and opens its keys with getenv and
// the first fallback store, if any, as the service does.
func loadKeyConfig(path string, getenv func(string) string, fallback ...chungthuc.KeyStore) (chungthuc.KeyStore, io.Closer, error) {
	c, err := ReadKeyConfig(path)
	if err != nil {
		return nil, nil, err
	}
	var fb chungthuc.KeyStore
	if len(fallback) > 0 {
		fb = fallback[0]
	}
	s, err := c.Open(getenv, fb)
	if err != nil {
		return nil, nil, err
	}
	return s, s, nil
}

// ktPIN is the PIN of the test tokens; no error may repeat it (pkicheck.WantCodeWithout).
const ktPIN = "pin-7f3a9c-secret"
