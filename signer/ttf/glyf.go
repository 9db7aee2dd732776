package ttf

import "encoding/binary"

// Composite glyph component flags (OpenType glyf table).
const (
	argsAreWords    = 0x0001
	haveScale       = 0x0008
	moreComponents  = 0x0020
	haveXYScale     = 0x0040
	haveTwoByTwo    = 0x0080
	haveInstruction = 0x0100
)

// parseLocaGlyf reads loca, checks that every glyph lies inside glyf and has a sane header,
// and checks every composite glyph's components: in range, no loops, bounded nesting.
func (f *Font) parseLocaGlyf() error {
	l := f.table(tagLoca)
	f.glyf = f.table(tagGlyf)
	n := f.numGlyphs + 1
	f.loca = make([]uint32, n)
	if f.longLoca {
		if len(l) < 4*n {
			return invalid("loca table too short (%d bytes for %d glyphs)", len(l), f.numGlyphs)
		}
		for i := range f.loca {
			f.loca[i] = binary.BigEndian.Uint32(l[4*i:])
		}
	} else {
		if len(l) < 2*n {
			return invalid("loca table too short (%d bytes for %d glyphs)", len(l), f.numGlyphs)
		}
		for i := range f.loca {
			f.loca[i] = 2 * uint32(binary.BigEndian.Uint16(l[2*i:]))
		}
	}
	f.composite = make([]bool, f.numGlyphs)
	for g := 0; g < f.numGlyphs; g++ {
		start, end := f.loca[g], f.loca[g+1]
		if start > end || uint64(end) > uint64(len(f.glyf)) {
			return invalid("loca entry for glyph %d (%d..%d) outside glyf table (%d bytes)", g, start, end, len(f.glyf))
		}
		if start == end {
			continue
		}
		gd := f.glyf[start:end]
		if len(gd) < 10 {
			return invalid("glyph %d too short (%d bytes)", g, len(gd))
		}
		nc := int16(binary.BigEndian.Uint16(gd))
		if nc < 0 {
			f.composite[g] = true
			if err := f.eachComponent(gd, func(uint16) error { return nil }); err != nil {
				return invalid("glyph %d: %v", g, err)
			}
			continue
		}
		// Simple glyph: endPtsOfContours[nc] and instructionLength must fit. The point data
		// itself is copied verbatim by Subset, never decoded here.
		if need := 10 + 2*int(nc) + 2; len(gd) < need {
			return invalid("glyph %d: %d contours do not fit in %d bytes", g, nc, len(gd))
		}
	}
	// Component references: in range, acyclic, nesting at most maxComponentDepth.
	// height[g]: 0 not yet checked, onPath while being checked, else the number of
	// composite levels from g down to simple glyphs (1 for a composite of simple glyphs).
	height := make([]uint8, f.numGlyphs)
	for g := 0; g < f.numGlyphs; g++ {
		if f.composite[g] && height[g] == 0 {
			if _, err := f.compositeHeight(uint16(g), 1, height); err != nil {
				return err
			}
		}
	}
	return nil
}

const onPath = 0xFF

// compositeHeight returns the nesting height of composite glyph g, memoised in height.
// depth is g's distance from the glyph where the check started; recursion stops with an
// error past maxComponentDepth levels either way.
func (f *Font) compositeHeight(g uint16, depth int, height []uint8) (uint8, error) {
	if depth > maxComponentDepth {
		return 0, invalid("composite glyph %d nested deeper than %d levels", g, maxComponentDepth)
	}
	height[g] = onPath
	h := uint8(1)
	err := f.eachComponent(f.glyphData(g), func(c uint16) error {
		if int(c) >= f.numGlyphs {
			return invalid("composite glyph %d refers to glyph %d; the font has %d glyphs", g, c, f.numGlyphs)
		}
		if !f.composite[c] {
			return nil
		}
		ch := height[c]
		switch ch {
		case onPath:
			return invalid("composite glyph %d refers to itself through glyph %d", g, c)
		case 0:
			var err error
			if ch, err = f.compositeHeight(c, depth+1, height); err != nil {
				return err
			}
		}
		if ch+1 > h {
			h = ch + 1
		}
		if h > maxComponentDepth {
			return invalid("composite glyph %d nested deeper than %d levels", g, maxComponentDepth)
		}
		return nil
	})
	height[g] = h
	return h, err
}

// glyphData returns the bytes of glyph g (empty for a glyph without outline). g must be in
// range.
func (f *Font) glyphData(g uint16) []byte {
	return f.glyf[f.loca[g]:f.loca[g+1]]
}

// errComponent is the plain error eachComponent returns for a structural problem; Parse
// wraps it with the glyph number.
type errComponent string

func (e errComponent) Error() string { return string(e) }

// eachComponent calls fn with the glyph index of each component of the composite glyph
// data gd (whose 10-byte header is present), stopping at the first error.
func (f *Font) eachComponent(gd []byte, fn func(uint16) error) error {
	p := 10
	for {
		if p+4 > len(gd) {
			return errComponent("component record truncated")
		}
		flags := binary.BigEndian.Uint16(gd[p:])
		c := binary.BigEndian.Uint16(gd[p+2:])
		p += 4
		if flags&argsAreWords != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&haveScale != 0:
			p += 2
		case flags&haveXYScale != 0:
			p += 4
		case flags&haveTwoByTwo != 0:
			p += 8
		}
		if p > len(gd) {
			return errComponent("component record truncated")
		}
		if err := fn(c); err != nil {
			return err
		}
		if flags&moreComponents == 0 {
			return nil
		}
	}
}

// closure marks glyph g (in range) and, recursively, the components of composite glyphs
// in keep. Parse validated the components (in range, acyclic, bounded depth); the depth
// check here is a second guard.
func (f *Font) closure(keep []bool, g uint16, depth int) {
	keep[g] = true
	if !f.composite[g] || depth > maxComponentDepth {
		return
	}
	_ = f.eachComponent(f.glyphData(g), func(c uint16) error {
		if !keep[c] {
			f.closure(keep, c, depth+1)
		}
		return nil
	})
}
