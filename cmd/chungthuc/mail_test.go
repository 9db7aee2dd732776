package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc/internal/testmail"
)

// apiCertifyMail posts a scan with an e-mail address to the JSON API.
func (s *service) apiCertifyMail(scan []byte, email string) (int, map[string]any) {
	return s.apiCertifyFields(scan, map[string]string{"document": "Giấy khai sinh", "requester": "Nguyễn Thị Hồng Nhung", "email": email})
}

// TestCertifyEmail runs the real serve with a real SMTP server (mailpit): a refused address
// uses no number; a certification with an address sends the citizen a Vietnamese message
// with the verification link and the access code; with the SMTP server down the copy is
// still issued, the officer sees the failure on the detail page, and the message goes out
// once the server is back. The address never reaches the log.
func TestCertifyEmail(t *testing.T) {
	backends := []string{"embedded"}
	if os.Getenv("CHUNGTHUC_TEST_DATABASE_URL") != "" && os.Getenv("CHUNGTHUC_TEST_S3_ENDPOINT") != "" {
		backends = append(backends, "postgres+s3")
	} else {
		t.Log("PostgreSQL and MinIO not both configured: the production variant is skipped")
	}
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) { testCertifyEmail(t, backend) })
	}
}

func testCertifyEmail(t *testing.T, backend string) {
	mp := testmail.New(t)
	s := newService(t, backend, map[string]string{
		"CHUNGTHUC_SMTP_URL": "smtp://" + mp.SMTP, "CHUNGTHUC_SMTP_FROM": "Bộ phận một cửa phường Hòa Bình <motcua@hoabinh.gov.vn>",
		"CHUNGTHUC_MAIL_RETRY": "300ms",
	})
	scan := testScan(t)
	for _, bad := range []string{"a@b.vn\r\nBcc: x@y.vn", "An <an@example.vn>", "an@example.vn, b@example.vn", "không-phải-địa-chỉ", strings.Repeat("a", 250) + "@b.vn"} {
		st, m := s.apiCertifyMail(scan, bad)
		if st != 400 || !strings.Contains(m["error"].(map[string]any)["message"].(string), "Địa chỉ thư điện tử không hợp lệ") {
			t.Fatalf("address %q: %d %v", bad, st, m)
		}
	}
	st, m := s.apiCertifyMail(scan, "nguyen.van.an@example.vn")
	if st != 201 || m["number"] != float64(1) {
		t.Fatalf("certify with e-mail: %d %v (the refused addresses must not use a number)", st, m)
	}
	code, link := m["access_code"].(string), m["verify_url"].(string)
	msg := waitMail(t, mp, 1)
	if msg.To[0].Address != "nguyen.van.an@example.vn" || msg.From.Address != "motcua@hoabinh.gov.vn" || !strings.HasPrefix(msg.Subject, "Bản sao chứng thực điện tử số 1, quyển số ") {
		t.Fatalf("message %+v", msg)
	}
	text := mp.Text(msg.ID)
	for _, want := range []string{"hường Hòa Bình đã chứng thực bản sao điện tử của giấy tờ \"Giấy khai sinh\"", link, "Mã truy cập để tải bản sao: " + code} {
		if !strings.Contains(text, want) {
			t.Errorf("the message lacks %q:\n%s", want, text)
		}
	}
	if !norm.NFC.IsNormalString(text) || !norm.NFC.IsNormalString(msg.Subject) {
		t.Error("the message is not NFC")
	}
	// The link and code in the message work.
	token := link[strings.LastIndex(link, "/")+1:]
	res, err := http.PostForm(s.base+"/v/"+token+"/download", url.Values{"code": {code}})
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("download with the mailed code: %d", res.StatusCode)
	}

	// SMTP down at issue time: issued anyway, the failure shown to the officer, sent later.
	mp.Stop()
	st, m = s.apiCertifyMail(scan, "tran.thi.binh@example.vn")
	if st != 201 || m["status"] != "issued" {
		t.Fatalf("certify with the SMTP server down: %d %v", st, m)
	}
	id := strconv.Itoa(int(m["id"].(float64)))
	cl := s.webLogin(t)
	detail := func() string {
		res, err := cl.Get(s.base + "/app/c/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	statusRE := regexp.MustCompile(`(?s)<dd id="mail-status"[^>]*>(.*?)</dd>`)
	var seen string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if sm := statusRE.FindStringSubmatch(detail()); sm != nil && strings.Contains(sm[1], "số lần gửi lỗi") {
			seen = sm[1]
			break
		}
	}
	if !strings.Contains(seen, "đang chờ gửi") || !strings.Contains(seen, "t…@example.vn") || !strings.Contains(seen, "lỗi gần nhất") || strings.Contains(seen, "tran.thi.binh@") {
		t.Fatalf("detail page while the SMTP server is down: %q", seen)
	}
	mp.Start()
	msg = waitMail(t, mp, 2)
	if msg.To[0].Address != "tran.thi.binh@example.vn" || !strings.Contains(mp.Text(msg.ID), m["verify_url"].(string)) {
		t.Fatalf("after the server came back: %+v", msg)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		sm := statusRE.FindStringSubmatch(detail())
		if sm != nil && strings.Contains(sm[1], "đã gửi") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("detail page after delivery: %v", sm)
		}
	}
	// Without an address the detail page has no e-mail line; the workspace form has the field.
	st, m = s.apiCertifyFields(scan, map[string]string{"document": "Bằng", "requester": "Lê Văn Cường"})
	if st != 201 {
		t.Fatal(st, m)
	}
	id = strconv.Itoa(int(m["id"].(float64)))
	if strings.Contains(detail(), `id="mail-status"`) {
		t.Error("an entry without e-mail shows an e-mail status")
	}
	res, err = cl.Get(s.base + "/app/certify")
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(form), `name="email" type="email"`) {
		t.Error("the certify form has no e-mail field")
	}
}

// TestCertifyEmailNotConfigured: without CHUNGTHUC_SMTP_URL an address is refused before a
// number is used, and the form has no e-mail field.
func TestCertifyEmailNotConfigured(t *testing.T) {
	s := newService(t, "embedded", nil)
	scan := testScan(t)
	if st, m := s.apiCertifyMail(scan, "an@example.vn"); st != 400 || !strings.Contains(m["error"].(map[string]any)["message"].(string), "CHUNGTHUC_SMTP_URL") {
		t.Fatalf("e-mail without SMTP: %d %v", st, m)
	}
	if st, m := s.apiCertifyFields(scan, map[string]string{"document": "Bằng", "requester": "Lê Văn Cường"}); st != 201 || m["number"] != float64(1) {
		t.Fatalf("then without e-mail: %d %v", st, m)
	}
	code, out, errs := cli(t, s.env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Bằng", "--requester", "Lê Văn Cường", "--email", "an@example.vn", "--out", t.TempDir()+"/c.pdf", writeScans(t, t.TempDir(), 1, 50<<10)[0])
	if code == 0 || !strings.Contains(out+errs, "CHUNGTHUC_SMTP_URL") {
		t.Fatalf("CLI certify --email without SMTP: exit %d\n%s%s", code, out, errs)
	}
	if _, err := LoadConfig(func(k string) string {
		return map[string]string{"CHUNGTHUC_SMTP_URL": "smtp://u:geheim@h?from=a@b.vn", "CHUNGTHUC_SMTP_FROM": "c@d.vn"}[k]
	}); err == nil || !strings.Contains(err.Error(), "twice") || strings.Contains(err.Error(), "geheim") {
		t.Errorf("sender twice: %v", err)
	}
	if _, err := LoadConfig(func(k string) string { return map[string]string{"CHUNGTHUC_SMTP_FROM": "c@d.vn"}[k] }); err == nil {
		t.Error("CHUNGTHUC_SMTP_FROM without CHUNGTHUC_SMTP_URL accepted")
	}
	if _, err := LoadConfig(func(k string) string { return map[string]string{"CHUNGTHUC_SMTP_URL": "smtp://h"}[k] }); err == nil || !strings.Contains(err.Error(), "sender") {
		t.Errorf("no sender: %v", err)
	}
}

// apiCertifyFields posts one scan with the given form fields to the JSON API.
func (s *service) apiCertifyFields(scan []byte, fields map[string]string) (int, map[string]any) {
	return s.apiMultipart(scan, fields, "", http.DefaultClient)
}

// webLogin logs the officer in and returns a client with the session.
func (s *service) webLogin(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	res, err := cl.Get(s.base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	res, err = cl.PostForm(s.base+"/login", url.Values{"csrf": {string(csrf[1])}, "username": {s.username}, "password": {s.password}, "next": {"/app/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return cl
}

// waitMail waits until mailpit holds n messages and returns the newest.
func waitMail(t *testing.T, mp *testmail.Server, n int) testmail.Summary {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if ms := mp.Messages(); len(ms) >= n {
			return ms[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not receive message %d", n)
		}
	}
}

// TestCertifyEmailFromCLI: the CLI only queues the message in the register (in Reserve's and
// Issue's transactions); a serve started later sends it.
func TestCertifyEmailFromCLI(t *testing.T) {
	mp := testmail.New(t)
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": dir + "/data", "CHUNGTHUC_SMTP_URL": "smtp://" + mp.SMTP + "?from=motcua@hoabinh.gov.vn", "CHUNGTHUC_MAIL_RETRY": "300ms"}
	code, out, errs := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Lê Văn Cường",
		"--email", "le.van.cuong@example.vn", "--out", dir+"/c.pdf", writeScans(t, dir, 1, 50<<10)[0])
	if code != 0 {
		t.Fatalf("CLI certify --email: exit %d\n%s%s", code, out, errs)
	}
	var res struct{ AccessCode, VerifyURL string }
	if err := json.Unmarshal([]byte(out), &struct {
		AccessCode *string `json:"access_code"`
		VerifyURL  *string `json:"verify_url"`
	}{&res.AccessCode, &res.VerifyURL}); err != nil || res.AccessCode == "" {
		t.Fatalf("CLI output %s: %v", out, err)
	}
	if n := len(mp.Messages()); n != 0 {
		t.Fatalf("the CLI sent %d messages itself", n)
	}
	startServe(t, env)
	msg := waitMail(t, mp, 1)
	text := mp.Text(msg.ID)
	if msg.To[0].Address != "le.van.cuong@example.vn" || !strings.Contains(text, "Mã truy cập để tải bản sao: "+res.AccessCode) {
		t.Fatalf("message %+v:\n%s", msg, text)
	}
}
