package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/chungthuc/chungthuc/internal/testmail"
	"github.com/chungthuc/chungthuc/internal/testscan"
	"github.com/chungthuc/chungthuc/internal/webdriver"
)

// axeSource is axe-core's axe.min.js: $CHUNGTHUC_AXE_JS, or .tools/axe as scripts/axe.sh
// leaves it; "" when neither is there.
func axeSource(t *testing.T) string {
	p := os.Getenv("CHUNGTHUC_AXE_JS")
	if p == "" {
		p = filepath.Join("..", "..", ".tools", "axe", "package", "axe.min.js")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return string(b)
}

// axeViolation is the part of an axe-core result the test reports.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// TestBrowserPages walks the flows of issue 13 in headless Chromium as an officer and a
// citizen: certify → reload → Back-and-submit (one entry); the language switch on the
// result keeps the access code; revoke with its confirmation; the citizen's download on a
// 390×844 phone; reissuing a code (the old one refused); every printable page (verification
// page, report, register, detail, receipt, refusal slip) printed to PDF with its verdict or heading read back
// by pdftotext; and axe-core (scripts/axe.sh) on every page it visits, with no violations.
// Screenshots go to $CHUNGTHUC_SCREENSHOTS when set.
func TestBrowserPages(t *testing.T) {
	if _, err := exec.LookPath("chromedriver"); err != nil {
		t.Skip("chromium/chromedriver not installed: browser test skipped")
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) not installed: browser test skipped")
	}
	axe := axeSource(t)
	if axe == "" {
		t.Skip("axe-core not fetched: run scripts/axe.sh (or set CHUNGTHUC_AXE_JS)")
	}
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	// With e-mail configured, so that the certify form shows the citizen's address.
	env["CHUNGTHUC_SMTP_URL"] = "smtp://" + testmail.New(t).SMTP + "?from=motcua@hoabinh.gov.vn"
	base, _ := startServe(t, env)
	password := demoPassword(t, base, env["CHUNGTHUC_DATA"])
	scans := writeScans(t, dir, 1, 200<<10)
	profile := filepath.Join(dir, "profile")
	b, err := webdriver.Start(profile)
	if err != nil {
		t.Fatalf("starting the browser: %v", err)
	}
	defer b.Close()
	shots := os.Getenv("CHUNGTHUC_SCREENSHOTS")
	if shots == "" {
		shots = dir
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.SetTimeouts(60 * time.Second))
	checked := map[string]bool{}
	// audit runs axe-core on the page (axeCheck).
	audit := func(name string) {
		t.Helper()
		axeCheck(t, b, axe, name)
		checked[name] = true
	}
	shot := func(name string) { t.Helper(); must(b.Screenshot(filepath.Join(shots, name+".png"))) }
	// printed prints the page to PDF and returns its text (pdftotext -layout).
	printed := func(name string) string {
		t.Helper()
		pdf := filepath.Join(shots, name+".pdf")
		must(b.PrintPDF(pdf))
		out, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
		must(err)
		return strings.Join(strings.Fields(string(out)), " ")
	}
	text := func(css string) string { t.Helper(); s, err := b.Text(css); must(err); return s }
	evalInt := func(js string) int {
		t.Helper()
		var n int
		must(b.Execute(js, &n))
		return n
	}
	waitURL := func(re string) string {
		t.Helper()
		rx := regexp.MustCompile(re)
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if u, err := b.URL(); err == nil && rx.MatchString(u) {
				return u
			}
		}
		u, _ := b.URL()
		t.Fatalf("waiting for %s, at %s", re, u)
		return ""
	}
	entries := func() int {
		t.Helper()
		must(b.Navigate(base + "/app/register?lang=vi"))
		_, err := b.Find("h1")
		must(err)
		return evalInt(`return document.querySelectorAll("table tbody tr").length`)
	}

	// Public pages before logging in.
	must(b.Navigate(base + "/?lang=vi"))
	audit("home")
	must(b.Navigate(base + "/verify"))
	audit("verify")
	must(b.Navigate(base + "/v/AAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
	if v := text("#verdict"); !strings.Contains(v, "Không có trong sổ chứng thực") {
		t.Fatalf("unknown link: %q", v)
	}
	audit("verification page, unknown link")
	must(b.Navigate(base + "/login"))
	audit("login")
	must(b.Type("#username", "canbo"))
	must(b.Type("#password", password))
	must(b.Click("button[type=submit]"))
	_, err = b.Find(".tiles")
	must(err)
	audit("dashboard")

	// Certify, then reload the result: one entry.
	must(b.Navigate(base + "/app/certify"))
	audit("certify form")
	// Checked before sending: a file of another type is named at once.
	bad := filepath.Join(dir, "ghi-chu.txt")
	must(os.WriteFile(bad, []byte("not a scan"), 0o644))
	must(b.Type("#files", bad))
	if e := text("#upload-error"); !strings.Contains(e, "ghi-chu.txt") {
		t.Fatalf("a text file was not refused before sending: %q", e)
	}
	must(b.Execute(`var i = document.getElementById("files"); i.value = ""; i.dispatchEvent(new Event("change")); return null`, nil))
	// Reordering and removing keep the keyboard focus on the file that moved.
	must(os.MkdirAll(filepath.Join(dir, "two"), 0o755))
	two := writeScans(t, filepath.Join(dir, "two"), 2, 50<<10)
	must(b.Type("#files", two[0]+"\n"+two[1]))
	must(b.Click(`#file-list li:first-child button:nth-child(2)`)) // ↓ on trang1
	var focus string
	must(b.Execute(`var a = document.activeElement; return (a.closest("li") === document.querySelector("#file-list li:nth-child(2)") ? "second:" : "elsewhere:") + a.getAttribute("aria-label")`, &focus))
	if focus != "second:Xuống trang1.jpg" {
		t.Fatalf("after moving a file down the focus is on %q", focus)
	}
	must(b.Execute(`document.activeElement.parentNode.querySelector("button:nth-child(3)").click(); return null`, nil)) // ✕ on trang1
	must(b.Execute(`var a = document.activeElement; return a.tagName + ":" + (a.getAttribute("aria-label") || a.id)`, &focus))
	if n := evalInt(`return document.querySelectorAll("#file-list li").length`); n != 1 || !strings.HasPrefix(focus, "BUTTON:") || !strings.Contains(focus, "trang2.jpg") {
		t.Fatalf("after removing a file: %d files, focus on %q", n, focus)
	}
	if e, _ := b.Attr("#upload-error", "hidden"); e != "true" {
		t.Fatal("the type error stays after valid files were chosen")
	}
	must(b.Execute(`var i = document.getElementById("files"); i.value = ""; i.dispatchEvent(new Event("change")); return null`, nil))
	must(b.Type("#files", scans[0]))
	_, err = b.Find("#file-list li")
	must(err)
	must(b.Type("#document", "Giấy khai sinh"))
	must(b.Type("#requester", "Nguyễn Thị Hồng Nhung"))
	must(b.Type("#email", "nguyen.thi.hong.nhung@example.vn"))
	shot("p1-certify-form")
	must(b.Click("#certify-button"))
	result := waitURL(`/app/c/\d+$`)
	code := text("#access-code")
	if !regexp.MustCompile(`^[2-9A-Z]{10}$`).MatchString(code) {
		t.Fatalf("result page shows access code %q", code)
	}
	shot("p2-result")
	audit("result page with the access code")
	must(b.Refresh())
	if got := text("#access-code"); got != code {
		t.Fatalf("after reload the code is %q, want %q", got, code)
	}
	// Back to the form, and send it again: the one-time key replays the first entry.
	must(b.Back())
	waitURL(`/app/certify$`)
	if v, _ := b.Attr("#document", "value"); v == "" {
		must(b.Type("#document", "Giấy khai sinh"))
	}
	if n := evalInt(`return document.getElementById("files").files.length`); n == 0 {
		must(b.Type("#files", scans[0]))
	}
	must(b.Click("#certify-button"))
	again := waitURL(`/app/c/\d+\?again=1`)
	if !strings.HasPrefix(again, result) {
		t.Fatalf("Back-and-submit went to %s, want %s?again=1", again, result)
	}
	shot("p3-again")
	if n := entries(); n != 1 {
		t.Fatalf("%d entries in the register after certify, reload and Back-and-submit, want 1", n)
	}
	audit("register")
	reg := printed("p-register")
	if !strings.Contains(reg, "Sổ chứng thực") || !strings.Contains(reg, "Nguyễn Thị Hồng Nhung") {
		t.Fatalf("printed register: %s", reg)
	}

	// The language switch on the result keeps the code.
	must(b.Navigate(result))
	must(b.Click("#lang-switch"))
	waitURL(`lang=en`)
	if got := text("#access-code"); got != code || !strings.Contains(text("#code-handed-over"), "handed over") {
		t.Fatalf("after the language switch the code is %q (want %q)", got, code)
	}
	audit("result page in English")
	must(b.Click("#lang-switch"))
	waitURL(`lang=vi`)

	// The receipt: printed, with the national heading and the code.
	must(b.Click(`a[href$="/receipt"]`))
	waitURL(`/receipt$`)
	audit("receipt")
	shot("p4-receipt")
	rc := printed("p-receipt")
	for _, want := range []string{"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", code, "PHƯỜNG HÒA BÌNH", "Giấy khai sinh", "Mã hồ sơ: HB-"} {
		if !strings.Contains(rc, want) {
			t.Fatalf("printed receipt lacks %q: %s", want, rc)
		}
	}
	// Handed over: the code leaves the page.
	must(b.Navigate(result))
	must(b.Click("#code-handed-over"))
	waitURL(`/app/c/\d+$`) // already the URL before the click: wait for the new page too
	for deadline := time.Now().Add(10 * time.Second); evalInt(`return document.querySelectorAll("#access-code").length`) != 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the code is still shown after hand-over")
		}
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(text("#mail-status"), "đã gửi"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the e-mail's state on the detail page: %q", text("#mail-status"))
		}
		must(b.Refresh())
	}
	audit("detail page")
	shot("p4a-detail-mail-sent")
	det := printed("p-detail")
	if !strings.Contains(det, "Bản sao đã được cấp và đang có hiệu lực") || !strings.Contains(det, "Giấy khai sinh") {
		t.Fatalf("printed detail page: %s", det)
	}
	verifyURL, err := b.Attr(`dd a[href*="/v/"]`, "href")
	must(err)

	// The citizen lost the code: reissue it (confirmed); the old code is refused.
	must(b.Click("#reissue-confirm"))
	must(b.Click("#reissue-button"))
	waitURL(`/app/c/\d+\?reissued=1$`)
	newCode := text("#access-code")
	if newCode == code || !regexp.MustCompile(`^[2-9A-Z]{10}$`).MatchString(newCode) {
		t.Fatalf("reissued code %q (old %q)", newCode, code)
	}
	shot("p4b-reissued")
	audit("result page after reissuing the code")
	must(b.Navigate(verifyURL))
	must(b.Type("#code", code))
	must(b.Click("#download-button"))
	if e := text("p.alert"); !strings.Contains(e, "Mã truy cập không đúng") {
		t.Fatalf("the old code after a reissue: %q", e)
	}
	audit("verification page after a wrong code")
	must(b.Click("#lang-switch")) // the language switch after a wrong code is a working link
	if v := text("#verdict"); !strings.Contains(v, "This copy is valid") {
		t.Fatalf("language switch after a wrong code: %q", v)
	}
	must(b.Click("#lang-switch"))
	code = newCode

	// The citizen on a phone: the verification page fits, the download works.
	must(b.SetWindowSize(390, 844))
	must(b.Navigate(verifyURL))
	if v := text("#verdict"); !strings.Contains(v, "Bản sao hợp lệ") {
		t.Fatalf("verification page: %q", v)
	}
	if w := evalInt(`return document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("the verification page is %d px wider than a 390 px phone", w)
	}
	shot("p5-phone-verify")
	audit("verification page, valid (phone)")
	must(b.Type("#code", code))
	must(b.Click("#download-button"))
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && got == ""; time.Sleep(200 * time.Millisecond) {
		m, _ := filepath.Glob(filepath.Join(webdriver.DownloadDir(profile), "*.pdf"))
		if len(m) > 0 {
			got = m[0]
		}
	}
	if got == "" {
		t.Fatal("the citizen's download did not arrive")
	}
	pdf, err := os.ReadFile(got)
	must(err)
	if !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("downloaded %s is not a PDF", got)
	}
	vp := printed("p-verify-valid")
	if !strings.Contains(vp, "Bản sao hợp lệ") || !strings.Contains(vp, "Phường Hòa Bình") {
		t.Fatalf("printed verification page: %s", vp)
	}
	// The copy's page count as its footer counts it.
	if pages := text("dl.facts"); !strings.Contains(pages, "2 (1 trang bản chính và 1 trang lời chứng)") {
		t.Fatalf("verification page's page count: %s", pages)
	}
	// After the download, the citizen rates the service on the phone (link + access code).
	must(b.Click("#rate-link"))
	waitURL(`/v/[A-Za-z0-9_-]+/rate$`)
	if w := evalInt(`return document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("the rating page is %d px wider than a 390 px phone", w)
	}
	audit("rating page (phone)")
	shot("p5b-phone-rate")
	must(b.Click("#rating-satisfied"))
	must(b.Type("#comment", "Cán bộ hướng dẫn tận tình, nhanh gọn."))
	must(b.Type("#code", code))
	must(b.Click("#rate-button"))
	waitURL(`/rate\?done=1`)
	if v := text("#rate-done"); !strings.Contains(v, "Cảm ơn bạn đã đánh giá") {
		t.Fatalf("after rating: %q", v)
	}
	audit("rating thanks (phone)")
	shot("p5c-phone-rated")
	// The verification report of the downloaded file.
	must(b.Navigate(base + "/verify"))
	must(b.Type("#file", got))
	must(b.Click(`#verify-form button[type=submit]`))
	if v := text("#verdict"); !strings.Contains(v, "Bản sao hợp lệ") {
		t.Fatalf("report: %q", v)
	}
	if src, _ := b.Source(); strings.Contains(src, "TOTAL_PASSED<") || !strings.Contains(src, "TOTAL_PASSED — ") {
		t.Fatal("the report shows TOTAL_PASSED bare, or not explained")
	}
	// Hash only: the file stays on the phone (127.0.0.1 is a secure context, as https is).
	must(b.Type("#file", got))
	must(b.Click("#hash-only"))
	var hashed string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !strings.Contains(hashed, "Được chứng thực bởi"); time.Sleep(100 * time.Millisecond) {
		hashed, _ = b.Text("#hash-result")
	}
	if !strings.Contains(hashed, "Được chứng thực bởi Phường Hòa Bình") {
		t.Fatalf("hash-only check: %q", hashed)
	}
	shot("p6-phone-report")
	audit("verification report (phone)")
	rp := printed("p-report")
	if !strings.Contains(rp, "Bản sao hợp lệ") {
		t.Fatalf("printed report: %s", rp)
	}
	must(b.SetWindowSize(1100, 900))

	// Revoke, confirming that the reason is public.
	must(b.Navigate(result))
	must(b.Type("#reason", "Cấp nhầm người yêu cầu"))
	must(b.Click("#revoke-button")) // the box is required: the browser does not send the form
	if u, _ := b.URL(); u != result {
		t.Fatalf("revoke without the box ticked went to %s", u)
	}
	must(b.Click("#confirm"))
	must(b.Click("#revoke-button"))
	waitURL(`/app/c/\d+$`)
	// The answer redirects to the same address as before: wait for the new page's verdict
	// (reading the old page while it is replaced gives a stale element).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		v, err := b.Text("p.verdict")
		if err == nil && strings.Contains(v, "Bản sao đã bị thu hồi") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after revoking: %q (%v)", v, err)
		}
	}
	must(b.Navigate(verifyURL))
	v := text("#verdict")
	if !strings.HasPrefix(strings.TrimPrefix(v, "✖ "), "Bản sao đã bị thu hồi ngày") || !strings.Contains(v, "Cấp nhầm người yêu cầu") {
		t.Fatalf("verification page of the revoked copy: %q", v)
	}
	audit("verification page, revoked")
	shot("p7-revoked")
	rv := printed("p-verify-revoked")
	if !strings.Contains(rv, "Bản sao đã bị thu hồi ngày") || strings.Contains(rv, "hợp lệ") {
		t.Fatalf("printed revoked verification page: %s", rv)
	}
	must(b.Navigate(base + "/verify"))
	must(b.Type("#file", got))
	must(b.Click(`#verify-form button[type=submit]`))
	if v := text("#verdict"); !strings.Contains(v, "Bản sao đã bị thu hồi ngày") {
		t.Fatalf("report of the revoked copy: %q", v)
	}
	audit("verification report, revoked")

	// The other workspace pages, an error page and the logout page.
	for _, p := range []struct{ name, path string }{{"refuse form", "/app/refuse"}, {"statistics", "/app/stats"},
		{"not-found page", "/app/c/999999"}, {"password page", "/app/password"}, {"logout page", "/logout"}} {
		must(b.Navigate(base + p.path))
		if n := evalInt(`return document.querySelectorAll("h1").length`); n != 1 {
			t.Errorf("%s has %d <h1>", p.name, n)
		}
		audit(p.name)
	}
	must(b.Navigate(base + "/app/refuse"))
	must(b.Click(`input[name=reason]`))
	must(b.Type("#requester", "Lê Văn Tám"))
	must(b.Click(`form button[type=submit]`))
	waitURL(`done=1&slip=\d+`)
	audit("refusal slip")
	shot("p8-refusal-slip")
	sl := printed("p-refusal-slip")
	if !strings.Contains(sl, "Phiếu từ chối chứng thực") || !strings.Contains(sl, "Lê Văn Tám") || !strings.Contains(sl, "Bản chính bị tẩy xóa") {
		t.Fatalf("printed refusal slip: %s", sl)
	}
	// The statistics with their charts (the copy, its rating and the refusal above).
	must(b.Navigate(base + "/app/stats"))
	if n := evalInt(`return document.querySelectorAll("svg.chart[role=img] title").length`); n < 3 {
		t.Errorf("the statistics page draws %d charts, want 3 (deadline, ratings, refusals)", n)
	}
	if v := text("#sum-satisfaction"); v != "100,00 %" {
		t.Errorf("satisfaction on the statistics page: %q (one rating, satisfied)", v)
	}
	audit("statistics with charts")
	shot("p9-statistics")
	must(b.Execute(`document.querySelector(".chart-card").scrollIntoView(); return 0`, new(int)))
	shot("p9a-statistics-charts")
	must(b.SetWindowSize(390, 844))
	if w := evalInt(`return document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("the statistics page is %d px wider than a 390 px phone", w)
	}
	shot("p9b-statistics-phone")
	must(b.SetWindowSize(1100, 900))
	st := printed("p-statistics")
	if !strings.Contains(st, "Tỷ lệ đúng hạn") || !strings.Contains(st, "Đánh giá của người dân") || !strings.Contains(st, "Hài lòng") {
		t.Fatalf("printed statistics: %s", st)
	}

	// A PDF scan that loses content: the list and the stamped preview before signing.
	scripted := filepath.Join(dir, "hopdong.pdf")
	must(os.WriteFile(scripted, testscan.ScriptedPDF(), 0o600))
	must(b.Navigate(base + "/app/certify"))
	must(b.Type("#files", scripted))
	_, err = b.Find("#file-list li")
	must(err)
	must(b.Type("#document", "Hợp đồng"))
	must(b.Type("#requester", "Đỗ Văn Hùng"))
	must(b.Click("#certify-button"))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := b.Find("#stamped-preview"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			src, _ := b.Source()
			t.Fatalf("no stamped preview before signing:\n%.2000s", src)
		}
	}
	if href, _ := b.Attr("#stamped-preview", "href"); !strings.Contains(href, "/app/certify/preview?key=") {
		t.Fatalf("preview link %q", href)
	}
	audit("removed content and the stamped preview")
	shot("p8b-confirm-preview")

	// The system administrator's webhook page: add an endpoint (the secret shown once), list.
	must(b.Navigate(base + "/logout"))
	must(b.Click(`main form button[type=submit]`))
	waitURL(`/login$`)
	must(b.Navigate(base + "/login"))
	must(b.Type("#username", "quantri"))
	adminPW := demoAdminPassword(t, base, env["CHUNGTHUC_DATA"])
	must(b.Type("#password", adminPW))
	must(b.Click("main button[type=submit]"))
	waitURL(`/app/`)
	must(b.Navigate(base + "/app/webhooks"))
	audit("webhooks, none")
	must(b.Type("#url", "https://8.8.8.8/motcua/chungthuc"))
	must(b.Click(`form[action="/app/webhooks"] button[type=submit]`))
	if s := text("#webhook-secret"); len(s) != 43 {
		t.Fatalf("webhook secret %q", s)
	}
	audit("webhooks, secret shown once")
	shot("p9-webhook-added")
	must(b.Navigate(base + "/app/webhooks"))
	audit("webhooks")
	shot("p9-webhooks")
	// The system administrator's account pages (logged in above, after the forced change).
	must(b.Navigate(base + "/app/accounts"))
	if h := text("h1"); h != "Tài khoản" {
		t.Fatalf("accounts page h1 %q", h)
	}
	if v := text("table"); !strings.Contains(v, "canbo") || !strings.Contains(v, "Quản trị hệ thống") {
		t.Fatalf("accounts table: %q", v)
	}
	audit("accounts page")
	shot("p10-accounts")
	must(b.Type("#new-username", "vanthu.moi"))
	must(b.Click(`form[action="/app/accounts"] button[type=submit]`))
	if v := text("#secret"); !strings.Contains(v, "vanthu.moi") {
		t.Fatalf("new account's password notice: %q", v)
	}
	audit("accounts page, generated password")
	shot("p10b-accounts-added")
	must(b.SetWindowSize(390, 844))
	if w := evalInt(`return document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("the accounts page is %d px wider than a 390 px phone (its tables scroll in their own box)", w)
	}
	shot("p10c-accounts-phone")
	must(b.SetWindowSize(1100, 900))

	// Two-step verification: the enrolment page (QR code, the secret in groups; no wider than
	// a phone), a code computed from the shown secret turns it on, and the next login asks
	// for a code on its own page.
	must(b.Navigate(base + "/app/account/totp"))
	audit("two-step enrolment")
	shot("p11-totp-enrol")
	must(b.SetWindowSize(390, 844))
	if w := evalInt(`return document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("the enrolment page is %d px wider than a 390 px phone", w)
	}
	shot("p11a-totp-enrol-phone")
	must(b.SetWindowSize(1100, 900))
	secret := strings.ReplaceAll(text("#totp-secret"), " ", "")
	code, err = totp.GenerateCode(secret, time.Now())
	must(err)
	must(b.Type("#code", code))
	must(b.Click(`form[action="/app/account/totp"] button[type=submit]`))
	waitURL(`done=on`)
	audit("two-step on")
	must(b.Navigate(base + "/logout"))
	must(b.Click(`main form button[type=submit]`))
	waitURL(`/login$`)
	must(b.Type("#username", "quantri"))
	must(b.Type("#password", adminPW))
	must(b.Click("main button[type=submit]"))
	waitURL(`/login/totp$`)
	audit("two-step code page")
	shot("p11b-totp-code")
	code, err = totp.GenerateCode(secret, time.Now().Add(30*time.Second)) // this step's code was used to enrol
	must(err)
	must(b.Type("#code", code))
	must(b.Click("main button[type=submit]"))
	waitURL(`/app/(stats)?$`)

	var names []string
	for k := range checked {
		names = append(names, k)
	}
	t.Logf("axe-core checked %d pages: %s", len(names), strings.Join(names, "; "))
	t.Logf("screenshots and PDFs in %s", shots)
}

// axeCheck runs axe-core (source axe) on b's page — WCAG 2.0/2.1/2.2 A and AA and best
// practices — and reports every violation as a test error.
func axeCheck(t *testing.T, b *webdriver.Session, axe, name string) {
	t.Helper()
	u, _ := b.URL()
	var res struct {
		Violations []axeViolation `json:"violations"`
		Passes     []struct {
			ID string `json:"id"`
		} `json:"passes"`
	}
	var raw string
	if err := b.ExecuteAsync(axe+`
;var done = arguments[arguments.length-1];
axe.run(document, {runOnly: {type: "tag", values: ["wcag2a","wcag2aa","wcag21a","wcag21aa","wcag22aa","best-practice"]}, resultTypes: ["violations"]})
  .then(function (r) { done(JSON.stringify({violations: r.violations, passes: r.passes.map(function (p) { return {id: p.id}; })})); })
  .catch(function (e) { done(JSON.stringify({violations: [{id: "axe-error", help: String(e)}]})); });`, &raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Violations {
		for _, n := range v.Nodes {
			t.Errorf("axe on %s (%s): %s [%s] %s at %v: %s", name, u, v.ID, v.Impact, v.Help, n.Target, n.HTML)
		}
		if len(v.Nodes) == 0 {
			t.Errorf("axe on %s (%s): %s %s", name, u, v.ID, v.Help)
		}
	}
	t.Logf("axe: %s (%s): %d rules passed, %d violations", name, u, len(res.Passes), len(res.Violations))
}
