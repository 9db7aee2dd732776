package ttf

import (
	"encoding/binary"

	"github.com/chungthuc/chungthuc"
)

// Subset returns a TrueType file that keeps the outlines of the glyphs in gids, of glyph 0
// (.notdef) and of every component of a kept composite glyph, followed recursively; every
// other glyph is present but empty. Glyph IDs are unchanged, so the result can be embedded
// as /FontFile2 of a CIDFontType2 with /CIDToGIDMap /Identity and text set with the full
// font's glyph IDs. gids may be in any order and contain duplicates.
//
// Tables written (each 4-byte aligned, checksummed, directory sorted by tag, with
// head.checkSumAdjustment recomputed):
//   - head, hhea, maxp, hmtx, name, OS/2, cvt, fpgm, prep, gasp: copied unchanged where
//     present (hmtx whole: advances are still looked up by the unchanged glyph IDs;
//     name keeps the copyright and licence notices the font licence asks to retain);
//   - loca and glyf: rebuilt in the font's own indexToLocFormat;
//   - cmap: a minimal one mapping only the characters whose glyphs are kept ((3,1)
//     format 4, plus (3,10) format 12 if needed). PDF viewers don't need it for
//     Identity-H, but some font loaders (and golang.org/x/image/font/sfnt) refuse a
//     TrueType font without a cmap;
//   - post: reduced to version 3.0 (no glyph names), keeping italic angle, underline
//     metrics and isFixedPitch.
//
// Everything else (GSUB, GPOS, GDEF, kern, hdmx, LTSH, VDMX, DSIG, …) is dropped.
//
// Errors: EINVALID when a glyph ID is not below NumGlyphs().
func (f *Font) Subset(gids []uint16) ([]byte, error) {
	keep := make([]bool, f.numGlyphs)
	f.closure(keep, 0, 0)
	for _, g := range gids {
		if int(g) >= f.numGlyphs {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "glyph %d requested from a font with %d glyphs", g, f.numGlyphs)
		}
		if !keep[g] {
			f.closure(keep, g, 0)
		}
	}

	// Plan the output: which tables, in tag order, and their sizes.
	locaSize := 2 * (f.numGlyphs + 1)
	align := uint32(2)
	if f.longLoca {
		locaSize, align = 4*(f.numGlyphs+1), 4
	}
	glyfSize := 0
	for g, k := range keep {
		if k {
			glyfSize += int((f.loca[g+1] - f.loca[g] + align - 1) &^ (align - 1))
		}
	}
	cmap := f.subsetCmap(keep)
	post := f.subsetPost()

	type out struct {
		tag       uint32
		src       []byte // bytes to copy; nil for loca and glyf (written in place)
		size, off int
		sum       uint32
		known     bool // sum taken from the parsed font
	}
	plan := make([]out, 0, 16)
	for _, t := range f.tables {
		switch t.tag {
		case tagHead, tagHhea, tagMaxp, tagHmtx, tagName, tagOS2, tagCvt, tagFpgm, tagPrep, tagGasp:
			plan = append(plan, out{tag: t.tag, src: t.data, size: len(t.data), sum: t.checksum, known: t.tag != tagHead})
		case tagLoca:
			plan = append(plan, out{tag: tagLoca, size: locaSize})
		case tagGlyf:
			plan = append(plan, out{tag: tagGlyf, size: glyfSize})
		case tagCmap:
			plan = append(plan, out{tag: tagCmap, src: cmap, size: len(cmap)})
		}
	}
	// post is written even when the font lacks one (some loaders require it), in tag order.
	at := len(plan)
	for i, p := range plan {
		if p.tag > tagPost {
			at = i
			break
		}
	}
	plan = append(plan, out{})
	copy(plan[at+1:], plan[at:])
	plan[at] = out{tag: tagPost, src: post, size: len(post)}

	n := len(plan)
	total := 12 + 16*n
	for i := range plan {
		plan[i].off = total
		total += (plan[i].size + 3) &^ 3
	}
	b := make([]byte, total)
	be := binary.BigEndian

	var locaOff, glyfOff, headOff int
	for _, p := range plan {
		switch p.tag {
		case tagLoca:
			locaOff = p.off
		case tagGlyf:
			glyfOff = p.off
		case tagHead:
			headOff = p.off
		default:
			copy(b[p.off:], p.src)
		}
	}
	// head: a copy with checkSumAdjustment zeroed for the checksums, set at the end.
	copy(b[headOff:], f.table(tagHead))
	be.PutUint32(b[headOff+8:], 0)
	// glyf and loca, in the font's indexToLocFormat.
	pos := uint32(0)
	for g := 0; g <= f.numGlyphs; g++ {
		if f.longLoca {
			be.PutUint32(b[locaOff+4*g:], pos)
		} else {
			be.PutUint16(b[locaOff+2*g:], uint16(pos/2))
		}
		if g < f.numGlyphs && keep[g] {
			gd := f.glyf[f.loca[g]:f.loca[g+1]]
			copy(b[glyfOff+int(pos):], gd)
			pos += (uint32(len(gd)) + align - 1) &^ (align - 1)
		}
	}

	// Header and table directory.
	be.PutUint32(b, 0x00010000)
	be.PutUint16(b[4:], uint16(n))
	sr, es := 1, 0
	for sr*2 <= n {
		sr *= 2
		es++
	}
	be.PutUint16(b[6:], uint16(16*sr))
	be.PutUint16(b[8:], uint16(es))
	be.PutUint16(b[10:], uint16(16*(n-sr)))
	var fileSum uint32
	for i, p := range plan {
		if !p.known {
			p.sum = checksum(b[p.off : p.off+p.size])
		}
		rec := b[12+16*i:]
		be.PutUint32(rec, p.tag)
		be.PutUint32(rec[4:], p.sum)
		be.PutUint32(rec[8:], uint32(p.off))
		be.PutUint32(rec[12:], uint32(p.size))
		fileSum += p.sum
	}
	fileSum += checksum(b[:12+16*n])
	be.PutUint32(b[headOff+8:], 0xB1B0AFBA-fileSum)
	return b, nil
}

// subsetPost returns a version 3.0 post table with the metrics of the font's post table.
func (f *Font) subsetPost() []byte {
	p := make([]byte, 32)
	binary.BigEndian.PutUint32(p, 0x00030000)
	if src := f.table(tagPost); len(src) >= 32 {
		copy(p[4:], src[4:32])
	}
	return p
}
