package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/csc"
)

// startCSCDev runs `csc-dev` for one credential (the registered certificate, base64 DER,
// and the device's key file) and returns its base URL.
func startCSCDev(t *testing.T, dir, id, certB64, keyPath string) string {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(certB64)
	if err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(dir, id+".pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return runCSCDev(t, "--addr", "127.0.0.1:0", "--client-secret", "s3cret", "--otp", "123456",
		"--credential", id+"="+certPath+":"+keyPath)
}

// runCSCDev runs cmdCSCDev with args until the test ends and returns its base URL.
func runCSCDev(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- cmdCSCDev(ctx, args, pw)
		_ = pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("csc-dev: %v", err)
		}
	})
	return strings.TrimSpace(strings.TrimPrefix(line, "csc-dev listening on "))
}

// cscSign signs digest through csc-dev with the real client: a wrong one-time code first
// (refused: EFORBIDDEN), then the right one.
func cscSign(t *testing.T, base, id string, digest []byte) []byte {
	t.Helper()
	ctx := context.Background()
	c, err := csc.New(csc.Config{BaseURL: base, ClientID: "chungthuc", ClientSecret: "s3cret", AllowLoopback: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := c.CredentialInfo(ctx, tok, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Authorize(ctx, tok, id, [][]byte{digest}, map[string]string{"OTP": "000000"}); chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN {
		t.Fatalf("wrong code: %v", err)
	}
	sad, _, err := c.Authorize(ctx, tok, id, [][]byte{digest}, map[string]string{"OTP": "123456"})
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := c.SignHash(ctx, tok, id, sad, csc.SignAlgoFor(cr), [][]byte{digest})
	if err != nil {
		t.Fatal(err)
	}
	return sigs[0]
}

// TestExternalSigningCSC: the external signing flow of the JSON API with both signatures
// made by the development CSC server through the real CSC client; a wrong authorisation
// code leaves the entry waiting; the issued copy verifies with our verifier.
func TestExternalSigningCSC(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data"), "CHUNGTHUC_EXTERNAL_SIGNING_TIMEOUT": "1h"}
	openssl := opensslRunner(t)
	runOut := cliOK(t, env)
	run := func(args ...string) string { t.Helper(); return strings.TrimSpace(runOut(args...)) }
	path := func(name string) string { return filepath.Join(dir, name) }
	deviceKeys(openssl, path)
	run("officer", "cert", "--id", "1", "--csr", path("officer.csr"))
	run("unit", "cert", "--unit", "HB", "--csr", path("seal.csr"))
	clerkID := run("officer", "add", "--unit", "HB", "--name", "Phạm Thị Thư", "--title", "VĂN THƯ", "--role", "clerk")
	officerTok := run("token", "create", "--unit", "HB", "--officer", "1")
	clerkTok := run("token", "create", "--unit", "HB", "--officer", clerkID, "--name", "văn thư")

	base, _, stop := startServeStop(t, env)
	c := &extClient{t: t, base: base}
	st, m := c.start(officerTok, testScan(t))
	if st != 202 || m["step"] != "officer_signature" {
		t.Fatalf("start: %d %v", st, m)
	}
	id := int64(m["id"].(float64))
	digest := digestOf(t, m)
	officerCSC := startCSCDev(t, dir, "officer-1", m["to_sign"].(map[string]any)["certificate"].(string), path("officer.key"))
	sig := cscSign(t, officerCSC, "officer-1", digest) // the wrong code is refused inside
	if status, step := c.state(officerTok, id); status != "pending" || step != "officer_signature" {
		t.Fatalf("after the refused code: %s %s", status, step)
	}
	st, m = c.sign(officerTok, id, sig)
	if st != 202 || m["step"] != "seal" {
		t.Fatalf("officer's signature: %d %v", st, m)
	}
	sealCSC := startCSCDev(t, dir, "seal-HB", m["to_sign"].(map[string]any)["certificate"].(string), path("seal.key"))
	st, m = c.sign(clerkTok, id, cscSign(t, sealCSC, "seal-HB", digestOf(t, m)))
	if st != 201 || m["status"] != "issued" {
		t.Fatalf("seal: %d %v", st, m)
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/certifications/"+strconv.FormatInt(id, 10)+"/pdf", nil)
	req.Header.Set("Authorization", "Bearer "+officerTok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	copyPath := path("copy.pdf")
	if err != nil || res.StatusCode != 200 || os.WriteFile(copyPath, pdf, 0o644) != nil {
		t.Fatalf("download: %d %v", res.StatusCode, err)
	}
	code, out, _ := cli(t, env, "verify", copyPath)
	var rep struct {
		Valid      bool `json:"valid"`
		Signatures []struct {
			Kind, Indication string
			Trusted          bool
		} `json:"signatures"`
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || !rep.Valid || len(rep.Signatures) < 2 {
		t.Fatalf("verify: exit %d %v\n%s", code, err, out)
	}
	for _, s := range rep.Signatures {
		if s.Indication != "TOTAL_PASSED" || !s.Trusted {
			t.Fatalf("signature %s: %s trusted %v", s.Kind, s.Indication, s.Trusted)
		}
	}

	// An expired wait, through the same provider: restarted with a 2 s deadline, entry 2 is
	// signed by the provider too late — the check loop has voided it with its reason, the
	// late signature is refused, the number stays in the register as void and the next
	// request takes the next number.
	stop()
	env["CHUNGTHUC_EXTERNAL_SIGNING_TIMEOUT"] = "2s"
	env["CHUNGTHUC_REPAIR_INTERVAL"] = "200ms"
	base, _, _ = startServeStop(t, env)
	c = &extClient{t: t, base: base}
	st, m = c.start(officerTok, testScan(t))
	if st != 202 || m["number"] != float64(2) {
		t.Fatalf("second start: %d %v", st, m)
	}
	id2 := int64(m["id"].(float64))
	digest2 := digestOf(t, m)
	var e2 map[string]any
	for i := 0; i < 300; i++ {
		if _, e2 = c.call("GET", "/api/v1/certifications/"+strconv.FormatInt(id2, 10), officerTok, "", nil); e2["status"] == "void" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if e2["status"] != "void" || !strings.Contains(e2["void_reason"].(string), "Hết thời hạn chờ chữ ký số") || e2["number"] != float64(2) {
		t.Fatalf("expired entry: %v", e2)
	}
	late := cscSign(t, officerCSC, "officer-1", digest2)
	if st, m := c.sign(officerTok, id2, late); st != 409 || reasonOf(m) != "not_waiting" {
		t.Fatalf("a signature after the deadline: %d %v", st, m)
	}
	if st, m = c.start(officerTok, testScan(t)); st != 202 || m["number"] != float64(3) {
		t.Fatalf("the number after the void one: %d %v", st, m)
	}
}
