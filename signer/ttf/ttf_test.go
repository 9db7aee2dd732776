package ttf

import (
	"math"
	"sync"
	"testing"

	"github.com/go-fonts/liberation/liberationserifbold"
	"github.com/go-fonts/liberation/liberationserifregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

// vietUpper and vietLower are every letter of the Vietnamese alphabet with every tone mark,
// in NFC.
const (
	vietUpper = "AÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬBCDĐEÈÉẺẼẸÊỀẾỂỄỆGHIÌÍỈĨỊKLMNOÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢPQRSTUÙÚỦŨỤƯỪỨỬỮỰVXYỲÝỶỸỴ"
	vietLower = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
	// vietText is the character repertoire of the certification stamp: the alphabet,
	// digits, punctuation and a few symbols (about 150 glyphs).
	vietText = vietUpper + vietLower + "FJWZfjwz0123456789 .,:;!?-–—()[]/\"'“”‘’%&@#*+=<>_§№°"
)

var (
	parsedOnce sync.Once
	regular    *Font
	bold       *Font
)

func fonts(t testing.TB) (*Font, *Font) {
	t.Helper()
	parsedOnce.Do(func() {
		var err error
		if regular, err = Parse(liberationserifregular.TTF); err != nil {
			t.Fatalf("Parse(regular): %v", err)
		}
		if bold, err = Parse(liberationserifbold.TTF); err != nil {
			t.Fatalf("Parse(bold): %v", err)
		}
	})
	if regular == nil || bold == nil {
		t.Fatal("fonts failed to parse")
	}
	return regular, bold
}

func TestVietnameseCoverage(t *testing.T) {
	if !norm.NFC.IsNormalString(vietText) {
		t.Fatal("test alphabet is not NFC")
	}
	reg, bld := fonts(t)
	for name, f := range map[string]*Font{"regular": reg, "bold": bld} {
		ref, err := sfnt.Parse(map[string][]byte{"regular": liberationserifregular.TTF, "bold": liberationserifbold.TTF}[name])
		if err != nil {
			t.Fatal(err)
		}
		var buf sfnt.Buffer
		for _, r := range vietText + "ĩĨ" {
			gid, ok := f.GlyphIndex(r)
			if !ok || gid == 0 {
				t.Errorf("%s: no glyph for %q (U+%04X)", name, r, r)
				continue
			}
			want, err := ref.GlyphIndex(&buf, r)
			if err != nil || uint16(want) != gid {
				t.Errorf("%s: GlyphIndex(%q) = %d, sfnt says %d (%v)", name, r, gid, want, err)
			}
			adv, err := ref.GlyphAdvance(&buf, want, fixed.I(2048), 0) // ppem = unitsPerEm: font units in 26.6
			if err != nil || int(adv>>6) != f.Advance(gid) {
				t.Errorf("%s: Advance(%d) = %d, sfnt says %d", name, gid, f.Advance(gid), adv>>6)
			}
		}
	}
}

func TestGlyphIndexMissing(t *testing.T) {
	reg, _ := fonts(t)
	for _, r := range []rune{0x0, 0xE000, 0x4E2D /* 中 */, 0x1F600, 0x10FFFF, -1, 0x110000} {
		if g, ok := reg.GlyphIndex(r); ok || g != 0 {
			t.Errorf("GlyphIndex(%U) = %d, %v; want 0, false", r, g, ok)
		}
	}
	if g, ok := reg.GlyphIndex('A'); !ok || g == 0 {
		t.Errorf("GlyphIndex('A') = %d, %v", g, ok)
	}
}

func TestMetrics(t *testing.T) {
	reg, bld := fonts(t)
	if reg.UnitsPerEm() != 2048 {
		t.Errorf("UnitsPerEm = %d", reg.UnitsPerEm())
	}
	m := reg.Metrics()
	t.Logf("regular: %+v", m)
	t.Logf("bold: %+v", bld.Metrics())
	if m.PostScriptName != "LiberationSerif" || bld.Metrics().PostScriptName != "LiberationSerif-Bold" {
		t.Errorf("PostScriptName = %q, %q", m.PostScriptName, bld.Metrics().PostScriptName)
	}
	if m.Ascent <= 0 || m.Descent >= 0 || m.CapHeight <= 0 || m.XHeight <= 0 || m.CapHeight >= m.Ascent || m.XHeight >= m.CapHeight {
		t.Errorf("implausible vertical metrics %+v", m)
	}
	if m.BBox[0] >= m.BBox[2] || m.BBox[1] >= m.BBox[3] {
		t.Errorf("BBox %v", m.BBox)
	}
	if m.Flags != FlagSerif|FlagSymbolic {
		t.Errorf("Flags = %#x, want Serif|Symbolic", m.Flags)
	}
	if m.ItalicAngle != 0 || m.Weight != 400 || bld.Metrics().Weight != 700 || bld.Metrics().StemV <= m.StemV {
		t.Errorf("ItalicAngle %v, weights %d/%d, StemV %d/%d", m.ItalicAngle, m.Weight, bld.Metrics().Weight, m.StemV, bld.Metrics().StemV)
	}
	// Cross-check with sfnt.
	ref, _ := sfnt.Parse(liberationserifregular.TTF)
	fm, err := ref.Metrics(nil, fixed.I(2048), 0)
	if err != nil {
		t.Fatal(err)
	}
	if int(fm.Ascent>>6) != m.Ascent || int(-fm.Descent>>6) != m.Descent || int(fm.CapHeight>>6) != m.CapHeight || int(fm.XHeight>>6) != m.XHeight {
		t.Errorf("sfnt metrics %+v differ from %+v", fm, m)
	}
}

func TestTextWidthAndGIDs(t *testing.T) {
	reg, _ := fonts(t)
	// Liberation Serif is metric-compatible with Times New Roman: "H" is 722/1000 em.
	if w := reg.TextWidth("H", 1000); math.Abs(w-722) > 0.5 {
		t.Errorf("TextWidth(H, 1000) = %v, want ~722", w)
	}
	s := "Chứng thực bản sao"
	want := 0.0
	for _, r := range s {
		g, _ := reg.GlyphIndex(r)
		want += float64(reg.Advance(g)) * 12 / 2048
	}
	if got := reg.TextWidth(s, 12); math.Abs(got-want) > 1e-9 || got <= 0 {
		t.Errorf("TextWidth = %v, want %v", got, want)
	}
	// A missing character counts as .notdef.
	if got, want := reg.TextWidth("中", 10), float64(reg.Advance(0))*10/2048; got != want {
		t.Errorf("TextWidth(missing) = %v, want %v", got, want)
	}
	if reg.Advance(65535) != reg.Advance(0) {
		t.Error("out-of-range Advance should be .notdef's")
	}
	g := reg.GIDs("baba中")
	if len(g) != 3 || g[0] != 0 || !(g[1] < g[2]) {
		t.Errorf("GIDs = %v, want [0 a b] sorted, unique", g)
	}
	if len(reg.GIDs("")) != 0 {
		t.Error("GIDs(\"\") not empty")
	}
}

func TestUnsupported(t *testing.T) {
	for _, magic := range []string{"OTTO", "ttcf"} {
		data := append([]byte(magic), make([]byte, 100)...)
		if _, err := Parse(data); chungthuc.ErrorCode(err) != chungthuc.EUNSUPPORTED {
			t.Errorf("%s: err = %v, want EUNSUPPORTED", magic, err)
		}
	}
}

// TestConcurrentUse runs every method from several goroutines on one Font (meaningful
// under -race).
func TestConcurrentUse(t *testing.T) {
	reg, _ := fonts(t)
	want, err := reg.Subset(reg.GIDs(vietText))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Go(func() {
			for j := 0; j < 20; j++ {
				got, err := reg.Subset(reg.GIDs(vietText))
				if err != nil || string(got) != string(want) {
					t.Error("concurrent Subset differs")
					return
				}
				_ = reg.TextWidth(vietLower, 12)
				_ = reg.Metrics()
			}
		})
	}
	wg.Wait()
}
