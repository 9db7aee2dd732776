package devpki

import (
	"crypto/x509/pkix"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// pkiTestNow is the clock of the tests.
var pkiTestNow = time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)

func openTestPKI(t testing.TB, opt Options) *PKI {
	t.Helper()
	if opt.Now == nil {
		opt.Now = func() time.Time { return pkiTestNow }
	}
	p, err := Open(filepath.Join(t.TempDir(), "pki"), opt)
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

// lookPathOrSkip finds a program; the error explains how to install it.
func lookPathOrSkip(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not installed (apt-get install -y poppler-utils); skipping the independent check", name)
	}
	return path, nil
}

// titleOf returns the title attribute (2.5.4.12) of a certificate subject, "" if absent.
func titleOf(subject pkix.Name) string {
	for _, a := range subject.Names {
		if a.Type.Equal(OIDTitle) {
			if s, ok := a.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// ktPIN is the PIN of the test tokens; no error may repeat it (pkicheck.WantCodeWithout).
const ktPIN = "pin-7f3a9c-secret"
