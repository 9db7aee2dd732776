package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/renew"
	"github.com/chungthuc/chungthuc/verify"
)

// TestEmbeddedDefaultIsLTA: with no configuration a copy carries signature time-stamps, a
// DSS with revocation data and a document time-stamp from the development TSA.
func TestEmbeddedDefaultIsLTA(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	out := filepath.Join(dir, "copy.pdf")
	if code, stdout, stderr := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", out, writeScans(t, dir, 1, 100<<10)[0]); code != 0 {
		t.Fatalf("certify: %d\n%s\n%s", code, stdout, stderr)
	}
	pdf, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pdf, []byte("/DocTimeStamp")) || !bytes.Contains(pdf, []byte("/DSS ")) || !bytes.Contains(pdf, []byte("/OCSPs")) {
		t.Fatal("the embedded default copy is not B-LTA with OCSP data")
	}
	pki, err := devpki.Open(filepath.Join(dir, "data", "pki"), devpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyPDF(t, pki, pdf)
	if !rep.Valid || len(rep.Signatures) != 3 {
		t.Fatalf("verify: %v, %d signatures: %s", rep.Valid, len(rep.Signatures), rep.SummaryEN)
	}
}

func verifyPDF(t *testing.T, pki *devpki.PKI, pdf []byte) *verify.Report {
	t.Helper()
	pool := newPool(pki)
	rep, err := verify.VerifyBytes(context.Background(), pdf, verify.Options{Roots: pool})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func newPool(pki *devpki.PKI) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(pki.Root())
	return p
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type renewOut struct {
	Checked, Due, Renewed, Failed int
	Items                         []renew.Item
}

func TestRenew(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := map[string]string{"CHUNGTHUC_DATA": data}
	scan := writeScans(t, dir, 1, 100<<10)[0]
	for i := 0; i < 2; i++ {
		if code, stdout, stderr := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c.pdf"), scan); code != 0 {
			t.Fatalf("certify: %d\n%s\n%s", code, stdout, stderr)
		}
	}
	run := func(args ...string) renewOut {
		t.Helper()
		code, stdout, stderr := cli(t, env, append([]string{"renew"}, args...)...)
		if code != 0 {
			t.Fatalf("renew %v: exit %d\n%s\n%s", args, code, stdout, stderr)
		}
		var r renewOut
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		return r
	}
	// The dev TSA certificate is valid 25 years: nothing is due within two.
	if r := run(); r.Checked != 2 || r.Due != 0 {
		t.Fatalf("default renew: %+v", r)
	}
	if r := run("--before", "30y", "--dry-run"); r.Due != 2 || r.Renewed != 0 || r.Items[0].NewKey != "" {
		t.Fatalf("dry run: %+v", r)
	}
	r1 := run("--before", "30y")
	if r1.Due != 2 || r1.Renewed != 2 {
		t.Fatalf("renew: %+v", r1)
	}
	// Renewing again extends the newest version, never the original again.
	r2 := run("--before", "30y")
	if r2.Renewed != 2 {
		t.Fatalf("second renew: %+v", r2)
	}
	pki, err := devpki.Open(filepath.Join(data, "pki"), devpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range r2.Items {
		var prev renew.Item
		for _, p := range r1.Items {
			if p.ID == it.ID {
				prev = p
			}
		}
		if it.OldSHA256 != prev.NewSHA256 || !strings.HasPrefix(it.NewKey, "renewals/") {
			t.Fatalf("item %d: second renewal did not start from the first: %+v after %+v", i, it, prev)
		}
		pdf, err := os.ReadFile(filepath.Join(data, "objects", filepath.FromSlash(it.NewKey)))
		if err != nil {
			// the fs store may lay keys out differently: fall back to a search
			pdf = findObject(t, filepath.Join(data, "objects"), it.NewSHA256)
		}
		rep := verifyPDF(t, pki, pdf)
		if !rep.Valid || len(rep.Signatures) != 5 {
			t.Fatalf("renewed copy: valid=%v, %d signatures: %s", rep.Valid, len(rep.Signatures), rep.SummaryEN)
		}
		// The renewed file is known to the register by its own hash.
		p := filepath.Join(t.TempDir(), "renewed.pdf")
		os.WriteFile(p, pdf, 0o644)
		if code, stdout, _ := cli(t, env, "verify", p); code != 0 || !strings.Contains(stdout, `"status": "certified"`) {
			t.Fatalf("verify of a renewed copy with the register: exit %d\n%s", code, stdout)
		}
	}
	// The originals are untouched and still what the register says; fsck leaves renewals alone.
	code, stdout, _ := cli(t, env, "fsck", "--grace", "0s")
	if code != 0 || strings.Contains(stdout, "renewals/") {
		t.Fatalf("fsck: %d\n%s", code, stdout)
	}
	code, stdout, _ = cli(t, env, "audit", "verify")
	if code != 0 || !strings.Contains(stdout, `"intact": true`) {
		t.Fatalf("audit verify: %d %s", code, stdout)
	}
	if code, _, _ := cli(t, env, "renew", "--before", "soon"); code != 2 {
		t.Fatalf("bad --before: exit %d", code)
	}
}

func findObject(t *testing.T, root, sha string) []byte {
	t.Helper()
	var found []byte
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(p, sha) {
			found, _ = os.ReadFile(p)
		}
		return nil
	})
	if found == nil {
		t.Fatalf("object %s not found under %s", sha, root)
	}
	return found
}

func TestPKIRevoke(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := map[string]string{"CHUNGTHUC_DATA": data}
	code, stdout, stderr := cli(t, env, "pki", "revoke", "--officer", "1", "--reason", "1")
	if code != 0 || !strings.Contains(stdout, `"serial"`) {
		t.Fatalf("pki revoke: %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, stderr = cli(t, env, "pki", "revoke", "--officer", "1"); code != 1 || !strings.Contains(stderr, "already revoked") {
		t.Fatalf("second revoke: %d %s", code, stderr)
	}
	if code, _, _ = cli(t, env, "pki", "revoke"); code != 2 {
		t.Fatalf("no --officer: exit %d", code)
	}
	if code, _, _ = cli(t, env, "pki", "revoke", "--officer", "99"); code != 1 {
		t.Fatalf("unknown officer: exit %d", code)
	}
	pki, err := devpki.Open(filepath.Join(data, "pki"), devpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The revoked key signs nothing more.
	if _, err := pki.OfficerKey(context.Background(), &chungthuc.Officer{ID: 1}); chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN {
		t.Fatalf("OfficerKey of a revoked certificate: %v", err)
	}
	pemBytes, err := os.ReadFile(filepath.Join(data, "pki", "officers", "1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := certs.ParseCertificatePEM(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	sk := &chungthuc.SigningKey{Chain: []*x509.Certificate{leaf[0], pki.Root()}}
	rd, err := pki.Revocation(context.Background(), sk.Chain)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponseForCert(rd.OCSP[0], sk.Chain[0], pki.Root())
	if err != nil || resp.Status != ocsp.Revoked || resp.RevocationReason != ocsp.KeyCompromise {
		t.Fatalf("OCSP after pki revoke: %v %+v", err, resp)
	}
	code, stdout, _ = cli(t, env, "audit", "verify")
	if code != 0 {
		t.Fatalf("audit: %s", stdout)
	}
}

func TestLTVConfig(t *testing.T) {
	base := map[string]string{"CHUNGTHUC_DATA": t.TempDir()}
	with := func(kv ...string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for name, env := range map[string]func(string) string{
		"bad level":        with("CHUNGTHUC_PADES_LEVEL", "B-X"),
		"tsa url not http": with("CHUNGTHUC_TSA_URL", "ftp://tsa"),
		"tsa creds in url": with("CHUNGTHUC_TSA_URL", "https://u:p@tsa.example"),
		"user without url": with("CHUNGTHUC_TSA_USERNAME", "u"),
		"password no user": with("CHUNGTHUC_TSA_URL", "https://tsa.example", "CHUNGTHUC_TSA_PASSWORD", "p"),
		"creds over http":  with("CHUNGTHUC_TSA_URL", "http://tsa.example", "CHUNGTHUC_TSA_USERNAME", "u", "CHUNGTHUC_TSA_PASSWORD", "p"),
	} {
		if _, err := LoadConfig(env); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), ":p@") {
			t.Errorf("%s: credentials in the error", name)
		}
	}
	if _, err := LoadConfig(with("CHUNGTHUC_TSA_URL", "http://tsa.example")); err != nil {
		t.Fatalf("an http TSA without credentials: %v", err)
	}
	if _, err := LoadConfig(with("CHUNGTHUC_TSA_URL", "https://tsa.example", "CHUNGTHUC_TSA_USERNAME", "u", "CHUNGTHUC_TSA_PASSWORD", "p")); err != nil {
		t.Fatalf("credentials over https: %v", err)
	}
	cfg, err := LoadConfig(with("CHUNGTHUC_PADES_LEVEL", "b-lt"))
	if err != nil || cfg.PAdESLevel != chungthuc.PAdESLT {
		t.Fatalf("lower-case level: %v %v", err, cfg)
	}

	// A key file without the dev fallback and without a TSA: B-B by default, B-T refused.
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.json")
	os.WriteFile(keys, []byte(`{"units": {}, "officers": {}}`), 0o600)
	cfg, err = LoadConfig(with("CHUNGTHUC_KEYS_FILE", keys, "CHUNGTHUC_DATA", filepath.Join(dir, "d1")))
	if err != nil {
		t.Fatal(err)
	}
	// Production keys need a deliberate log key: none configured stops start-up, saying how.
	if _, err := openApp(context.Background(), cfg, discardLogger()); chungthuc.ErrorCode(err) != chungthuc.EINVALID ||
		!strings.Contains(err.Error(), "no key signs the public log") || !strings.Contains(err.Error(), "CHUNGTHUC_LOG_KEY_FILE") {
		t.Fatalf("production keys without a log key: %v", err)
	}
	logKey := filepath.Join(dir, "log.key")
	if code, out, stderr := cli(t, map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "d0")}, "log", "keygen", "--origin", "ct.example.vn/log", "--out", logKey); code != 0 || !strings.HasPrefix(out, "ct.example.vn/log+") {
		t.Fatalf("log keygen: %d %s %s", code, out, stderr)
	}
	if st, err := os.Stat(logKey); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("log key file: %v %v", st, err)
	}
	if code, _, stderr := cli(t, map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "d0")}, "log", "keygen", "--out", logKey); code != 1 || !strings.Contains(stderr, "never overwritten") {
		t.Fatalf("log keygen over an existing key: %d %s", code, stderr)
	}
	if cfg, err = LoadConfig(with("CHUNGTHUC_KEYS_FILE", keys, "CHUNGTHUC_DATA", filepath.Join(dir, "d1"), "CHUNGTHUC_LOG_KEY_FILE", logKey)); err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	if a.level != chungthuc.PAdESB || a.ts != nil || a.rev == nil {
		t.Fatalf("key file without TSA: level %s, ts %v", a.level, a.ts)
	}
	if _, err := a.keys.SealKey(context.Background(), &chungthuc.Unit{Code: "HB"}); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Fatalf("no fallback, yet a seal: %v", err)
	}
	a.Close()
	cfg.PAdESLevel = chungthuc.PAdEST
	if _, err := openApp(context.Background(), cfg, discardLogger()); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("B-T without TSA: %v", err)
	}
	// With the dev fallback the dev TSA is used: B-LTA.
	os.WriteFile(keys, []byte(`{"fallback": "dev"}`), 0o600)
	cfg.PAdESLevel = ""
	a, err = openApp(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	if a.level != chungthuc.PAdESLTA || a.ts == nil {
		t.Fatalf("dev fallback: level %s", a.level)
	}
	a.Close()
}

func TestRenewDue(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	if code, _, stderr := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c.pdf"), writeScans(t, dir, 1, 50<<10)[0]); code != 0 {
		t.Fatal(stderr)
	}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	n, err := a.renewer().Due(context.Background(), 50*365*24*time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("renewDue: %d, %v", n, err)
	}
	if n, err = a.renewer().Due(context.Background(), 0); err != nil || n != 0 {
		t.Fatalf("renewDue with nothing due: %d, %v", n, err)
	}
	a.ts = nil
	if _, err := a.renewer().Due(context.Background(), time.Hour); chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		t.Fatalf("renewDue without TSA: %v", err)
	}
}
