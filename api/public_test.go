package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
)

func TestPublicVerificationAndDownload(t *testing.T) {
	e := newEnv(t)
	c := e.certifyAPI(e.tokenA, "Giấy khai sinh")
	if c.Number != 1 || c.AccessCode == "" || c.FeeVND != 2000 || c.SHA256 == "" || !strings.HasPrefix(c.VerifyURL, e.ts.URL+"/v/") {
		t.Fatalf("certification answer: %+v", c)
	}
	token := tokenOf(c.VerifyURL)

	// The QR target shows the status and metadata, not the document.
	st, body, _ := e.do(nil, "GET", "/v/"+token, nil, nil)
	if st != 200 || !bytes.Contains(body, []byte("Bản sao hợp lệ")) || !bytes.Contains(body, []byte(c.SHA256)) || !bytes.Contains(body, []byte("Phường An Hòa")) || !bytes.Contains(body, []byte("Trần Văn Nghĩa")) {
		t.Fatalf("status page: %d %s", st, body)
	}
	if bytes.Contains(body, []byte("Nguyễn Văn An")) || bytes.Contains(body, []byte(c.AccessCode)) {
		t.Fatal("the public page shows the requester or the access code")
	}
	st, body, _ = e.do(nil, "GET", "/api/v1/verify/"+token, nil, nil)
	var ps PublicStatus
	if st != 200 || json.Unmarshal(body, &ps) != nil || ps.Status != "valid" || ps.Number != 1 || ps.SHA256 != c.SHA256 {
		t.Fatalf("verify JSON: %d %s", st, body)
	}
	if st, _, h := e.do(nil, "GET", "/v/"+token+"/qr.png", nil, nil); st != 200 || h.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: %d", st)
	}

	// Unknown, malformed and wrong tokens: the same answer.
	answers := map[string]bool{}
	for _, tok := range []string{strings.Repeat("A", len(token)), "short", token[:len(token)-1] + "x", "%2e%2e"} {
		st, body, _ := e.do(nil, "GET", "/api/v1/verify/"+tok, nil, nil)
		var eb errorBody
		json.Unmarshal(body, &eb)
		if st != http.StatusNotFound {
			t.Fatalf("token %q: %d %s", tok, st, body)
		}
		answers[eb.Error+eb.Message] = true
	}
	if len(answers) != 1 {
		t.Fatalf("unknown tokens get different answers: %v", answers)
	}

	// Download: wrong code and unknown token → the same 403; right code → the PDF.
	st, body, _ = e.form(nil, "/v/"+token+"/download", url.Values{"code": {"WRONGCODE1"}})
	if st != http.StatusForbidden || !bytes.Contains(body, []byte("Mã truy cập không đúng")) {
		t.Fatalf("wrong code: %d %s", st, body)
	}
	st, _, _ = e.form(nil, "/v/"+strings.Repeat("B", len(token))+"/download", url.Values{"code": {c.AccessCode}})
	if st != http.StatusForbidden {
		t.Fatalf("unknown token download: %d", st)
	}
	code := strings.ToLower(c.AccessCode[:5]) + "-" + c.AccessCode[5:] // typed loosely
	st, pdf, h := e.form(nil, "/v/"+token+"/download", url.Values{"code": {code}})
	if st != 200 || h.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("download: %d %s", st, h)
	}

	// Upload-to-verify: the real verifier says valid and the register matches.
	st, body, _ = e.do(nil, "POST", "/api/v1/verify", bytes.NewReader(pdf), map[string]string{"Content-Type": "application/pdf"})
	var rep struct {
		Valid    bool `json:"valid"`
		Register struct {
			Status string `json:"status"`
			Number int64  `json:"number"`
		} `json:"register"`
	}
	if st != 200 || json.Unmarshal(body, &rep) != nil || !rep.Valid || rep.Register.Status != "certified" || rep.Register.Number != 1 {
		t.Fatalf("verify upload: %d %s", st, body)
	}
	mb, ct := multipartBody(t, nil, map[string][]byte{"copy.pdf": pdf})
	st, body, _ = e.do(nil, "POST", "/verify", mb, map[string]string{"Content-Type": ct})
	if st != 200 || !bytes.Contains(body, []byte("Tệp hợp lệ")) {
		t.Fatalf("verify page upload: %d %s", st, body)
	}
	st, body, _ = e.do(nil, "POST", "/api/v1/verify/hash", strings.NewReader(`{"sha256":"`+strings.ToUpper(c.SHA256)+`"}`), map[string]string{"Content-Type": "application/json"})
	if st != 200 || !bytes.Contains(body, []byte(`"status":"valid"`)) {
		t.Fatalf("hash: %d %s", st, body)
	}
	st, body, _ = e.do(nil, "POST", "/api/v1/verify/hash", strings.NewReader(`{"sha256":"`+strings.Repeat("0", 64)+`"}`), nil)
	if st != 200 || !bytes.Contains(body, []byte(`"status":"not_registered"`)) {
		t.Fatalf("hash unknown: %d %s", st, body)
	}

	// Revoked: the link says so, with the reason and date; the download still works for the holder.
	st, body, _ = e.do(nil, "POST", "/api/v1/certifications/"+idPath(c.ID)+"/revoke", strings.NewReader(`{"reason":"Cấp nhầm người yêu cầu"}`), map[string]string{"Authorization": "Bearer " + e.tokenA})
	if st != 200 || !bytes.Contains(body, []byte(`"status":"revoked"`)) {
		t.Fatalf("revoke: %d %s", st, body)
	}
	st, body, _ = e.do(nil, "GET", "/v/"+token, nil, nil)
	if st != 200 || !bytes.Contains(body, []byte("Bản sao đã bị thu hồi")) || !bytes.Contains(body, []byte("Cấp nhầm người yêu cầu")) {
		t.Fatalf("revoked page: %d %s", st, body)
	}
	st, body, _ = e.do(nil, "GET", "/api/v1/verify/"+token, nil, nil)
	if st != 200 || !bytes.Contains(body, []byte(`"status":"revoked"`)) || !bytes.Contains(body, []byte(`"revoked_at"`)) {
		t.Fatalf("revoked JSON: %d %s", st, body)
	}
	// The audit log has the downloads.
	if broken, n, err := e.reg.VerifyChain(context.Background()); err != nil || broken != 0 || n == 0 {
		t.Fatalf("audit chain: %d %d %v", broken, n, err)
	}
}

func TestVerifyBadInput(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.MaxUploadBytes = 64 << 10 })
	cases := []struct {
		name   string
		body   []byte
		ctype  string
		status int
	}{
		{"not a pdf", []byte("hello, this is text"), "application/pdf", 415},
		{"too large", append([]byte("%PDF-1.7\n"), make([]byte, 100<<10)...), "application/pdf", 413},
		{"no file", nil, "multipart/form-data; boundary=x", 400},
		{"form", []byte("a=b"), "application/x-www-form-urlencoded", 415},
	}
	for _, c := range cases {
		st, body, _ := e.do(nil, "POST", "/api/v1/verify", bytes.NewReader(c.body), map[string]string{"Content-Type": c.ctype})
		var eb errorBody
		if st != c.status || json.Unmarshal(body, &eb) != nil || eb.Message == "" {
			t.Errorf("%s: %d %s", c.name, st, body)
		}
	}
	st, body, _ := e.do(nil, "POST", "/api/v1/verify", bytes.NewReader([]byte("%PDF-1.7\ngarbage")), map[string]string{"Content-Type": "application/pdf"})
	if st >= 500 {
		t.Fatalf("garbage PDF: %d %s", st, body)
	}
	st, _, _ = e.do(nil, "POST", "/api/v1/verify/hash", strings.NewReader(`{"sha256":"xyz"}`), nil)
	if st != 400 {
		t.Fatalf("bad hash: %d", st)
	}
}

func TestPublicRateLimit(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.PublicRate = 0.001 })
	limited := 0
	for i := 0; i < 30; i++ {
		st, _, h := e.do(nil, "GET", "/api/v1/verify/"+strings.Repeat("Z", 27), nil, nil)
		if st == http.StatusTooManyRequests {
			limited++
			if h.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if limited != 10 { // burst 20
		t.Fatalf("limited %d of 30, want 10", limited)
	}
}

func TestHealthMetricsOpenAPI(t *testing.T) {
	e := newEnv(t)
	if st, _, _ := e.do(nil, "GET", "/healthz", nil, nil); st != 200 {
		t.Fatal("healthz", st)
	}
	if st, b, _ := e.do(nil, "GET", "/readyz", nil, nil); st != 200 || !bytes.Contains(b, []byte(`"ready":true`)) {
		t.Fatalf("readyz %d %s", st, b)
	}
	e.do(nil, "GET", "/api/v1/verify/"+strings.Repeat("Q", 27), nil, nil)
	st, b, _ := e.do(nil, "GET", "/metrics", nil, nil)
	for _, want := range []string{
		`chungthuc_http_request_duration_seconds_bucket{route="/api/v1/verify/{token}",le="+Inf"} 1`,
		`chungthuc_verifications_total{kind="token",outcome="not_found"} 1`,
		`# TYPE chungthuc_certifications_total counter`,
	} {
		if st != 200 || !bytes.Contains(b, []byte(want)) {
			t.Fatalf("metrics lack %q:\n%s", want, b)
		}
	}
	if regexp.MustCompile(`Q{27}`).Match(b) {
		t.Fatal("a token leaked into the metrics")
	}
	st, b, _ = e.do(nil, "GET", "/api/openapi.json", nil, nil)
	if st != 200 || !json.Valid(b) {
		t.Fatal("openapi", st)
	}
	// Static files are served by the binary.
	for _, p := range []string{"/static/app.css", "/static/app.js"} {
		if st, _, _ := e.do(nil, "GET", p, nil, nil); st != 200 {
			t.Fatal(p, st)
		}
	}
	if st, b, _ := e.do(nil, "GET", "/nope", nil, map[string]string{"Accept": "text/html"}); st != 404 || !bytes.Contains(b, []byte("Không tìm thấy")) {
		t.Fatalf("404 page: %d %s", st, b)
	}
}

func TestReadyzDown(t *testing.T) {
	e := newEnv(t)
	e.reg.Close()
	if st, b, _ := e.do(nil, "GET", "/readyz", nil, nil); st != http.StatusServiceUnavailable {
		t.Fatalf("readyz with a closed register: %d %s", st, b)
	}
	_ = chungthuc.ENOTFOUND
}
