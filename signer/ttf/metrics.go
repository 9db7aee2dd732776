package ttf

import (
	"encoding/binary"
	"unicode/utf16"
)

// PDF /FontDescriptor /Flags bits (ISO 32000-1, 9.8.2).
const (
	FlagFixedPitch  = 1 << 0
	FlagSerif       = 1 << 1
	FlagSymbolic    = 1 << 2
	FlagScript      = 1 << 3
	FlagNonsymbolic = 1 << 5
	FlagItalic      = 1 << 6
)

// Metrics holds what a PDF /FontDescriptor needs. Lengths are in font units (see
// UnitsPerEm); a PDF writer multiplies them by 1000/UnitsPerEm.
type Metrics struct {
	// PostScriptName is name ID 6, reduced to printable ASCII without PDF delimiters and
	// at most 63 bytes ("LiberationSerif"); never empty ("UnnamedTrueType" if the font has
	// none). For /BaseFont and /FontName of a subset, prefix a six-letter tag and "+".
	PostScriptName string
	UnitsPerEm     int
	Ascent         int    // hhea.ascender (positive)
	Descent        int    // hhea.descender (negative)
	LineGap        int    // hhea.lineGap
	CapHeight      int    // OS/2 sCapHeight, else the top of glyph 'H', else Ascent
	XHeight        int    // OS/2 sxHeight, else the top of glyph 'x', else 0
	BBox           [4]int // head xMin, yMin, xMax, yMax: the union of all glyphs' boxes
	ItalicAngle    float64
	// Flags are the PDF font flags: FixedPitch from post, Serif from the OS/2 family class or
	// PANOSE serif style, Italic from head/OS/2/post, and Symbolic when the font maps
	// characters outside the Adobe standard Latin set (Vietnamese letters, Greek, Cyrillic…),
	// else Nonsymbolic. Symbolic is the right choice for Vietnamese text in a CIDFontType2.
	Flags int
	// StemV is estimated from the OS/2 weight class (TrueType has no stem width):
	// 10 + 220·(weight−50)/900 in 1000-unit glyph space, converted to font units.
	StemV    int
	AvgWidth int // OS/2 xAvgCharWidth (0 without OS/2)
	MaxWidth int // hhea.advanceWidthMax
	Weight   int // OS/2 usWeightClass (400 without OS/2)
}

// Metrics returns the font-wide metrics for a PDF /FontDescriptor, in font units.
func (f *Font) Metrics() Metrics { return f.metrics }

func (f *Font) parseMetrics() error {
	be := binary.BigEndian
	head, hhea := f.table(tagHead), f.table(tagHhea)
	m := Metrics{
		UnitsPerEm: f.unitsPerEm,
		Ascent:     int(int16(be.Uint16(hhea[4:]))),
		Descent:    int(int16(be.Uint16(hhea[6:]))),
		LineGap:    int(int16(be.Uint16(hhea[8:]))),
		MaxWidth:   int(be.Uint16(hhea[10:])),
		BBox: [4]int{int(int16(be.Uint16(head[36:]))), int(int16(be.Uint16(head[38:]))),
			int(int16(be.Uint16(head[40:]))), int(int16(be.Uint16(head[42:])))},
		Weight: 400,
	}
	italic := be.Uint16(head[44:])&2 != 0 // macStyle bit 1
	serif := false
	haveCap := false
	if os2 := f.table(tagOS2); len(os2) >= 78 {
		m.AvgWidth = int(int16(be.Uint16(os2[2:])))
		if w := int(be.Uint16(os2[4:])); w >= 1 && w <= 1000 {
			m.Weight = w
		}
		switch os2[30] { // sFamilyClass high byte
		case 1, 2, 3, 4, 5, 7:
			serif = true
		case 0: // no classification: ask PANOSE (Latin Text, a serif style 2..10)
			serif = os2[32] == 2 && os2[33] >= 2 && os2[33] <= 10
		}
		if be.Uint16(os2[62:])&1 != 0 { // fsSelection ITALIC
			italic = true
		}
		if be.Uint16(os2) >= 2 && len(os2) >= 96 {
			m.XHeight = int(int16(be.Uint16(os2[86:])))
			m.CapHeight = int(int16(be.Uint16(os2[88:])))
			haveCap = m.CapHeight > 0
		}
	}
	if !haveCap {
		m.CapHeight = f.glyphTop('H', m.Ascent)
		m.XHeight = f.glyphTop('x', 0)
	}
	if post := f.table(tagPost); len(post) >= 16 {
		m.ItalicAngle = float64(int32(be.Uint32(post[4:]))) / 65536
		if be.Uint32(post[12:]) != 0 {
			m.Flags |= FlagFixedPitch
		}
	}
	if m.ItalicAngle != 0 {
		italic = true
	}
	if serif {
		m.Flags |= FlagSerif
	}
	if italic {
		m.Flags |= FlagItalic
	}
	if f.mapsNonStandardLatin() {
		m.Flags |= FlagSymbolic
	} else {
		m.Flags |= FlagNonsymbolic
	}
	m.StemV = (10 + 220*(m.Weight-50)/900) * f.unitsPerEm / 1000
	m.PostScriptName = f.postScriptName()
	f.metrics = m
	return nil
}

// glyphTop returns yMax of the glyph for r, or def when there is none.
func (f *Font) glyphTop(r rune, def int) int {
	g, ok := f.GlyphIndex(r)
	if !ok {
		return def
	}
	gd := f.glyphData(g)
	if len(gd) < 10 {
		return def
	}
	return int(int16(binary.BigEndian.Uint16(gd[8:])))
}

// mapsNonStandardLatin reports whether the cmap maps a character outside (roughly) the
// Adobe standard Latin character set: anything from Latin Extended-B up to General
// Punctuation, except the few spacing accents and ƒ that the standard set contains.
func (f *Font) mapsNonStandardLatin() bool {
	for _, g := range f.cmap {
		for r := max(g.start, 0x180); r <= min(g.end, 0x1FFF); r++ {
			if r == 0x192 || r >= 0x2C6 && r <= 0x2DD {
				continue
			}
			return true
		}
	}
	return false
}

// postScriptName reads name ID 6 (Windows UTF-16 preferred, then Macintosh Roman) and
// keeps only characters that are safe in a PDF name.
func (f *Font) postScriptName() string {
	const fallback = "UnnamedTrueType"
	n := f.table(tagName)
	if len(n) < 6 {
		return fallback
	}
	be := binary.BigEndian
	count, strOff := int(be.Uint16(n[2:])), int(be.Uint16(n[4:]))
	var mac string
	for i := 0; i < count && 6+12*i+12 <= len(n); i++ {
		rec := n[6+12*i:]
		pid, nameID := be.Uint16(rec), be.Uint16(rec[6:])
		length, off := int(be.Uint16(rec[8:])), int(be.Uint16(rec[10:]))
		if nameID != 6 || strOff+off+length > len(n) {
			continue
		}
		raw := n[strOff+off : strOff+off+length]
		switch pid {
		case 3, 0: // UTF-16BE
			u := make([]uint16, len(raw)/2)
			for j := range u {
				u[j] = be.Uint16(raw[2*j:])
			}
			if s := pdfNameSafe(string(utf16.Decode(u))); s != "" {
				return s
			}
		case 1:
			if mac == "" {
				mac = pdfNameSafe(string(raw))
			}
		}
	}
	if mac != "" {
		return mac
	}
	return fallback
}

func pdfNameSafe(s string) string {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r <= 0x20 || r >= 0x7F {
			continue
		}
		switch r {
		case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%', '#':
			continue
		}
		out = append(out, byte(r))
		if len(out) == 63 {
			break
		}
	}
	return string(out)
}
