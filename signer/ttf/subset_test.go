package ttf

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/go-fonts/liberation/liberationserifbold"
	"github.com/go-fonts/liberation/liberationserifregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/chungthuc/chungthuc"
)

// checkSfnt verifies the file-level invariants of a font file: directory sorted, tables
// 4-byte aligned and inside the file, padding zero, every table checksum right, and the
// whole-file checksum equal to 0xB1B0AFBA (head.checkSumAdjustment right).
func checkSfnt(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	be := binary.BigEndian
	n := int(be.Uint16(b[4:]))
	sr := 1
	for sr*2 <= n {
		sr *= 2
	}
	if int(be.Uint16(b[6:])) != 16*sr || int(be.Uint16(b[10:])) != 16*n-16*sr {
		t.Errorf("bad searchRange/rangeShift for %d tables", n)
	}
	tables := map[string][]byte{}
	prev, end := uint32(0), 12+16*n
	for i := 0; i < n; i++ {
		rec := b[12+16*i:]
		tag, sum, off, length := be.Uint32(rec), be.Uint32(rec[4:]), int(be.Uint32(rec[8:])), int(be.Uint32(rec[12:]))
		if tag <= prev {
			t.Errorf("table %q out of order", tagString(tag))
		}
		prev = tag
		if off%4 != 0 || off < end || off+length > len(b) {
			t.Fatalf("table %q at %d+%d misplaced (previous end %d, file %d)", tagString(tag), off, length, end, len(b))
		}
		padded := (length + 3) &^ 3
		if !bytes.Equal(b[off+length:off+padded], make([]byte, padded-length)) {
			t.Errorf("table %q padding not zero", tagString(tag))
		}
		data := b[off : off+length]
		want := checksum(data)
		if tag == tagHead {
			h := bytes.Clone(data)
			be.PutUint32(h[8:], 0)
			want = checksum(h)
		}
		if sum != want {
			t.Errorf("table %q checksum %#x, want %#x", tagString(tag), sum, want)
		}
		tables[tagString(tag)] = data
		end = off + padded
	}
	if end != len(b) {
		t.Errorf("file is %d bytes, tables end at %d", len(b), end)
	}
	if s := checksum(b); s != 0xB1B0AFBA {
		t.Errorf("whole-file checksum %#x, want 0xB1B0AFBA", s)
	}
	return tables
}

func segments(t *testing.T, f *sfnt.Font, gid uint16) sfnt.Segments {
	t.Helper()
	var buf sfnt.Buffer
	segs, err := f.LoadGlyph(&buf, sfnt.GlyphIndex(gid), fixed.I(2048), nil)
	if err != nil {
		t.Fatalf("LoadGlyph(%d): %v", gid, err)
	}
	return append(sfnt.Segments(nil), segs...)
}

func TestSubsetVietnamese(t *testing.T) {
	reg, bld := fonts(t)
	for name, c := range map[string]struct {
		f    *Font
		data []byte
	}{"regular": {reg, liberationserifregular.TTF}, "bold": {bld, liberationserifbold.TTF}} {
		t.Run(name, func(t *testing.T) {
			gids := c.f.GIDs(vietText)
			sub, err := c.f.Subset(gids)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d glyphs requested; subset %d bytes, full font %d bytes (%.1f%%)",
				len(gids), len(sub), len(c.data), 100*float64(len(sub))/float64(len(c.data)))
			tables := checkSfnt(t, sub)
			for _, tag := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap", "post", "name", "OS/2", "cvt ", "fpgm", "prep"} {
				if tables[tag] == nil {
					t.Errorf("table %q missing from the subset", tag)
				}
			}
			for _, tag := range []string{"GSUB", "GPOS", "GDEF", "kern", "hdmx", "LTSH", "VDMX", "DSIG"} {
				if tables[tag] != nil {
					t.Errorf("table %q should have been dropped", tag)
				}
			}

			// Our own parser: same glyph count, metrics, advances and glyph IDs.
			s, err := Parse(sub)
			if err != nil {
				t.Fatalf("Parse(subset): %v", err)
			}
			if s.NumGlyphs() != c.f.NumGlyphs() || s.UnitsPerEm() != c.f.UnitsPerEm() || s.Metrics() != c.f.Metrics() {
				t.Errorf("subset metrics %+v differ from %+v", s.Metrics(), c.f.Metrics())
			}
			for _, r := range vietText {
				g1, _ := c.f.GlyphIndex(r)
				if g2, ok := s.GlyphIndex(r); !ok || g2 != g1 {
					t.Errorf("subset GlyphIndex(%q) = %d, %v; want %d", r, g2, ok, g1)
				}
			}
			if g, ok := s.GlyphIndex('Ж'); ok {
				t.Errorf("subset cmap maps a dropped character to %d", g)
			}
			// Kept glyphs byte-identical, the rest empty, components followed.
			keep := make([]bool, c.f.NumGlyphs())
			for _, g := range append(gids, 0) {
				keep[g] = true
			}
			components := 0
			for g := 0; g < c.f.NumGlyphs(); g++ {
				full, part := c.f.glyphData(uint16(g)), s.glyphData(uint16(g))
				if c.f.Advance(uint16(g)) != s.Advance(uint16(g)) {
					t.Errorf("advance of %d changed", g)
				}
				switch {
				case keep[g]:
					if !bytes.Equal(full, part[:len(full)]) {
						t.Errorf("glyph %d changed", g)
					}
					if c.f.composite[g] {
						_ = c.f.eachComponent(full, func(cg uint16) error {
							if len(s.glyphData(cg)) == 0 && len(c.f.glyphData(cg)) != 0 {
								t.Errorf("component %d of kept glyph %d was dropped", cg, g)
							}
							if !keep[cg] {
								components++
							}
							return nil
						})
					}
				case len(part) != 0 && !bytes.Equal(full, part[:len(full)]):
					t.Errorf("glyph %d neither kept nor empty", g)
				}
			}
			t.Logf("components kept without being requested: %d references", components)

			// golang.org/x/image/font/sfnt: parses, same outlines for kept glyphs, none for
			// dropped ones.
			ref, err := sfnt.Parse(c.data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := sfnt.Parse(sub)
			if err != nil {
				t.Fatalf("sfnt.Parse(subset): %v", err)
			}
			if got.NumGlyphs() != ref.NumGlyphs() {
				t.Errorf("sfnt NumGlyphs %d, want %d", got.NumGlyphs(), ref.NumGlyphs())
			}
			for _, r := range "ẠẬẦẤẨẪẶỀẾỂỄỆỒỐỔỖỘỜỚỞỠỢỪỨỬỮỰĐỲÝỶỸỴạậặệộợựđỹĩĨ0?" {
				g, _ := c.f.GlyphIndex(r)
				want, have := segments(t, ref, g), segments(t, got, g)
				if len(want) == 0 || !reflect.DeepEqual(want, have) {
					t.Errorf("outline of %q (glyph %d) differs: %d segments vs %d", r, g, len(want), len(have))
				}
			}
			for _, r := range "ЖΩ€ﬁ" {
				g, ok := c.f.GlyphIndex(r)
				if !ok || keep[g] {
					continue
				}
				if len(segments(t, ref, g)) == 0 || len(segments(t, got, g)) != 0 {
					t.Errorf("dropped glyph %d (%q) still has an outline in the subset", g, r)
				}
			}
		})
	}
}

func TestSubsetClosure(t *testing.T) {
	reg, _ := fonts(t)
	// Find a composite glyph among the Vietnamese letters and subset it alone.
	var comp uint16
	for _, r := range vietText {
		if g, _ := reg.GlyphIndex(r); reg.composite[g] {
			comp = g
			break
		}
	}
	if comp == 0 {
		t.Skip("no composite glyph among the Vietnamese letters")
	}
	sub, err := reg.Subset([]uint16{comp, comp})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(sub)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for g := 0; g < s.NumGlyphs(); g++ {
		if len(s.glyphData(uint16(g))) > 0 {
			kept++
		}
	}
	n := 0
	_ = reg.eachComponent(reg.glyphData(comp), func(c uint16) error {
		n++
		if len(s.glyphData(c)) == 0 {
			t.Errorf("component %d of %d dropped", c, comp)
		}
		return nil
	})
	if kept > 2+n*2 || n == 0 { // .notdef, the composite, its components (and theirs)
		t.Errorf("%d glyphs kept for one composite with %d components", kept, n)
	}
	ref, _ := sfnt.Parse(liberationserifregular.TTF)
	got, err := sfnt.Parse(sub)
	if err != nil {
		t.Fatal(err)
	}
	if want, have := segments(t, ref, comp), segments(t, got, comp); !reflect.DeepEqual(want, have) || len(want) == 0 {
		t.Errorf("composite outline differs")
	}
}

func TestSubsetEdgeCases(t *testing.T) {
	reg, _ := fonts(t)
	// Empty request: .notdef only, still a valid font.
	sub, err := reg.Subset(nil)
	if err != nil {
		t.Fatal(err)
	}
	checkSfnt(t, sub)
	s, err := Parse(sub)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.glyphData(0), reg.glyphData(0)) { // empty in Liberation, but kept
		t.Error(".notdef changed")
	}
	for g := 1; g < s.NumGlyphs(); g++ {
		if len(s.glyphData(uint16(g))) != 0 {
			t.Fatalf("glyph %d kept in an empty subset", g)
		}
	}
	if _, err := sfnt.Parse(sub); err != nil {
		t.Errorf("sfnt.Parse(empty subset): %v", err)
	}
	// Out of range.
	if _, err := reg.Subset([]uint16{3, uint16(reg.NumGlyphs())}); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("out-of-range gid: err = %v, want EINVALID", err)
	}
	// Subsetting is deterministic and idempotent on a subset.
	gids := reg.GIDs("Hồ Chí Minh")
	a, _ := reg.Subset(gids)
	b, _ := reg.Subset(gids)
	if !bytes.Equal(a, b) {
		t.Error("Subset is not deterministic")
	}
	s, _ = Parse(a)
	c, err := s.Subset(gids)
	if err != nil {
		t.Fatal(err)
	}
	checkSfnt(t, c)
	sa, _ := Parse(a)
	sc, _ := Parse(c)
	for g := 0; g < sa.NumGlyphs(); g++ {
		if !bytes.Equal(sa.glyphData(uint16(g)), sc.glyphData(uint16(g))) {
			t.Fatalf("subset of a subset changed glyph %d", g)
		}
	}
}

// TestSubsetShortLoca converts a subset to the short loca format and subsets that again.
func TestSubsetShortLoca(t *testing.T) {
	reg, _ := fonts(t)
	gids := reg.GIDs("Việt Nam 2025")
	sub, err := reg.Subset(gids)
	if err != nil {
		t.Fatal(err)
	}
	tables := checkSfnt(t, sub)
	if !reg.longLoca {
		t.Fatal("expected Liberation to use long loca; adjust the test")
	}
	loca := tables["loca"]
	short := make([]byte, len(loca)/2)
	for i := 0; i < len(loca)/4; i++ {
		binary.BigEndian.PutUint16(short[2*i:], uint16(binary.BigEndian.Uint32(loca[4*i:])/2))
	}
	tables["loca"] = short
	head := bytes.Clone(tables["head"])
	binary.BigEndian.PutUint16(head[50:], 0)
	tables["head"] = head
	f, err := Parse(buildFont(tables))
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Subset(f.GIDs("Việt"))
	if err != nil {
		t.Fatal(err)
	}
	ot := checkSfnt(t, out)
	if binary.BigEndian.Uint16(ot["head"][50:]) != 0 || len(ot["loca"]) != 2*(f.NumGlyphs()+1) {
		t.Error("short loca format not respected")
	}
	ref, _ := sfnt.Parse(liberationserifregular.TTF)
	got, err := sfnt.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range "Việt" {
		g, _ := reg.GlyphIndex(r)
		if !reflect.DeepEqual(segments(t, ref, g), segments(t, got, g)) {
			t.Errorf("outline of %q differs after short-loca subsetting", r)
		}
	}
	if g, _ := reg.GlyphIndex('N'); len(segments(t, got, g)) != 0 {
		t.Error("glyph N should have been dropped")
	}
}

// buildFont assembles an sfnt file from tables (checksums left zero: Parse and sfnt
// ignore them).
func buildFont(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	for i := range tags { // tiny insertion sort keeps this helper dependency-free
		for j := i; j > 0 && tags[j] < tags[j-1]; j-- {
			tags[j], tags[j-1] = tags[j-1], tags[j]
		}
	}
	n := len(tags)
	b := make([]byte, 12+16*n)
	binary.BigEndian.PutUint32(b, 0x00010000)
	binary.BigEndian.PutUint16(b[4:], uint16(n))
	for i, tag := range tags {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		rec := b[12+16*i:]
		copy(rec, tag)
		binary.BigEndian.PutUint32(rec[8:], uint32(len(b)))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(tables[tag])))
		b = append(b, tables[tag]...)
	}
	return b
}
