package verify

import (
	ipdf "github.com/chungthuc/chungthuc/internal/pdf"

	"bytes"
	"fmt"
	"strings"
	"testing"
)

// paintedOn builds a one-page document whose page content is content (with the font F1,
// an image Im1 and the form XObjects in forms as resources) and returns what the page
// paints.
func paintedOn(t *testing.T, content string, forms map[string]string) []ipdf.Rect {
	t.Helper()
	w := &pdfWriter{objs: map[int][]byte{}, root: 1}
	w.objs[1] = []byte("<< /Type /Catalog /Pages 2 0 R >>")
	w.objs[2] = []byte("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	xo := "/Im1 5 0 R"
	n := 10
	for name, body := range forms {
		dict, ops, _ := strings.Cut(body, "|")
		w.objs[n] = streamObj("/Type /XObject /Subtype /Form "+dict, []byte(ops))
		xo += fmt.Sprintf(" /%s %d 0 R", name, n)
		n++
	}
	w.objs[3] = []byte("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Resources << /Font << /F1 6 0 R /F2 7 0 R >> /XObject << " + xo + " >> >> /Contents 4 0 R >>")
	w.objs[4] = streamObj("", []byte(content))
	w.objs[5] = streamObj("/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8", []byte{0})
	w.objs[6] = []byte("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	w.objs[7] = []byte("<< /Type /Font /Subtype /Type1 /BaseFont /Courier /FirstChar 32 /Widths [600 600 600] >>")
	r := docView(t, w.classic())
	pages, err := r.Pages(0)
	if err != nil {
		t.Fatal(err)
	}
	return newPaintCache().painted(r, pages[0])
}

func hits(boxes []ipdf.Rect, area ipdf.Rect) bool {
	for _, b := range boxes {
		if !b.Intersect(area).Empty() {
			return true
		}
	}
	return false
}

func TestPaintedAreas(t *testing.T) {
	whole := ipdf.Rect{X0: 0, Y0: 0, X1: 600, Y1: 800}
	for _, c := range []struct {
		name    string
		content string
		forms   map[string]string
		hit     []ipdf.Rect // areas that must be painted
		miss    []ipdf.Rect // areas that must not be
	}{
		{"text with Td", "BT /F1 20 Tf 100 700 Td (Hello) Tj ET", nil,
			[]ipdf.Rect{{X0: 100, Y0: 700, X1: 110, Y1: 710}, {X0: 190, Y0: 700, X1: 195, Y1: 710}},
			[]ipdf.Rect{{X0: 100, Y0: 600, X1: 300, Y1: 690}, {X0: 0, Y0: 700, X1: 99, Y1: 720}}},
		{"text advance moves the next string", "BT /F1 10 Tf 100 700 Td (AB) Tj (CD) Tj ET", nil,
			[]ipdf.Rect{{X0: 125, Y0: 700, X1: 139, Y1: 705}}, nil},
		{"text widths from /Widths", "BT /F2 10 Tf 100 700 Td (   ) Tj ET", nil,
			[]ipdf.Rect{{X0: 100, Y0: 700, X1: 117, Y1: 705}},
			[]ipdf.Rect{{X0: 119, Y0: 690, X1: 300, Y1: 720}}},
		{"TJ and T*", "BT /F1 10 Tf 12 TL 100 700 Td [(A) -1000 (B)] TJ T* (C) Tj ET", nil,
			[]ipdf.Rect{{X0: 100, Y0: 690, X1: 102, Y1: 692}}, nil},
		{"text under Tm and cm", "q 2 0 0 2 0 0 cm BT /F1 10 Tf 1 0 0 1 50 300 Tm (X) Tj ET Q", nil,
			[]ipdf.Rect{{X0: 100, Y0: 600, X1: 110, Y1: 610}},
			[]ipdf.Rect{{X0: 50, Y0: 300, X1: 60, Y1: 310}}},
		{"invisible text", "BT 3 Tr /F1 20 Tf 100 700 Td (Hello) Tj ET", nil, nil, []ipdf.Rect{whole}},
		{"image under cm", "q 200 0 0 100 50 50 cm /Im1 Do Q", nil,
			[]ipdf.Rect{{X0: 60, Y0: 60, X1: 70, Y1: 70}, {X0: 240, Y0: 140, X1: 250, Y1: 150}},
			[]ipdf.Rect{{X0: 260, Y0: 0, X1: 600, Y1: 800}, {X0: 0, Y0: 160, X1: 600, Y1: 800}}},
		{"inline image", "q 10 0 0 10 300 300 cm BI /W 1 /H 1 /CS /G /BPC 8 ID \x00 EI Q", nil,
			[]ipdf.Rect{{X0: 302, Y0: 302, X1: 305, Y1: 305}}, []ipdf.Rect{{X0: 0, Y0: 0, X1: 299, Y1: 800}}},
		{"filled path", "0 0 1 rg 100 100 50 50 re f", nil, []ipdf.Rect{{X0: 120, Y0: 120, X1: 130, Y1: 130}},
			[]ipdf.Rect{{X0: 151, Y0: 0, X1: 600, Y1: 800}}},
		{"white fill paints nothing", "1 g 0 0 600 800 re f 1 1 1 rg 0 0 600 800 re f 0 0 0 0 k 0 0 600 800 re f", nil, nil, []ipdf.Rect{whole}},
		{"stroked line widened", "5 w 100 100 m 200 100 l S", nil, []ipdf.Rect{{X0: 150, Y0: 101, X1: 151, Y1: 102}},
			[]ipdf.Rect{{X0: 0, Y0: 110, X1: 600, Y1: 800}}},
		{"clip limits a fill", "q 100 100 10 10 re W n 0 0 600 800 re f Q", nil, []ipdf.Rect{{X0: 101, Y0: 101, X1: 109, Y1: 109}},
			[]ipdf.Rect{{X0: 111, Y0: 0, X1: 600, Y1: 800}}},
		{"n paints nothing", "0 0 600 800 re n", nil, nil, []ipdf.Rect{whole}},
		{"shading fills the clip", "q 0 0 100 100 re W n /Sh0 sh Q", nil, []ipdf.Rect{{X0: 50, Y0: 50, X1: 60, Y1: 60}},
			[]ipdf.Rect{{X0: 101, Y0: 0, X1: 600, Y1: 800}}},
		{"form XObject under its Matrix", "q 1 0 0 1 100 100 cm /Fm Do Q",
			map[string]string{"Fm": "/BBox [0 0 100 100] /Matrix [1 0 0 1 50 0] /Resources << /Font << /F1 6 0 R >> >>|BT /F1 10 Tf 10 10 Td (Z) Tj ET"},
			[]ipdf.Rect{{X0: 160, Y0: 110, X1: 165, Y1: 115}}, []ipdf.Rect{{X0: 0, Y0: 0, X1: 150, Y1: 800}}},
		{"form XObject clipped to its BBox", "/Fm Do",
			map[string]string{"Fm": "/BBox [0 0 10 10]|0 g 0 0 600 800 re f"},
			[]ipdf.Rect{{X0: 1, Y0: 1, X1: 9, Y1: 9}}, []ipdf.Rect{{X0: 11, Y0: 0, X1: 600, Y1: 800}}},
		{"malformed content: the whole page", "BT (unterminated Tj", nil, nil, nil},
		{"q nesting over the bound: the whole page", strings.Repeat("q ", maxGraphicsStack+1), nil, nil, nil},
		{"self-referencing form: the whole page", "/Fm Do",
			map[string]string{"Fm": "/BBox [0 0 600 800] /Resources << /XObject << /Fm 10 0 R >> >>|/Fm Do"}, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			boxes := paintedOn(t, c.content, c.forms)
			if c.hit == nil && c.miss == nil {
				if len(boxes) != 1 || boxes[0] != whole {
					t.Fatalf("want the whole page, got %v", boxes)
				}
				return
			}
			for _, a := range c.hit {
				if !hits(boxes, a) {
					t.Errorf("%v not painted; boxes %v", a, boxes)
				}
			}
			for _, a := range c.miss {
				if hits(boxes, a) {
					t.Errorf("%v painted; boxes %v", a, boxes)
				}
			}
		})
	}
}

// TestPaintBudget: content that would take long to interpret — a form drawn a million
// times — stops at the operator budget and counts as painting the whole page.
func TestPaintBudget(t *testing.T) {
	content := bytes.Repeat([]byte("/Fm Do "), 20_000)
	boxes := paintedOn(t, string(content), map[string]string{"Fm": "/BBox [0 0 10 10]|" + strings.Repeat("0 0 1 1 re f ", 100)})
	if len(boxes) != 1 || boxes[0] != (ipdf.Rect{X0: 0, Y0: 0, X1: 600, Y1: 800}) {
		t.Fatalf("want the whole page after the budget, got %d boxes", len(boxes))
	}
}

// FuzzPaint: any page content is interpreted without panicking, within the page.
func FuzzPaint(f *testing.F) {
	for _, s := range []string{
		"BT /F1 20 Tf 100 700 Td (Hello) Tj ET", "q 200 0 0 100 50 50 cm /Im1 Do Q",
		"q 0 0 100 100 re W n /Sh0 sh Q", "BT [(A) -1000 (B)] TJ ' \" ET", "1e308 1e308 1e308 1e308 1e308 1e308 cm 0 0 1 1 re f",
		"BI /W 1 /H 1 ID \x00 EI", "/Fm Do", "Q Q Q q",
	} {
		f.Add([]byte(s))
	}
	w := &pdfWriter{objs: map[int][]byte{}, root: 1}
	w.objs[1] = []byte("<< /Type /Catalog /Pages 2 0 R >>")
	w.objs[2] = []byte("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	w.objs[3] = []byte("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 600 800] /Resources << /Font << /F1 6 0 R >> /XObject << /Im1 5 0 R /Fm 7 0 R >> >> /Contents 4 0 R >>")
	w.objs[4] = streamObj("", []byte("0 g"))
	w.objs[5] = streamObj("/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8", []byte{0})
	w.objs[6] = []byte("<< /Type /Font /Subtype /Type0 /Encoding /Identity-H >>")
	w.objs[7] = streamObj("/Type /XObject /Subtype /Form /BBox [0 0 50 50] /Resources << /XObject << /Fm 7 0 R >> >>", []byte("/Fm Do 0 0 10 10 re f"))
	base := w.classic()
	f.Fuzz(func(t *testing.T, content []byte) {
		r := docView(t, base)
		pages, err := r.Pages(0)
		if err != nil {
			t.Fatal(err)
		}
		pt := &painter{r: r, pc: newPaintCache(), page: pages[0].MediaBox, fonts: map[*ipdf.Dict]*fontMetrics{}}
		_ = pt.run(content, pages[0].Resources, ipdf.Identity, pages[0].MediaBox, 0)
		for _, b := range pt.boxes {
			if b.Empty() || b.X0 < 0 || b.Y0 < 0 || b.X1 > 600 || b.Y1 > 800 {
				t.Fatalf("box %v outside the page", b)
			}
		}
	})
}
