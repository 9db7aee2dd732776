package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testscan"
)

// countingCertifier counts refusals that reach the workflow.
type countingCertifier struct {
	Certifier
	refusals atomic.Int64
}

func (c *countingCertifier) Refuse(ctx context.Context, r *chungthuc.Refusal) error {
	c.refusals.Add(1)
	return c.Certifier.Refuse(ctx, r)
}

// actionLog keeps the actions appended.
type actionLog struct {
	Auditor
	mu      sync.Mutex
	actions []string
}

func (a *actionLog) Append(ctx context.Context, e *chungthuc.AuditEntry) error {
	a.mu.Lock()
	a.actions = append(a.actions, e.Action+" "+e.Subject)
	a.mu.Unlock()
	return a.Auditor.Append(ctx, e)
}

func (a *actionLog) has(action string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range a.actions {
		if strings.HasPrefix(x, action) {
			return true
		}
	}
	return false
}

// reader returns a function reading a response's body whole (failing t on an error).
func reader(t *testing.T) func(*http.Response, error) string {
	return func(res *http.Response, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return string(b)
	}
}

var (
	formKeyRE = regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)
	codeRE    = regexp.MustCompile(`id="access-code" class="code">([2-9A-Z]{10})<`)
)

// TestPostRedirectGet: the certify form answers 303 to the entry; the same one-time key sent
// again (a reload, Back-and-submit, a double click — also with other files) creates nothing
// and lands on the first entry; GETs of the result page create nothing; the access code
// stays on the page (also after a language switch, and on the receipt) until the officer
// confirms it was handed over (audited). Revoking needs the confirmation box; refusing
// twice with one key records one refusal.
func TestPostRedirectGet(t *testing.T) {
	var cc *countingCertifier
	var ra *actionLog
	e := newEnv(t, func(d *Deps) {
		cc = &countingCertifier{Certifier: d.Certify}
		ra = &actionLog{Auditor: d.Audit}
		d.Certify, d.Audit = cc, ra
	})
	readAll := reader(t)
	cl, csrf, _ := e.login("canbo", e.password)
	form := readAll(cl.Get(e.srv.URL + "/app/certify"))
	m := formKeyRE.FindStringSubmatch(form)
	if m == nil || !strings.HasPrefix(m[1], formKeyPrefix) {
		t.Fatalf("the certify form has no one-time key:\n%s", form)
	}
	key := m[1]
	if m2 := formKeyRE.FindStringSubmatch(readAll(cl.Get(e.srv.URL + "/app/certify"))); m2 == nil || m2[1] == key {
		t.Fatal("a second form got the same key")
	}
	entries := func() int {
		_, total, err := e.reg.Certifications(context.Background(), chungthuc.CertificationFilter{UnitID: e.pl.ID})
		if err != nil {
			t.Fatal(err)
		}
		return total
	}
	post := func(files [][2]string, k string) *http.Response {
		body, ct := multipartBody(files, map[string]string{"csrf": csrf, "title": "Bằng tốt nghiệp", "requester": "Phạm Thị Ánh", "idempotency_key": k})
		res, err := cl.Post(e.srv.URL+"/app/certify", ct, body)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	one := [][2]string{{"trang1.jpg", string(scan)}}
	first := post(one, key)
	loc := first.Header.Get("Location")
	if first.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/app/c/\d+$`).MatchString(loc) {
		t.Fatalf("first POST: %d %q", first.StatusCode, loc)
	}
	// The same key again, and with other files (Back, then a changed form): no new entry.
	for _, files := range [][][2]string{one, {{"khac.jpg", string(scan) + " "}, {"trang2.jpg", string(scan)}}} {
		again := post(files, key)
		if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != loc+"?again=1" {
			t.Fatalf("second POST with the key: %d %q, want %s?again=1", again.StatusCode, again.Header.Get("Location"), loc)
		}
	}
	// Two at once (a double click): still one entry.
	k2 := newFormKey()
	var wg sync.WaitGroup
	locs := make([]string, 2)
	for i := range locs {
		wg.Add(1)
		go func() { defer wg.Done(); locs[i] = post(one, k2).Header.Get("Location") }()
	}
	wg.Wait()
	if strings.TrimSuffix(locs[0], "?again=1") != strings.TrimSuffix(locs[1], "?again=1") || locs[0] == "" {
		t.Fatalf("double click went to %q and %q", locs[0], locs[1])
	}
	if n := entries(); n != 2 {
		t.Fatalf("%d entries after two keys sent five times, want 2", n)
	}
	// The result page, reloaded and switched to English, shows the code and creates nothing.
	page := readAll(cl.Get(e.srv.URL + loc))
	cm := codeRE.FindStringSubmatch(page)
	if cm == nil || !strings.Contains(page, "Bằng tốt nghiệp") {
		t.Fatalf("result page without the access code:\n%s", page)
	}
	code := cm[1]
	for _, p := range []string{loc, loc + "?lang=en", loc + "/receipt"} {
		if b := readAll(cl.Get(e.srv.URL + p)); !strings.Contains(b, code) {
			t.Fatalf("GET %s lost the access code:\n%s", p, b)
		}
	}
	if b := readAll(cl.Get(e.srv.URL + loc + "?lang=en")); !strings.Contains(b, "Receipt printed / code handed over") {
		t.Fatalf("English result page:\n%s", b)
	}
	if n := entries(); n != 2 {
		t.Fatalf("GETs of the result created entries: %d", n)
	}
	// The code works for the citizen.
	c, err := e.reg.CertificationByID(context.Background(), mustID(t, loc))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.PostForm(e.srv.URL+"/v/"+c.Token+"/download", url.Values{"code": {code}})
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("download with the shown code: %v %v", err, res)
	}
	res.Body.Close()
	// Handed over: the code leaves the page and the server; audited.
	res, err = cl.PostForm(e.srv.URL+loc+"/code-handed-over", url.Values{"csrf": {csrf}})
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("code handed over: %v %v", err, res)
	}
	if b := readAll(cl.Get(e.srv.URL + loc)); strings.Contains(b, code) {
		t.Fatal("the code is still shown after the officer confirmed it was handed over")
	}
	if b := readAll(cl.Get(e.srv.URL + loc + "/receipt")); strings.Contains(b, code) || !strings.Contains(b, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") ||
		!strings.Contains(b, "Độc lập - Tự do - Hạnh phúc") || !strings.Contains(b, "Trần Văn Nghĩa") || !strings.Contains(b, fmt.Sprintf("HB-%s-", c.CertifiedAt.In(chungthuc.Vietnam).Format("20060102"))) {
		t.Fatalf("receipt after hand-over:\n%s", b)
	}
	if !ra.has("access_code.handed_over certification:") {
		t.Fatal("the hand-over is not audited")
	}

	// Revoking: the form warns the reason is public; without the box ticked nothing happens.
	page = readAll(cl.Get(e.srv.URL + loc + "?lang=vi")) // English was remembered: back to Vietnamese
	if !strings.Contains(page, "công bố nguyên văn") || !strings.Contains(page, `name="confirm"`) {
		t.Fatalf("revoke form without the warning or the confirmation:\n%s", page)
	}
	rk := formKeyRE.FindAllStringSubmatch(page, -1)
	if len(rk) == 0 {
		t.Fatal("the revoke form has no one-time key")
	}
	revokeKey := rk[len(rk)-1][1]
	b := readAll(cl.PostForm(e.srv.URL+loc+"/revoke", url.Values{"csrf": {csrf}, "reason": {"Cấp nhầm"}, "idempotency_key": {revokeKey}}))
	if c, _ = e.reg.CertificationByID(context.Background(), c.ID); c.Status != chungthuc.StatusIssued || !strings.Contains(b, "ô xác nhận") {
		t.Fatalf("revoke without confirmation: status %s\n%s", c.Status, b)
	}
	for i, want := range []string{loc, loc + "?again=1"} {
		res, err = cl.PostForm(e.srv.URL+loc+"/revoke", url.Values{"csrf": {csrf}, "reason": {"Cấp nhầm"}, "confirm": {"1"}, "idempotency_key": {revokeKey}})
		if err != nil || res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Fatalf("revoke %d: %v %d %q", i, err, res.StatusCode, res.Header.Get("Location"))
		}
	}
	if c, _ = e.reg.CertificationByID(context.Background(), c.ID); c.Status != chungthuc.StatusRevoked {
		t.Fatalf("status %s after a confirmed revocation", c.Status)
	}
	pub := readAll(http.Get(e.srv.URL + "/v/" + c.Token))
	if !strings.Contains(pub, "Bản sao đã bị thu hồi ngày") || !strings.Contains(pub, "lý do: Cấp nhầm") || strings.Contains(pub, "Hợp lệ") || strings.Contains(pub, "hợp lệ") {
		t.Fatalf("public page of a revoked copy:\n%s", pub)
	}

	// Refusing: one key, one refusal.
	rf := readAll(cl.Get(e.srv.URL + "/app/refuse"))
	refuseKey := formKeyRE.FindStringSubmatch(rf)[1]
	var slip string
	for i, want := range []string{"/app/refuse?done=1&slip=", "/app/refuse?done=1&again=1"} {
		res, err = cl.PostForm(e.srv.URL+"/app/refuse", url.Values{"csrf": {csrf}, "reason": {"classified"}, "idempotency_key": {refuseKey},
			"requester": {"Lê Văn Tám"}, "title": {"Quyết định mật"}})
		if err != nil || res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), want) {
			t.Fatalf("refuse %d: %v %v", i, err, res)
		}
		if i == 0 {
			slip = res.Header.Get("Location")
		}
	}
	// The refusal slip: the written answer, printable, with the reason in words.
	b = readAll(cl.Get(e.srv.URL + slip + "&lang=vi"))
	for _, want := range []string{"Phiếu từ chối chứng thực", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Lê Văn Tám", "Quyết định mật",
		"Bản chính đóng dấu mật hoặc ghi rõ không được sao chụp", "Trần Văn Nghĩa"} {
		if !strings.Contains(b, want) {
			t.Fatalf("refusal slip lacks %q:\n%s", want, b)
		}
	}
	if n := cc.refusals.Load(); n != 1 {
		t.Fatalf("%d refusals recorded for one form, want 1", n)
	}
}

func mustID(t *testing.T, loc string) int64 {
	var id int64
	if _, err := fmt.Sscanf(loc, "/app/c/%d", &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestErrorPages: one template, the reader's language, a sentence saying what to do, a link
// back without script, the request id; JSON keeps its codes; no 405 for links people follow.
func TestErrorPages(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.MaxUpload = 1 << 20 })
	readAll := reader(t)
	cl, csrf, _ := e.login("canbo", e.password)
	body, ct := multipartBody([][2]string{{"a.jpg", string(scan)}}, map[string]string{"csrf": csrf})
	req, _ := http.NewRequest("POST", e.srv.URL+"/app/certify", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Referer", e.srv.URL+"/app/certify")
	res, err := cl.Do(req)
	b := readAll(res, err)
	if res.StatusCode != 400 || !strings.Contains(b, "Chưa nhập tên giấy tờ") || !strings.Contains(b, "<h1>Chưa gửi được yêu cầu</h1>") ||
		strings.Contains(b, "javascript:") || strings.Contains(b, `field "title"`) || strings.Contains(b, "fill in") ||
		!strings.Contains(b, `href="/app/certify" class="back"`) || !strings.Contains(b, res.Header.Get("X-Request-Id")) || res.Header.Get("X-Request-Id") == "" {
		t.Fatalf("error page (vi): %d\n%s", res.StatusCode, b)
	}
	// English when chosen (the cookie set by ?lang=en).
	readAll(cl.Get(e.srv.URL + "/app/?lang=en"))
	body, ct = multipartBody([][2]string{{"a.jpg", string(scan)}}, map[string]string{"csrf": csrf})
	b = readAll(cl.Post(e.srv.URL+"/app/certify", ct, body))
	if !strings.Contains(b, "The document title is missing") || strings.Contains(b, "Chưa nhập") || !strings.Contains(b, "<h1>The request could not be accepted</h1>") {
		t.Fatalf("error page (en):\n%s", b)
	}
	// Too large: sizes in MB, said in words.
	big := strings.Repeat("x", 3<<20)
	body, ct = multipartBody([][2]string{{"a.jpg", big}}, map[string]string{"csrf": csrf, "title": "X"})
	req, _ = http.NewRequest("POST", e.srv.URL+"/app/certify?lang=vi", body)
	req.Header.Set("Content-Type", ct)
	res, err = cl.Do(req)
	b = readAll(res, err)
	if res.StatusCode != 413 || !strings.Contains(b, "vượt giới hạn 1 MB") || !regexp.MustCompile(`nặng 3,0 MB`).MatchString(b) || strings.Contains(b, "bytes") {
		t.Fatalf("too large: %d\n%s", res.StatusCode, b)
	}
	// JSON errors keep their codes.
	res, err = http.Get(e.srv.URL + "/api/v1/verify/sha256/xyz")
	if b = readAll(res, err); res.StatusCode != 400 || !strings.Contains(b, `"code": "invalid"`) {
		t.Fatalf("JSON error: %d %s", res.StatusCode, b)
	}
	// Links people follow: GET /logout, and the language switch on a wrong-code page.
	if res, err = cl.Get(e.srv.URL + "/logout"); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /logout: %v %v", err, res)
	}
	res.Body.Close()
	out := e.certifyPL()
	res, err = http.PostForm(e.srv.URL+"/v/"+out.Certification.Token+"/download", url.Values{"code": {"WRONGCODE2"}})
	b = readAll(res, err)
	sw := regexp.MustCompile(`href="([^"]+)" lang="en" id="lang-switch"`).FindStringSubmatch(b)
	if res.StatusCode != 403 || sw == nil {
		t.Fatalf("wrong code: %d\n%s", res.StatusCode, b)
	}
	target := strings.ReplaceAll(sw[1], "&amp;", "&")
	if res, err = http.Get(e.srv.URL + target); err != nil || res.StatusCode != 200 {
		t.Fatalf("language switch after a wrong code (%s): %v %v", target, err, res)
	}
	res.Body.Close()
}

// TestReissueAccessCode: the officer of the unit reissues a code (confirmed, once per form);
// the new code is shown and printed on the receipt, the old one is refused at the download;
// the JSON API does the same for the unit's token only; a revoked copy gets no new code;
// every reissue is audited with who asked.
func TestReissueAccessCode(t *testing.T) {
	e := newEnv(t, nil)
	readAll := reader(t)
	out := e.certifyPL()
	c := out.Certification
	oldCode := out.AccessCode
	download := func(code string) int {
		res, err := http.PostForm(e.srv.URL+"/v/"+c.Token+"/download", url.Values{"code": {code}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := download(oldCode); st != 200 {
		t.Fatalf("download with the first code: %d", st)
	}
	cl, csrf, _ := e.login("canbo", e.password)
	loc := fmt.Sprintf("/app/c/%d", c.ID)
	page := readAll(cl.Get(e.srv.URL + loc))
	m := regexp.MustCompile(`action="/app/c/\d+/access-code">\s*<input type="hidden" name="csrf" value="[^"]+">\s*<input type="hidden" name="idempotency_key" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no reissue form on the detail page:\n%s", page)
	}
	// Without the confirmation nothing changes.
	res, err := cl.PostForm(e.srv.URL+loc+"/access-code", url.Values{"csrf": {csrf}, "idempotency_key": {m[1]}})
	if b := readAll(res, err); res.StatusCode != 400 || !strings.Contains(b, "mã cũ sẽ không dùng được nữa") {
		t.Fatalf("reissue without confirmation: %d", res.StatusCode)
	}
	if st := download(oldCode); st != 200 {
		t.Fatalf("an unconfirmed reissue voided the code: %d", st)
	}
	_, before, err := e.reg.VerifyChain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{loc + "?reissued=1", loc + "?again=1"} {
		res, err = cl.PostForm(e.srv.URL+loc+"/access-code", url.Values{"csrf": {csrf}, "idempotency_key": {m[1]}, "confirm": {"1"}})
		if err != nil || res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
			t.Fatalf("reissue %d: %v %v", i, err, res)
		}
		res.Body.Close()
	}
	// One reissue (the second POST of the form replayed), one audit entry in its transaction.
	if broken, after, err := e.reg.VerifyChain(context.Background()); err != nil || broken != 0 || after != before+1 {
		t.Fatalf("audit log after one reissue: %d entries (was %d), broken at %d, %v", after, before, broken, err)
	}
	page = readAll(cl.Get(e.srv.URL + loc + "?reissued=1"))
	cm := codeRE.FindStringSubmatch(page)
	if cm == nil || cm[1] == oldCode || !strings.Contains(page, "Đã cấp lại mã truy cập") {
		t.Fatalf("after reissuing, the page shows no new code:\n%s", page)
	}
	newCode := cm[1]
	if b := readAll(cl.Get(e.srv.URL + loc + "/receipt")); !strings.Contains(b, newCode) {
		t.Fatal("the new receipt does not print the new code")
	}
	if st := download(oldCode); st != 403 {
		t.Fatalf("the old code after a reissue: %d, want 403", st)
	}
	if st := download(newCode); st != 200 {
		t.Fatalf("the new code: %d", st)
	}
	// The JSON API: another unit's token sees nothing; the unit's token gets a code.
	api := func(token string) (*http.Response, string) {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/certifications/%d/access-code", e.srv.URL, c.ID), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return e.do(req)
	}
	if res, _ := api(e.tmToken); res.StatusCode != 404 {
		t.Fatalf("another unit's token: %d", res.StatusCode)
	}
	res, body := api(e.plToken)
	am := regexp.MustCompile(`"access_code": "([2-9A-Z]{10})"`).FindStringSubmatch(body)
	if res.StatusCode != 200 || am == nil {
		t.Fatalf("API reissue: %d %s", res.StatusCode, body)
	}
	if download(newCode) != 403 || download(am[1]) != 200 {
		t.Fatal("the API's code did not replace the form's")
	}
	// An officer of another unit does not see the entry.
	other, otherCSRF, _ := e.login("canbo.tm", e.password)
	if res, err = other.PostForm(e.srv.URL+loc+"/access-code", url.Values{"csrf": {otherCSRF}, "confirm": {"1"}}); err != nil || res.StatusCode != 404 {
		t.Fatalf("another unit's officer reissues: %v %v", err, res)
	}
	res.Body.Close()
	// A revoked copy gets no new code.
	if _, err := e.svc.Revoke(context.Background(), e.pl.ID, c.ID, "Cấp nhầm"); err != nil {
		t.Fatal(err)
	}
	if res, _ := api(e.plToken); res.StatusCode != 409 {
		t.Fatalf("reissue for a revoked copy: %d", res.StatusCode)
	}
}

// TestReportVerdicts: the verification report opens with one plain sentence — valid,
// changed after signing, revoked — and explains the codes in the collapsed detail.
func TestReportVerdicts(t *testing.T) {
	e := newEnv(t, nil)
	readAll := reader(t)
	out := e.certifyPL()
	verdictRE := regexp.MustCompile(`<h1 class="badge (\w+)" id="verdict">([^<]*)</h1>`)
	check := func(name string, pdf []byte, class, want string) string {
		t.Helper()
		body, ct := multipartBody([][2]string{{"copy.pdf", string(pdf)}}, nil)
		b := readAll(http.Post(e.srv.URL+"/verify?lang=vi", ct, body))
		m := verdictRE.FindStringSubmatch(b)
		if m == nil || m[1] != class || !strings.Contains(m[2], want) {
			t.Fatalf("%s: verdict %q, want %s %q\n%s", name, m, class, want, b)
		}
		if strings.Contains(b, ">TOTAL_PASSED<") || strings.Contains(b, "<strong>TOTAL_") {
			t.Fatalf("%s: a bare indication code:\n%s", name, b)
		}
		if !strings.Contains(b, "<details>") {
			t.Fatalf("%s: no collapsed technical detail", name)
		}
		return b
	}
	b := check("valid", out.PDF, "issued", "Bản sao hợp lệ")
	if !strings.Contains(b, "TOTAL_PASSED — chữ ký hợp lệ") {
		t.Fatalf("TOTAL_PASSED is not explained:\n%s", b)
	}
	// Something written after the signatures (an incremental update that changes the page).
	changed := append(append([]byte{}, out.PDF...), []byte("\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n")...)
	check("changed after signing", changed, "revoked", "Tệp đã bị sửa đổi sau khi ký")
	if _, err := e.svc.Revoke(context.Background(), e.pl.ID, out.Certification.ID, "Cấp nhầm"); err != nil {
		t.Fatal(err)
	}
	b = check("revoked", out.PDF, "revoked", "Bản sao đã bị thu hồi ngày")
	if strings.Contains(verdictRE.FindStringSubmatch(b)[2], "hợp lệ") {
		t.Fatal("a revoked copy's verdict says valid")
	}
}

// TestRemovedContentBeforeSigning: a PDF scan that loses content in the copy is not signed
// until the officer has seen, in Vietnamese, what is removed and confirmed; the confirmation
// certifies exactly the upload checked, once.
func TestRemovedContentBeforeSigning(t *testing.T) {
	e := newEnv(t, nil)
	readAll := reader(t)
	cl, csrf, _ := e.login("canbo", e.password)
	key := formKeyRE.FindStringSubmatch(readAll(cl.Get(e.srv.URL + "/app/certify")))[1]
	body, ct := multipartBody([][2]string{{"hopdong.pdf", string(testscan.ScriptedPDF())}}, map[string]string{"csrf": csrf, "title": "Hợp đồng", "requester": "Đỗ Văn Hùng", "idempotency_key": key})
	res, err := cl.Post(e.srv.URL+"/app/certify?lang=vi", ct, body)
	b := readAll(res, err)
	if res.StatusCode != 200 || !strings.Contains(b, "hopdong.pdf: đã bỏ mã JavaScript chạy khi mở tệp (OpenAction)") || !strings.Contains(b, `action="/app/certify/confirm"`) {
		t.Fatalf("no confirmation before signing: %d\n%s", res.StatusCode, b)
	}
	count := func() int {
		_, n, err := e.reg.Certifications(context.Background(), chungthuc.CertificationFilter{UnitID: e.pl.ID})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("%d entries before the officer confirmed", n)
	}
	// The stamped preview: the copy as it will be signed, without number or signature,
	// marked on every page; it uses no number and keeps the upload for the confirmation.
	if !strings.Contains(b, `href="/app/certify/preview?key=`+key+`"`) {
		t.Fatalf("no preview link on the confirmation page:\n%s", b)
	}
	for i := 0; i < 2; i++ {
		res, err = cl.Get(e.srv.URL + "/app/certify/preview?key=" + key)
		pdf := readAll(res, err)
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || res.Header.Get("Cache-Control") != "no-store" ||
			!strings.HasPrefix(pdf, "%PDF-") || strings.Contains(pdf, "/ByteRange") {
			t.Fatalf("preview %d: %d %s", i, res.StatusCode, res.Header)
		}
		if i == 0 {
			if text := pdfText(t, []byte(pdf)); text != "" && (strings.Count(text, "BẢN XEM TRƯỚC – CHƯA KÝ") != 2 || !strings.Contains(text, "Số chứng thực …")) {
				t.Fatalf("preview text:\n%s", text)
			}
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d entries after the preview", n)
	}
	if res, err := cl.Get(e.srv.URL + "/app/certify/preview?key=" + newFormKey()); readAll(res, err) == "" || res.StatusCode != 404 {
		t.Fatalf("preview of an unknown upload: %d", res.StatusCode)
	}
	// A confirmation with another key certifies nothing.
	res, err = cl.PostForm(e.srv.URL+"/app/certify/confirm", url.Values{"csrf": {csrf}, "idempotency_key": {newFormKey()}})
	if readAll(res, err); res.StatusCode != 404 || count() != 0 {
		t.Fatalf("confirmation with an unknown key: %d, %d entries", res.StatusCode, count())
	}
	var loc string
	for i := 0; i < 2; i++ {
		res, err = cl.PostForm(e.srv.URL+"/app/certify/confirm", url.Values{"csrf": {csrf}, "idempotency_key": {key}})
		readAll(res, err)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm %d: %d", i, res.StatusCode)
		}
		if i == 0 {
			loc = res.Header.Get("Location")
		} else if res.Header.Get("Location") != loc+"?again=1" {
			t.Fatalf("second confirm went to %q, want %s?again=1", res.Header.Get("Location"), loc)
		}
	}
	if n := count(); n != 1 {
		t.Fatalf("%d entries after confirming twice, want 1", n)
	}
	if b := readAll(cl.Get(e.srv.URL + loc)); !codeRE.MatchString(b) || !strings.Contains(b, "Hợp đồng") {
		t.Fatalf("result after confirmation:\n%s", b)
	}
	if l, _, _ := e.reg.Certifications(context.Background(), chungthuc.CertificationFilter{UnitID: e.pl.ID}); len(l) != 1 || l[0].Number != 1 {
		t.Fatalf("the previews used a number: %+v", l)
	}
	// Once confirmed, the upload is gone: no preview of it any more.
	if res, err := cl.Get(e.srv.URL + "/app/certify/preview?key=" + key); readAll(res, err) == "" || res.StatusCode != 404 {
		t.Fatalf("preview after confirming: %d", res.StatusCode)
	}
}

// pdfText is the text of a PDF by pdftotext (poppler), "" when it is not installed.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		return ""
	}
	f := filepath.Join(t.TempDir(), "x.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestEnglishComplete: with English chosen, the workspace and public pages carry no
// Vietnamese words of their own — only data (names, titles), the legal references and the
// national heading, which stay Vietnamese.
func TestEnglishComplete(t *testing.T) {
	e := newEnv(t, nil)
	readAll := reader(t)
	out := e.certifyPL()
	cl, _, _ := e.login("canbo", e.password)
	readAll(cl.Get(e.srv.URL + "/app/?lang=en"))
	vietnamese := regexp.MustCompile(`[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđơưăâêôàáèéìíòóùúýãõĩũ]`)
	keep := []string{"Phường Hòa Bình", "PHƯỜNG HÒA BÌNH", "Ủy ban nhân dân phường Hòa Bình", "ỦY BAN NHÂN DÂN PHƯỜNG HÒA BÌNH", "tỉnh Phú Thọ", "TỈNH PHÚ THỌ", "Trần Văn Nghĩa", "PHÓ CHỦ TỊCH", "CHỦ TỊCH", "Giấy khai sinh", "Nguyễn Thị Hồng Nhung",
		"Nghị định", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "SCTĐT", "Tiếng Việt"}
	tags := regexp.MustCompile(`<[^>]*>`)
	for _, p := range []string{"/app/", "/app/certify", "/app/register", "/app/refuse", "/app/stats", fmt.Sprintf("/app/c/%d", out.Certification.ID),
		fmt.Sprintf("/app/c/%d/receipt", out.Certification.ID), "/v/" + out.Certification.Token, "/verify", "/logout", "/app/c/99999"} {
		b := tags.ReplaceAllString(readAll(cl.Get(e.srv.URL+p)), " ")
		for _, k := range keep {
			b = strings.ReplaceAll(b, k, "")
		}
		if m := vietnamese.FindAllStringIndex(b, 3); m != nil {
			lo, hi := max(0, m[0][0]-60), min(len(b), m[0][1]+60)
			t.Errorf("GET %s in English shows Vietnamese: …%s…", p, strings.Join(strings.Fields(b[lo:hi]), " "))
		}
	}
}
