package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/internal/testscan"
)

// cli runs Main in-process with env and returns the exit code, stdout and stderr.
func cli(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func writeScans(t *testing.T, dir string, n, size int) []string {
	var paths []string
	for i, b := range testscan.Scans(n, size, 200) {
		p := filepath.Join(dir, fmt.Sprintf("trang%d.jpg", i+1))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

type certified struct {
	Number     int64  `json:"number"`
	Book       string `json:"book"`
	VerifyURL  string `json:"verify_url"`
	SHA256     string `json:"sha256"`
	Pages      int    `json:"pages"`
	Original   int    `json:"original_pages"`
	FeeVND     int64  `json:"fee_vnd"`
	AccessCode string `json:"access_code"`
}

func TestCertifyAndVerify(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data"), "CHUNGTHUC_BASE_URL": "https://ct.example.vn"}
	scans := writeScans(t, dir, 3, 600<<10)
	out := filepath.Join(dir, "copy.pdf")
	code, stdout, stderr := cli(t, env, append([]string{"certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", out}, scans...)...)
	if code != 0 {
		t.Fatalf("certify: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var c certified
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatalf("certify output is not JSON: %v\n%s", err, stdout)
	}
	if c.Number != 1 || !strings.HasSuffix(c.Book, "-SCTĐT/BS") || c.Pages != 4 || c.Original != 3 || c.FeeVND != 5000 ||
		!strings.HasPrefix(c.VerifyURL, "https://ct.example.vn/v/") || len(c.SHA256) != 64 || c.AccessCode == "" {
		t.Fatalf("certify output: %+v", c)
	}
	// The second copy gets the next number.
	code, stdout, _ = cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "copy2.pdf"), scans[0])
	var c2 certified
	json.Unmarshal([]byte(stdout), &c2)
	if code != 0 || c2.Number != 2 || c2.FeeVND != 2000 {
		t.Fatalf("second certify: exit %d, %+v", code, c2)
	}

	// verify: valid, with the register consulted, and in the public log (whose checkpoint
	// the certify command stored before it answered).
	code, stdout, stderr = cli(t, env, "verify", out)
	if code != 0 || !strings.Contains(stdout, `"valid": true`) || !strings.Contains(stdout, `"status": "certified"`) ||
		!strings.Contains(stdout, "In the public log at index 0, checkpoint of ") || !strings.Contains(stdout, `"checkpoint_size": 2`) {
		t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// A third party with only the file and the root: no data directory is created.
	code, rootPEM, _ := cli(t, env, "pki", "export-root")
	if code != 0 || !strings.Contains(rootPEM, "BEGIN CERTIFICATE") {
		t.Fatalf("pki export-root: exit %d: %s", code, rootPEM)
	}
	root := filepath.Join(dir, "root.pem")
	os.WriteFile(root, []byte(rootPEM), 0o644)
	elsewhere := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "nowhere")}
	code, stdout, stderr = cli(t, elsewhere, "verify", "--trust", root, out)
	if code != 0 || !strings.Contains(stdout, `"valid": true`) {
		t.Fatalf("offline verify: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, `"status": "not_consulted"`) {
		t.Fatalf("offline verify does not say the register was not consulted:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); !os.IsNotExist(err) {
		t.Fatal("verify created a data directory")
	}
	// Twenty years on, after every certificate has expired, the B-LTA copy still verifies
	// offline: its time-stamps prove when it was signed.
	later := time.Now().AddDate(20, 0, 1).Format("2006-01-02")
	if code, stdout, _ = cli(t, elsewhere, "verify", "--trust", root, "--at", later, out); code != 0 {
		t.Fatalf("verify --at %s: exit %d\n%s", later, code, stdout)
	}
	if code, _, _ = cli(t, elsewhere, "verify", "--trust", root, "--at", "tomorrow", out); code != 2 {
		t.Fatalf("verify --at tomorrow: exit %d, want 2", code)
	}
	// Without any trust anchor the copy cannot be valid.
	if code, _, _ = cli(t, elsewhere, "verify", out); code != 1 {
		t.Fatalf("verify without trust anchors: exit %d, want 1", code)
	}

	// Tampered variants are rejected.
	pdf, _ := os.ReadFile(out)
	for name, bad := range tampered(t, pdf) {
		p := filepath.Join(dir, name+".pdf")
		os.WriteFile(p, bad, 0o644)
		code, stdout, _ := cli(t, env, "verify", p)
		if code != 1 || !strings.Contains(stdout, `"valid": false`) {
			t.Errorf("%s: verify exit %d, want 1\n%s", name, code, stdout)
		}
	}
	// A lost access code: `code reissue` prints a new one (the old stops working: api tests).
	code, stdout, stderr = cli(t, env, "code", "reissue", "--id", "2")
	var re struct {
		Number     int64  `json:"number"`
		AccessCode string `json:"access_code"`
	}
	if err := json.Unmarshal([]byte(stdout), &re); code != 0 || err != nil || re.Number != 2 || len(re.AccessCode) != 10 || re.AccessCode == c2.AccessCode {
		t.Fatalf("code reissue: exit %d %v\n%s%s", code, err, stdout, stderr)
	}
	if code, _, _ = cli(t, env, "code", "reissue"); code != 2 {
		t.Fatalf("code reissue without --id: exit %d, want 2", code)
	}
	// A revoked copy no longer verifies, and the report says why.
	if code, stdout, stderr := cli(t, env, "revoke", "--id", "1", "--reason", "Bản chính bị tẩy xóa"); code != 0 || !strings.Contains(stdout, `"status": "revoked"`) {
		t.Fatalf("revoke: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, _ := cli(t, env, "code", "reissue", "--id", "1"); code != 1 {
		t.Fatalf("code reissue for a revoked copy: exit %d, want 1", code)
	}
	code, stdout, _ = cli(t, env, "verify", out)
	if code != 1 || !strings.Contains(stdout, `"status": "revoked"`) || !strings.Contains(stdout, "Bản chính bị tẩy xóa") {
		t.Fatalf("verify of a revoked copy: exit %d\n%s", code, stdout)
	}
	// Usage errors exit 2.
	if code, _, _ := cli(t, env, "verify"); code != 2 {
		t.Errorf("verify with no file: exit %d, want 2", code)
	}
	if code, _, _ := cli(t, env, "certify", "--unit", "HB"); code != 2 {
		t.Errorf("certify with missing flags: exit %d, want 2", code)
	}
}

// tampered returns modified copies of a signed PDF: a flipped byte inside the signed range,
// bytes appended after the last signature, and an incremental revision that adds a page.
func tampered(t *testing.T, pdf []byte) map[string][]byte {
	flip := bytes.Clone(pdf)
	i := bytes.Index(flip, []byte("GIẤY")) // not present as text (image), so flip in the middle instead
	if i < 0 {
		i = len(flip) / 3
	}
	flip[i] ^= 0x01
	appended := append(bytes.Clone(pdf), []byte("\n% trailing garbage\n")...)
	return map[string][]byte{"flipped": flip, "appended": appended, "added-page": addPageRevision(t, pdf)}
}

// addPageRevision appends an incremental update that adds a blank page to the page tree.
func addPageRevision(t *testing.T, pdf []byte) []byte {
	// Find the page tree object and the last startxref.
	s := string(pdf)
	sx := strings.LastIndex(s, "startxref\n")
	var prev int64
	fmt.Sscanf(s[sx+len("startxref\n"):], "%d", &prev)
	ti := strings.LastIndex(s, "trailer\n")
	var size int
	fmt.Sscanf(s[strings.Index(s[ti:], "/Size ")+ti+len("/Size "):], "%d", &size)
	var root int
	fmt.Sscanf(s[strings.Index(s[ti:], "/Root ")+ti+len("/Root "):], "%d", &root)
	pi := strings.Index(s, "/Type /Pages")
	objStart := strings.LastIndex(s[:pi], " 0 obj")
	numStart := strings.LastIndex(s[:objStart], "\n") + 1
	var pagesNum int
	fmt.Sscanf(s[numStart:objStart], "%d", &pagesNum)
	kidsAt := strings.Index(s[pi-200:], "/Kids [") + pi - 200
	kidsEnd := strings.Index(s[kidsAt:], "]") + kidsAt
	kids := s[kidsAt+len("/Kids [") : kidsEnd]
	var b bytes.Buffer
	b.Write(pdf)
	newPage := size
	off1 := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<</Type /Page /Parent %d 0 R /MediaBox [0 0 595 842]>>\nendobj\n", newPage, pagesNum)
	off2 := b.Len()
	n := strings.Count(kids, " R") + 1
	fmt.Fprintf(&b, "%d 0 obj\n<</Type /Pages /Kids [%s %d 0 R] /Count %d>>\nendobj\n", pagesNum, kids, newPage, n)
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n%d 1\n%010d 00000 n\r\n%d 1\n%010d 00000 n\r\ntrailer\n<</Size %d /Root %d 0 R /Prev %d>>\nstartxref\n%d\n%%%%EOF\n",
		pagesNum, off2, newPage, off1, size+1, root, prev, xref)
	return b.Bytes()
}

func TestOfficerAdd(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": dir}
	code, stdout, stderr := cli(t, env, "officer", "add", "--unit", "HB", "--name", "Lê Thị Ĩ", "--title", "CHỦ TỊCH")
	if code != 0 || strings.TrimSpace(stdout) != "2" {
		t.Fatalf("officer add: exit %d, %q %s", code, stdout, stderr)
	}
	scans := writeScans(t, dir, 1, 200<<10)
	code, stdout, stderr = cli(t, env, "certify", "--unit", "HB", "--officer", "2", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c.pdf"), scans[0])
	if code != 0 {
		t.Fatalf("certify by the new officer: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, stderr = cli(t, env, "officer", "add", "--unit", "XX", "--name", "A", "--title", "B"); code != 1 || !strings.Contains(stderr, "XX") {
		t.Fatalf("officer add to an unknown unit: exit %d %s", code, stderr)
	}
}

func TestCertifyBadInput(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	garbage := filepath.Join(dir, "scan.jpg")
	os.WriteFile(garbage, []byte("this is not an image"), 0o644)
	code, _, stderr := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c.pdf"), garbage)
	if code != 1 || !strings.Contains(stderr, "scan.jpg") {
		t.Fatalf("garbage scan: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "c.pdf")); !os.IsNotExist(err) {
		t.Fatal("an output file was written for a refused scan")
	}
	// The refused scan used no number: the next good copy is number 1.
	scans := writeScans(t, dir, 1, 100<<10)
	code, stdout, _ := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c.pdf"), scans[0])
	var c certified
	json.Unmarshal([]byte(stdout), &c)
	if code != 0 || c.Number != 1 {
		t.Fatalf("after a refused scan: exit %d number %d", code, c.Number)
	}
	code, _, stderr = cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c.pdf"), filepath.Join(dir, "missing.jpg"))
	if code != 1 || !strings.Contains(stderr, "missing.jpg") {
		t.Fatalf("missing scan: exit %d %s", code, stderr)
	}
}

// TestConcurrentCertify runs 50 certifications at once through the workflow: numbers 1..50,
// none shared, none skipped.
func TestConcurrentCertify(t *testing.T) {
	dir := t.TempDir()
	cfg, err := LoadConfig(func(k string) string { return map[string]string{"CHUNGTHUC_DATA": dir}[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	scan := testscan.Scans(1, 60<<10, 200)[0]
	var wg sync.WaitGroup
	numbers := make(chan int64, 50)
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := a.svc.Certify(context.Background(), certifyInput(scan))
			if err != nil {
				errs <- err
				return
			}
			numbers <- out.Certification.Number
		}()
	}
	wg.Wait()
	close(numbers)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for n := range numbers {
		if seen[n] {
			t.Fatalf("number %d given twice", n)
		}
		seen[n] = true
	}
	for n := int64(1); n <= 50; n++ {
		if !seen[n] {
			t.Fatalf("number %d skipped", n)
		}
	}
}

// TestBinary builds the real binary and drives it: certify, then verify.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "chungthuc")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	scans := writeScans(t, dir, 2, 300<<10)
	run := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "CHUNGTHUC_DATA="+filepath.Join(dir, "data"))
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, string(out)
	}
	out := filepath.Join(dir, "copy.pdf")
	if code, s := run(append([]string{"certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", out}, scans...)...); code != 0 {
		t.Fatalf("certify: %d %s", code, s)
	}
	if code, s := run("verify", out); code != 0 || !strings.Contains(s, `"valid": true`) {
		t.Fatalf("verify: %d %s", code, s)
	}
	if code, _ := run("nonsense"); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
}

func certifyInput(scan []byte) certify.Input {
	return certify.Input{UnitCode: "HB", OfficerID: 1, DocTitle: "Giấy khai sinh", Requester: "Nguyễn Thị Hồng Nhung", Scans: []chungthuc.Scan{{Name: "a.jpg", Data: scan}}, KeepScans: true}
}

func TestBooks(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": dir}
	scans := writeScans(t, dir, 1, 50<<10)
	certifyOne := func() certified {
		code, stdout, stderr := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c.pdf"), scans[0])
		var c certified
		if code != 0 || json.Unmarshal([]byte(stdout), &c) != nil {
			t.Fatalf("certify: %d %s %s", code, stdout, stderr)
		}
		return c
	}
	first := certifyOne()
	code, stdout, stderr := cli(t, env, "book", "open", "--unit", "HB")
	var b map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &b) != nil || !strings.HasPrefix(b["code"].(string), "02/") {
		t.Fatalf("book open: %d %s %s", code, stdout, stderr)
	}
	second := certifyOne()
	if second.Number != first.Number+1 || !strings.HasPrefix(second.Book, "02/") {
		t.Fatalf("numbering did not continue into the new book: %+v then %+v", first, second)
	}
	code, stdout, _ = cli(t, env, "book", "list", "--unit", "HB")
	var books []map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &books) != nil || len(books) != 2 || books[0]["closed_at"] == nil {
		t.Fatalf("book list: %d %s", code, stdout)
	}
	id := fmt.Sprint(books[1]["id"])
	if code, stdout, _ = cli(t, env, "book", "close", "--id", id, "--officer", "1"); code != 0 || !strings.Contains(stdout, `"closing_count": 2`) {
		t.Fatalf("book close: %d %s", code, stdout)
	}
	if code, _, _ = cli(t, env, "book", "close", "--id", id, "--officer", "1"); code != 1 {
		t.Fatalf("closing twice: exit %d, want 1", code)
	}
}

// TestRevocationThroughTheDevPKI: a B-B copy carries no revocation data; the local
// development PKI answers for its certificates in-process, so verify passes; once the
// officer's certificate is revoked the copy no longer verifies and the officer cannot certify.
func TestRevocationThroughTheDevPKI(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data"), "CHUNGTHUC_PADES_LEVEL": "B-B"}
	scans := writeScans(t, dir, 1, 50<<10)
	certifyTo := func(out string) {
		if code, stdout, stderr := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", out, scans[0]); code != 0 {
			t.Fatalf("certify: %d %s %s", code, stdout, stderr)
		}
	}
	before := filepath.Join(dir, "before.pdf")
	certifyTo(before)
	code, stdout, _ := cli(t, env, "verify", before)
	if code != 0 || !strings.Contains(stdout, `"source": "revocation service OCSP"`) || !strings.Contains(stdout, `"status": "good"`) {
		t.Fatalf("verify of a B-B copy: exit %d\n%s", code, stdout)
	}
	if code, stdout, stderr := cli(t, env, "pki", "revoke", "--officer", "1"); code != 0 {
		t.Fatalf("pki revoke: %d %s %s", code, stdout, stderr)
	}
	// Without a time-stamp nothing proves the copy was signed before the revocation.
	code, stdout, _ = cli(t, env, "verify", before)
	if code != 1 || !strings.Contains(stdout, `"status": "revoked"`) {
		t.Fatalf("verify of a B-B copy after its certificate was revoked: exit %d\n%s", code, stdout)
	}
	// A revoked certificate signs nothing more.
	code, _, stderr := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "after.pdf"), scans[0])
	if code != 1 || !strings.Contains(stderr, "revoked") {
		t.Fatalf("certify with a revoked certificate: exit %d %s", code, stderr)
	}
}

var (
	sealOnce sync.Once
	sealFile string
)

// testSealFile is a registered-seal PNG written once for the tests that add a unit (a unit
// other than the demo unit certifies only with its seal image).
func testSealFile() string {
	sealOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chungthuc-seal-")
		if err != nil {
			panic(err)
		}
		sealFile = filepath.Join(dir, "seal.png")
		if err := os.WriteFile(sealFile, testscan.SealPNG(200), 0o644); err != nil {
			panic(err)
		}
	})
	return sealFile
}

// cliOK returns a runner of the command line that fails the test on a non-zero exit and
// returns the standard output.
func cliOK(t *testing.T, env map[string]string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		code, out, errs := cli(t, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		return out
	}
}
