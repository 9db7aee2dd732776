package signer

import (
	"strings"

	"github.com/chungthuc/chungthuc"
)

// box is a rectangle in PDF user space (points, origin at the lower left).
type box struct{ X0, Y0, X1, Y1 float64 }

// overlaps reports whether a and b share any area.
func (a box) overlaps(b box) bool { return a.X0 < b.X1 && b.X0 < a.X1 && a.Y0 < b.Y1 && b.Y0 < a.Y1 }

// line is one laid-out line of text.
type line struct {
	fn    string // fnRegular or fnBold
	size  float64
	x, y  float64 // baseline start
	s     string
	red   bool // the agency's signature information, in the seal's ink
	box   box  // from the font's ascent to its descent, over the measured advance width
	label string
}

// statementLayout is where everything on the statement page goes. Every element has a
// measured box; no two boxes overlap except the seal and the signature image, which overlap
// by design (Decree 30/2020 Appendix I: the seal covers about a third of the signature on
// its left).
type statementLayout struct {
	lines []line
	qr    box // the QR code
	sig   box // the officer's signature image (or where the placeholder goes)
	seal  box // the agency's seal (the signature widget's rectangle)
}

// Scan page layout: a scan is drawn, reduced if necessary, inside the page less these
// margins, so that the footer (below footerTop) never covers any of it.
const (
	scanMarginSide   = 8.0
	scanMarginTop    = 8.0
	scanMarginBottom = 28.0 // the footer's baseline is at 12 pt; its 8 pt glyphs end below 20 pt
	footerBaseline   = 12.0
	footerSize       = 8.0
)

// scanPlacement returns the scale and offset that draw a page of w×h points inside the safe
// area of a page of the same size: the largest scale ≤ 1 that fits, centred horizontally,
// on the safe area's vertical centre.
func scanPlacement(w, h float64) (scale, tx, ty float64) {
	sw, sh := w-2*scanMarginSide, h-scanMarginTop-scanMarginBottom
	scale = min(1, sw/w, sh/h)
	tx = (w - w*scale) / 2
	ty = scanMarginBottom + (sh-h*scale)/2
	return scale, tx, ty
}

// Liberation Serif's vertical metrics (hhea ascender 1825, descender −443 per 2048 em).
const (
	fontAscent  = 1825.0 / 2048
	fontDescent = 443.0 / 2048
)

// Statement page geometry (A4 portrait).
const (
	pageLeft   = 72.0
	pageRight  = a4W - 72
	colLeft    = 263.0 // the signer's column: the date, heading, title, signatures, name
	colRight   = pageRight
	qrSide     = 104.0
	qrTextW    = 180.0
	sigW, sigH = 150.0, 60.0
	// DefaultSealMM is the seal's diameter when the unit's record gives none: the usual
	// size of a commune People's Committee's round seal.
	DefaultSealMM = 36.0
	minSealMM     = 15.0
	maxSealMM     = 50.0
)

// qrCaption is printed above the verification link.
const qrCaption = "Quét mã để kiểm tra bản sao:"

// sealInfo is the agency's signature information printed under the officer's name: the
// agency's full body name with its province, and the signing time (ISO 8601, +07:00).
func sealInfo(body, province, at string) []string {
	who := body
	if province != "" {
		who += ", " + province
	}
	return []string{"Ký bởi: " + who, "Thời gian ký: " + at}
}

// layoutStatement measures and places the statement page: st's lines (Lines), the QR code
// and its caption and link, the signature image, the seal of sealMM millimetres and the
// agency's signature information (info).
func (d *document) layoutStatement(st Statement, url string, info []string, sealMM float64) statementLayout {
	var L statementLayout
	all := st.Lines()
	cursor := 800.0 // top of the next line
	add := func(fn string, size float64, s string, x0, x1 float64, centred, red bool, label string) {
		e := d.regular
		if fn == fnBold {
			e = d.bold
		}
		for _, l := range wrap(e, s, size, x1-x0) {
			w := e.width(l, size)
			x := x0
			if centred {
				x = (x0+x1)/2 - w/2
			}
			base := cursor - fontAscent*size
			L.lines = append(L.lines, line{fn: fn, size: size, x: x, y: base, s: l, red: red, label: label,
				box: box{x, base - fontDescent*size, x + w, cursor}})
			cursor -= size * 1.25
		}
	}
	add(fnRegular, 13, all[0], pageLeft, pageRight, false, false, "statement")
	add(fnRegular, 13, all[1], pageLeft, pageRight, false, false, "number")
	cursor -= 12
	top := cursor
	add(fnRegular, 13, all[2], colLeft, colRight, true, false, "date")
	add(fnBold, 12.5, all[3], colLeft, colRight, true, false, "heading")
	n := len(all)
	for _, t := range all[4 : n-1] {
		if t == unsignedMark {
			continue
		}
		add(fnBold, 12.5, t, colLeft, colRight, true, false, "title")
	}
	// The signatures: the signature image centred in the column, the seal over its left third.
	D := sealMM / 25.4 * 72
	H := max(D, sigH)
	cursor -= 4
	cx := (colLeft + colRight) / 2
	vc := cursor - H/2
	sx0 := cx - sigW/2
	sealLeft := sx0 + sigW/3 - D
	if sealLeft < colLeft { // a large seal: move the pair right, keeping the overlap
		sx0 += colLeft - sealLeft
		sealLeft = colLeft
	}
	L.sig = box{sx0, vc - sigH/2, sx0 + sigW, vc + sigH/2}
	L.seal = box{sealLeft, vc - D/2, sealLeft + D, vc + D/2}
	if !st.Signed {
		// The placeholder sits in the two thirds of the signature's place the seal leaves free.
		const size = 11
		w := d.regular.width(unsignedMark, size)
		x := L.sig.X0 + sigW*2/3 - w/2
		base := vc - (fontAscent-fontDescent)*size/2
		L.lines = append(L.lines, line{fn: fnRegular, size: size, x: x, y: base, s: unsignedMark, label: "unsigned",
			box: box{x, base - fontDescent*size, x + w, base + fontAscent*size}})
	}
	cursor -= H + 6
	add(fnBold, 13, all[n-1], colLeft, colRight, true, false, "name")
	cursor -= 4
	for _, s := range info {
		add(fnRegular, 8.5, s, colLeft, colRight, true, true, "seal")
	}
	// The QR code at the left, level with the date, its caption and link below it.
	L.qr = box{pageLeft, top - qrSide, pageLeft + qrSide, top}
	cursor = top - qrSide - 4
	add(fnRegular, 8, qrCaption, pageLeft, pageLeft+qrTextW, false, false, "caption")
	for _, l := range splitURL(d.regular, url, 7, qrTextW) {
		add(fnRegular, 7, l, pageLeft, pageLeft+qrTextW, false, false, "url")
	}
	return L
}

// sealArcs returns the texts of the drawn seal's top and bottom arcs: the body's name along
// the top when it already says "ỦY BAN NHÂN DÂN" (never twice) with the province below, else
// "ỦY BAN NHÂN DÂN" on top and the unit's name below.
func sealArcs(body, province string) (top, bottom string) {
	B := strings.ToUpper(body)
	if strings.Contains(B, sealTopText) {
		return B, strings.ToUpper(province)
	}
	return sealTopText, B
}

// sealMillimetres checks the seal's recorded size (0: DefaultSealMM).
func sealMillimetres(mm float64) (float64, error) {
	if mm == 0 {
		return DefaultSealMM, nil
	}
	if !(mm >= minSealMM && mm <= maxSealMM) {
		return 0, chungthuc.Errorf(chungthuc.EINVALID, "kích thước con dấu %.1f mm không hợp lệ (the seal's size must be %g–%g mm)", mm, minSealMM, maxSealMM)
	}
	return mm, nil
}
