package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/translog"
)

// productionKeys writes a key configuration of PEM keys issued by a CA of their own (an
// offline CA standing in for a real one: its certificates name no OCSP or CRL) for the seal
// of unit HB and officer 1, each certificate file holding the chain up to the CA's root.
func productionKeys(t *testing.T, dir string) (keysFile string, root []byte) {
	t.Helper()
	ca, err := devpki.Open(filepath.Join(dir, "ca"), devpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	unit := &chungthuc.Unit{Code: demoUnit.Code, Name: demoUnit.Name, Place: demoUnit.Place}
	seal, err := ca.IssueSeal(unit)
	if err != nil {
		t.Fatal(err)
	}
	officer := demoOfficer
	officer.ID = 1
	off, _, err := ca.IssueOfficer(&officer, unit)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sealChain := write("seal-chain.pem", certs.EncodeCertificatePEM(seal.Chain[0], ca.Root()))
	offChain := write("officer1-chain.pem", certs.EncodeCertificatePEM(off.Chain[0], ca.Root()))
	cfg := map[string]any{
		"units":    map[string]any{"HB": map[string]any{"pem": map[string]string{"cert": sealChain, "key": filepath.Join(dir, "ca", "units", "HB", "seal.key")}}},
		"officers": map[string]any{"1": map[string]any{"pem": map[string]string{"cert": offChain, "key": filepath.Join(dir, "ca", "officers", "1.key")}}},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return write("keys.json", b), ca.RootPEM()
}

// TestProductionKeyMode: with a key configuration (and no "fallback": "dev") a fresh data
// directory gets no development PKI, /pki/* serves nothing, the service verifies the copies
// it signs as valid (the pool holds the configured chains' roots, with no
// CHUNGTHUC_TRUST_ANCHORS), and it does not trust the development root.
func TestProductionKeyMode(t *testing.T) {
	dir := t.TempDir()
	keys, _ := productionKeys(t, dir)
	s := newService(t, "embedded", map[string]string{"CHUNGTHUC_KEYS_FILE": keys, "CHUNGTHUC_LOG_KEY_FILE": testLogKey(t, dir)})
	data := s.env["CHUNGTHUC_DATA"]

	if _, err := os.Stat(filepath.Join(data, "pki")); !os.IsNotExist(err) {
		t.Fatalf("production key mode created a development PKI: %v", err)
	}
	for _, req := range []struct{ method, path string }{
		{"POST", "/pki/tsa"}, {"GET", "/pki/root.pem"}, {"GET", "/pki/root.crl"}, {"POST", "/pki/ocsp"},
	} {
		r, _ := http.NewRequest(req.method, s.base+req.path, strings.NewReader("x"))
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("%s %s: %d, want 404", req.method, req.path, res.StatusCode)
		}
	}

	st, m := s.apiCertify(testScan(t), "Giấy khai sinh")
	if st != 201 {
		t.Fatalf("certify with production keys: %d %v", st, m)
	}
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/certifications/%d/pdf", s.base, int64(m["id"].(float64))), nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("download: %d", res.StatusCode)
	}
	if bytes.Contains(pdf, []byte("/DocTimeStamp")) {
		t.Fatal("a copy without a TSA carries a document time-stamp: the development TSA was used")
	}
	rep := verifyUpload(t, s.base, pdf)
	if rep.Valid != true || rep.Register.Status != "certified" {
		t.Fatalf("the service does not verify its own fresh copy: valid=%v register=%s\n%s", rep.Valid, rep.Register.Status, rep.SummaryEN)
	}

	// A copy signed by a development PKI elsewhere is not trusted here.
	other := t.TempDir()
	devCopy := filepath.Join(other, "dev.pdf")
	if code, out, errs := cli(t, map[string]string{"CHUNGTHUC_DATA": filepath.Join(other, "data")}, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung",
		"--out", devCopy, writeScans(t, other, 1, 50<<10)[0]); code != 0 {
		t.Fatalf("dev certify: %d %s %s", code, out, errs)
	}
	devPDF, err := os.ReadFile(devCopy)
	if err != nil {
		t.Fatal(err)
	}
	rep = verifyUpload(t, s.base, devPDF)
	if rep.Valid || len(rep.Signatures) == 0 || rep.Signatures[0].SubIndication != "NO_CERTIFICATE_CHAIN_FOUND" {
		t.Fatalf("the production service trusts a development root: %+v", rep)
	}

	// The CLI commands of the development PKI say there is none.
	if code, _, errs := cli(t, s.env, "pki", "export-root"); code != 1 || !strings.Contains(errs, "no development PKI") {
		t.Fatalf("pki export-root: %d %s", code, errs)
	}
	if code, _, errs := cli(t, s.env, "pki", "revoke", "--officer", "1"); code != 1 || !strings.Contains(errs, "not issued by the development PKI") {
		t.Fatalf("pki revoke: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(data, "pki")); !os.IsNotExist(err) {
		t.Fatalf("a CLI command created a development PKI: %v", err)
	}
}

// TestDevFallbackIsExplicit: "fallback": "dev" in the key configuration asks for the
// development PKI: it is created and serves /pki/root.pem.
func TestDevFallbackIsExplicit(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(keys, []byte(`{"fallback": "dev"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newService(t, "embedded", map[string]string{"CHUNGTHUC_KEYS_FILE": keys})
	if _, err := os.Stat(filepath.Join(s.env["CHUNGTHUC_DATA"], "pki", "root.pem")); err != nil {
		t.Fatalf("fallback dev: no development PKI: %v", err)
	}
	res, err := http.Get(s.base + "/pki/root.pem")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/pki/root.pem: %d", res.StatusCode)
	}
}

// TestTrustAnchorsMustLoad: a trust anchor file that cannot be loaded stops start-up.
func TestTrustAnchorsMustLoad(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "anchors.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"missing": filepath.Join(dir, "nope.pem"), "garbage": bad} {
		env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, name), "CHUNGTHUC_TRUST_ANCHORS": path}
		if code, _, errs := cli(t, env, "fsck"); code != 1 || !strings.Contains(errs, path) {
			t.Errorf("%s anchors: exit %d: %s", name, code, errs)
		}
	}
}

type uploadReport struct {
	Valid      bool   `json:"valid"`
	SummaryEN  string `json:"summary_en"`
	Signatures []struct {
		SubIndication string `json:"sub_indication"`
	} `json:"signatures"`
	Register struct {
		Status string `json:"status"`
	} `json:"register"`
}

// verifyUpload sends pdf to the service's verification API.
func verifyUpload(t *testing.T, base string, pdf []byte) uploadReport {
	t.Helper()
	res, err := http.Post(base+"/api/v1/verify", "application/pdf", bytes.NewReader(pdf))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var rep uploadReport
	if err := json.NewDecoder(res.Body).Decode(&rep); err != nil || res.StatusCode != 200 {
		t.Fatalf("verify: %d %v", res.StatusCode, err)
	}
	return rep
}

// testLogKey writes a fresh public-log key (production key mode needs one) and returns its
// path.
func testLogKey(t *testing.T, dir string) string {
	t.Helper()
	skey, _, err := translog.GenerateKey("ct.example.vn/log")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "log.key")
	if err := os.WriteFile(p, []byte(skey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
