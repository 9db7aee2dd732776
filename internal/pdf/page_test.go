package pdf

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestPages(t *testing.T) {
	file := classic("/Root 1 0 R",
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 3 /MediaBox [0 0 595 842] /Rotate -90 /Resources << /Font << /F1 9 0 R >> >> >>",
		"<< /Type /Page /Parent 2 0 R /Contents [5 0 R 6 0 R 99 0 R] /CropBox [-10 -10 300 400] /Annots [7 0 R << /Subtype /Link /Rect [0 0 5 5] >> 1] >>",
		"<< /Type /Pages /Parent 2 0 R /Kids [8 0 R] /Rotate 45 /MediaBox [100 100 0 0] /Resources << >> >>",
		stm("", "q 1 0 0 1 0 0 cm"),
		stm("/Filter /FlateDecode", string(deflate([]byte("Q")))),
		"<< /Type /Annot /Subtype /Widget /Rect [10 20 110 70] /F 132 /AS /On /AP << /N << /On 10 0 R /Off 11 0 R >> >> >>",
		"<< /Type /Page /Parent 4 0 R /Contents 5 0 R /CropBox [200 200 300 300] >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		stm("/Type /XObject /Subtype /Form /BBox [0 0 100 50]", "0 0 100 50 re f"),
		stm("/Type /XObject /Subtype /Form /BBox [0 0 100 50]", ""),
	)
	r := final(t, file, Limits{})
	pages, err := r.Pages(0)
	if err != nil || len(pages) != 2 {
		t.Fatalf("%d pages, %v", len(pages), err)
	}
	p1, p2 := pages[0], pages[1]
	if p1.Ref != (Ref{3, 0}) || !p1.MediaBoxOK || p1.MediaBox != (Rect{0, 0, 595, 842}) || p1.CropBox != (Rect{0, 0, 300, 400}) || p1.Rotate != 270 {
		t.Fatalf("page 1: %+v", p1)
	}
	if p1.Resources == nil || r.Dict(p1.Resources.Get("Font")).Get("F1") != (Ref{9, 0}) {
		t.Fatal("page 1 resources not inherited")
	}
	if p2.MediaBox != (Rect{0, 0, 100, 100}) || p2.CropBox != p2.MediaBox || p2.Rotate != 0 || p2.Resources.Len() != 0 {
		t.Fatalf("page 2: %+v", p2)
	}
	if len(r.ContentStreams(p1)) != 2 {
		t.Fatal("content streams")
	}
	c, err := r.PageContent(p1)
	if err != nil || string(c) != "q 1 0 0 1 0 0 cm\nQ" {
		t.Fatalf("content %q, %v", c, err)
	}
	if c, err := r.PageContent(p2); err != nil || string(c) != "q 1 0 0 1 0 0 cm" {
		t.Fatalf("content %q, %v", c, err)
	}
	annots := r.Annotations(p1)
	if len(annots) != 2 || annots[0].Ref != (Ref{7, 0}) || annots[0].Subtype != "Widget" || annots[0].Flags != 132 ||
		!annots[0].RectOK || annots[0].Rect != (Rect{10, 20, 110, 70}) || annots[1].Ref.Num != 0 || annots[1].Subtype != "Link" {
		t.Fatalf("annotations %+v", annots)
	}
	ap := r.Appearance(annots[0].Dict)
	if ap == nil || string(ap.Raw) != "0 0 100 50 re f" {
		t.Fatal("appearance by /AS")
	}
	if r.Appearance(annots[1].Dict) != nil || len(r.Annotations(p2)) != 0 {
		t.Fatal("appearance of a link without /AP")
	}
	if _, err := r.Pages(1); !errors.Is(err, ErrTooManyPages) {
		t.Fatalf("max pages: %v", err)
	}
}

func TestBrokenPageTrees(t *testing.T) {
	for name, c := range map[string]struct {
		objs []string
		want string
	}{
		"loop":       {[]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [2 0 R] >>"}, "loop"},
		"shared":     {[]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R 3 0 R] >>", "<< /Type /Page >>"}, "loop"},
		"no tree":    {[]string{"<< /Type /Catalog >>"}, "no page tree"},
		"not a dict": {[]string{"<< /Type /Catalog /Pages 2 0 R >>", "[1]"}, "not a dictionary"},
		"kids":       {[]string{"<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids 5 >>"}, "/Kids"},
	} {
		r := final(t, classic("/Root 1 0 R", c.objs...), Limits{})
		if _, err := r.Pages(0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A tree deeper than MaxPageTreeDepth.
	objs := []string{"<< /Type /Catalog /Pages 2 0 R >>"}
	for i := 2; i < MaxPageTreeDepth+4; i++ {
		objs = append(objs, "<< /Type /Pages /Kids ["+strconv.Itoa(i+1)+" 0 R] >>")
	}
	objs = append(objs, "<< /Type /Page >>")
	if _, err := final(t, classic("/Root 1 0 R", objs...), Limits{}).Pages(0); err == nil || !strings.Contains(err.Error(), "deep") {
		t.Errorf("deep tree: %v", err)
	}
}

func TestGeometry(t *testing.T) {
	r := final(t, classic("/Root 1 0 R", "<< /Type /Catalog /R [10 20 0 -5] /M [0 1 -1 0 5 6] /Bad [1 2 (x) 4] /NaN [1 2 3] >>"), Limits{})
	root := r.Root()
	rect, ok := r.Rect(root.Get("R"))
	if !ok || rect != (Rect{0, -5, 10, 20}) || rect.Empty() {
		t.Fatalf("rect %v", rect)
	}
	if _, ok := r.Rect(root.Get("Bad")); ok {
		t.Fatal("bad rect")
	}
	if _, ok := r.Matrix(root.Get("NaN")); ok {
		t.Fatal("bad matrix")
	}
	m, ok := r.Matrix(root.Get("M")) // rotate 90° then translate (5, 6)
	if !ok {
		t.Fatal("matrix")
	}
	if x, y := m.Apply(1, 0); x != 5 || y != 7 {
		t.Fatalf("apply %v %v", x, y)
	}
	if got := m.TransformRect(Rect{0, 0, 10, 20}); got != (Rect{-15, 6, 5, 16}) {
		t.Fatalf("transform %v", got)
	}
	scale := Matrix{2, 0, 0, 2, 0, 0}
	move := Matrix{1, 0, 0, 1, 10, 0}
	if x, _ := scale.Mul(move).Apply(1, 0); x != 12 {
		t.Fatal("scale then move")
	}
	if x, _ := move.Mul(scale).Apply(1, 0); x != 22 {
		t.Fatal("move then scale")
	}
	if Identity.Mul(m) != m {
		t.Fatal("identity")
	}
	if got := (Rect{0, 0, 10, 10}).Intersect(Rect{5, 5, 20, 20}); got != (Rect{5, 5, 10, 10}) {
		t.Fatalf("intersect %v", got)
	}
	if got := (Rect{0, 0, 1, 1}).Intersect(Rect{2, 2, 3, 3}); !got.Empty() {
		t.Fatal("disjoint")
	}
	if _, ok := NumberOf(Real(math.Inf(1))); ok {
		t.Fatal("infinite number")
	}
}
