package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestOfficerCert registers the certificates of officers' own keys (made by openssl, never
// seen by the service): one issued by the development PKI from a CSR, one issued "by a
// CA" (openssl x509 -req with the development root, which the trust pool holds). After
// registration the service's own key for the officer is refused.
func TestOfficerCert(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	openssl := opensslRunner(t)
	key, csr := filepath.Join(dir, "officer.key"), filepath.Join(dir, "officer.csr")
	openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
	openssl("req", "-new", "-key", key, "-subj", "/CN=Claimed by the requester", "-out", csr)

	if code, stdout, stderr := cli(t, env, "officer", "add", "--unit", "HB", "--name", "Lê Thị Ĩ", "--title", "CHỦ TỊCH"); code != 0 || strings.TrimSpace(stdout) != "2" {
		t.Fatalf("officer add: exit %d %s%s", code, stdout, stderr)
	}
	code, stdout, stderr := cli(t, env, "officer", "cert", "--id", "2", "--csr", csr)
	var got struct {
		ID      int64  `json:"id"`
		Subject string `json:"subject"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || got.ID != 2 || !strings.Contains(got.Subject, "CN=Lê Thị Ĩ") || strings.Contains(got.Subject, "Claimed") {
		t.Fatalf("officer cert --csr: exit %d %q %s", code, stdout, stderr)
	}
	// The service's own key for officer 2 no longer matches the register: certify refuses.
	scans := writeScans(t, dir, 1, 100<<10)
	if code, _, stderr := cli(t, env, "certify", "--unit", "HB", "--officer", "2", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Văn An", "--out", filepath.Join(dir, "c.pdf"), scans[0]); code != 1 || !strings.Contains(stderr, "key store") {
		t.Fatalf("certify with the server's key after registering the device's certificate succeeded\n%s", stderr)
	}

	// A CA-issued certificate (the dev root stands in for the CA): accepted for the officer
	// it names, refused for another officer and when its issuer is not trusted.
	pkiDir := filepath.Join(env["CHUNGTHUC_DATA"], "pki")
	ext := filepath.Join(dir, "ext.cnf")
	os.WriteFile(ext, []byte("keyUsage=critical,digitalSignature,nonRepudiation\nextendedKeyUsage=emailProtection\n"), 0o600)
	caCSR, caCert := filepath.Join(dir, "ca.csr"), filepath.Join(dir, "officer.pem")
	openssl("req", "-new", "-key", key, "-utf8", "-subj", "/C=VN/O=Phường Hòa Bình/CN=Lê Thị Ĩ", "-out", caCSR)
	openssl("x509", "-req", "-in", caCSR, "-CA", filepath.Join(pkiDir, "root.pem"), "-CAkey", filepath.Join(pkiDir, "root.key"),
		"-CAcreateserial", "-days", "30", "-extfile", ext, "-out", caCert)
	if code, stdout, stderr := cli(t, env, "officer", "cert", "--id", "2", "--cert", caCert); code != 0 || !strings.Contains(stdout, "Lê Thị Ĩ") {
		t.Fatalf("officer cert --cert: exit %d %s%s", code, stdout, stderr)
	}
	if code, _, stderr := cli(t, env, "officer", "cert", "--id", "1", "--cert", caCert); code != 1 || !strings.Contains(stderr, "Lê Thị Ĩ") {
		t.Fatalf("another officer's certificate: exit %d %s", code, stderr)
	}
	selfSigned := filepath.Join(dir, "self.pem")
	openssl("req", "-x509", "-new", "-key", key, "-utf8", "-subj", "/CN=Lê Thị Ĩ", "-days", "30", "-addext", "keyUsage=digitalSignature", "-addext", "basicConstraints=CA:FALSE", "-out", selfSigned)
	if code, _, stderr := cli(t, env, "officer", "cert", "--id", "2", "--cert", selfSigned); code != 1 || !strings.Contains(stderr, "not trusted") {
		t.Fatalf("untrusted certificate: exit %d %s", code, stderr)
	}
	// Bad command lines and files.
	for _, args := range [][]string{
		{"officer", "cert", "--id", "2"},
		{"officer", "cert", "--id", "2", "--csr", csr, "--cert", caCert},
		{"officer", "cert", "--csr", csr},
	} {
		if code, _, _ := cli(t, env, args...); code != 2 {
			t.Fatalf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, stderr := cli(t, env, "officer", "cert", "--id", "2", "--csr", caCert); code != 1 || !strings.Contains(stderr, "certificate request") {
		t.Fatalf("a certificate given as a CSR: exit %d %s", code, stderr)
	}
	if code, _, _ := cli(t, env, "officer", "cert", "--id", "99", "--csr", csr); code != 1 {
		t.Fatalf("unknown officer: exit %d", code)
	}
}

// opensslRunner returns a function that runs openssl with its arguments and fails the test
// when it fails; the test is skipped when openssl is not installed.
func opensslRunner(t *testing.T) func(args ...string) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	return func(args ...string) {
		t.Helper()
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
}
