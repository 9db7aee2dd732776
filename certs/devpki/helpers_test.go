package devpki

import (
	"context"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// wantCode fails unless err carries the domain error code.
func wantErrorCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := chungthuc.ErrorCode(err); got != code {
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
	var ce *chungthuc.Error
	if !errors.As(err, &ce) || ce.Message == "" {
		t.Fatalf("error %v has no user message", err)
	}
}

// tool returns the path of an external program or skips the test, saying why.
func needTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install -y %s); skipping the independent check", name, map[string]string{"openssl": "openssl", "certutil": "libnss3-tools"}[name])
	}
	return path
}

// run runs a program and returns its combined output, failing the test on error.
func runTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeTestFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
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
