package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
)

// TestDownloadChecksTheCopy: whatever happens to the stored object behind the service's back
// — another citizen's PDF put in its place, a 16-byte forgery, the file deleted — no
// download path answers 200 with those bytes; the answer is a plain error that names no
// key or path, the failure is counted and recorded (audited), and the public status says
// the stored copy is damaged or missing while the certification stays valid.
func TestDownloadChecksTheCopy(t *testing.T) {
	e := newEnv(t, nil)
	a, b := e.certifyPL(), e.certifyPL2()
	key := a.Certification.ObjectKey
	path := filepath.Join(e.objDir, key)
	download := func() (*http.Response, string) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/v/"+a.Certification.Token+"/download",
			strings.NewReader(url.Values{"code": {a.AccessCode}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return e.do(req)
	}
	apiPDF := func() (*http.Response, string) {
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/certifications/"+itoa(a.Certification.ID)+"/pdf", nil)
		req.Header.Set("Authorization", "Bearer "+e.plToken)
		return e.do(req)
	}
	if res, body := download(); res.StatusCode != 200 || body != string(a.PDF) {
		t.Fatalf("download of an intact copy: %d", res.StatusCode)
	}
	cases := []struct {
		name   string
		tamper func()
		state  string
	}{
		{"another entry's PDF", func() { os.WriteFile(path, b.PDF, 0o640) }, chungthuc.FindingDamaged},
		{"a 16-byte forgery", func() { os.WriteFile(path, []byte("%PDF-1.7 forged!"), 0o640) }, chungthuc.FindingDamaged},
		{"a corrupted copy", func() {
			bad := bytes.Clone(a.PDF)
			bad[len(bad)/2] ^= 0xff
			os.WriteFile(path, bad, 0o640)
		}, chungthuc.FindingDamaged},
		{"the file deleted", func() { os.Remove(path) }, chungthuc.FindingMissing},
	}
	for _, tc := range cases {
		tc.tamper()
		for via, get := range map[string]func() (*http.Response, string){"link": download, "api": apiPDF} {
			res, body := get()
			if res.StatusCode != 500 || strings.Contains(body, "%PDF") {
				t.Fatalf("%s via %s: %d", tc.name, via, res.StatusCode)
			}
			for _, leak := range []string{key, e.objDir, a.Certification.SHA256, "copies/"} {
				if strings.Contains(body, leak) {
					t.Errorf("%s via %s: the answer shows %q", tc.name, via, leak)
				}
			}
			if !strings.Contains(body, "bị thiếu hoặc hư hỏng") || res.Header.Get("X-Request-ID") == "" || !strings.Contains(body, res.Header.Get("X-Request-ID")) {
				t.Errorf("%s via %s: answer without the plain message or the request ID:\n%s", tc.name, via, body)
			}
		}
		_, js := e.get("/api/v1/verify/" + a.Certification.Token)
		var status map[string]any
		json.Unmarshal([]byte(js), &status)
		if status["status"] != "valid" || status["stored_copy"] != tc.state || status["stored_copy_message_vi"] == nil {
			t.Errorf("%s: public status %s", tc.name, js)
		}
		if _, page := e.get("/v/" + a.Certification.Token); !strings.Contains(page, "Lưu ý về bản lưu trữ") {
			t.Errorf("%s: the public page does not warn", tc.name)
		}
	}
	_, m := e.get("/metrics")
	if !strings.Contains(m, `chungthuc_object_integrity_failures_total{kind="damaged"} 6`) ||
		!strings.Contains(m, `chungthuc_object_integrity_failures_total{kind="missing"} 2`) {
		t.Errorf("metrics:\n%s", m)
	}
	// Recorded as a finding (the register audits it: registertest Findings).
	fs, _ := e.reg.Findings(context.Background(), key)
	if len(fs) != 1 || fs[0].CertificationID != a.Certification.ID {
		t.Fatalf("findings: %+v", fs)
	}
	// The other entry is untouched and downloads.
	if _, js := e.get("/api/v1/verify/" + b.Certification.Token); !strings.Contains(js, `"stored_copy": "ok"`) {
		t.Errorf("the other entry: %s", js)
	}
}

// certifyPL2 certifies a second, different copy for unit HB.
func (e *env) certifyPL2() *certify.Output {
	out, err := e.svc.Certify(context.Background(), certify.Input{UnitCode: "HB", OfficerID: e.plOff.ID, DocTitle: "Bằng tốt nghiệp",
		Requester: "Lê Văn Tám", Scans: []chungthuc.Scan{{Name: "a.jpg", Data: scan}}, KeepScans: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// brokenStore fails every Put with the kind of message a real store gives: endpoint,
// bucket, key and a dial error — none of which may reach a client.
type brokenStore struct{ certify.Objects }

func (brokenStore) Put(_ context.Context, key string, _ io.Reader, _ int64, _ string) (*chungthuc.ObjectInfo, error) {
	return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "Object store http://10.9.8.7:9000 (bucket \"chungthuc-prod\") is unreachable (put %q): dial tcp 10.9.8.7:9000: connect: connection refused", key)
}

// TestIdempotencyKeyAPI: the JSON API's retries with an Idempotency-Key get the first
// outcome; a key reused with another request is 422; errors never show where objects live.
func TestIdempotencyKeyAPI(t *testing.T) {
	e := newEnv(t, nil)
	post := func(key, requester string) (*http.Response, map[string]any, string) {
		body, ct := multipartBody([][2]string{{"a.jpg", string(scan)}}, map[string]string{"title": "Giấy khai sinh", "requester": requester})
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/certifications", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+e.plToken)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, b := e.do(req)
		var m map[string]any
		json.Unmarshal([]byte(b), &m)
		return res, m, b
	}
	res, first, _ := post("mot-cua-0001", "Nguyễn Văn A")
	if res.StatusCode != 201 || first["access_code"] == nil {
		t.Fatalf("first: %d %v", res.StatusCode, first)
	}
	res, again, _ := post("mot-cua-0001", "Nguyễn Văn A")
	if res.StatusCode != 200 || again["id"] != first["id"] || again["access_code"] != nil || res.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %v", res.StatusCode, again)
	}
	if res, m, _ := post("mot-cua-0001", "Người khác"); res.StatusCode != 422 {
		t.Fatalf("the key with another request: %d %v", res.StatusCode, m)
	}
	if res, _, _ := post("bad key", "Nguyễn Văn A"); res.StatusCode != 400 {
		t.Fatalf("a malformed key: %d", res.StatusCode)
	}
	// The store fails: 503 with a plain message; the retry gets the void outcome.
	e.svc.Objects = brokenStore{e.svc.Objects}
	res, m, body := post("mot-cua-0002", "Trần Thị B")
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("with the store down: %d %s", res.StatusCode, body)
	}
	for _, leak := range []string{"10.9.8.7", "chungthuc-prod", "copies/", "dial tcp", "connection refused"} {
		if strings.Contains(body, leak) {
			t.Errorf("the answer shows %q: %s", leak, body)
		}
	}
	_ = m
	res, m, body = post("mot-cua-0002", "Trần Thị B")
	cert, _ := m["certification"].(map[string]any)
	if res.StatusCode != 409 || m["outcome"] != "void" || cert == nil || cert["status"] != "void" ||
		cert["void_reason"] != "Không lưu được bản sao vào kho lưu trữ (kho không phản hồi)" {
		t.Fatalf("retry of a failed request: %d %s", res.StatusCode, body)
	}
	// The web form shows the same plain message.
	cl, csrf, _ := e.login("canbo", e.password)
	fb, ct := multipartBody([][2]string{{"a.jpg", string(scan)}}, map[string]string{"title": "Giấy khai sinh", "requester": "Lê Văn Tám", "csrf": csrf})
	wres, err := cl.Post(e.srv.URL+"/app/certify", ct, fb)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(wres.Body)
	wres.Body.Close()
	if wres.StatusCode != 503 || strings.Contains(string(page), "10.9.8.7") || strings.Contains(string(page), "chungthuc-prod") {
		t.Fatalf("web form with the store down: %d", wres.StatusCode)
	}
}

// TestReadyzAnswersWithinASecond: a dependency that hangs makes /readyz answer 503 after its
// one-second bound, not when the dependency gives up.
func TestReadyzAnswersWithinASecond(t *testing.T) {
	e := newEnv(t, func(d *Deps) {
		d.Ready = func(ctx context.Context) error { time.Sleep(time.Minute); return nil }
	})
	done := make(chan int, 1)
	go func() { res, _ := e.get("/readyz"); done <- res.StatusCode }()
	select {
	case code := <-done:
		if code != 503 {
			t.Fatalf("readyz with a hanging dependency: %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("readyz waited for the hanging dependency")
	}
}

// TestAdminSeesFindings: the system administrator's page lists open findings.
func TestAdminSeesFindings(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.reg.ReportFinding(context.Background(), &chungthuc.Finding{Key: "copies/" + strings.Repeat("ab", 32) + ".pdf",
		Kind: chungthuc.FindingOrphan, Detail: "Tệp trong kho không có mục nào trong sổ"}); err != nil {
		t.Fatal(err)
	}
	cl := e.loginAny("quantri")
	res, err := cl.Get(e.srv.URL + "/app/stats")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "Sự cố kho lưu trữ cần kiểm tra: 1") || !strings.Contains(string(b), "không có mục nào trong sổ") {
		t.Fatalf("admin stats: %d\n%s", res.StatusCode, b)
	}
	// An officer does not get the notice.
	ocl, _, _ := e.login("canbo", e.password)
	res, _ = ocl.Get(e.srv.URL + "/app/stats")
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(b), "Sự cố kho lưu trữ") {
		t.Fatal("an officer sees the administrator's notice")
	}
	if _, m := e.get("/metrics"); !strings.Contains(m, "chungthuc_orphan_objects 1") {
		t.Errorf("orphan gauge after the page refreshed the findings:\n%s", m)
	}
}
