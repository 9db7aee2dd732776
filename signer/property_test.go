package signer

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/intake"
)

// scanCase is one page size of the property test: a scan of w×h pixels declaring dpi (0: none,
// so it is fitted to A4), with a 20-pixel green border and a black bar 28 px above its bottom.
type scanCase struct {
	name      string
	w, h, dpi int
}

var propertyScans = []scanCase{
	{"A4", 827, 1169, 100},
	{"A5", 583, 827, 100},
	{"Letter", 850, 1100, 100},
	{"A4 landscape", 1169, 827, 100},
	{"phone photo 3:4", 900, 1200, 0},
	{"phone photo 9:19.5", 600, 1300, 0},
}

const border = 20

var wordRE = regexp.MustCompile(`<word xMin="([-0-9.]+)" yMin="([-0-9.]+)" xMax="([-0-9.]+)" yMax="([-0-9.]+)">([^<]*)</word>`)

type pWord struct {
	b box // PDF coordinates (origin lower left)
	s string
}

// bboxWords runs pdftotext -bbox-layout on file and returns the words of each page.
func bboxWords(file string) ([]string, error) {
	out, err := exec.Command("pdftotext", "-bbox-layout", file, "-").Output()
	if err != nil {
		return nil, fmt.Errorf("pdftotext: %v", err)
	}
	pages := strings.Split(string(out), "<page ")
	return pages[1:], nil
}

// pageWords returns the words of one page of bboxWords, in PDF coordinates.
func pageWords(page string, pageH float64) []pWord {
	var ws []pWord
	for _, m := range wordRE.FindAllStringSubmatch(page, -1) {
		f := func(i int) float64 { v, _ := strconv.ParseFloat(m[i], 64); return v }
		s := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'").Replace(m[5])
		ws = append(ws, pWord{box{f(1), pageH - f(4), f(3), pageH - f(2)}, s})
	}
	return ws
}

// shrink makes b smaller by e on every side (to ignore touching edges and rounding).
func (a box) shrink(e float64) box { return box{a.X0 + e, a.Y0 + e, a.X1 - e, a.Y1 - e} }

func (a box) contains(b box, tol float64) bool {
	return b.X0 >= a.X0-tol && b.Y0 >= a.Y0-tol && b.X1 <= a.X1+tol && b.Y1 <= a.Y1+tol
}

// words of Vietnamese text to build names, titles and units of any length.
var vnWords = strings.Fields("Nguyễn Trần Lê Phạm Hoàng Huỳnh Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Thị Văn Minh Khai Nghĩa Hương Thủy Phường Xã Hòa Bình Phương Lâm Thống Nhất Quang Trung Tân Hồng Đức Điện Biên Phủ Xuân Thu Hạ Đông")

func vnText(r *rand.Rand, n int, upper bool) string {
	var b strings.Builder
	for b.Len() == 0 || len([]rune(b.String())) < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vnWords[r.IntN(len(vnWords))])
	}
	s := string([]rune(b.String())[:n])
	s = strings.TrimSpace(s)
	if upper {
		s = strings.ToUpper(s)
	}
	return s
}

// TestLayoutProperty is the layout property of issue #11 over generated combinations of
// name, title (1–3 lines), unit and province lengths, seal size and kind, signature image or
// none, and the page size of the scan (A4, A5, Letter, landscape, phone photos): on the
// statement page every word poppler finds lies inside a box of the measured layout (or, for
// a drawn seal, inside the seal), and no two laid-out boxes overlap, nor any box the QR code,
// the seal or the signature (the seal overlaps the left third of the signature, by design);
// on the scan page, rendered with pdftoppm, the whole green border and the bar 28 px above
// the scan's bottom edge are visible, and no text (the footer) enters the scan.
func TestLayoutProperty(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdftoppm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip("poppler-utils not installed")
		}
	}
	n := 210
	if testing.Short() {
		n = 40
	}
	scans := make([][]byte, len(propertyScans))
	for i, sc := range propertyScans {
		scans[i] = borderScan(sc.w, sc.h, border, sc.dpi)
	}
	seal, sig := sealPNG(300), signaturePNG(500, 200)
	r := rand.New(rand.NewPCG(11, 2026))
	lengths := []int{3, 12, 25, 40, 70, 120, 200}
	type combo struct {
		i    int
		req  chungthuc.CopyRequest
		scan int
	}
	f := newFixture("x")
	combos := make([]combo, n)
	threeLine := 0
	for i := range combos {
		scan := i % len(propertyScans)
		req := f.request([][]byte{scans[scan]}, vnText(r, lengths[r.IntN(len(lengths))], false))
		req.Scans[0].Name = "scan.png"
		req.UnitName = "Phường " + vnText(r, lengths[r.IntN(4)], false)
		if r.IntN(4) > 0 {
			req.UnitBody = "Ủy ban nhân dân " + strings.ToLower(req.UnitName[:len("Phường")]) + req.UnitName[len("Phường"):]
			if r.IntN(3) == 0 {
				req.UnitBody = vnText(r, lengths[r.IntN(len(lengths))], false)
			}
		}
		if r.IntN(3) > 0 {
			req.Province = "tỉnh " + vnText(r, lengths[r.IntN(4)], false)
		}
		k := 1 + r.IntN(3)
		if i%5 == 0 {
			k = 3
		}
		req.TitleLines = nil
		for j := 0; j < k; j++ {
			req.TitleLines = append(req.TitleLines, vnText(r, lengths[r.IntN(len(lengths))], true))
		}
		if k == 3 {
			threeLine++
		}
		if i%7 == 0 {
			req.TitleLines, req.OfficerTitle = nil, vnText(r, lengths[r.IntN(len(lengths))], true)
		}
		req.SealSizeMM = []float64{0, 15, 30, 36, 42, 50}[r.IntN(6)]
		if r.IntN(4) > 0 {
			req.SealImage = seal
		} else {
			req.SealDemo = true
		}
		if r.IntN(4) > 0 {
			req.SignatureImage = sig
		}
		// The number and book vary too (the footer and the number line with them).
		num, book := int64(1+r.IntN(1_000_000_000)), []string{"01/2026-SCTĐT/BS", "12/2026-SCTĐT/BS", "SCTĐT/BS", "03/2026-SCT/BS-ĐIỆN-TỬ-PHƯỜNG-HÒA-BÌNH"}[r.IntN(4)]
		req.Allocate = func(ctx context.Context, pages int) (*chungthuc.Allocation, error) {
			return &chungthuc.Allocation{Number: num, BookCode: book, CertifiedAt: time.Date(2026, time.Month(1+r2(i)%12), 1+r2(i)%28, 9, 30, 0, 0, chungthuc.Vietnam),
				VerifyURL: "https://chungthuc.example.vn/v/" + strings.Repeat("x", 20+i%40)}, nil
		}
		combos[i] = combo{i, req, scan}
	}
	if threeLine < n/6 {
		t.Fatalf("only %d combinations with a three-line title", threeLine)
	}
	dir := t.TempDir()
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for _, c := range combos {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := checkCombo(dir, c.i, c.req, propertyScans[c.scan]); err != nil {
				t.Errorf("combination %d (%s, name %q, title %q %q, body %q, province %q, seal %g mm, image %v, signature %v): %v",
					c.i, propertyScans[c.scan].name, c.req.OfficerName, c.req.TitleLines, c.req.OfficerTitle, c.req.UnitBody, c.req.Province,
					c.req.SealSizeMM, c.req.SealImage != nil, c.req.SignatureImage != nil, err)
			}
		}()
	}
	wg.Wait()
}

func r2(i int) int { return i*7 + 3 }

func checkCombo(dir string, i int, req chungthuc.CopyRequest, sc scanCase) error {
	res, err := testSigner.MakeCopy(context.Background(), req)
	if err != nil {
		return err
	}
	file := filepath.Join(dir, fmt.Sprintf("c%d.pdf", i))
	if err := os.WriteFile(file, res.PDF, 0o644); err != nil {
		return err
	}
	// The layout the signer used, recomputed the same way.
	a, _ := req.Allocate(context.Background(), 1)
	rq := request{CopyRequest: req}
	if err := testSigner.prepare(&rq, nil); err != nil {
		return err
	}
	st := rq.Statement
	st.Number, st.BookCode, st.Date = a.Number, a.BookCode, a.CertifiedAt
	d := &document{regular: testSigner.regular.base, bold: testSigner.bold.base}
	L := d.layoutStatement(st, a.VerifyURL, sealInfo(rq.body, rq.province, isoTime(a.CertifiedAt)), rq.sealMM)

	// Layout: boxes pairwise disjoint, inside the page and above the footer.
	page := box{pageLeft - 1, 0, a4W - pageLeft + 1, a4H - 30}
	els := []struct {
		name string
		b    box
	}{{"QR code", L.qr}, {"signature", L.sig}, {"seal", L.seal}}
	// The footer, drawn apart from the layout.
	foot := st.Footer(2, 2)
	fw := d.regular.width(foot, footerSize)
	footBox := box{(a4W - fw) / 2, footerBaseline - fontDescent*footerSize, (a4W + fw) / 2, footerBaseline + fontAscent*footerSize}
	L.lines = append(L.lines, line{s: foot, box: footBox, label: "footer"})
	page.Y0 = 0
	for _, l := range L.lines {
		els = append(els, struct {
			name string
			b    box
		}{l.label + " " + strconv.Quote(l.s), l.box})
	}
	for x := range els {
		if !page.contains(els[x].b, 0) {
			return fmt.Errorf("%s %v leaves the page's printable area", els[x].name, els[x].b)
		}
		for y := x + 1; y < len(els); y++ {
			if els[x].name == "signature" && (els[y].name == "seal" || strings.HasPrefix(els[y].name, "unsigned")) {
				continue // the seal covers the signature's left third; the placeholder stands for the signature
			}
			if els[x].b.shrink(0.01).overlaps(els[y].b.shrink(0.01)) {
				return fmt.Errorf("%s %v overlaps %s %v", els[x].name, els[x].b, els[y].name, els[y].b)
			}
		}
	}
	// The seal covers about the left third of the signature.
	if cover := (L.seal.X1 - L.sig.X0) / (L.sig.X1 - L.sig.X0); cover < 0.3 || cover > 0.36 {
		return fmt.Errorf("the seal covers %.2f of the signature from the left", cover)
	}
	if mm := (L.seal.X1 - L.seal.X0) / 72 * 25.4; mm < rq.sealMM-0.01 || mm > rq.sealMM+0.01 {
		return fmt.Errorf("the seal is %.2f mm wide, want %g", mm, rq.sealMM)
	}
	// Poppler agrees: every word of the statement page is inside a laid-out line of which it
	// is a part, or (drawn seal only) inside the seal.
	text, err := bboxWords(file)
	if err != nil {
		return err
	}
	if len(text) != 2 {
		return fmt.Errorf("pdftotext found %d pages", len(text))
	}
	for _, w := range pageWords(text[1], a4H) {
		ok, label := false, ""
		for _, l := range L.lines {
			if l.box.contains(w.b, 0.6) && strings.Contains(l.s, w.s) {
				ok, label = true, l.label
				break
			}
		}
		if label == "unsigned" {
			continue // the placeholder stands where the signature image would be
		}
		if !ok && L.seal.contains(w.b, 0.6) && (rq.seal == nil || w.s == "MẪU" || w.s == "–" || w.s == "DEMO") {
			continue // drawn by the seal's appearance (a drawn seal's arcs, the demo mark)
		}
		if !ok {
			return fmt.Errorf("statement page: word %q at %v is outside every laid-out box", w.s, w.b)
		}
		for _, e := range []box{L.qr, L.sig} {
			if w.b.shrink(0.3).overlaps(e) {
				return fmt.Errorf("statement page: word %q at %v enters the QR code or the signature %v", w.s, w.b, e)
			}
		}
	}

	// The scan page: where the scan's pixels are, in points.
	pages, _, err := intake.Pages([]intake.File{{Name: "s.png", Data: req.Scans[0].Data}}, intake.Limits{})
	if err != nil {
		return err
	}
	pw, ph := pages[0].Width, pages[0].Height
	iw, ih, ix, iy := pw, ph, 0.0, 0.0
	if sc.dpi == 0 { // fitted to A4 by intake, centred
		s := min(pw/float64(sc.w), ph/float64(sc.h))
		iw, ih = float64(sc.w)*s, float64(sc.h)*s
		ix, iy = (pw-iw)/2, (ph-ih)/2
	}
	scale, tx, ty := scanPlacement(pw, ph)
	img := box{tx + ix*scale, ty + iy*scale, tx + (ix+iw)*scale, ty + (iy+ih)*scale}
	for _, w := range pageWords(text[0], ph) {
		if w.b.overlaps(img) {
			return fmt.Errorf("scan page: text %q at %v covers the scan at %v", w.s, w.b, img)
		}
	}
	// Render the scan page and look for every part of the border and for the bar.
	const dpi = 24
	prefix := filepath.Join(dir, fmt.Sprintf("r%d", i))
	if out, err := exec.Command("pdftoppm", "-png", "-r", strconv.Itoa(dpi), "-f", "1", "-l", "1", "-singlefile", file, prefix).CombinedOutput(); err != nil {
		return fmt.Errorf("pdftoppm: %v: %s", err, out)
	}
	fh, err := os.Open(prefix + ".png")
	if err != nil {
		return err
	}
	defer fh.Close()
	rendered, err := png.Decode(fh)
	if err != nil {
		return err
	}
	pxPerPt := float64(dpi) / 72
	at := func(x, y float64) (r, g, b uint32) { // x, y in points, PDF orientation
		r, g, b, _ = rendered.At(int(x*pxPerPt), int((ph-y)*pxPerPt)).RGBA()
		return r >> 8, g >> 8, b >> 8
	}
	green := func(x, y float64) bool { r, g, b := at(x, y); return g > 120 && r < 110 && b < 110 }
	bpt := border * (img.X1 - img.X0) / float64(sc.w) // border width in points
	in := bpt / 2
	for k := 0; k <= 40; k++ {
		fx := img.X0 + in + (img.X1-img.X0-2*in)*float64(k)/40
		fy := img.Y0 + in + (img.Y1-img.Y0-2*in)*float64(k)/40
		for _, p := range [][2]float64{{fx, img.Y0 + in}, {fx, img.Y1 - in}, {img.X0 + in, fy}, {img.X1 - in, fy}} {
			if !green(p[0], p[1]) {
				r, g, b := at(p[0], p[1])
				return fmt.Errorf("scan page: the border is not visible at (%.1f, %.1f) pt: rgb(%d,%d,%d); scan at %v", p[0], p[1], r, g, b, img)
			}
		}
	}
	pt := (img.Y1 - img.Y0) / float64(sc.h)
	barY := img.Y0 + (28+6)*pt
	if r, g, b := at((img.X0+img.X1)/2, barY); r > 150 || g > 150 || b > 150 {
		return fmt.Errorf("scan page: the text 28 px above the scan's bottom edge is not visible (rgb(%d,%d,%d) at %.1f pt)", r, g, b, barY)
	}
	if res.ScanScale <= 0 || res.ScanScale > 1 || res.ScanScale != scale {
		return fmt.Errorf("Copy.ScanScale = %g, want %g", res.ScanScale, scale)
	}
	_ = image.Point{}
	return nil
}
