package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// extClient talks to a running serve as the integrations of issue 14 do.
type extClient struct {
	t    *testing.T
	base string
}

// call sends a request with a bearer token and decodes the JSON answer.
func (c *extClient) call(method, path, token, contentType string, body io.Reader) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// start certifies with signing external: 202 and what to sign.
func (c *extClient) start(token string, scan []byte) (int, map[string]any) {
	c.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("document", "Giấy khai sinh")
	mw.WriteField("requester", "Nguyễn Thị Hồng Nhung")
	mw.WriteField("signing", "external")
	w, _ := mw.CreateFormFile("file", "trang1.jpg")
	w.Write(scan)
	mw.Close()
	return c.call("POST", "/api/v1/certifications", token, mw.FormDataContentType(), &b)
}

// sign posts a signature value for entry id (with the signer's chain, when given).
func (c *extClient) sign(token string, id int64, sig []byte, chain ...string) (int, map[string]any) {
	c.t.Helper()
	m := map[string]any{"signature": base64.StdEncoding.EncodeToString(sig)}
	if len(chain) > 0 {
		m["certificate_chain"] = chain
	}
	body, _ := json.Marshal(m)
	return c.call("POST", "/api/v1/certifications/"+strconv.FormatInt(id, 10)+"/signature", token, "application/json", bytes.NewReader(body))
}

// state is the entry's status and the step it waits for ("" when none).
func (c *extClient) state(token string, id int64) (string, string) {
	c.t.Helper()
	_, e := c.call("GET", "/api/v1/certifications/"+strconv.FormatInt(id, 10), token, "", nil)
	st, m := c.call("GET", "/api/v1/certifications/"+strconv.FormatInt(id, 10)+"/to-sign", token, "", nil)
	step := ""
	if st == 200 {
		step, _ = m["step"].(string)
	}
	status, _ := e["status"].(string)
	return status, step
}

func digestOf(t *testing.T, m map[string]any) []byte {
	t.Helper()
	ts, _ := m["to_sign"].(map[string]any)
	d, err := base64.StdEncoding.DecodeString(ts["digest"].(string))
	if err != nil || len(d) != 32 {
		t.Fatalf("to_sign digest: %v %v", ts, err)
	}
	return d
}

func reasonOf(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	r, _ := e["reason"].(string)
	return r
}

// TestExternalSigningFlow is issue 14's "done when" on the real service: the officer's key
// and the unit's seal key are made by openssl and never given to the service; their
// certificates are registered from CSRs; a copy certified with signing external is signed
// outside (openssl pkeyutl over the returned digests) by the officer's token, then by a
// records clerk's token, across a restart of the service between the steps; the B-LTA copy
// verifies with ours and with pdfsig. Refused: another key, another digest, the wrong
// role, a revoked certificate — nothing issued, the entry still waiting. An expired wait is
// voided by the check loop with its reason; the next number follows it.
func TestExternalSigningFlow(t *testing.T) {
	backends := []string{"embedded"}
	if os.Getenv("CHUNGTHUC_TEST_DATABASE_URL") != "" && os.Getenv("CHUNGTHUC_TEST_S3_ENDPOINT") != "" {
		backends = append(backends, "postgres+s3")
	} else {
		t.Log("PostgreSQL and MinIO not both configured: the production variant is skipped")
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) { testExternalSigningFlow(t, backend) })
	}
}

func testExternalSigningFlow(t *testing.T, backend string) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data"), "CHUNGTHUC_REPAIR_INTERVAL": "200ms",
		"CHUNGTHUC_EXTERNAL_SIGNING_TIMEOUT": "1h"}
	if backend == "postgres+s3" {
		for k, v := range productionEnv(t) {
			env[k] = v
		}
	}
	openssl := opensslRunner(t)
	runOut := cliOK(t, env)
	run := func(args ...string) string { t.Helper(); return strings.TrimSpace(runOut(args...)) }
	path := func(name string) string { return filepath.Join(dir, name) }
	// The devices: an EC officer key, an RSA seal key, and a key nobody registered.
	deviceKeys(openssl, path)
	openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path("other.key"))
	device := func(key string, digest []byte) []byte {
		t.Helper()
		in, out := path("digest.bin"), path("sig.bin")
		if err := os.WriteFile(in, digest, 0o600); err != nil {
			t.Fatal(err)
		}
		openssl("pkeyutl", "-sign", "-inkey", path(key), "-in", in, "-out", out, "-pkeyopt", "digest:sha256")
		sig, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	if backend != "embedded" {
		run("migrate")
		run("unit", "add", "--code", "HB", "--name", "Phường Hòa Bình", "--place", "Hòa Bình", "--seal", testSealFile())
		run("officer", "add", "--unit", "HB", "--name", "Trần Văn Nghĩa", "--title", "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH")
	}
	run("officer", "cert", "--id", "1", "--csr", path("officer.csr"))
	if out := run("unit", "cert", "--unit", "HB", "--csr", path("seal.csr")); !strings.Contains(out, `"seal_certificate": true`) {
		t.Fatalf("unit cert: %s", out)
	}
	clerkID := run("officer", "add", "--unit", "HB", "--name", "Phạm Thị Thư", "--title", "VĂN THƯ", "--role", "clerk")
	officerTok := run("token", "create", "--unit", "HB", "--officer", "1")
	clerkTok := run("token", "create", "--unit", "HB", "--officer", clerkID, "--name", "văn thư")
	// Another unit, whose tokens see nothing of HB's entries.
	run("unit", "add", "--code", "XA", "--name", "Phường Xuân An", "--place", "Xuân An", "--seal", testSealFile())
	otherID := run("officer", "add", "--unit", "XA", "--name", "Đỗ Văn Khác", "--title", "CHỦ TỊCH")
	otherTok := run("token", "create", "--unit", "XA", "--officer", otherID)
	scan := testScan(t)

	// Phase 1: the officer's step.
	base, _, stop := startServeStop(t, env)
	c := &extClient{t: t, base: base}
	st, m := c.start(officerTok, scan)
	if st != 202 || m["step"] != "officer_signature" || m["number"] != float64(1) || m["status"] != "pending" || m["expires_at"] == nil {
		t.Fatalf("start: %d %v", st, m)
	}
	id := int64(m["id"].(float64))
	digest := digestOf(t, m)
	ts := m["to_sign"].(map[string]any)
	attrs, _ := base64.StdEncoding.DecodeString(ts["signed_attributes"].(string))
	if sum := sha256.Sum256(attrs); !bytes.Equal(sum[:], digest) || ts["signature_algorithm"] != "ecdsa-with-SHA256" {
		t.Fatalf("to_sign: %v", ts)
	}
	if st, again := c.call("GET", "/api/v1/certifications/"+strconv.FormatInt(id, 10)+"/to-sign", officerTok, "", nil); st != 200 || !bytes.Equal(digestOf(t, again), digest) {
		t.Fatalf("to-sign: %d %v", st, again)
	}
	if st, m := c.call("GET", "/api/v1/certifications/"+strconv.FormatInt(id, 10)+"/to-sign", otherTok, "", nil); st != 404 {
		t.Fatalf("another unit reads what is to sign: %d %v", st, m)
	}
	if st, m := c.sign(otherTok, id, device("officer.key", digest)); st != 404 {
		t.Fatalf("another unit signs: %d %v", st, m)
	}
	for _, body := range []string{`not json`, `{"signature": "!!!"}`, `{"signature": ""}`, `{"signature": "AAAA", "extra": 1}`,
		`{"signature": "AAAA", "certificate_chain": ["not a certificate"]}`} {
		if st, m := c.call("POST", "/api/v1/certifications/"+strconv.FormatInt(id, 10)+"/signature", officerTok, "application/json", strings.NewReader(body)); st != 400 {
			t.Fatalf("body %s: %d %v", body, st, m)
		}
	}
	other := sha256.Sum256([]byte("another document"))
	for _, r := range []struct {
		name, token string
		sig         []byte
		status      int
		reason      string
	}{
		{"wrong key", officerTok, device("other.key", digest), 400, "signature_invalid"},
		{"wrong digest", officerTok, device("officer.key", other[:]), 400, "signature_invalid"},
		{"the clerk signs for the officer", clerkTok, device("officer.key", digest), 403, "role_not_allowed"},
	} {
		if st, m := c.sign(r.token, id, r.sig); st != r.status || reasonOf(m) != r.reason {
			t.Fatalf("%s: %d %v", r.name, st, m)
		}
		if status, step := c.state(officerTok, id); status != "pending" || step != "officer_signature" {
			t.Fatalf("after %s: %s %s", r.name, status, step)
		}
	}
	st, m = c.sign(officerTok, id, device("officer.key", digest))
	if st != 202 || m["step"] != "seal" || m["to_sign"].(map[string]any)["signature_algorithm"] != "sha256WithRSAEncryption" {
		t.Fatalf("officer's signature: %d %v", st, m)
	}
	sealDigest := digestOf(t, m)
	sealCert := m["to_sign"].(map[string]any)["certificate"].(string) // base64 DER
	// A second entry waits for its officer across the restart (for the revocation below).
	st, m = c.start(officerTok, scan)
	if st != 202 || m["number"] != float64(2) {
		t.Fatalf("second start: %d %v", st, m)
	}
	id2, digest2 := int64(m["id"].(float64)), digestOf(t, m)
	stop()
	// fsck with no grace at all voids interrupted entries, not waiting ones.
	if out := run("fsck", "--grace", "0s"); !strings.Contains(out, `"expired_waits": 0`) {
		t.Fatalf("fsck: %s", out)
	}

	// Phase 2: a restarted service (start-up fsck included) with a short wait.
	env["CHUNGTHUC_EXTERNAL_SIGNING_TIMEOUT"] = "2s"
	base, _, _ = startServeStop(t, env)
	c = &extClient{t: t, base: base}
	if status, step := c.state(officerTok, id); status != "pending" || step != "seal" {
		t.Fatalf("after the restart: %s %s", status, step)
	}
	if st, m := c.sign(officerTok, id, device("seal.key", sealDigest)); st != 403 || reasonOf(m) != "role_not_allowed" {
		t.Fatalf("the officer applies the seal: %d %v", st, m)
	}
	if st, m := c.sign(clerkTok, id, device("officer.key", sealDigest)); st != 400 || reasonOf(m) != "signature_invalid" {
		t.Fatalf("the seal signed with the officer's key: %d %v", st, m)
	}
	// With the chain given (the registered certificate, base64 DER) rather than implied.
	st, m = c.sign(clerkTok, id, device("seal.key", sealDigest), sealCert)
	if st != 201 || m["status"] != "issued" || len(m["access_code"].(string)) != 10 {
		t.Fatalf("seal: %d %v", st, m)
	}
	res, err := func() (*http.Response, error) {
		req, _ := http.NewRequest("GET", base+"/api/v1/certifications/"+strconv.FormatInt(id, 10)+"/pdf", nil)
		req.Header.Set("Authorization", "Bearer "+officerTok)
		return http.DefaultClient.Do(req)
	}()
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(res.Body)
	res.Body.Close()
	copyPath := path("copy.pdf")
	if res.StatusCode != 200 || os.WriteFile(copyPath, pdf, 0o644) != nil {
		t.Fatalf("download: %d", res.StatusCode)
	}
	// Our verifier: both signatures and the document time-stamp pass, trusted (B-LTA).
	code, out, _ := cli(t, env, "verify", copyPath)
	var rep struct {
		Valid      bool `json:"valid"`
		Signatures []struct {
			Kind, Indication string
			Trusted          bool
		} `json:"signatures"`
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || !rep.Valid {
		t.Fatalf("verify: exit %d %v\n%s", code, err, out)
	}
	kinds := map[string]int{}
	for _, s := range rep.Signatures {
		if s.Indication != "TOTAL_PASSED" || !s.Trusted {
			t.Fatalf("signature %s: %s trusted %v", s.Kind, s.Indication, s.Trusted)
		}
		kinds[s.Kind]++
	}
	if kinds["certification"] != 1 || kinds["approval"] != 1 || kinds["document_timestamp"] != 1 {
		t.Fatalf("signatures: %v", kinds)
	}
	// pdfsig over NSS trusting the development root: both signatures valid and trusted, the
	// last revision (the document time-stamp) covering the whole file.
	ps := pdfsigOutput(t, env, dir, copyPath)
	if strings.Count(ps, "Signature Validation: Signature is Valid.") < 2 || strings.Count(ps, "Certificate Validation: Certificate is Trusted.") < 2 ||
		!strings.Contains(ps, "- Total document signed") {
		t.Fatalf("pdfsig:\n%s", ps)
	}

	// Expiry: the check loop voids a wait past its deadline; the number stays, void.
	st, m = c.start(officerTok, scan)
	if st != 202 || m["number"] != float64(3) {
		t.Fatalf("third start: %d %v", st, m)
	}
	id3 := int64(m["id"].(float64))
	var e3 map[string]any
	for i := 0; i < 300; i++ {
		if _, e3 = c.call("GET", "/api/v1/certifications/"+strconv.FormatInt(id3, 10), officerTok, "", nil); e3["status"] == "void" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if e3["status"] != "void" || !strings.Contains(e3["void_reason"].(string), "Hết thời hạn chờ chữ ký số") {
		t.Fatalf("expired entry: %v", e3)
	}
	if st, m := c.call("GET", "/api/v1/certifications/"+strconv.FormatInt(id3, 10)+"/to-sign", officerTok, "", nil); st != 409 || reasonOf(m) != "not_waiting" {
		t.Fatalf("to-sign of a void entry: %d %v", st, m)
	}
	if st, m = c.start(officerTok, scan); st != 202 || m["number"] != float64(4) {
		t.Fatalf("the number after the void one: %d %v", st, m)
	}

	// A revoked officer certificate: the right signature is refused; entry 2 still waits.
	run("pki", "revoke", "--officer", "1")
	if st, m := c.sign(officerTok, id2, device("officer.key", digest2)); st != 403 || reasonOf(m) != "certificate_refused" {
		t.Fatalf("signature with a revoked certificate: %d %v", st, m)
	}
	if status, step := c.state(officerTok, id2); status != "pending" || step != "officer_signature" {
		t.Fatalf("after the revoked signature: %s %s", status, step)
	}
	// …and no new external certification starts with it (no number used).
	if st, m := c.start(officerTok, scan); st != 403 {
		t.Fatalf("start with a revoked certificate: %d %v", st, m)
	}
}

// TestUnitCert registers the unit's seal device certificate from a CSR or a CA-issued
// certificate, sets the default signing, removes the certificate, and refuses bad input.
func TestUnitCert(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	openssl := opensslRunner(t)
	key, csr := filepath.Join(dir, "seal.key"), filepath.Join(dir, "seal.csr")
	openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key)
	openssl("req", "-new", "-key", key, "-subj", "/CN=Claimed", "-out", csr)
	type result struct {
		Subject string `json:"subject"`
		Cert    bool   `json:"seal_certificate"`
		Default string `json:"default_signing"`
	}
	cert := func(args ...string) (int, result, string) {
		code, out, errs := cli(t, env, append([]string{"unit", "cert", "--unit", "HB"}, args...)...)
		var r result
		json.Unmarshal([]byte(out), &r)
		return code, r, errs
	}
	if code, r, errs := cert("--csr", csr); code != 0 || !r.Cert || r.Default != "server" || !strings.Contains(r.Subject, "Phường Hòa Bình") || strings.Contains(r.Subject, "Claimed") {
		t.Fatalf("unit cert --csr: exit %d %+v %s", code, r, errs)
	}
	if code, r, _ := cert("--default", "external"); code != 0 || !r.Cert || r.Default != "external" {
		t.Fatalf("unit cert --default external: exit %d %+v", code, r)
	}
	// A CA-issued seal certificate (the dev root stands in for the CA).
	pkiDir := filepath.Join(env["CHUNGTHUC_DATA"], "pki")
	ext := filepath.Join(dir, "ext.cnf")
	os.WriteFile(ext, []byte("keyUsage=critical,digitalSignature,nonRepudiation\n"), 0o600)
	pemPath := filepath.Join(dir, "seal.pem")
	openssl("x509", "-req", "-in", csr, "-CA", filepath.Join(pkiDir, "root.pem"), "-CAkey", filepath.Join(pkiDir, "root.key"),
		"-CAcreateserial", "-days", "30", "-extfile", ext, "-out", pemPath)
	if code, r, errs := cert("--cert", pemPath); code != 0 || !r.Cert || r.Default != "external" {
		t.Fatalf("unit cert --cert: exit %d %+v %s", code, r, errs)
	}
	self := filepath.Join(dir, "self.pem")
	openssl("req", "-x509", "-new", "-key", key, "-subj", "/CN=self", "-days", "30", "-addext", "keyUsage=digitalSignature", "-addext", "basicConstraints=CA:FALSE", "-out", self)
	if code, _, errs := cert("--cert", self); code != 1 || !strings.Contains(errs, "not trusted") {
		t.Fatalf("untrusted seal certificate: exit %d %s", code, errs)
	}
	if code, r, _ := cert("--remove", "--default", "server"); code != 0 || r.Cert || r.Default != "server" {
		t.Fatalf("unit cert --remove: exit %d %+v", code, r)
	}
	for _, args := range [][]string{
		{"unit", "cert", "--unit", "HB"},
		{"unit", "cert", "--csr", csr},
		{"unit", "cert", "--unit", "HB", "--csr", csr, "--remove"},
		{"unit", "cert", "--unit", "HB", "--default", "hsm"},
	} {
		if code, _, _ := cli(t, env, args...); code != 2 {
			t.Fatalf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, errs := cli(t, env, "unit", "cert", "--unit", "XX", "--csr", csr); code != 1 || !strings.Contains(errs, "not found") {
		t.Fatalf("unknown unit: exit %d %s", code, errs)
	}
	if code, _, errs := cert("--csr", pemPath); code != 1 || !strings.Contains(errs, "certificate request") {
		t.Fatalf("a certificate given as a CSR: exit %d %s", code, errs)
	}
}

// deviceKeys makes the two signing devices of the external-signing tests with openssl: an
// EC P-256 officer key and an RSA-2048 seal key (officer.key, seal.key under path), each
// with its certificate request (officer.csr, seal.csr).
func deviceKeys(openssl func(args ...string), path func(string) string) {
	openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path("officer.key"))
	openssl("req", "-new", "-key", path("officer.key"), "-subj", "/CN=officer device", "-out", path("officer.csr"))
	openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path("seal.key"))
	openssl("req", "-new", "-key", path("seal.key"), "-subj", "/CN=seal device", "-out", path("seal.csr"))
}
