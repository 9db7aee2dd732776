package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc/internal/testscan"
)

// TestCertifyPrintedFieldsExit2: a newline, U+202E or a zero-width space in any printed
// field, a title not on the officer's record, or copies out of range is a usage error (exit
// 2) with a clear message, and uses no number.
func TestCertifyPrintedFieldsExit2(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	scan := writeScans(t, dir, 1, 80<<10)[0]
	base := []string{"certify", "--unit", "HB", "--officer", "1", "--out", filepath.Join(dir, "c.pdf")}
	good := map[string]string{"--doc": "Giấy khai sinh", "--requester": "Nguyễn Thị Hồng Nhung"}
	args := func(field, value string) []string {
		a := append([]string{}, base...)
		for k, v := range good {
			if k != field {
				a = append(a, k, v)
			}
		}
		if field != "" {
			a = append(a, field, value)
		}
		return append(a, scan)
	}
	for _, bad := range []string{"Giấy khai sinh\nSố chứng thực 999, quyển số 99/2020-SCT/BS", "Giấy \u202ekhai sinh", "Giấy\u200bkhai sinh"} {
		for _, field := range []string{"--doc", "--requester", "--signer-title", "--issuer"} {
			code, _, stderr := cli(t, env, args(field, bad)...)
			if code != 2 || !strings.Contains(stderr, "certify:") {
				t.Fatalf("%s %q: exit %d\n%s", field, bad, code, stderr)
			}
		}
	}
	for name, a := range map[string][]string{
		"no --doc":             args("--doc", " "),
		"no --requester":       args("--requester", ""),
		"a title not on file":  args("--signer-title", "CHỦ TỊCH NƯỚC"),
		"--copies 0":           args("--copies", "0"),
		"--copies 101":         args("--copies", "101"),
		"the old --title flag": args("--title", "PHÓ CHỦ TỊCH"),
	} {
		if code, _, stderr := cli(t, env, a...); code != 2 {
			t.Fatalf("%s: exit %d\n%s", name, code, stderr)
		}
	}
	// Nothing was numbered: the first certification is number 1.
	code, stdout, stderr := cli(t, env, args("--signer-title", "PHÓ CHỦ TỊCH")...)
	if code != 0 || !strings.Contains(stdout, `"number": 1,`) {
		t.Fatalf("certify: %d %s %s", code, stdout, stderr)
	}
}

// TestCopiesBookAndClosing: certify --copies 3 on a 3-page original charges 3 × 5,000 VND
// and names document, requester, copies and officer_title; the book PDF has the row with
// its eight columns; the closed book's closing page carries a signature pdfsig validates.
func TestCopiesBookAndClosing(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	scans := writeScans(t, dir, 3, 300<<10)
	code, stdout, stderr := cli(t, env, append([]string{"certify", "--unit", "HB", "--officer", "1", "--doc", "Bằng tốt nghiệp trung học phổ thông",
		"--requester", "Phạm Thị Ánh", "--copies", "3", "--out", filepath.Join(dir, "c.pdf")}, scans...)...)
	if code != 0 {
		t.Fatalf("certify: %d %s %s", code, stdout, stderr)
	}
	var c struct {
		Number       int64  `json:"number"`
		Document     string `json:"document"`
		Requester    string `json:"requester"`
		Copies       int    `json:"copies"`
		FeeVND       int64  `json:"fee_vnd"`
		OfficerTitle string `json:"officer_title"`
		Original     int    `json:"original_pages"`
	}
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatal(err)
	}
	if c.Original != 3 || c.Copies != 3 || c.FeeVND != 3*5000 || c.Document != "Bằng tốt nghiệp trung học phổ thông" || c.Requester != "Phạm Thị Ánh" ||
		c.OfficerTitle != "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH" {
		t.Fatalf("certify output: %s", stdout)
	}
	// The book: PDF with the eight columns, and CSV.
	code, stdout, stderr = cli(t, env, "book", "list", "--unit", "HB")
	var books []struct {
		ID int64 `json:"id"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &books) != nil || len(books) != 1 {
		t.Fatalf("book list: %d %s %s", code, stdout, stderr)
	}
	id := "1"
	bookPDF := filepath.Join(dir, "book.pdf")
	if code, stdout, stderr = cli(t, env, "book", "print", "--id", id, "--out", bookPDF); code != 0 {
		t.Fatalf("book print: %d %s %s", code, stdout, stderr)
	}
	text := pdfText(t, bookPDF)
	for _, want := range []string{"SỔ CHỨNG THỰC BẢN SAO TỪ BẢN CHÍNH", "ỦY BAN NHÂN DÂN PHƯỜNG HÒA BÌNH", "tỉnh Phú Thọ",
		"Phạm Thị Ánh", "Bằng tốt nghiệp trung học phổ thông", "Trần Văn Nghĩa", "PHÓ CHỦ TỊCH", "15.000",
		"Số chứng", "Ngày tháng", "Họ tên người yêu cầu", "Tên bản chính giấy tờ, văn bản", "Họ tên, chức danh người ký", "Số bản", "Lệ phí (đồng)", "Ghi chú"} {
		if !strings.Contains(text, want) {
			t.Fatalf("book PDF lacks %q:\n%s", want, text)
		}
	}
	csvPath := filepath.Join(dir, "book.csv")
	if code, _, stderr = cli(t, env, "book", "print", "--id", id, "--csv", "--out", csvPath); code != 0 {
		t.Fatalf("book print --csv: %s", stderr)
	}
	csvData, _ := os.ReadFile(csvPath)
	if !strings.Contains(string(csvData), "1,"+c1Date(t, env)+",Phạm Thị Ánh,Bằng tốt nghiệp trung học phổ thông,\"Trần Văn Nghĩa, TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH\",3,15000,") {
		t.Fatalf("CSV:\n%s", csvData)
	}
	// Period print.
	if code, _, stderr = cli(t, env, "book", "print", "--unit", "HB", "--from", "2000-01-01", "--to", "2099-12-31", "--out", filepath.Join(dir, "p.pdf")); code != 0 {
		t.Fatalf("book print period: %s", stderr)
	}
	// Close and sign; the closed book prints as the signed PDF.
	if code, _, _ = cli(t, env, "book", "close", "--id", id); code != 2 {
		t.Fatalf("book close without --officer: exit %d", code)
	}
	if code, stdout, stderr = cli(t, env, "book", "close", "--id", id, "--officer", "1"); code != 0 || !strings.Contains(stdout, `"closed_by": 1`) {
		t.Fatalf("book close: %d %s %s", code, stdout, stderr)
	}
	closed := filepath.Join(dir, "closed.pdf")
	if code, stdout, stderr = cli(t, env, "book", "print", "--id", id, "--out", closed); code != 0 || !strings.Contains(stdout, `"signed": true`) {
		t.Fatalf("print closed: %d %s %s", code, stdout, stderr)
	}
	text = pdfText(t, closed)
	for _, want := range []string{"KHÓA SỔ", "Tổng số việc chứng thực trong năm", ": 1 (từ số 1 đến số 1", "Tổng số bản sao: 3", "15.000 đồng",
		"NGƯỜI THỰC HIỆN CHỨNG THỰC", "KT. CHỦ TỊCH", "Trần Văn Nghĩa"} {
		if !strings.Contains(text, want) {
			t.Fatalf("closing page lacks %q:\n%s", want, text)
		}
	}
	pdfsigValid(t, env, dir, closed)
}

func c1Date(t *testing.T, env map[string]string) string {
	t.Helper()
	code, stdout, _ := cli(t, env, "book", "list", "--unit", "HB")
	if code != 0 {
		t.Fatal("book list")
	}
	var b []struct {
		Opened string `json:"opened_at"`
	}
	if err := json.Unmarshal([]byte(stdout), &b); err != nil || len(b) == 0 {
		t.Fatal(stdout)
	}
	d := b[0].Opened[:10] // YYYY-MM-DD in Vietnam time
	return d[8:10] + "/" + d[5:7] + "/" + d[0:4]
}

func pdfText(t *testing.T, path string) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// pdfsigValid checks with poppler's pdfsig, trusting the development root, that every
// signature of the file is valid and covers it whole.
func pdfsigValid(t *testing.T, env map[string]string, dir, path string) {
	t.Helper()
	s := pdfsigOutput(t, env, dir, path)
	if !strings.Contains(s, "Signature Validation: Signature is Valid.") || !strings.Contains(s, "Certificate Validation: Certificate is Trusted.") ||
		!strings.Contains(s, "Total document signed") || strings.Contains(s, "Not total document signed") {
		t.Fatalf("pdfsig:\n%s", s)
	}
}

// pdfsigOutput is what pdfsig says of path with an NSS database trusting the development
// root of env (skips the test when pdfsig or certutil is missing).
func pdfsigOutput(t *testing.T, env map[string]string, dir, path string) string {
	t.Helper()
	for _, tool := range []string{"pdfsig", "certutil"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	code, root, _ := cli(t, env, "pki", "export-root")
	if code != 0 {
		t.Fatal("pki export-root")
	}
	rootPEM := filepath.Join(dir, "root.pem")
	if err := os.WriteFile(rootPEM, []byte(root), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "nss")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-N", "-d", "sql:" + db, "--empty-password"}, {"-A", "-d", "sql:" + db, "-n", "root", "-t", "C,C,C", "-i", rootPEM}} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v %s", args, err, out)
		}
	}
	// -no-ocsp: the certificate names the service's OCSP responder, which no server answers in
	// this test; the chain to the trusted root is still checked.
	out, err := exec.Command("pdfsig", "-no-ocsp", "-nssdir", "sql:"+db, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	return string(out)
}

// TestRefusalSlip: refusals are numbered per unit and year, "other" needs its text (exit 2
// without it, or with a line break), and the slip states the ground.
func TestRefusalSlip(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	slip := filepath.Join(dir, "slip.pdf")
	for name, a := range map[string][]string{
		"other without text":  {"--reason", "other"},
		"other with newline":  {"--reason", "other", "--note", "Bản sao\nSố chứng thực 999"},
		"requester with bidi": {"--reason", "damaged", "--requester", "Hoàng \u202eVăn Em"},
		"unknown reason":      {"--reason", "ugly"},
	} {
		if code, _, stderr := cli(t, env, append([]string{"refuse", "--unit", "HB", "--officer", "1", "--out", slip}, a...)...); code != 2 {
			t.Fatalf("%s: exit %d %s", name, code, stderr)
		}
	}
	code, stdout, stderr := cli(t, env, "refuse", "--unit", "HB", "--officer", "1", "--reason", "other", "--note", "Bản chính là bản photocopy có công chứng",
		"--doc", "Bằng tốt nghiệp đại học", "--requester", "Hoàng Văn Em", "--out", slip)
	if code != 0 || !strings.Contains(stdout, `"number": 1,`) {
		t.Fatalf("refuse: %d %s %s", code, stdout, stderr)
	}
	text := pdfText(t, slip)
	for _, want := range []string{"PHIẾU TỪ CHỐI CHỨNG THỰC", "Số: 1/", "/PTC", "Kính gửi: Hoàng Văn Em", "Bằng tốt nghiệp đại học",
		"Lý do: Bản chính là bản photocopy có công chứng", "Trần Văn Nghĩa", "ỦY BAN NHÂN DÂN PHƯỜNG", "tỉnh Phú Thọ"} {
		if !strings.Contains(text, want) {
			t.Fatalf("slip lacks %q:\n%s", want, text)
		}
	}
	code, stdout, _ = cli(t, env, "refuse", "--unit", "HB", "--officer", "1", "--reason", "damaged", "--out", slip)
	if code != 0 || !strings.Contains(stdout, `"number": 2,`) {
		t.Fatalf("second refusal: %s", stdout)
	}
	if text = strings.Join(strings.Fields(pdfText(t, slip)), " "); !strings.Contains(text, "khoản 2 Điều 22 Nghị định số 23/2015/NĐ-CP") {
		t.Fatalf("the slip does not cite the clause:\n%s", text)
	}
	if code, _, _ = cli(t, env, "refuse", "slip", "--id", "1", "--out", slip); code != 0 || !strings.Contains(pdfText(t, slip), "Số: 1/") {
		t.Fatal("refuse slip --id 1")
	}
}

// TestUnitAndOfficerRecords: printed fields of units and officers are refused with exit 2
// (a newline, U+202E, an opaque "seal"); a unit without a seal cannot certify until its seal
// is uploaded; an authorised official signs TUQ. within the decision's validity.
func TestUnitAndOfficerRecords(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	seal, sig := write("seal.png", testscan.SealPNG(200)), write("sig.png", testscan.SignaturePNG(300, 100))
	opaque := write("opaque.png", testscan.PNG(testscan.Page(1, 20), 20))
	for name, a := range map[string][]string{
		"officer title with a newline": {"officer", "add", "--unit", "HB", "--name", "Lê Thị Hoa", "--title", "PHÓ CHỦ TỊCH\nSố chứng thực 999"},
		"officer name with U+202E":     {"officer", "add", "--unit", "HB", "--name", "Lê \u202eThị Hoa", "--title", "PHÓ CHỦ TỊCH"},
		"unit body with U+202E":        {"unit", "set", "--code", "HB", "--body", "Ủy ban \u202enhân dân"},
		"unit province with a newline": {"unit", "set", "--code", "HB", "--province", "tỉnh Phú Thọ\nx"},
		"an opaque seal":               {"unit", "set", "--code", "HB", "--seal", opaque, "--seal-mm", "36"},
		"an unknown authority":         {"officer", "set", "--id", "1", "--authority", "mayor"},
		"authorised without decision":  {"officer", "set", "--id", "1", "--authority", "authorised"},
	} {
		if code, _, stderr := cli(t, env, a...); code != 2 {
			t.Fatalf("%s: exit %d %s", name, code, stderr)
		}
	}
	if code, stdout, stderr := cli(t, env, "unit", "add", "--code", "TL", "--name", "Xã Tân Lạc", "--place", "Tân Lạc",
		"--body", "Ủy ban nhân dân xã Tân Lạc", "--province", "tỉnh Phú Thọ"); code != 0 {
		t.Fatalf("unit add: %d %s %s", code, stdout, stderr)
	}
	code, stdout, stderr := cli(t, env, "officer", "add", "--unit", "TL", "--name", "Lê Thị Hoa", "--title", "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH",
		"--authority", "authorised", "--decision", "12/QĐ-UBND", "--decision-date", "2026-01-05", "--valid-from", "2026-01-05", "--valid-until", "2099-12-31")
	if code != 0 {
		t.Fatalf("officer add: %d %s %s", code, stdout, stderr)
	}
	id := strings.TrimSpace(stdout)
	scan := writeScans(t, dir, 1, 80<<10)[0]
	certifyTL := func() (int, string, string) {
		return cli(t, env, "certify", "--unit", "TL", "--officer", id, "--doc", "Giấy khai sinh", "--requester", "Nguyễn Văn An",
			"--out", filepath.Join(dir, "tl.pdf"), scan)
	}
	if code, _, stderr := certifyTL(); code != 1 || !strings.Contains(stderr, "seal") {
		t.Fatalf("a unit without a seal certified: %d %s", code, stderr)
	}
	if code, _, stderr := cli(t, env, "unit", "set", "--code", "TL", "--seal", seal, "--seal-mm", "36"); code != 0 {
		t.Fatalf("unit set --seal: %s", stderr)
	}
	if code, stdout, stderr := cli(t, env, "officer", "set", "--id", id, "--signature", sig); code != 0 || !strings.Contains(stdout, `"signature": true`) {
		t.Fatalf("officer set --signature: %d %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = certifyTL()
	if code != 0 || !strings.Contains(stdout, `"number": 1,`) || !strings.Contains(stdout, `"officer_title": "TUQ. CHỦ TỊCH / CÔNG CHỨC TƯ PHÁP - HỘ TỊCH"`) {
		t.Fatalf("certify after the seal: %d %s %s", code, stdout, stderr)
	}
	// The authorisation ends: certification is refused.
	if code, _, stderr := cli(t, env, "officer", "set", "--id", id, "--valid-from", "2000-01-01", "--valid-until", "2000-01-31"); code != 0 {
		t.Fatalf("officer set --valid-until: %s", stderr)
	}
	if code, _, stderr := certifyTL(); code != 1 || !strings.Contains(stderr, "expired") {
		t.Fatalf("certify after the authorisation ended: %d %s", code, stderr)
	}
}
