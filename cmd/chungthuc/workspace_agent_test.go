package main

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startAgent builds cmd/chungthuc-agent and runs it on a free loopback port for origin,
// signing with key label "officer" of a SoftHSM2 token into which keyPath (PKCS#8 PEM) is
// imported, with certificate certPath; it returns the agent's base URL. Skips without
// SoftHSM2.
func startAgent(t *testing.T, dir, origin, keyPath, certPath string) string {
	t.Helper()
	var module string
	for _, m := range []string{"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"} {
		if _, err := os.Stat(m); err == nil {
			module = m
		}
	}
	if _, err := exec.LookPath("softhsm2-util"); err != nil || module == "" {
		t.Skip("SoftHSM2 not installed")
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.Mkdir(filepath.Join(dir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "SOFTHSM2_CONF="+conf)
	run := func(name string, args ...string) {
		t.Helper()
		c := exec.Command(name, args...)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("softhsm2-util", "--init-token", "--free", "--label", "officer-token", "--pin", "4321", "--so-pin", "87654321")
	run("softhsm2-util", "--import", keyPath, "--token", "officer-token", "--label", "officer", "--id", "01", "--pin", "4321")
	bin := filepath.Join(dir, "chungthuc-agent")
	run("go", "build", "-o", bin, "github.com/chungthuc/chungthuc/cmd/chungthuc-agent")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--addr", addr, "--origin", origin, "--module", module, "--token", "officer-token", "--key", "officer",
		"--cert", certPath, "--confirm=false")
	cmd.Env = append(env, "CHUNGTHUC_AGENT_PIN=4321")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stderr).ReadString('\n')
	if err != nil || !strings.Contains(line, "listening on http://"+addr) {
		t.Fatalf("agent did not start: %q %v", line, err)
	}
	return "http://" + addr
}

// TestBrowserSigningAgent drives headless Chromium through the local-token path: the
// officer certifies choosing "my device", finds the copy in "Chờ ký", and the signing
// page's script has the reference agent (cmd/chungthuc-agent, the key on a SoftHSM2 token)
// sign the digest and posts the value; the unit has no seal device, so the server's seal
// follows and the receipt is shown with the access code. Every page passes axe-core when
// it is available; screenshots are saved ($CHUNGTHUC_SCREENSHOTS or the test's directory).
func TestBrowserSigningAgent(t *testing.T) {
	if _, err := exec.LookPath("chromedriver"); err != nil {
		t.Skip("chromium/chromedriver not installed: browser test skipped")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := map[string]string{"CHUNGTHUC_DATA": data, "CHUNGTHUC_EXTERNAL_SIGNING_TIMEOUT": "1h"}
	run := cliOK(t, env)
	path := func(name string) string { return filepath.Join(dir, name) }
	deviceKeys(opensslRunner(t), path)
	var cert struct {
		PEM string `json:"certificate_pem"`
	}
	if err := json.Unmarshal([]byte(run("officer", "cert", "--id", "1", "--csr", path("officer.csr"))), &cert); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path("officer.pem"), []byte(cert.PEM), 0o600); err != nil {
		t.Fatal(err)
	}
	// The service's address is fixed first: the agent answers only its origin.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	agent := startAgent(t, dir, "http://"+addr, path("officer.key"), path("officer.pem"))
	env["CHUNGTHUC_AGENT_URL"] = agent
	base, _, _ := startServeAt(t, env, addr)
	password := demoPassword(t, base, data)
	b := loggedIn(t, dir, base, "canbo", password)
	shots := os.Getenv("CHUNGTHUC_SCREENSHOTS")
	if shots == "" {
		shots = dir
	}
	axe := axeSource(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string) {
		t.Helper()
		must(b.Screenshot(filepath.Join(shots, name+".png")))
		if axe != "" {
			axeCheck(t, b, axe, name)
		}
	}
	scans := writeScans(t, dir, 1, 200<<10)
	must(b.Navigate(base + "/app/certify?lang=vi"))
	must(b.Type("#files", scans[0]))
	_, err = b.Find("#file-list li")
	must(err)
	must(b.Type("#document", "Giấy khai sinh"))
	must(b.Type("#requester", "Nguyễn Thị Hồng Nhung"))
	must(b.Click(`input[name=signing][value=external]`))
	check("s1-certify-form-device")
	must(b.Click("#certify-button"))
	_, err = b.Find("#agent-sign")
	must(err)
	u, _ := b.URL()
	id := regexp.MustCompile(`/app/c/(\d+)/sign$`).FindStringSubmatch(u)
	if id == nil {
		t.Fatalf("after certifying: %s", u)
	}
	check("s2-signing-page")
	must(b.Navigate(base + "/app/"))
	if n, _ := b.Text("#tile-to-sign .v"); n != "1" {
		t.Fatalf("dashboard: %q waiting", n)
	}
	check("s3-dashboard-to-sign")
	must(b.Navigate(base + "/app/to-sign"))
	if row, _ := b.Text("#queue tbody tr"); !strings.Contains(row, "Nguyễn Thị Hồng Nhung") || !strings.Contains(row, "Giấy khai sinh") {
		t.Fatalf("queue row: %q", row)
	}
	check("s4-queue")
	must(b.Click(`#queue a[href$="/sign"]`))
	if _, err := b.Find("#agent-sign"); err != nil {
		t.Fatal(err)
	}
	must(b.Click("#agent-sign"))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if u, _ := b.URL(); strings.HasSuffix(u, "/app/c/"+id[1]+"/receipt") {
			break
		}
		if time.Now().After(deadline) {
			st, _ := b.Text("#agent-status")
			u, _ := b.URL()
			t.Fatalf("no receipt after signing with the agent: at %s, status %q", u, st)
		}
	}
	code, err := b.Text("dd.code")
	must(err)
	if !regexp.MustCompile(`^[A-Z0-9-]{6,}$`).MatchString(strings.TrimSpace(code)) {
		t.Fatalf("receipt access code %q", code)
	}
	check("s5-receipt")
	t.Logf("screenshots in %s", shots)
}
