// Package ttf reads TrueType (glyf-outline) fonts and writes glyph subsets of them for
// embedding in PDF files as a CIDFontType2 font with /Encoding /Identity-H and
// /CIDToGIDMap /Identity.
//
// A Font is parsed and fully validated once (Parse), after which every method is a pure
// read of immutable data and safe for concurrent use. Parse checks every table it relies on
// against the file's bounds, every glyph's loca range, every composite glyph's component
// references (including loops and excessive nesting), so that later calls never see a
// malformed structure and nothing panics on hostile input.
//
// Subset keeps glyph IDs unchanged: a CID in the PDF content stream is the glyph ID in both
// the full font and every subset of it, so a writer can choose glyphs with GlyphIndex or
// GIDs, set text with those IDs, and embed Subset(ids) without any renumbering.
//
// Only glyph-outline TrueType is supported: CFF-flavoured OpenType ("OTTO") and font
// collections ("ttcf") are rejected with EUNSUPPORTED.
package ttf

import (
	"encoding/binary"
	bits64 "math/bits"
	"sort"

	"github.com/chungthuc/chungthuc"
)

// Limits that bound the work Parse and Subset may do on hostile input.
const (
	maxTables         = 128 // real fonts have about 20–30 tables
	maxComponentDepth = 16  // nesting of composite glyphs; real fonts use 1–3
)

// Table tags used by this package.
const (
	tagCmap = 0x636d6170 // cmap
	tagCvt  = 0x63767420 // "cvt "
	tagFpgm = 0x6670676d // fpgm
	tagGasp = 0x67617370 // gasp
	tagGlyf = 0x676c7966 // glyf
	tagHead = 0x68656164 // head
	tagHhea = 0x68686561 // hhea
	tagHmtx = 0x686d7478 // hmtx
	tagLoca = 0x6c6f6361 // loca
	tagMaxp = 0x6d617870 // maxp
	tagName = 0x6e616d65 // name
	tagOS2  = 0x4f532f32 // "OS/2"
	tagPost = 0x706f7374 // post
	tagPrep = 0x70726570 // prep
)

// table is one entry of the table directory, already checked to lie inside the file.
type table struct {
	tag      uint32
	data     []byte // the table's bytes (a sub-slice of Font.data, length as declared)
	checksum uint32 // computed by Parse over data padded to 4 bytes (not the stored value)
}

// Font is a parsed TrueType font. Create it with Parse; the zero value is not usable.
// A Font keeps a reference to the byte slice given to Parse, which must not be modified
// afterwards. All methods are safe for concurrent use.
type Font struct {
	data   []byte
	tables []table // sorted by tag

	unitsPerEm  int
	longLoca    bool // head.indexToLocFormat == 1
	numGlyphs   int
	advances    []uint16 // one per glyph, expanded from hmtx
	loca        []uint32 // numGlyphs+1 offsets into glyf, validated monotonic and in range
	glyf        []byte
	composite   []bool // composite[g]: glyph g is a composite glyph
	cmap        []cmapGroup
	metrics     Metrics
	notdefWidth int
}

// Parse parses and validates a TrueType font file. The returned Font refers to data, which
// the caller must not modify afterwards.
//
// Errors: EINVALID (with a message naming the table) when the file is truncated or any
// table, offset, glyph or composite reference is out of range or inconsistent;
// EUNSUPPORTED for CFF-based OpenType, font collections, or a font without a Unicode cmap.
func Parse(data []byte) (*Font, error) {
	f := &Font{data: data}
	if err := f.parseDirectory(); err != nil {
		return nil, err
	}
	if err := f.parseHead(); err != nil {
		return nil, err
	}
	if err := f.parseMaxp(); err != nil {
		return nil, err
	}
	if err := f.parseHheaHmtx(); err != nil {
		return nil, err
	}
	if err := f.parseLocaGlyf(); err != nil {
		return nil, err
	}
	if err := f.parseCmap(); err != nil {
		return nil, err
	}
	if err := f.parseMetrics(); err != nil {
		return nil, err
	}
	f.notdefWidth = int(f.advances[0])
	return f, nil
}

// invalid returns the error for a malformed font.
func invalid(format string, args ...any) error {
	return chungthuc.Errorf(chungthuc.EINVALID, "malformed font: "+format, args...)
}

func (f *Font) parseDirectory() error {
	d := f.data
	if len(d) < 12 {
		return invalid("file too short (%d bytes)", len(d))
	}
	switch v := binary.BigEndian.Uint32(d); v {
	case 0x00010000, 0x74727565: // 1.0, "true"
	case 0x4f54544f: // "OTTO"
		return chungthuc.Errorf(chungthuc.EUNSUPPORTED, "font has PostScript (CFF) outlines; only TrueType outlines are supported")
	case 0x74746366: // "ttcf"
		return chungthuc.Errorf(chungthuc.EUNSUPPORTED, "font collections are not supported; pass a single font")
	default:
		return invalid("unknown sfnt version %#08x", v)
	}
	n := int(binary.BigEndian.Uint16(d[4:]))
	if n == 0 || n > maxTables {
		return invalid("%d tables", n)
	}
	if len(d) < 12+16*n {
		return invalid("table directory truncated")
	}
	f.tables = make([]table, 0, n)
	for i := 0; i < n; i++ {
		rec := d[12+16*i:]
		tag := binary.BigEndian.Uint32(rec)
		off := uint64(binary.BigEndian.Uint32(rec[8:]))
		length := uint64(binary.BigEndian.Uint32(rec[12:]))
		if off+length > uint64(len(d)) {
			return invalid("table %q (offset %d, length %d) extends past the end of the file (%d bytes)",
				tagString(tag), off, length, len(d))
		}
		t := table{tag: tag, data: d[off : off+length : off+length]}
		t.checksum = checksum(t.data)
		f.tables = append(f.tables, t)
	}
	sort.Slice(f.tables, func(i, j int) bool { return f.tables[i].tag < f.tables[j].tag })
	for i := 1; i < len(f.tables); i++ {
		if f.tables[i].tag == f.tables[i-1].tag {
			return invalid("duplicate table %q", tagString(f.tables[i].tag))
		}
	}
	for _, tag := range []uint32{tagHead, tagHhea, tagMaxp, tagHmtx, tagLoca, tagGlyf, tagCmap} {
		if f.table(tag) == nil {
			return invalid("required table %q missing", tagString(tag))
		}
	}
	return nil
}

// table returns the table with the given tag, or nil.
func (f *Font) table(tag uint32) []byte {
	i := sort.Search(len(f.tables), func(i int) bool { return f.tables[i].tag >= tag })
	if i < len(f.tables) && f.tables[i].tag == tag {
		return f.tables[i].data
	}
	return nil
}

func (f *Font) parseHead() error {
	h := f.table(tagHead)
	if len(h) < 54 {
		return invalid("head table too short (%d bytes)", len(h))
	}
	if binary.BigEndian.Uint32(h[12:]) != 0x5F0F3CF5 {
		return invalid("head table has a bad magic number")
	}
	f.unitsPerEm = int(binary.BigEndian.Uint16(h[18:]))
	if f.unitsPerEm < 16 || f.unitsPerEm > 16384 {
		return invalid("unitsPerEm %d out of range 16..16384", f.unitsPerEm)
	}
	switch binary.BigEndian.Uint16(h[50:]) {
	case 0:
		f.longLoca = false
	case 1:
		f.longLoca = true
	default:
		return invalid("head.indexToLocFormat %d", binary.BigEndian.Uint16(h[50:]))
	}
	return nil
}

func (f *Font) parseMaxp() error {
	m := f.table(tagMaxp)
	if len(m) < 6 {
		return invalid("maxp table too short (%d bytes)", len(m))
	}
	f.numGlyphs = int(binary.BigEndian.Uint16(m[4:]))
	if f.numGlyphs == 0 {
		return invalid("font has no glyphs")
	}
	return nil
}

func (f *Font) parseHheaHmtx() error {
	h := f.table(tagHhea)
	if len(h) < 36 {
		return invalid("hhea table too short (%d bytes)", len(h))
	}
	nh := int(binary.BigEndian.Uint16(h[34:]))
	if nh == 0 || nh > f.numGlyphs {
		return invalid("hhea.numberOfHMetrics %d not in 1..%d", nh, f.numGlyphs)
	}
	m := f.table(tagHmtx)
	if need := 4*nh + 2*(f.numGlyphs-nh); len(m) < need {
		return invalid("hmtx table too short (%d bytes, need %d)", len(m), need)
	}
	f.advances = make([]uint16, f.numGlyphs)
	for i := 0; i < nh; i++ {
		f.advances[i] = binary.BigEndian.Uint16(m[4*i:])
	}
	for i := nh; i < f.numGlyphs; i++ {
		f.advances[i] = f.advances[nh-1]
	}
	return nil
}

// NumGlyphs returns the number of glyphs in the font (maxp.numGlyphs); valid glyph IDs
// are 0..NumGlyphs()-1.
func (f *Font) NumGlyphs() int { return f.numGlyphs }

// UnitsPerEm returns head.unitsPerEm, the size of the em square in font units (2048 for
// Liberation). PDF glyph space has 1000 units per em: scale font units by
// 1000/UnitsPerEm() for /W arrays and /FontDescriptor values.
func (f *Font) UnitsPerEm() int { return f.unitsPerEm }

// Advance returns the advance width of glyph gid in font units, from hmtx. An out-of-range
// gid gets the advance of glyph 0 (.notdef), the glyph a renderer would show for it.
func (f *Font) Advance(gid uint16) int {
	if int(gid) >= f.numGlyphs {
		return f.notdefWidth
	}
	return int(f.advances[gid])
}

// TextWidth returns the width in points of s set in this font at size points: the sum of
// the glyphs' advances (characters without a glyph count as .notdef), with no kerning.
// s should be NFC-normalised, as the text is set rune by rune with one glyph per rune.
func (f *Font) TextWidth(s string, size float64) float64 {
	units := 0
	for _, r := range s {
		gid, _ := f.GlyphIndex(r)
		units += int(f.advances[gid])
	}
	return float64(units) * size / float64(f.unitsPerEm)
}

// GIDs returns the sorted, de-duplicated glyph IDs used to set s one glyph per rune;
// a rune the font lacks contributes glyph 0 (.notdef). Pass the result (or the union of
// several such results) to Subset.
func (f *Font) GIDs(s string) []uint16 {
	seen := make([]uint64, (f.numGlyphs+63)/64)
	n := 0
	for _, r := range s {
		gid, _ := f.GlyphIndex(r)
		if w, bit := gid/64, uint64(1)<<(gid%64); seen[w]&bit == 0 {
			seen[w] |= bit
			n++
		}
	}
	out := make([]uint16, 0, n)
	for w, bits := range seen {
		for ; bits != 0; bits &= bits - 1 {
			out = append(out, uint16(64*w+bits64.TrailingZeros64(bits)))
		}
	}
	return out
}

// checksum is the TrueType table checksum: the sum of big-endian uint32 words, the last
// one zero-padded.
func checksum(b []byte) uint32 {
	var sum uint32
	n := len(b) &^ 3
	for i := 0; i < n; i += 4 {
		sum += binary.BigEndian.Uint32(b[i:])
	}
	if n < len(b) {
		var tail [4]byte
		copy(tail[:], b[n:])
		sum += binary.BigEndian.Uint32(tail[:])
	}
	return sum
}

func tagString(tag uint32) string {
	b := []byte{byte(tag >> 24), byte(tag >> 16), byte(tag >> 8), byte(tag)}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}
