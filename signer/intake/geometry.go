package intake

import (
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// A4 in points.
const (
	a4Short = 595.276
	a4Long  = 841.89
)

// Resolutions outside this range, or a page larger than maxInches on a side, are taken as
// "unknown" and the image is fitted to A4 instead.
const (
	minDPI    = 50
	maxDPI    = 1200
	maxInches = 200
)

// matrix is a PDF transformation matrix [a b c d e f].
type matrix [6]float64

// orientationMatrix maps the unit square of an image as stored to the unit square as
// displayed, for EXIF orientation o (1–8; anything else is 1). In image space the stored
// first row is at the top (v = 1).
func orientationMatrix(o int) matrix {
	switch o {
	case 2: // mirrored horizontally
		return matrix{-1, 0, 0, 1, 1, 0}
	case 3: // rotated 180°
		return matrix{-1, 0, 0, -1, 1, 1}
	case 4: // mirrored vertically
		return matrix{1, 0, 0, -1, 0, 1}
	case 5: // transposed: row 0 is the left side, column 0 the top
		return matrix{0, -1, -1, 0, 1, 1}
	case 6: // needs 90° clockwise: row 0 is the right side, column 0 the top
		return matrix{0, -1, 1, 0, 0, 1}
	case 7: // transversed: row 0 is the right side, column 0 the bottom
		return matrix{0, 1, 1, 0, 0, 0}
	case 8: // needs 90° counter-clockwise: row 0 is the left side, column 0 the bottom
		return matrix{0, 1, -1, 0, 1, 0}
	}
	return matrix{1, 0, 0, 1, 0, 0}
}

// swapsAxes reports whether EXIF orientation o turns the image by 90° (5–8).
func swapsAxes(o int) bool { return o >= 5 && o <= 8 }

// imageLayout is where an image goes on its page.
type imageLayout struct {
	pageW, pageH float64 // page size in points
	m            matrix  // the cm that draws the image XObject
	dpi          float64 // effective resolution: pixels per inch of the drawn image, the smaller axis
	box          [4]float64
}

// layoutImage computes the page and placement of a w×h-pixel image (as stored) with EXIF
// orientation o and resolution dpiX×dpiY (0 if unknown; X along the stored rows).
func layoutImage(w, h int, dpiX, dpiY float64, o int) imageLayout {
	// Displayed size in pixels and dots per inch.
	dw, dh := float64(w), float64(h)
	rx, ry := dpiX, dpiY
	if swapsAxes(o) {
		dw, dh = dh, dw
		rx, ry = ry, rx
	}
	var pw, ph, iw, ih, x, y float64
	if plausibleDPI(rx) && plausibleDPI(ry) && dw/rx <= maxInches && dh/ry <= maxInches {
		pw, ph = dw/rx*72, dh/ry*72
		iw, ih = pw, ph
	} else {
		pw, ph = a4Short, a4Long
		if dw > dh {
			pw, ph = ph, pw
		}
		s := min(pw/dw, ph/dh)
		iw, ih = dw*s, dh*s
		x, y = (pw-iw)/2, (ph-ih)/2
	}
	n := orientationMatrix(o)
	dpi := min(dw/(iw/72), dh/(ih/72))
	return imageLayout{pageW: pw, pageH: ph, dpi: dpi, box: [4]float64{x, y, x + iw, y + ih}, m: matrix{iw * n[0], ih * n[1], iw * n[2], ih * n[3], iw*n[4] + x, ih*n[5] + y}}
}

// plausibleDPI: 72 dpi is what cameras and phones write when they know nothing, so it
// counts as unknown.
func plausibleDPI(d float64) bool { return d >= minDPI && d <= maxDPI && d != 72 }

// drawContent returns "q <m> cm /S0 Do Q".
func drawContent(m matrix) []byte {
	b := make([]byte, 0, 80)
	b = append(b, "q "...)
	for _, v := range m {
		b = pdfdoc.AppendReal(b, v)
		b = append(b, ' ')
	}
	return append(b, "cm /S0 Do Q\n"...)
}
