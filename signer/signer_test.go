package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/cms"
	"github.com/chungthuc/chungthuc/internal/testpki"
	"github.com/chungthuc/chungthuc/internal/testscan"
)

func TestVietnameseDate(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-29T10:00:00+07:00": "ngày 29 tháng 11 năm 2026",
		"2026-02-05T10:00:00+07:00": "ngày 05 tháng 02 năm 2026",
		"2026-03-09T23:30:00+07:00": "ngày 09 tháng 3 năm 2026",
		"2026-12-31T17:30:00Z":      "ngày 01 tháng 01 năm 2027", // already 1 January in Vietnam
	} {
		at, _ := time.Parse(time.RFC3339, in)
		if got := VietnameseDate(at); got != want {
			t.Errorf("VietnameseDate(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestStatementLines(t *testing.T) {
	st := Statement{Number: 12, BookCode: "01/2026-SCTĐT/BS", Place: "Phương Lâm",
		Date: time.Date(2026, 11, 29, 9, 0, 0, 0, chungthuc.Vietnam), Title: "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", Name: "Trần Văn Nghĩa"}
	want := []string{
		"Chứng thực bản sao đúng với bản chính.",
		"Số chứng thực 12, quyển số 01/2026-SCTĐT/BS",
		"Ngày 29 tháng 11 năm 2026",
		"NGƯỜI THỰC HIỆN CHỨNG THỰC",
		"KT. CHỦ TỊCH / PHÓ CHỦ TỊCH",
		"(chữ ký số)",
		"Trần Văn Nghĩa",
	}
	if got := st.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("Lines() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// NFD input comes out NFC.
	st.Name = "Tra\u0302\u0300n Va\u0306n Nghi\u0303a"
	if got := st.Lines()[6]; got != "Trần Văn Nghĩa" {
		t.Fatalf("NFD name not normalised: %q", got)
	}
	if got := st.Footer(2, 4); got != "Số chứng thực 12 · Quyển số 01/2026-SCTĐT/BS · Trang 2/4" {
		t.Fatalf("Footer = %q", got)
	}
}

// countingSigner counts key operations.
type countingSigner struct {
	crypto.Signer
	n atomic.Int32
}

func (c *countingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.n.Add(1)
	return c.Signer.Sign(r, d, o)
}

var testSigner = func() *Signer {
	s, err := New(Options{})
	if err != nil {
		panic(err)
	}
	return s
}()

type fixture struct {
	pki            *testpki.PKI
	officer, seal  *chungthuc.SigningKey
	ocount, scount *countingSigner
}

func newFixture(officerName string) *fixture {
	p := testpki.New()
	f := &fixture{pki: p, officer: p.Leaf(officerName, "Phường Phương Lâm", "ecdsa"), seal: p.Leaf("Phường Phương Lâm", "Phường Phương Lâm", "rsa")}
	f.ocount = &countingSigner{Signer: f.officer.Signer}
	f.scount = &countingSigner{Signer: f.seal.Signer}
	f.officer.Signer, f.seal.Signer = f.ocount, f.scount
	return f
}

func (f *fixture) request(scans [][]byte, name string) chungthuc.CopyRequest {
	var files []chungthuc.Scan
	for i, s := range scans {
		files = append(files, chungthuc.Scan{Name: "trang" + strconv.Itoa(i+1) + ".jpg", Data: s})
	}
	return chungthuc.CopyRequest{
		Scans: files, Place: "Phương Lâm", UnitName: "Phường Phương Lâm",
		OfficerName: name, OfficerTitle: "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", DocTitle: "Giấy khai sinh",
		Officer: f.officer, Seal: f.seal,
		Allocate: func(ctx context.Context, pages int) (*chungthuc.Allocation, error) {
			return &chungthuc.Allocation{Number: 1234, BookCode: "01/2026-SCTĐT/BS",
				CertifiedAt: time.Date(2026, 11, 29, 9, 30, 0, 0, chungthuc.Vietnam),
				VerifyURL:   "https://chungthuc.example.vn/v/3q2-x8WkR0bPn9ZfKx1mTgH7cYpQ"}, nil
		},
	}
}

var smallScans = testscan.Scans(2, 300<<10, 100)

func TestMakeCopy(t *testing.T) {
	f := newFixture("Lê Thị Ĩ (Phó Chủ tịch) \\")
	res, err := testSigner.MakeCopy(context.Background(), f.request(smallScans, "Lê Thị Ĩ (Phó Chủ tịch) \\"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 3 || res.OriginalPages != 2 {
		t.Fatalf("pages %d/%d", res.Pages, res.OriginalPages)
	}
	if n1, n2 := f.ocount.n.Load(), f.scount.n.Load(); n1 != 1 || n2 != 1 {
		t.Fatalf("key operations: officer %d, seal %d; want one each", n1, n2)
	}
	// JPEG scans are embedded byte for byte.
	for _, s := range smallScans {
		if !bytes.Contains(res.PDF, s) {
			t.Fatal("a JPEG scan is not embedded byte for byte")
		}
	}
	sigs := signatureDicts(t, res.PDF)
	if len(sigs) != 2 {
		t.Fatalf("%d signature dictionaries, want 2", len(sigs))
	}
	for i, d := range sigs {
		if !strings.Contains(d, "/SubFilter /ETSI.CAdES.detached") {
			t.Errorf("signature %d: SubFilter is not ETSI.CAdES.detached", i)
		}
	}
	if got := textString(t, sigs[0], "Name"); got != "Lê Thị Ĩ (Phó Chủ tịch) \\" {
		t.Errorf("officer /Name = %q", got)
	}
	if !strings.Contains(sigs[0], "/TransformMethod /DocMDP") || !strings.Contains(sigs[0], "/P 2") {
		t.Error("officer signature is not a DocMDP P=2 certification signature")
	}
	if !strings.Contains(sigs[0], "/M (D:20261129093000+07'00')") {
		t.Errorf("officer /M missing or wrong: %s", sigs[0][:200])
	}
	// Each signature's CMS is PAdES B-B: no signing-time, signing-certificate-v2 present.
	for i, der := range signatureContents(t, res.PDF) {
		sd, err := cms.Parse(der)
		if err != nil {
			t.Fatalf("signature %d: %v", i, err)
		}
		si := sd.Signers[0]
		if si.SigningTime != nil {
			t.Errorf("signature %d has a CMS signing-time attribute", i)
		}
		if si.SigningCertificateV2 == nil {
			t.Errorf("signature %d lacks signing-certificate-v2", i)
		}
	}
	// The last signature covers the whole file.
	br := byteRanges(t, res.PDF)
	last := br[len(br)-1]
	if last[2]+last[3] != int64(len(res.PDF)) || last[0] != 0 {
		t.Fatalf("last ByteRange %v does not cover the %d-byte file", last, len(res.PDF))
	}
	os.WriteFile(filepath.Join(t.TempDir(), "copy.pdf"), res.PDF, 0o644)
	checkWithPoppler(t, f, res.PDF)
}

// checkWithPoppler reads the copy with independent tools: pdftotext (statement and footers),
// qpdf --check (structure), pdfsig with an NSS database trusting the root (both signatures).
func checkWithPoppler(t *testing.T, f *fixture, pdf []byte) {
	dir := t.TempDir()
	file := filepath.Join(dir, "copy.pdf")
	os.WriteFile(file, pdf, 0o644)
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("poppler-utils not installed")
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, l := range []string{
		"Chứng thực bản sao đúng với bản chính.",
		"Số chứng thực 1234, quyển số 01/2026-SCTĐT/BS",
		"Ngày 29 tháng 11 năm 2026",
		"NGƯỜI THỰC HIỆN CHỨNG THỰC",
		"KT. CHỦ TỊCH / PHÓ CHỦ TỊCH",
		"(chữ ký số)",
		"Ký bởi: Phường Phương Lâm",
		"Thời gian ký: 2026-11-29T09:30:00+07:00",
		"Lê Thị Ĩ (Phó Chủ tịch) \\",
		"Số chứng thực 1234 · Quyển số 01/2026-SCTĐT/BS · Trang 1/3",
		"Số chứng thực 1234 · Quyển số 01/2026-SCTĐT/BS · Trang 2/3",
		"Số chứng thực 1234 · Quyển số 01/2026-SCTĐT/BS · Trang 3/3",
	} {
		if !strings.Contains(text, l+"\n") {
			t.Errorf("pdftotext lacks the line %q\n%s", l, text)
		}
	}
	if q, err := exec.LookPath("qpdf"); err == nil {
		if out, err := exec.Command(q, "--check", file).CombinedOutput(); err != nil {
			t.Errorf("qpdf --check: %v\n%s", err, out)
		}
	}
	if _, err := exec.LookPath("pdfsig"); err != nil {
		return
	}
	nss := NSSDB(t, dir, f.pki.RootPEM())
	out, _ = exec.Command("pdfsig", "-nssdir", "sql:"+nss, file).CombinedOutput()
	s := string(out)
	if strings.Count(s, "Signature Validation: Signature is Valid.") != 2 ||
		strings.Count(s, "Certificate Validation: Certificate is Trusted.") != 2 {
		t.Fatalf("pdfsig does not report two valid, trusted signatures:\n%s", s)
	}
	if !strings.Contains(s, "Total document signed") {
		t.Fatalf("pdfsig: the last signature does not cover the whole document:\n%s", s)
	}
}

// NSSDB makes an NSS database in dir that trusts rootPEM, for pdfsig -nssdir.
func NSSDB(t testing.TB, dir string, rootPEM []byte) string {
	if _, err := exec.LookPath("certutil"); err != nil {
		t.Skip("certutil (libnss3-tools) not installed")
	}
	db := filepath.Join(dir, "nss")
	os.MkdirAll(db, 0o700)
	root := filepath.Join(dir, "root.pem")
	os.WriteFile(root, rootPEM, 0o644)
	for _, args := range [][]string{
		{"-N", "-d", "sql:" + db, "--empty-password"},
		{"-A", "-d", "sql:" + db, "-n", "root", "-t", "C,C,C", "-i", root},
	} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	return db
}

var sigDictRE = regexp.MustCompile(`(?s)<</Type /Sig .*?/Prop_Build <</App <</Name /chungthuc>>>>>>`)

func signatureDicts(t *testing.T, pdf []byte) []string {
	var out []string
	for _, m := range sigDictRE.FindAll(pdf, -1) {
		out = append(out, string(m))
	}
	return out
}

func textString(t *testing.T, dict, key string) string {
	m := regexp.MustCompile(`/` + key + ` <FEFF([0-9A-F]*)>`).FindStringSubmatch(dict)
	if m == nil {
		t.Fatalf("no /%s hex text string in %s", key, dict[:100])
	}
	b, _ := hex.DecodeString(m[1])
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(u))
}

var brRE = regexp.MustCompile(`/ByteRange \[0 (\d+) (\d+) (\d+) *\]`)

func byteRanges(t *testing.T, pdf []byte) [][4]int64 {
	var out [][4]int64
	for _, m := range brRE.FindAllSubmatch(pdf, -1) {
		var r [4]int64
		for i := 1; i < 4; i++ {
			r[i], _ = strconv.ParseInt(string(m[i]), 10, 64)
		}
		out = append(out, r)
	}
	return out
}

func signatureContents(t *testing.T, pdf []byte) [][]byte {
	var out [][]byte
	for _, r := range byteRanges(t, pdf) {
		h := pdf[r[1]+1 : r[2]-1] // cms.Parse accepts the zero padding
		der, err := hex.DecodeString(string(h))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, der)
	}
	return out
}

func BenchmarkCertify(b *testing.B) {
	for _, tc := range []struct {
		name  string
		pages int
		bytes int
	}{{"3pages-1MB", 3, 1 << 20}, {"30pages-10MB", 30, 10 << 20}} {
		scans := testscan.Scans(tc.pages, tc.bytes, 200)
		total := 0
		for _, s := range scans {
			total += len(s)
		}
		f := newFixture("Trần Văn Nghĩa")
		req := f.request(scans, "Trần Văn Nghĩa")
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := testSigner.MakeCopy(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCopyHash checks the reported hash is the SHA-256 of the file (computed incrementally).
func TestCopyHash(t *testing.T) {
	f := newFixture("Trần Văn Nghĩa")
	res, err := testSigner.MakeCopy(context.Background(), f.request(smallScans, "Trần Văn Nghĩa"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(res.PDF); hex.EncodeToString(sum[:]) != res.SHA256 {
		t.Fatalf("SHA256 %s is not the file's hash", res.SHA256)
	}
}

// TestReadPrinted: what a copy prints on its statement page reads back exactly.
func TestReadPrinted(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := testpki.New()
	at := time.Date(2026, 2, 5, 14, 30, 0, 0, chungthuc.Vietnam)
	url := "https://chungthuc.example.vn/v/3q2-x8WkR0bPn9ZfKx1mTgH7cYpQ_Ab"
	cp, err := s.MakeCopy(context.Background(), chungthuc.CopyRequest{
		Scans: []chungthuc.Scan{{Name: "a.jpg", Data: testscan.Scans(1, 40<<10, 72)[0]}, {Name: "b.jpg", Data: testscan.Scans(1, 40<<10, 72)[0]}}, Place: "Phương Lâm", UnitName: "Phường Phương Lâm",
		OfficerName: "Lê Thị Ĩ", OfficerTitle: "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", DocTitle: "Giấy khai sinh",
		Officer: p.Leaf("Lê Thị Ĩ", "Phường Phương Lâm", "ecdsa"), Seal: p.Leaf("Phường Phương Lâm", "Phường Phương Lâm", "ecdsa"),
		Allocate: func(context.Context, int) (*chungthuc.Allocation, error) {
			return &chungthuc.Allocation{Number: 1317, BookCode: "02/2026-SCTĐT/BS", CertifiedAt: at, VerifyURL: url}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadPrinted(cp.PDF)
	if err != nil {
		t.Fatal(err)
	}
	want := &Printed{Number: 1317, BookCode: "02/2026-SCTĐT/BS", Place: "", Date: time.Date(2026, 2, 5, 0, 0, 0, 0, chungthuc.Vietnam),
		OfficerTitle: "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", OfficerName: "Lê Thị Ĩ", VerifyURL: url, Pages: 3}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadPrinted = %+v\nwant %+v", got, want)
	}
	for _, b := range [][]byte{nil, []byte("%PDF-1.7\nnot a copy"), cp.PDF[:len(cp.PDF)/2]} {
		if _, err := ReadPrinted(b); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("ReadPrinted of a non-copy: %v", err)
		}
	}
}
