package ttf

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
)

// synth describes a tiny synthetic font: glyph i is glyphs[i]; 'A'+i-1 maps to glyph i.
type synth struct {
	glyphs [][]byte
	loca   []uint32 // overrides the computed loca when non-nil
}

func simpleGlyph() []byte {
	g := make([]byte, 19)
	binary.BigEndian.PutUint16(g, 1)       // one contour
	binary.BigEndian.PutUint16(g[6:], 100) // xMax
	binary.BigEndian.PutUint16(g[8:], 100) // yMax
	// endPtsOfContours[0]=0, instructionLength=0, flags=on-curve, x=50, y=50
	copy(g[10:], []byte{0, 0, 0, 0, 1, 0, 50, 0, 50})
	return g
}

func compositeGlyph(refs ...uint16) []byte {
	g := make([]byte, 10, 10+8*len(refs))
	binary.BigEndian.PutUint16(g, 0xFFFF) // numberOfContours -1
	for i, r := range refs {
		flags := uint16(argsAreWords)
		if i < len(refs)-1 {
			flags |= moreComponents
		}
		g = binary.BigEndian.AppendUint16(g, flags)
		g = binary.BigEndian.AppendUint16(g, r)
		g = append(g, 0, 0, 0, 0)
	}
	return g
}

func (s synth) tables() map[string][]byte {
	be := binary.BigEndian
	n := len(s.glyphs)
	head := make([]byte, 54)
	be.PutUint32(head, 0x00010000)
	be.PutUint32(head[12:], 0x5F0F3CF5)
	be.PutUint16(head[18:], 1000)
	be.PutUint16(head[50:], 1)
	hhea := make([]byte, 36)
	be.PutUint32(hhea, 0x00010000)
	be.PutUint16(hhea[4:], 800)
	be.PutUint16(hhea[6:], 0xFF38) // -200
	be.PutUint16(hhea[34:], uint16(n))
	maxp := make([]byte, 6)
	be.PutUint32(maxp, 0x00005000)
	be.PutUint16(maxp[4:], uint16(n))
	hmtx := make([]byte, 4*n)
	for i := range n {
		be.PutUint16(hmtx[4*i:], uint16(500+i))
	}
	var glyf []byte
	loca := make([]byte, 0, 4*(n+1))
	for _, g := range s.glyphs {
		loca = be.AppendUint32(loca, uint32(len(glyf)))
		glyf = append(glyf, g...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
	}
	loca = be.AppendUint32(loca, uint32(len(glyf)))
	if s.loca != nil {
		loca = loca[:0]
		for _, o := range s.loca {
			loca = be.AppendUint32(loca, o)
		}
	}
	cmap := make([]byte, 12+32)
	be.PutUint16(cmap[2:], 1)
	be.PutUint16(cmap[4:], 3)
	be.PutUint16(cmap[6:], 1)
	be.PutUint32(cmap[8:], 12)
	sub := cmap[12:]
	be.PutUint16(sub, 4)
	be.PutUint16(sub[2:], 32)
	be.PutUint16(sub[6:], 4)
	be.PutUint16(sub[8:], 4)
	be.PutUint16(sub[10:], 1)
	be.PutUint16(sub[14:], uint16('A'+max(n-2, 0)))
	be.PutUint16(sub[16:], 0xFFFF)
	be.PutUint16(sub[20:], 'A')
	be.PutUint16(sub[22:], 0xFFFF)
	be.PutUint16(sub[24:], uint16(0x10000+1-'A'))
	be.PutUint16(sub[26:], 1)
	return map[string][]byte{"head": head, "hhea": hhea, "maxp": maxp, "hmtx": hmtx, "loca": loca, "glyf": glyf, "cmap": cmap}
}

func (s synth) build() []byte { return buildFont(s.tables()) }

func wantInvalid(t *testing.T, name string, data []byte, msg string) {
	t.Helper()
	f, err := Parse(data)
	if err == nil {
		t.Errorf("%s: Parse succeeded (%d glyphs), want an error", name, f.NumGlyphs())
		return
	}
	if chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("%s: error code %q (%v), want EINVALID", name, chungthuc.ErrorCode(err), err)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: error %q does not mention %q", name, err, msg)
	}
}

func TestSynthetic(t *testing.T) {
	// .notdef with an outline, a simple glyph, composites 3 -> 2 -> 1 (depth 2).
	s := synth{glyphs: [][]byte{simpleGlyph(), simpleGlyph(), compositeGlyph(1), compositeGlyph(2, 1), {}}}
	f, err := Parse(s.build())
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := f.GlyphIndex('C'); !ok || g != 3 {
		t.Fatalf("GlyphIndex('C') = %d, %v", g, ok)
	}
	if f.Advance(3) != 503 || f.Metrics().PostScriptName != "UnnamedTrueType" || f.Metrics().Flags != FlagNonsymbolic {
		t.Errorf("Advance %d, metrics %+v", f.Advance(3), f.Metrics())
	}
	sub, err := f.Subset([]uint16{3})
	if err != nil {
		t.Fatal(err)
	}
	checkSfnt(t, sub)
	g, err := Parse(sub)
	if err != nil {
		t.Fatal(err)
	}
	for gid, want := range []bool{true, true, true, true, false} {
		if got := len(g.glyphData(uint16(gid))) > 0; got != want {
			t.Errorf("glyph %d kept = %v, want %v", gid, got, want)
		}
	}
	if _, ok := g.GlyphIndex('D'); ok {
		t.Error("cmap maps the empty glyph 4") // 'D' -> 4 had no outline and was not requested
	}
	// Composite nesting: 15 levels are fine, 20 are not.
	for _, depth := range []int{15, 20} {
		glyphs := [][]byte{{}, simpleGlyph()}
		for i := 0; i < depth; i++ {
			glyphs = append(glyphs, compositeGlyph(uint16(len(glyphs)-1)))
		}
		f, err := Parse(synth{glyphs: glyphs}.build())
		if depth == 20 {
			if err == nil || !strings.Contains(err.Error(), "nested deeper") {
				t.Errorf("depth %d: err = %v, want nesting error", depth, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("depth %d: %v", depth, err)
		}
		sub, err := f.Subset([]uint16{uint16(len(glyphs) - 1)})
		if err != nil {
			t.Fatal(err)
		}
		g, err := Parse(sub)
		if err != nil {
			t.Fatal(err)
		}
		for gid := 1; gid < len(glyphs); gid++ {
			if len(g.glyphData(uint16(gid))) == 0 {
				t.Errorf("depth %d: component %d dropped", depth, gid)
			}
		}
	}
}

func TestMalformedGlyphs(t *testing.T) {
	simple := simpleGlyph()
	cases := []struct {
		name string
		s    synth
		msg  string
	}{
		{"self loop", synth{glyphs: [][]byte{{}, simple, compositeGlyph(2)}}, "refers to itself"},
		{"two-glyph loop", synth{glyphs: [][]byte{{}, compositeGlyph(2), compositeGlyph(1)}}, "refers to itself"},
		{"loop through .notdef", synth{glyphs: [][]byte{compositeGlyph(1), compositeGlyph(0)}}, "refers to itself"},
		{"long loop", synth{glyphs: [][]byte{{}, compositeGlyph(2), compositeGlyph(3), compositeGlyph(4), compositeGlyph(1)}}, "refers to itself"},
		{"component out of range", synth{glyphs: [][]byte{{}, simple, compositeGlyph(1, 9)}}, "refers to glyph 9"},
		{"component truncated", synth{glyphs: [][]byte{{}, simple, compositeGlyph(1)[:14]}}, "truncated"},
		{"glyph too short", synth{glyphs: [][]byte{{}, simple[:6]}}, "too short"},
		{"contours overflow", synth{glyphs: [][]byte{{}, append([]byte{0x7F, 0xFF}, simple[2:]...)}}, "contours"},
		{"loca past glyf", synth{glyphs: [][]byte{{}, simple}, loca: []uint32{0, 0, 1 << 30}}, "outside glyf"},
		{"loca decreasing", synth{glyphs: [][]byte{{}, simple, simple}, loca: []uint32{0, 20, 4, 40}}, "outside glyf"},
		{"loca too short", synth{glyphs: [][]byte{{}, simple}, loca: []uint32{0, 20}}, "loca table too short"},
	}
	// A chain checked from its top: 1 -> 2 -> ... -> 40 -> simple.
	deep := [][]byte{{}}
	for i := 1; i <= 40; i++ {
		deep = append(deep, compositeGlyph(uint16(i+1)))
	}
	deep = append(deep, simple)
	cases = append(cases, struct {
		name string
		s    synth
		msg  string
	}{"deep chain from the top", synth{glyphs: deep}, "nested deeper"})
	for _, c := range cases {
		wantInvalid(t, c.name, c.s.build(), c.msg)
	}
}

func TestMalformedTables(t *testing.T) {
	base := synth{glyphs: [][]byte{{}, simpleGlyph()}}
	be := binary.BigEndian
	mutate := func(tag string, fn func([]byte) []byte) []byte {
		tables := base.tables()
		tables[tag] = fn(bytes.Clone(tables[tag]))
		if tables[tag] == nil {
			delete(tables, tag)
		}
		return buildFont(tables)
	}
	set16 := func(at int, v uint16) func([]byte) []byte {
		return func(b []byte) []byte { be.PutUint16(b[at:], v); return b }
	}
	cases := []struct {
		name string
		data []byte
		msg  string
	}{
		{"empty", nil, "too short"},
		{"garbage", []byte("%PDF-1.7 not a font at all"), "sfnt version"},
		{"no tables", append([]byte{0, 1, 0, 0, 0, 0}, make([]byte, 6)...), "0 tables"},
		{"directory truncated", []byte{0, 1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0}, "directory truncated"},
		{"missing glyf", mutate("glyf", func([]byte) []byte { return nil }), `"glyf" missing`},
		{"missing cmap", mutate("cmap", func([]byte) []byte { return nil }), `"cmap" missing`},
		{"head short", mutate("head", func(b []byte) []byte { return b[:40] }), "head table too short"},
		{"head magic", mutate("head", set16(12, 0)), "magic"},
		{"unitsPerEm 0", mutate("head", set16(18, 0)), "unitsPerEm"},
		{"indexToLocFormat 2", mutate("head", set16(50, 2)), "indexToLocFormat"},
		{"maxp short", mutate("maxp", func(b []byte) []byte { return b[:4] }), "maxp"},
		{"no glyphs", mutate("maxp", set16(4, 0)), "no glyphs"},
		{"numberOfHMetrics 0", mutate("hhea", set16(34, 0)), "numberOfHMetrics"},
		{"numberOfHMetrics too big", mutate("hhea", set16(34, 3)), "numberOfHMetrics"},
		{"hmtx short", mutate("hmtx", func(b []byte) []byte { return b[:6] }), "hmtx"},
		{"cmap subtable offset", mutate("cmap", func(b []byte) []byte { be.PutUint32(b[8:], 1<<20); return b }), "subtable offset"},
		{"cmap records truncated", mutate("cmap", set16(2, 500)), "records truncated"},
		{"cmap format 4 segments", mutate("cmap", set16(12+6, 2000)), "segment arrays truncated"},
		{"cmap format 4 odd", mutate("cmap", set16(12+6, 3)), "odd"},
	}
	for _, c := range cases {
		wantInvalid(t, c.name, c.data, c.msg)
	}

	// Directory entries pointing outside the file, and duplicates.
	good := base.build()
	bad := bytes.Clone(good)
	be.PutUint32(bad[12+8:], uint32(len(bad))) // first table starts at EOF with its length
	wantInvalid(t, "table past EOF", bad, "past the end")
	bad = bytes.Clone(good)
	be.PutUint32(bad[12+12:], 0xFFFFFFF0) // huge length: no overflow
	be.PutUint32(bad[12+8:], 0xFFFFFFF0)
	wantInvalid(t, "offset overflow", bad, "past the end")
	bad = bytes.Clone(good)
	copy(bad[12+16:12+20], bad[12:16])
	wantInvalid(t, "duplicate table", bad, "duplicate")

	// A font with only a symbol cmap is unsupported, not invalid.
	nouni := mutate("cmap", set16(4, 1)) // platform 1 (Macintosh)
	if _, err := Parse(nouni); chungthuc.ErrorCode(err) != chungthuc.EUNSUPPORTED {
		t.Errorf("no Unicode cmap: err = %v, want EUNSUPPORTED", err)
	}
}

func TestTruncated(t *testing.T) {
	reg, _ := fonts(t)
	sub, err := reg.Subset(reg.GIDs("Chứng thực"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(sub); n += 1 + n/64 {
		if _, err := Parse(sub[:n]); err == nil {
			t.Fatalf("Parse of the first %d of %d bytes succeeded", n, len(sub))
		}
	}
}

// TestRandomCorruption flips bytes in a real (subset) font: Parse may succeed or fail but
// must not panic, and whatever parses must subset into something that parses again.
func TestRandomCorruption(t *testing.T) {
	reg, _ := fonts(t)
	sub, err := reg.Subset(reg.GIDs("Việt Nam ỹ"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 3000
	if testing.Short() {
		n = 300
	}
	parsed := 0
	for i := 0; i < n; i++ {
		b := bytes.Clone(sub)
		for k := 0; k < 1+rng.IntN(8); k++ {
			// Aim most flips at the directory and the small tables where structure lives.
			at := rng.IntN(len(b))
			if rng.IntN(2) == 0 {
				at = rng.IntN(min(len(b), 400))
			}
			b[at] = byte(rng.Uint32())
		}
		if exercise(t, b) {
			parsed++
		}
	}
	t.Logf("%d of %d corrupted fonts still parsed", parsed, n)
}

// exercise runs every method on data and checks the subset round trip. It reports whether
// data parsed.
func exercise(t *testing.T, data []byte) bool {
	f, err := Parse(data)
	if err != nil {
		if chungthuc.ErrorCode(err) == chungthuc.EINTERNAL {
			t.Fatalf("Parse returned a non-domain error: %v", err)
		}
		return false
	}
	_ = f.Metrics()
	_ = f.TextWidth("Chứng thực bản sao ĩĨ 中", 12)
	gids := f.GIDs(vietText)
	for _, g := range []uint16{0, 1, 2, 100, uint16(f.NumGlyphs() - 1)} {
		if int(g) < f.NumGlyphs() {
			gids = append(gids, g)
		}
		_ = f.Advance(g)
	}
	sub, err := f.Subset(gids)
	if err != nil {
		t.Fatalf("Subset of a parsed font failed: %v", err)
	}
	if checksum(sub) != 0xB1B0AFBA {
		t.Fatalf("subset file checksum wrong")
	}
	s, err := Parse(sub)
	if err != nil {
		t.Fatalf("subset of a parsed font does not parse: %v", err)
	}
	if s.NumGlyphs() != f.NumGlyphs() {
		t.Fatalf("subset has %d glyphs, font %d", s.NumGlyphs(), f.NumGlyphs())
	}
	return true
}
