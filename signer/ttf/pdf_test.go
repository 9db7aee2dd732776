package ttf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// TestSubsetInPDF embeds subsets of Liberation Serif Regular and Bold in a hand-written
// PDF exactly as the PDF writer will (Type0 / CIDFontType2, Identity-H, CIDToGIDMap
// Identity, FontFile2 = Subset output, ToUnicode CMap) and asks poppler to read the
// Vietnamese text back (pdftotext), to list the fonts (pdffonts) and to render the page
// (pdftoppm) without complaint.
func TestSubsetInPDF(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdffonts", "pdftoppm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install poppler-utils)", tool)
		}
	}
	reg, bld := fonts(t)
	lines := []struct {
		f    *Font
		text string
	}{
		{reg, "CHỨNG THỰC BẢN SAO ĐIỆN TỬ"},
		{reg, vietUpper},
		{reg, vietLower},
		{bld, "Chứng thực bản sao đúng với bản chính: ĩ Ĩ ỹ Ỹ ự Ự ộ Ộ"},
		{bld, "Số 123/2025, quyển số 01-SCT/BS; ngày 29 tháng 11 năm 2025."},
	}
	var text [2]strings.Builder
	for _, l := range lines {
		i := 0
		if l.f == bld {
			i = 1
		}
		text[i].WriteString(l.text)
	}

	var pdf pdfWriter
	pdf.obj("<< /Type /Catalog /Pages 2 0 R >>")
	pdf.obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	pdf.obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] /Resources << /Font << /F1 5 0 R /F2 10 0 R >> >> /Contents 4 0 R >>")
	var content bytes.Buffer
	content.WriteString("BT\n")
	for i, l := range lines {
		name := "/F1"
		if l.f == bld {
			name = "/F2"
		}
		fmt.Fprintf(&content, "%s 11 Tf 1 0 0 1 30 %d Tm <", name, 540-40*i)
		for _, r := range l.text {
			g, ok := l.f.GlyphIndex(r)
			if !ok {
				t.Fatalf("no glyph for %q", r)
			}
			fmt.Fprintf(&content, "%04X", g)
		}
		content.WriteString("> Tj\n")
	}
	content.WriteString("ET\n")
	pdf.stream("", content.Bytes())
	pdf.font(t, reg, text[0].String(), 5)
	pdf.font(t, bld, text[1].String(), 10)
	dir := t.TempDir()
	if d := os.Getenv("TTF_PDF_DIR"); d != "" {
		dir = d // keep the PDF for a look
	}
	file := filepath.Join(dir, "subset.pdf")
	if err := os.WriteFile(file, pdf.finish(), 0o600); err != nil {
		t.Fatal(err)
	}

	out, stderr := run(t, "pdftotext", "-layout", file, "-")
	got := strings.Join(strings.Fields(out), " ")
	for _, l := range lines {
		if want := strings.Join(strings.Fields(l.text), " "); !strings.Contains(got, want) {
			t.Errorf("pdftotext lost %q\ngot: %s", want, got)
		}
	}
	if stderr != "" {
		t.Errorf("pdftotext complained: %s", stderr)
	}
	out, stderr = run(t, "pdffonts", file)
	t.Logf("pdffonts:\n%s", out)
	if strings.Count(out, "CID TrueType") != 2 || strings.Count(out, "Identity-H") != 2 || strings.Count(out, "yes yes yes") != 2 || stderr != "" {
		t.Errorf("pdffonts: want two embedded, subset CID TrueType fonts with ToUnicode\n%s%s", out, stderr)
	}
	_, stderr = run(t, "pdftoppm", "-r", "30", "-png", file, filepath.Join(filepath.Dir(file), "page"))
	if stderr != "" {
		t.Errorf("pdftoppm complained while rendering: %s", stderr)
	}
	if st, err := os.Stat(filepath.Join(filepath.Dir(file), "page-1.png")); err != nil || st.Size() < 1000 {
		t.Errorf("no rendered page: %v", err)
	}
}

func run(t *testing.T, name string, args ...string) (string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// pdfWriter writes numbered objects and a classic xref table: just enough PDF for a test.
type pdfWriter struct {
	buf     bytes.Buffer
	offsets []int
}

func (w *pdfWriter) obj(body string) int {
	if w.buf.Len() == 0 {
		w.buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	}
	w.offsets = append(w.offsets, w.buf.Len())
	n := len(w.offsets)
	fmt.Fprintf(&w.buf, "%d 0 obj\n%s\nendobj\n", n, body)
	return n
}

func (w *pdfWriter) stream(dict string, data []byte) int {
	return w.obj(fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data))
}

// font writes the five objects of a Type0 font (starting at object number first) for the
// glyphs of text.
func (w *pdfWriter) font(t *testing.T, f *Font, text string, first int) {
	if len(w.offsets)+1 != first {
		t.Fatalf("font objects start at %d, not %d", len(w.offsets)+1, first)
	}
	gids := f.GIDs(text)
	sub, err := f.Subset(gids)
	if err != nil {
		t.Fatal(err)
	}
	m := f.Metrics()
	k := func(v int) int { return v * 1000 / f.UnitsPerEm() }
	name := "CTSUBS+" + m.PostScriptName // any six-letter subset tag
	w.obj(fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>",
		name, first+1, first+3))
	var widths strings.Builder
	for _, g := range gids {
		fmt.Fprintf(&widths, "%d [%d] ", g, k(f.Advance(g)))
	}
	w.obj(fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW %d /W [%s] /CIDToGIDMap /Identity >>",
		name, first+2, k(f.Advance(0)), widths.String()))
	w.obj(fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags %d /FontBBox [%d %d %d %d] /ItalicAngle %g /Ascent %d /Descent %d /CapHeight %d /XHeight %d /StemV %d /FontFile2 %d 0 R >>",
		name, m.Flags, k(m.BBox[0]), k(m.BBox[1]), k(m.BBox[2]), k(m.BBox[3]), m.ItalicAngle, k(m.Ascent), k(m.Descent), k(m.CapHeight), k(m.XHeight), k(m.StemV), first+4))
	var cmap strings.Builder
	cmap.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	seen := map[uint16]rune{}
	for _, r := range text {
		g, _ := f.GlyphIndex(r)
		if _, ok := seen[g]; !ok {
			seen[g] = r
		}
	}
	var entries []string
	for _, g := range gids {
		if r, ok := seen[g]; ok && g != 0 {
			var hex strings.Builder
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(&hex, "%04X", u)
			}
			entries = append(entries, fmt.Sprintf("<%04X> <%s>", g, hex.String()))
		}
	}
	for len(entries) > 0 {
		n := min(len(entries), 100)
		fmt.Fprintf(&cmap, "%d beginbfchar\n%s\nendbfchar\n", n, strings.Join(entries[:n], "\n"))
		entries = entries[n:]
	}
	cmap.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	w.stream("", []byte(cmap.String()))
	w.stream(fmt.Sprintf("/Length1 %d", len(sub)), sub)
}

func (w *pdfWriter) finish() []byte {
	xref := w.buf.Len()
	fmt.Fprintf(&w.buf, "xref\n0 %d\n0000000000 65535 f \n", len(w.offsets)+1)
	for _, o := range w.offsets {
		fmt.Fprintf(&w.buf, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&w.buf, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(w.offsets)+1, xref)
	return w.buf.Bytes()
}
