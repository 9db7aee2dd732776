package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// signingSetup registers the officer's and the seal's device certificates (openssl keys,
// CSRs issued by the development PKI), adds a records clerk's login and starts csc-dev with
// both credentials (cscArgs: more csc-dev flags); it returns the path helper, the clerk's generated password and csc-dev's
// base URL.
func signingSetup(t *testing.T, dir string, env map[string]string, cscArgs ...string) (func(string) string, string, string) {
	t.Helper()
	run := cliOK(t, env)
	path := func(name string) string { return filepath.Join(dir, name) }
	deviceKeys(opensslRunner(t), path)
	for _, c := range [][]string{{"officer.pem", "officer", "cert", "--id", "1", "--csr", path("officer.csr")},
		{"seal.pem", "unit", "cert", "--unit", "HB", "--csr", path("seal.csr")}} {
		var out struct {
			PEM string `json:"certificate_pem"`
		}
		if err := json.Unmarshal([]byte(run(c[1:]...)), &out); err != nil || !strings.Contains(out.PEM, "BEGIN CERTIFICATE") {
			t.Fatalf("%v: %v", c[1:], err)
		}
		if err := os.WriteFile(path(c[0]), []byte(out.PEM), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	clerk := strings.Fields(run("account", "add", "--unit", "HB", "--username", "vanthu", "--role", "clerk"))
	cscURL := runCSCDev(t, append([]string{"--addr", "127.0.0.1:0", "--client-secret", "s3cret", "--otp", "123456",
		"--credential", "officer-1=" + path("officer.pem") + ":" + path("officer.key"),
		"--credential", "seal-HB=" + path("seal.pem") + ":" + path("seal.key")}, cscArgs...)...)
	return path, clerk[1], cscURL
}

// webPage GETs or POSTs (form != nil) and returns the final status, path and body.
func webPage(t *testing.T, cl *http.Client, method, u string, form url.Values) (int, string, string) {
	t.Helper()
	var res *http.Response
	var err error
	if method == "POST" {
		res, err = cl.PostForm(u, form)
	} else {
		res, err = cl.Get(u)
	}
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, res.Request.URL.RequestURI(), string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestWorkspaceSigningCSC: the whole workspace flow with remote signing through the real
// CSC client and the development CSC server configured by CHUNGTHUC_CSC_CONFIG. The officer
// certifies from the web form choosing their device, signs on the signing page with the
// one-time code (a wrong code first: refused, still waiting), the records clerk finds the
// copy in "Chờ đóng dấu" and applies the seal the same way, the receipt carries the access
// code, and the copy verifies with our verifier and pdfsig (both signatures trusted).
func TestWorkspaceSigningCSC(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := map[string]string{"CHUNGTHUC_DATA": data, "CHUNGTHUC_EXTERNAL_SIGNING_TIMEOUT": "1h"}
	path, clerkGenerated, cscURL := signingSetup(t, dir, env)
	env["CHUNGTHUC_CSC_CONFIG"] = writeCSCConfig(t, path, cscURL, "explicit")
	base, _ := startServe(t, env)
	officer := (&service{base: base, username: "canbo", password: demoPassword(t, base, data)}).webLogin(t)
	clerk := (&service{base: base, username: "vanthu", password: choosePassword(t, base, "vanthu", clerkGenerated)}).webLogin(t)

	id, csrf, page := webCertifyExternal(t, officer, base)
	if !strings.Contains(page, `id="remote-form"`) || !regexp.MustCompile(`id="digest-hex">[0-9a-f]{64}<`).MatchString(page) {
		t.Fatalf("signing page:\n%s", page)
	}
	entry := fmt.Sprintf("%s/app/c/%d", base, id)
	// A wrong one-time code: refused in words, the entry still waits for the officer.
	st, _, page := webPage(t, officer, "POST", entry+"/sign-remote", url.Values{"csrf": {csrf}, "otp": {"000000"}})
	if st != 403 || !strings.Contains(page, "Mã xác thực (OTP) không đúng") {
		t.Fatalf("wrong code: %d\n%s", st, page)
	}
	if _, _, p := webPage(t, officer, "GET", base+"/app/to-sign", nil); !strings.Contains(p, fmt.Sprintf("/app/c/%d/sign", id)) {
		t.Fatal("not waiting for the officer after the wrong code")
	}
	st, at, page := webPage(t, officer, "POST", entry+"/sign-remote", url.Values{"csrf": {csrf}, "otp": {"123456"}})
	if st != 200 || at != fmt.Sprintf("/app/c/%d?signed=1", id) || !strings.Contains(page, "Đã ký, chờ văn thư đóng dấu.") {
		t.Fatalf("officer's signature: %d %s", st, at)
	}
	// The clerk: "Chờ đóng dấu" on the dashboard and in the queue, then the seal.
	if _, _, p := webPage(t, clerk, "GET", base+"/app/", nil); !regexp.MustCompile(`id="tile-to-seal">.*?<div class="v">1</div>`).MatchString(p) {
		t.Fatalf("clerk's dashboard:\n%s", p)
	}
	_, _, p := webPage(t, clerk, "GET", base+"/app/to-seal", nil)
	if !strings.Contains(p, fmt.Sprintf("/app/c/%d/sign", id)) {
		t.Fatal("not in the seal queue")
	}
	_, _, p = webPage(t, clerk, "GET", entry+"/sign", nil)
	clerkCSRF := csrfField.FindStringSubmatch(p)[1]
	st, at, page = webPage(t, clerk, "POST", entry+"/sign-remote", url.Values{"csrf": {clerkCSRF}, "otp": {"123456"}})
	if st != 200 || at != fmt.Sprintf("/app/c/%d/receipt", id) || !regexp.MustCompile(`<dd class="code">[A-Z0-9-]{6,}</dd>`).MatchString(page) {
		t.Fatalf("seal: %d %s\n%s", st, at, page)
	}
	verifyWebCopy(t, clerk, entry, env, dir, path("copy.pdf"))
}

// writeCSCConfig writes the CHUNGTHUC_CSC_CONFIG file for csc-dev at cscURL (the officer's
// and the seal's credentials of signingSetup, authorised in mode) and returns its path.
func writeCSCConfig(t *testing.T, path func(string) string, cscURL, mode string) string {
	t.Helper()
	if err := os.WriteFile(path("csc-secret"), []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`{"signers": [
	  {"unit": "HB", "officer": 1, "url": %q, "client_id": "chungthuc", "client_secret_file": %q, "credential_id": "officer-1", "allow_loopback": true, "auth_mode": %q},
	  {"unit": "HB", "seal": true, "url": %q, "client_id": "chungthuc", "client_secret_file": %q, "credential_id": "seal-HB", "allow_loopback": true, "auth_mode": %q}]}`,
		cscURL, path("csc-secret"), mode, cscURL, path("csc-secret"), mode)
	if err := os.WriteFile(path("csc.json"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return path("csc.json")
}

// webCertifyExternal certifies a scan from the workspace form choosing "my device" (the
// unit's default is the server's) and returns the entry's id, the form's CSRF token and the
// signing page it lands on.
func webCertifyExternal(t *testing.T, officer *http.Client, base string) (int64, string, string) {
	t.Helper()
	_, _, page := webPage(t, officer, "GET", base+"/app/certify", nil)
	if !strings.Contains(page, `value="external"`) || !strings.Contains(page, `value="server" checked`) {
		t.Fatal("the certify form does not offer device signing")
	}
	csrf := csrfField.FindStringSubmatch(page)[1]
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, kv := range [][2]string{{"csrf", csrf}, {"document", "Giấy khai sinh"}, {"requester", "Nguyễn Thị Hồng Nhung"}, {"signing", "external"}} {
		_ = mw.WriteField(kv[0], kv[1])
	}
	fw, _ := mw.CreateFormFile("file", "trang1.jpg")
	_, _ = fw.Write(testScan(t))
	_ = mw.Close()
	res, err := officer.Post(base+"/app/certify", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var id int64
	if _, err := fmt.Sscanf(res.Request.URL.Path, "/app/c/%d/sign", &id); res.StatusCode != 200 || err != nil {
		t.Fatalf("certify ended at %d %s:\n%s", res.StatusCode, res.Request.URL, b)
	}
	return id, csrf, string(b)
}

// verifyWebCopy downloads entry's copy as cl and checks it with `chungthuc verify` and
// pdfsig: valid, both signatures TOTAL_PASSED and trusted.
func verifyWebCopy(t *testing.T, cl *http.Client, entry string, env map[string]string, dir, file string) {
	t.Helper()
	res, err := cl.Get(entry + "/pdf")
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || os.WriteFile(file, pdf, 0o600) != nil {
		t.Fatalf("download: %d", res.StatusCode)
	}
	code, out, _ := cli(t, env, "verify", file)
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
	if ps := pdfsigOutput(t, env, dir, file); strings.Count(ps, "Signature Validation: Signature is Valid.") < 2 ||
		strings.Count(ps, "Certificate Validation: Certificate is Trusted.") < 2 {
		t.Fatalf("pdfsig:\n%s", ps)
	}
}

// TestSigningConfig: CHUNGTHUC_AGENT_URL takes only a loopback agent (or off);
// CHUNGTHUC_CSC_CONFIG's mistakes stop start-up with the variable named, and serve refuses
// a configuration naming an unknown unit or an officer of another unit.
func TestSigningConfig(t *testing.T) {
	dir := t.TempDir()
	load := func(kv ...string) (*Config, error) {
		m := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return LoadConfig(func(k string) string { return m[k] })
	}
	for v, want := range map[string]string{"": "http://127.0.0.1:8790", "http://localhost:9000/": "http://localhost:9000",
		"https://[::1]:8790": "https://[::1]:8790", "off": ""} {
		c, err := load("CHUNGTHUC_AGENT_URL", v)
		if err != nil || c.AgentURL != want {
			t.Errorf("agent %q: %v %q", v, err, c.AgentURL)
		}
	}
	for _, v := range []string{"http://agent.example:8790", "http://127.0.0.1", "ftp://127.0.0.1:1", "http://127.0.0.1:8790/sign", "http://u:p@127.0.0.1:1", "http://10.0.0.1:8790"} {
		if _, err := load("CHUNGTHUC_AGENT_URL", v); err == nil || !strings.Contains(err.Error(), "CHUNGTHUC_AGENT_URL") {
			t.Errorf("agent %q accepted: %v", v, err)
		}
	}
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := load("CHUNGTHUC_CSC_CONFIG", write("bad.json", `{"signers": [{"unit": "HB", "officer": 1, "url": "https://rs.example", "client_id": "c", "credential_id": "x"}]}`)); err == nil ||
		!strings.Contains(err.Error(), "CHUNGTHUC_CSC_CONFIG") || !strings.Contains(err.Error(), "client_secret") {
		t.Errorf("bad CSC config: %v", err)
	}
	if _, err := load("CHUNGTHUC_CSC_CONFIG", filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "CHUNGTHUC_CSC_CONFIG") {
		t.Errorf("missing CSC config: %v", err)
	}
	c, err := load("CHUNGTHUC_CSC_CONFIG", write("ok.json", `{"signers": [{"unit": "HB", "officer": 1, "url": "https://rs.example", "client_id": "c", "client_secret_env": "S", "credential_id": "x"}]}`), "S", "secret")
	if err != nil || !c.RemoteSigners.Has("HB", 1) {
		t.Fatalf("CSC config: %v", err)
	}
	// serve checks the units and officers against the register (the demo unit HB, officer 1).
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data"), "S": "secret", "CHUNGTHUC_ADDR": "127.0.0.1:0"}
	cliOK(t, env)("officer", "add", "--unit", "HB", "--name", "Phạm Thị Thư", "--title", "VĂN THƯ", "--role", "clerk")
	for conf, want := range map[string]string{
		`{"signers": [{"unit": "XX", "seal": true, "url": "https://rs.example", "client_id": "c", "client_secret_env": "S", "credential_id": "x"}]}`:  "unit XX",
		`{"signers": [{"unit": "HB", "officer": 99, "url": "https://rs.example", "client_id": "c", "client_secret_env": "S", "credential_id": "x"}]}`: "officer 99 is not an officer of this unit",
	} {
		env["CHUNGTHUC_CSC_CONFIG"] = write("serve.json", conf)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		var errb bytes.Buffer
		code := Main(ctx, []string{"serve"}, strings.NewReader(""), io.Discard, &errb, func(k string) string { return env[k] })
		cancel()
		if code == 0 || !strings.Contains(errb.String(), want) {
			t.Errorf("serve with %s: exit %d\n%s", conf, code, errb.String())
		}
	}
}

// providerField matches the hidden fields of the development provider's confirmation page.
var providerField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// atProvider answers the development provider's page the browser was sent to (its address
// and body) with decision ("confirm" with the code, or "refuse"), following the provider's
// redirect back to the service; it returns the final status, path and body.
func atProvider(t *testing.T, cl *http.Client, pageURL, page, decision, otp string) (int, string, string) {
	t.Helper()
	form := url.Values{"decision": {decision}, "otp": {otp}}
	for _, m := range providerField.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	return webPage(t, cl, "POST", pageURL, form)
}

// TestWorkspaceSigningProvider: remote signing authorised at the provider's own page (CSC
// oauth2code with PKCE) instead of an OTP typed here. The officer is sent to csc-dev's
// confirmation page for exactly the awaited digest, refuses first (back on the signing page
// with the refusal, still waiting), then confirms; a replayed return is refused; the clerk
// applies the seal the same way; the receipt is shown and the copy verifies.
func TestWorkspaceSigningProvider(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	env := map[string]string{"CHUNGTHUC_DATA": data, "CHUNGTHUC_EXTERNAL_SIGNING_TIMEOUT": "1h"}
	path, clerkGenerated, cscURL := signingSetup(t, dir, env, "--provider-page", "officer-1", "--provider-page", "seal-HB")
	env["CHUNGTHUC_CSC_CONFIG"] = writeCSCConfig(t, path, cscURL, "oauth2code")
	base, _ := startServe(t, env)
	officer := (&service{base: base, username: "canbo", password: demoPassword(t, base, data)}).webLogin(t)
	clerk := (&service{base: base, username: "vanthu", password: choosePassword(t, base, "vanthu", clerkGenerated)}).webLogin(t)

	id, csrf, page := webCertifyExternal(t, officer, base)
	if !strings.Contains(page, `id="provider-form"`) || strings.Contains(page, `id="remote-form"`) {
		t.Fatalf("signing page without the provider's button:\n%s", page)
	}
	entry := fmt.Sprintf("%s/app/c/%d", base, id)
	digest := regexp.MustCompile(`id="digest-hex">([0-9a-f]{64})<`).FindStringSubmatch(page)[1]

	// To the provider's page, which shows exactly the awaited digest; refused there.
	st, at, page := webPage(t, officer, "POST", entry+"/sign-provider", url.Values{"csrf": {csrf}})
	d, _ := hex.DecodeString(digest)
	if st != 200 || !strings.HasPrefix(cscURL+at, cscURL+"/csc/v2/oauth2/authorize?") || !strings.Contains(html.UnescapeString(page), base64.StdEncoding.EncodeToString(d)) {
		t.Fatalf("provider's page: %d %s\n%s", st, at, page)
	}
	st, at, page = atProvider(t, officer, cscURL+"/csc/v2/oauth2/authorize", page, "refuse", "")
	if st != 200 || at != fmt.Sprintf("/app/c/%d/sign?err=provider_refused", id) || !strings.Contains(page, "Bạn đã từ chối") {
		t.Fatalf("refused at the provider: %d %s\n%s", st, at, page)
	}
	// Confirmed: back, the officer's step done.
	_, _, page = webPage(t, officer, "POST", entry+"/sign-provider", url.Values{"csrf": {csrf}})
	var back string
	cl := *officer
	cl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), base+"/app/csc/callback") {
			back = req.URL.String()
		}
		return nil
	}
	st, at, page = atProvider(t, &cl, cscURL+"/csc/v2/oauth2/authorize", page, "confirm", "123456")
	if st != 200 || at != fmt.Sprintf("/app/c/%d?signed=1", id) || !strings.Contains(page, "Đã ký, chờ văn thư đóng dấu.") {
		t.Fatalf("confirmed at the provider: %d %s\n%s", st, at, page)
	}
	// The same return again (replayed from the history): refused, nothing changes.
	if st, _, page := webPage(t, officer, "GET", back, nil); st != 403 || !strings.Contains(page, "không hợp lệ hoặc đã quá hạn") {
		t.Fatalf("replayed return: %d\n%s", st, page)
	}

	// The clerk: the seal at the provider's page, then the receipt.
	_, _, p := webPage(t, clerk, "GET", entry+"/sign", nil)
	clerkCSRF := csrfField.FindStringSubmatch(p)[1]
	_, _, page = webPage(t, clerk, "POST", entry+"/sign-provider", url.Values{"csrf": {clerkCSRF}})
	st, at, page = atProvider(t, clerk, cscURL+"/csc/v2/oauth2/authorize", page, "confirm", "123456")
	if st != 200 || at != fmt.Sprintf("/app/c/%d/receipt", id) || !regexp.MustCompile(`<dd class="code">[A-Z0-9-]{6,}</dd>`).MatchString(page) {
		t.Fatalf("seal at the provider: %d %s\n%s", st, at, page)
	}
	verifyWebCopy(t, clerk, entry, env, dir, path("copy.pdf"))
}
