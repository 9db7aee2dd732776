package signer

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/chungthuc/chungthuc/signer/pdfdoc"
	"github.com/chungthuc/chungthuc/signer/ttf"
)

// preparedRunes are the characters whose glyphs every copy embeds: printable ASCII, the
// Latin-1 letters, and the whole Vietnamese alphabet with its tones, plus the punctuation the
// stamp uses. Text with other characters gets a per-copy subset (slower, still correct).
var preparedRunes = func() []rune {
	var rs []rune
	for r := rune(0x20); r <= 0x7e; r++ {
		rs = append(rs, r)
	}
	for r := rune(0xc0); r <= 0xff; r++ {
		rs = append(rs, r)
	}
	rs = append(rs, []rune("ĂăĐđĨĩŨũƠơƯư·–—‘’“”…•")...)
	for r := rune(0x1ea0); r <= 0x1ef9; r++ {
		rs = append(rs, r)
	}
	return rs
}()

// font is one TrueType face embedded as a Type0/CIDFontType2 font with Identity-H encoding
// and CIDToGIDMap /Identity: the bytes shown are glyph ids. What does not depend on the copy
// (the subset program, widths, ToUnicode map) is prepared once.
type font struct {
	face *ttf.Font
	base *embedding // for the prepared runes
}

// embedding is a ready-to-write subset of a font for a set of runes.
type embedding struct {
	face      *ttf.Font
	runes     map[rune]uint16 // rune → glyph id
	baseName  string          // e.g. "ABCDEF+LiberationSerif"
	fontFile  *pdfdoc.Stream
	toUnicode *pdfdoc.Stream
	widths    pdfdoc.Array
	desc      pdfdoc.Dict
}

func newFont(data []byte) (*font, error) {
	face, err := ttf.Parse(data)
	if err != nil {
		return nil, err
	}
	f := &font{face: face}
	f.base, err = f.embed(preparedRunes)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// embeddingFor returns the prepared embedding when it covers text, else a new subset that does.
func (f *font) embeddingFor(text ...string) (*embedding, error) {
	var extra []rune
	for _, s := range text {
		for _, r := range s {
			if _, ok := f.base.runes[r]; !ok && !slices.Contains(extra, r) {
				if _, ok := f.face.GlyphIndex(r); ok {
					extra = append(extra, r)
				}
			}
		}
	}
	if len(extra) == 0 {
		return f.base, nil
	}
	return f.embed(append(slices.Clone(preparedRunes), extra...))
}

func (f *font) embed(runes []rune) (*embedding, error) {
	e := &embedding{face: f.face, runes: map[rune]uint16{}}
	gids := []uint16{0}
	for _, r := range runes {
		if g, ok := f.face.GlyphIndex(r); ok {
			e.runes[r] = g
			gids = append(gids, g)
		}
	}
	slices.Sort(gids)
	gids = slices.Compact(gids)
	prog, err := f.face.Subset(gids)
	if err != nil {
		return nil, fmt.Errorf("signer: font subset: %w", err)
	}
	m := f.face.Metrics()
	upm := float64(f.face.UnitsPerEm())
	scale := func(v int) pdfdoc.Object { return pdfdoc.Int(int64(float64(v) * 1000 / upm)) }
	sum := sha256.Sum256(prog)
	tag := make([]byte, 6)
	for i := range tag {
		tag[i] = 'A' + sum[i]%26
	}
	e.baseName = string(tag) + "+" + m.PostScriptName
	e.fontFile = pdfdoc.FlateStream(pdfdoc.Dict{"Length1": pdfdoc.Int(len(prog))}, prog)
	e.desc = pdfdoc.Dict{
		"Type":        pdfdoc.Name("FontDescriptor"),
		"FontName":    pdfdoc.Name(e.baseName),
		"Flags":       pdfdoc.Int(m.Flags),
		"FontBBox":    pdfdoc.Array{scale(m.BBox[0]), scale(m.BBox[1]), scale(m.BBox[2]), scale(m.BBox[3])},
		"ItalicAngle": pdfdoc.Real(m.ItalicAngle),
		"Ascent":      scale(m.Ascent),
		"Descent":     scale(m.Descent),
		"CapHeight":   scale(m.CapHeight),
		"StemV":       pdfdoc.Int(max(m.StemV, 80)),
	}
	// /W: runs of consecutive glyph ids with their widths.
	for i := 0; i < len(gids); {
		j := i
		for j+1 < len(gids) && gids[j+1] == gids[j]+1 {
			j++
		}
		ws := make(pdfdoc.Array, 0, j-i+1)
		for k := i; k <= j; k++ {
			ws = append(ws, scale(f.face.Advance(gids[k])))
		}
		e.widths = append(e.widths, pdfdoc.Int(gids[i]), ws)
		i = j + 1
	}
	e.toUnicode = pdfdoc.FlateStream(nil, toUnicodeCMap(e.runes))
	return e, nil
}

// toUnicodeCMap maps each glyph id back to its character, so text can be extracted and
// searched (pdftotext must read the statement exactly).
func toUnicodeCMap(runes map[rune]uint16) []byte {
	byGID := map[uint16]rune{}
	for r, g := range runes {
		if old, ok := byGID[g]; !ok || r < old {
			byGID[g] = r
		}
	}
	gids := make([]uint16, 0, len(byGID))
	for g := range byGID {
		gids = append(gids, g)
	}
	slices.Sort(gids)
	var b strings.Builder
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for i := 0; i < len(gids); i += 100 {
		chunk := gids[i:min(i+100, len(gids))]
		fmt.Fprintf(&b, "%d beginbfchar\n", len(chunk))
		for _, g := range chunk {
			fmt.Fprintf(&b, "<%04X> <", g)
			for _, u := range utf16.Encode([]rune{byGID[g]}) {
				fmt.Fprintf(&b, "%04X", u)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return []byte(b.String())
}

// write emits the font's objects and returns the Type0 font's reference.
func (e *embedding) write(w *pdfdoc.Writer) pdfdoc.Ref {
	desc := make(pdfdoc.Dict, len(e.desc)+1)
	for k, v := range e.desc {
		desc[k] = v
	}
	desc["FontFile2"] = w.Add(e.fontFile)
	cid := w.Add(pdfdoc.Dict{
		"Type":           pdfdoc.Name("Font"),
		"Subtype":        pdfdoc.Name("CIDFontType2"),
		"BaseFont":       pdfdoc.Name(e.baseName),
		"CIDSystemInfo":  pdfdoc.Dict{"Registry": pdfdoc.String("Adobe"), "Ordering": pdfdoc.String("Identity"), "Supplement": pdfdoc.Int(0)},
		"FontDescriptor": w.Add(desc),
		"W":              e.widths,
		"CIDToGIDMap":    pdfdoc.Name("Identity"),
	})
	return w.Add(pdfdoc.Dict{
		"Type":            pdfdoc.Name("Font"),
		"Subtype":         pdfdoc.Name("Type0"),
		"BaseFont":        pdfdoc.Name(e.baseName),
		"Encoding":        pdfdoc.Name("Identity-H"),
		"DescendantFonts": pdfdoc.Array{cid},
		"ToUnicode":       w.Add(e.toUnicode),
	})
}

// glyphs returns s as the hex string of its glyph ids (characters without a glyph become
// .notdef, glyph 0).
func (e *embedding) glyphs(s string) pdfdoc.Hex {
	h := make(pdfdoc.Hex, 0, 2*len(s))
	for _, r := range s {
		g := e.runes[r]
		h = append(h, byte(g>>8), byte(g))
	}
	return h
}

// width is the advance of s at size points.
func (e *embedding) width(s string, size float64) float64 { return e.face.TextWidth(s, size) }
