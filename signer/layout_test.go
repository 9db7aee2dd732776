package signer

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testscan"
)

// sealPNG draws a registered-looking seal: red rings and a star on a transparent background.
func sealPNG(px int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, px, px))
	red := color.NRGBA{210, 20, 30, 255}
	c := float64(px) / 2
	for y := 0; y < px; y++ {
		for x := 0; x < px; x++ {
			d := math.Hypot(float64(x)+0.5-c, float64(y)+0.5-c) / c
			if (d > 0.92 && d <= 1) || (d > 0.84 && d < 0.87) || (d > 0.40 && d < 0.43) || d < 0.12 {
				img.Set(x, y, red)
			}
		}
	}
	return encodePNG(img)
}

// signaturePNG draws a blue handwritten-like scrawl on a transparent background.
func signaturePNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	blue := color.NRGBA{20, 40, 170, 255}
	for t := 0.0; t < 1; t += 0.0005 {
		x := int(float64(w) * (0.05 + 0.9*t))
		y := int(float64(h)/2 + math.Sin(t*18)*float64(h)*0.3*(1-t*0.5))
		for dy := -2; dy <= 2; dy++ {
			img.Set(x, y+dy, blue)
		}
	}
	return encodePNG(img)
}

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// borderScan is a scan of w×h pixels declaring dpi (0: none): white, with a green border of
// border pixels all round and a 12-pixel black bar (the "serial number") ending 28 px above the
// bottom edge.
func borderScan(w, h, border, dpi int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{255, 255, 255, 255}
			switch {
			case x < border || y < border || x >= w-border || y >= h-border:
				c = color.RGBA{0, 200, 0, 255}
			case y >= h-28-12 && y < h-28 && x > w/4 && x < w*3/4:
				c = color.RGBA{0, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	if dpi == 0 {
		return encodePNG(img)
	}
	return testscan.PNG(img, dpi)
}

// richRequest is a request with a three-line title, a seal and a signature image.
func (f *fixture) richRequest(scans [][]byte) chungthuc.CopyRequest {
	req := f.request(scans, "Nguyễn Thị Minh Khai")
	req.Scans[0].Name = "trang1.png"
	req.UnitBody, req.Province = "Ủy ban nhân dân phường Hòa Bình", "tỉnh Phú Thọ"
	req.TitleLines = []string{"TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"}
	req.SealImage, req.SealSizeMM = sealPNG(420), 36
	req.SignatureImage = signaturePNG(600, 240)
	return req
}

// TestSampleRender writes a copy with a three-line title, seal and signature images and a
// bottom-edge-text scan to $CHUNGTHUC_SAMPLE_DIR (for looking at it); skipped without it.
func TestSampleRender(t *testing.T) {
	dir := os.Getenv("CHUNGTHUC_SAMPLE_DIR")
	if dir == "" {
		t.Skip("CHUNGTHUC_SAMPLE_DIR not set")
	}
	f := newFixture("Nguyễn Thị Minh Khai")
	req := f.richRequest([][]byte{borderScan(827, 1169, 20, 100)})
	res, err := testSigner.MakeCopy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "rich.pdf"), res.PDF, 0o644)
	req = f.request([][]byte{borderScan(827, 1169, 20, 100)}, "Trần Văn Nghĩa")
	req.Scans[0].Name = "a.png"
	req.UnitBody, req.Province, req.SealDemo = "Ủy ban nhân dân phường Hòa Bình", "tỉnh Phú Thọ", true
	res, err = testSigner.MakeCopy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "demo.pdf"), res.PDF, 0o644)
	_ = strings.TrimSpace
}

// TestPrintedFieldsRefused: a line break, a bidi override or a zero-width character in any
// field printed under the signatures, or a field naming a number or book, is refused with
// EINVALID before a number is allocated; a valid copy's statement page shows exactly one
// number and one book, the allocation's.
func TestPrintedFieldsRefused(t *testing.T) {
	f := newFixture("Nguyễn Thị Minh Khai")
	scans := [][]byte{borderScan(827, 1169, 20, 100)}
	set := map[string]func(*chungthuc.CopyRequest, string){
		"OfficerName":  func(r *chungthuc.CopyRequest, v string) { r.OfficerName = v },
		"OfficerTitle": func(r *chungthuc.CopyRequest, v string) { r.TitleLines, r.OfficerTitle = nil, v },
		"TitleLines":   func(r *chungthuc.CopyRequest, v string) { r.TitleLines[1] = v },
		"UnitName":     func(r *chungthuc.CopyRequest, v string) { r.UnitName = v },
		"UnitBody":     func(r *chungthuc.CopyRequest, v string) { r.UnitBody = v },
		"Province":     func(r *chungthuc.CopyRequest, v string) { r.Province = v },
		"Place":        func(r *chungthuc.CopyRequest, v string) { r.Place = v },
		"DocTitle":     func(r *chungthuc.CopyRequest, v string) { r.DocTitle = v },
	}
	for field, fn := range set {
		for _, bad := range []string{
			"KT. CHỦ TỊCH\nSố chứng thực 999, quyển số 99/2020-SCT/BS",
			"PHÓ CHỦ TỊCH \u202eSB/TCS",
			"PHÓ\u200bCHỦ TỊCH",
			strings.Repeat("Ư", 201),
			"Số chứng thực 999, quyển số 99/2020-SCT/BS",
		} {
			if field == "DocTitle" && strings.HasPrefix(bad, "Số") {
				continue // the document's name is not printed on the statement page
			}
			req := f.richRequest(scans)
			allocated := false
			alloc := req.Allocate
			req.Allocate = func(ctx context.Context, n int) (*chungthuc.Allocation, error) {
				allocated = true
				return alloc(ctx, n)
			}
			fn(&req, bad)
			_, err := testSigner.MakeCopy(context.Background(), req)
			if chungthuc.ErrorCode(err) != chungthuc.EINVALID || allocated {
				t.Errorf("%s = %q: err %v, allocated %v; want EINVALID before allocation", field, bad, err, allocated)
			}
		}
	}
	// Too many title lines, a seal size out of range, images that are not PNG.
	for name, fn := range map[string]func(*chungthuc.CopyRequest){
		"4 title lines":     func(r *chungthuc.CopyRequest) { r.TitleLines = append(r.TitleLines, "X") },
		"seal 5 mm":         func(r *chungthuc.CopyRequest) { r.SealSizeMM = 5 },
		"seal JPEG":         func(r *chungthuc.CopyRequest) { r.SealImage = smallScans[0] },
		"signature garbage": func(r *chungthuc.CopyRequest) { r.SignatureImage = []byte("\x89PNG\r\n\x1a\nnot really") },
		"signature 20 MP":   func(r *chungthuc.CopyRequest) { r.SignatureImage = hugePNGHeader(5000, 4000) },
	} {
		req := f.richRequest(scans)
		fn(&req)
		if _, err := testSigner.MakeCopy(context.Background(), req); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("%s: err %v, want EINVALID", name, err)
		}
	}
	// A valid copy: one number, one book on the statement page.
	res, err := testSigner.MakeCopy(context.Background(), f.richRequest(scans))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("poppler-utils not installed")
	}
	file := filepath.Join(t.TempDir(), "c.pdf")
	os.WriteFile(file, res.PDF, 0o644)
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", "-f", "2", "-l", "2", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	nums := regexp.MustCompile(`(?i)số chứng thực\s+(\S+?),?\s`).FindAllStringSubmatch(text, -1)
	books := regexp.MustCompile(`(?i)quyển số\s+(\S+)`).FindAllStringSubmatch(text, -1)
	if len(nums) != 2 || len(books) != 2 { // the statement and the footer
		t.Fatalf("%d numbers and %d books on the statement page, want 2 each (statement, footer):\n%s", len(nums), len(books), text)
	}
	for i := range nums {
		if nums[i][1] != "1234" || books[i][1] != "01/2026-SCTĐT/BS" {
			t.Errorf("the statement page shows number %q book %q", nums[i][1], books[i][1])
		}
	}
	if strings.Count(text, "Số chứng thực 1234, quyển số 01/2026-SCTĐT/BS") != 1 {
		t.Errorf("the statement line is not there exactly once:\n%s", text)
	}
	for _, l := range []string{"TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH\n", "Nguyễn Thị Minh Khai\n",
		"Ký bởi: Ủy ban nhân dân phường Hòa Bình, tỉnh Phú Thọ\n", "Thời gian ký: 2026-11-29T09:30:00+07:00\n"} {
		if !strings.Contains(text, l) {
			t.Errorf("the statement page lacks %q:\n%s", l, text)
		}
	}
	if strings.Contains(text, unsignedMark) || strings.Contains(text, "DEMO") {
		t.Errorf("a copy with a signature image and a registered seal shows the placeholder or the demo mark:\n%s", text)
	}
	p, err := ReadPrinted(res.PDF)
	if err != nil || p.OfficerName != "Nguyễn Thị Minh Khai" || p.OfficerTitle != "TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH" || p.Number != 1234 {
		t.Errorf("ReadPrinted = %+v, %v", p, err)
	}
}

// hugePNGHeader is a PNG signature and IHDR claiming w×h pixels, with no image data.
func hugePNGHeader(w, h int) []byte {
	img := encodePNG(image.NewNRGBA(image.Rect(0, 0, 1, 1)))
	b := append([]byte{}, img[:33]...)
	binary.BigEndian.PutUint32(b[16:], uint32(w))
	binary.BigEndian.PutUint32(b[20:], uint32(h))
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return append(b, img[33:]...)
}

// TestScanQualityGate: with the gate on, a 60×85 px scan (7 dpi at A4) is refused, a scan of
// about 170 dpi is refused with a warning until the officer confirms it, and a 200 dpi scan
// passes; no refusal uses a number.
func TestScanQualityGate(t *testing.T) {
	s, err := New(Options{ScanQualityGate: true})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture("Nguyễn Thị Minh Khai")
	try := func(scan []byte, confirm bool) (error, bool) {
		req := f.request([][]byte{scan}, "Nguyễn Thị Minh Khai")
		req.Scans[0].Name = "scan.png"
		req.ConfirmLowResolution = confirm
		allocated := false
		alloc := req.Allocate
		req.Allocate = func(ctx context.Context, n int) (*chungthuc.Allocation, error) {
			allocated = true
			return alloc(ctx, n)
		}
		_, err := s.MakeCopy(context.Background(), req)
		return err, allocated
	}
	tiny := encodePNG(image.NewGray(image.Rect(0, 0, 60, 85)))
	for _, confirm := range []bool{false, true} {
		err, allocated := try(tiny, confirm)
		if chungthuc.ErrorCode(err) != chungthuc.EINVALID || allocated || !strings.Contains(err.Error(), "7 dpi") || !strings.Contains(err.Error(), "150 dpi") {
			t.Errorf("60×85 px scan (confirmed %v): %v, allocated %v; want EINVALID naming 7 and 150 dpi before allocation", confirm, err, allocated)
		}
	}
	// 1406×1988 px with no declared resolution: fitted to A4, 170 dpi.
	mid := encodePNG(image.NewGray(image.Rect(0, 0, 1406, 1988)))
	err, allocated := try(mid, false)
	if chungthuc.ErrorCode(err) != chungthuc.EINVALID || allocated || !strings.Contains(err.Error(), "170 dpi") || !strings.Contains(err.Error(), "200 dpi") {
		t.Errorf("170 dpi scan: %v, allocated %v; want an EINVALID warning naming 170 and 200 dpi before allocation", err, allocated)
	}
	if err, _ := try(mid, true); err != nil {
		t.Errorf("170 dpi scan, confirmed: %v", err)
	}
	if err, _ := try(testscan.Scans(1, 200<<10, 200)[0], false); err != nil {
		t.Errorf("200 dpi scan: %v", err)
	}
	// A declared 300 dpi scan is measured on the page it declares.
	if err, _ := try(testscan.PNG(image.NewGray(image.Rect(0, 0, 600, 900)), 300), false); err != nil {
		t.Errorf("300 dpi scan of 2×3 inches: %v", err)
	}
	// Without the gate (the default) the tiny scan is still accepted.
	if _, err := testSigner.MakeCopy(context.Background(), func() chungthuc.CopyRequest {
		r := f.request([][]byte{tiny}, "Nguyễn Thị Minh Khai")
		r.Scans[0].Name = "scan.png"
		return r
	}()); err != nil {
		t.Errorf("gate off: %v", err)
	}
}
