package ttf

import (
	"encoding/binary"
	"sort"

	"github.com/chungthuc/chungthuc"
)

// cmapGroup maps the runes start..end to the glyphs gid..gid+(end-start).
type cmapGroup struct {
	start, end rune
	gid        uint32
}

// parseCmap picks the widest Unicode subtable (format 12 for the full repertoire, else
// format 4 for the BMP) and converts it to sorted, non-overlapping groups.
func (f *Font) parseCmap() error {
	c := f.table(tagCmap)
	if len(c) < 4 {
		return invalid("cmap table too short")
	}
	n := int(binary.BigEndian.Uint16(c[2:]))
	if len(c) < 4+8*n {
		return invalid("cmap encoding records truncated")
	}
	best, bestScore := []byte(nil), 0
	for i := 0; i < n; i++ {
		rec := c[4+8*i:]
		pid, eid := binary.BigEndian.Uint16(rec), binary.BigEndian.Uint16(rec[2:])
		off := binary.BigEndian.Uint32(rec[4:])
		if uint64(off)+4 > uint64(len(c)) {
			return invalid("cmap subtable offset %d outside the table", off)
		}
		sub := c[off:]
		format := binary.BigEndian.Uint16(sub)
		score := 0
		switch {
		case format == 12 && (pid == 3 && eid == 10 || pid == 0 && (eid == 4 || eid == 6)):
			score = 3
		case format == 4 && (pid == 3 && eid == 1 || pid == 0 && eid <= 3):
			score = 2
		}
		if score > bestScore {
			best, bestScore = sub, score
		}
	}
	var err error
	switch bestScore {
	case 0:
		return chungthuc.Errorf(chungthuc.EUNSUPPORTED, "font has no Unicode character map (cmap format 4 or 12)")
	case 3:
		f.cmap, err = parseCmap12(best)
	case 2:
		f.cmap, err = parseCmap4(best)
	}
	if err != nil {
		return err
	}
	// Drop groups whose glyphs are all out of range and clip the rest to valid glyph IDs.
	out := f.cmap[:0]
	for _, g := range f.cmap {
		if g.gid >= uint32(f.numGlyphs) {
			continue
		}
		if last := uint32(f.numGlyphs) - 1 - g.gid; uint32(g.end-g.start) > last {
			g.end = g.start + rune(last)
		}
		out = append(out, g)
	}
	f.cmap = out
	return nil
}

// parseCmap4 converts a format 4 subtable (BMP, segment mapping) to groups. Segments
// overlapping an earlier one are clipped, so the work is bounded by 65536 code points.
func parseCmap4(sub []byte) ([]cmapGroup, error) {
	if len(sub) < 14 {
		return nil, invalid("cmap format 4 subtable truncated")
	}
	// Many fonts get the 16-bit length field wrong; trust the table bounds instead, but
	// honour a shorter declared length.
	if l := int(binary.BigEndian.Uint16(sub[2:])); l >= 14 && l < len(sub) {
		sub = sub[:l]
	}
	segX2 := int(binary.BigEndian.Uint16(sub[6:]))
	if segX2%2 != 0 {
		return nil, invalid("cmap format 4 has an odd segCountX2")
	}
	seg := segX2 / 2
	if len(sub) < 16+8*seg {
		return nil, invalid("cmap format 4 segment arrays truncated (%d segments in %d bytes)", seg, len(sub))
	}
	endAt, startAt, deltaAt, rangeAt := 14, 16+2*seg, 16+4*seg, 16+6*seg
	var groups []cmapGroup
	add := func(r rune, gid uint32) {
		if gid == 0 {
			return
		}
		if k := len(groups) - 1; k >= 0 && groups[k].end == r-1 && groups[k].gid+uint32(r-groups[k].start) == gid {
			groups[k].end = r
			return
		}
		groups = append(groups, cmapGroup{start: r, end: r, gid: gid})
	}
	next := rune(0) // lowest code point not yet mapped
	for i := 0; i < seg; i++ {
		end := rune(binary.BigEndian.Uint16(sub[endAt+2*i:]))
		start := rune(binary.BigEndian.Uint16(sub[startAt+2*i:]))
		delta := binary.BigEndian.Uint16(sub[deltaAt+2*i:])
		ro := int(binary.BigEndian.Uint16(sub[rangeAt+2*i:]))
		if start < next {
			start = next
		}
		if end == 0xFFFF {
			end = 0xFFFE // U+FFFF is a noncharacter; its segment is the required terminator
		}
		for r := start; r <= end; r++ {
			if ro == 0 {
				add(r, uint32(uint16(r)+delta))
				continue
			}
			at := rangeAt + 2*i + ro + 2*int(r-start)
			if at+2 > len(sub) {
				break // glyphIdArray shorter than the segment: the rest is unmapped
			}
			if g := binary.BigEndian.Uint16(sub[at:]); g != 0 {
				add(r, uint32(g+delta))
			}
		}
		if end+1 > next {
			next = end + 1
		}
	}
	return groups, nil
}

// parseCmap12 reads a format 12 subtable (segmented coverage) into sorted groups,
// dropping invalid and overlapping ones.
func parseCmap12(sub []byte) ([]cmapGroup, error) {
	if len(sub) < 16 {
		return nil, invalid("cmap format 12 subtable truncated")
	}
	n := uint64(binary.BigEndian.Uint32(sub[12:]))
	if 16+12*n > uint64(len(sub)) {
		return nil, invalid("cmap format 12 has %d groups but only %d bytes", n, len(sub))
	}
	groups := make([]cmapGroup, 0, n)
	for i := 0; i < int(n); i++ {
		g := sub[16+12*i:]
		start, end := binary.BigEndian.Uint32(g), binary.BigEndian.Uint32(g[4:])
		if start > end || end > 0x10FFFF {
			continue
		}
		groups = append(groups, cmapGroup{start: rune(start), end: rune(end), gid: binary.BigEndian.Uint32(g[8:])})
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].start < groups[j].start })
	out := groups[:0]
	for _, g := range groups {
		if k := len(out) - 1; k >= 0 && g.start <= out[k].end {
			continue // overlaps the previous group: first one wins
		}
		out = append(out, g)
	}
	return out, nil
}

// GlyphIndex returns the glyph ID the font's Unicode cmap assigns to r, and whether there
// is one. A rune without a glyph returns (0, false): glyph 0 is .notdef.
func (f *Font) GlyphIndex(r rune) (uint16, bool) {
	lo, hi := 0, len(f.cmap)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if f.cmap[m].end < r {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(f.cmap) && f.cmap[lo].start <= r {
		g := f.cmap[lo].gid + uint32(r-f.cmap[lo].start)
		if g != 0 && g < uint32(f.numGlyphs) {
			return uint16(g), true
		}
	}
	return 0, false
}

// subsetCmap builds a cmap table mapping the runes whose glyph is kept: a (3,1) format 4
// subtable for the BMP, plus a (3,10) format 12 subtable when a kept glyph is reached from
// outside the BMP or the format 4 subtable would overflow.
func (f *Font) subsetCmap(keep []bool) []byte {
	var groups []cmapGroup // kept mappings, split into runs
	bmpSegs, astral := 0, false
	for _, g := range f.cmap {
		for r := g.start; r <= g.end; r++ {
			gid := g.gid + uint32(r-g.start)
			if gid >= uint32(len(keep)) || !keep[gid] || r == 0xFFFF {
				continue
			}
			if k := len(groups) - 1; k >= 0 && groups[k].end == r-1 && groups[k].gid+uint32(r-groups[k].start) == gid {
				groups[k].end = r
				continue
			}
			groups = append(groups, cmapGroup{start: r, end: r, gid: gid})
			if r > 0xFFFF {
				astral = true
			} else {
				bmpSegs++
			}
		}
	}
	segs := bmpSegs + 1 // plus the 0xFFFF terminator
	fmt4Len := 16 + 8*segs
	if fmt4Len > 0xFFFF {
		astral, segs, fmt4Len = true, 1, 24
	}
	nsub := 1
	if astral {
		nsub = 2
	}
	fmt12Len := 16 + 12*len(groups)
	size := 4 + 8*nsub + fmt4Len
	if astral {
		size += fmt12Len
	}
	b := make([]byte, size)
	be := binary.BigEndian
	be.PutUint16(b[2:], uint16(nsub))
	be.PutUint16(b[4:], 3) // (3,1) Windows Unicode BMP
	be.PutUint16(b[6:], 1)
	be.PutUint32(b[8:], uint32(4+8*nsub))
	if astral {
		be.PutUint16(b[12:], 3) // (3,10) Windows Unicode full repertoire
		be.PutUint16(b[14:], 10)
		be.PutUint32(b[16:], uint32(4+8*nsub+fmt4Len))
	}
	// Format 4.
	s := b[4+8*nsub:]
	be.PutUint16(s, 4)
	be.PutUint16(s[2:], uint16(fmt4Len))
	be.PutUint16(s[6:], uint16(2*segs))
	sr, es := 2, 0
	for sr*2 <= 2*segs {
		sr *= 2
		es++
	}
	be.PutUint16(s[8:], uint16(sr))
	be.PutUint16(s[10:], uint16(es))
	be.PutUint16(s[12:], uint16(2*segs-sr))
	endAt, startAt, deltaAt := 14, 16+2*segs, 16+4*segs // idRangeOffset stays zero
	i := 0
	if segs > 1 {
		for _, g := range groups {
			if g.start > 0xFFFF {
				break
			}
			be.PutUint16(s[endAt+2*i:], uint16(g.end))
			be.PutUint16(s[startAt+2*i:], uint16(g.start))
			be.PutUint16(s[deltaAt+2*i:], uint16(g.gid-uint32(g.start)))
			i++
		}
	}
	be.PutUint16(s[endAt+2*i:], 0xFFFF)
	be.PutUint16(s[startAt+2*i:], 0xFFFF)
	be.PutUint16(s[deltaAt+2*i:], 1)
	if astral {
		s = b[4+8*nsub+fmt4Len:]
		be.PutUint16(s, 12)
		be.PutUint32(s[4:], uint32(fmt12Len))
		be.PutUint32(s[12:], uint32(len(groups)))
		for i, g := range groups {
			be.PutUint32(s[16+12*i:], uint32(g.start))
			be.PutUint32(s[20+12*i:], uint32(g.end))
			be.PutUint32(s[24+12*i:], g.gid)
		}
	}
	return b
}
