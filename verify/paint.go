package verify

import (
	"github.com/chungthuc/chungthuc/internal/pdf"

	"errors"
	"io"
	"math"
)

// What a page of a signed revision paints, as rectangles in default user space: the
// ground truth against which a later widget's appearance is judged ("does it cover
// anything the signer saw?").
//
// The page's content streams are interpreted just enough to place every mark: the
// graphics state stack (CTM, a rectangular clip, line width, whether the fill/stroke
// colour is white), paths (m l c v y re, painted by f F f* B B* b b* S s, clipped by W W*),
// images (Do of an image XObject, inline images: the unit square under the CTM), form
// XObjects (interpreted recursively under their /Matrix, clipped to their /BBox), shadings
// (sh: the current clip) and text (BT … ET with Tf Tc Tw Tz TL Ts Tr Td TD Tm T* Tj TJ ' ";
// each string's box is its advance — /Widths of a simple font, else 1 em per byte — by
// -0.3 to 1.2 em, under the text matrix and CTM). Everything is over-approximated: a box
// may be larger than the ink, never smaller (except for white fills on the white page and
// invisible text, Tr 3, which paint nothing a reader can see). Anything the interpreter
// cannot follow — malformed content, a budget exhausted, too deep a nesting — makes the
// whole page count as painted: a hostile file gets the strict answer, never the lenient
// one.

// Budgets of the paint analysis, per verification.
const (
	maxPaintOps      = 2_000_000 // content operators interpreted in all pages and forms
	maxPaintBoxes    = 20_000    // rectangles kept per page (further marks are merged)
	maxPaintDepth    = 8         // form XObjects within form XObjects
	maxGraphicsStack = 256       // q nesting
)

var errPaintBudget = errors.New("paint analysis budget exhausted")

// paintCache holds the painted areas computed during one verification and the budget they
// share.
type paintCache struct {
	ops   int
	pages map[[2]int64][]pdf.Rect
}

func newPaintCache() *paintCache {
	return &paintCache{ops: maxPaintOps, pages: map[[2]int64][]pdf.Rect{}}
}

// painted returns the areas painted by page p of revision r (clipped to its MediaBox).
func (pc *paintCache) painted(r *pdf.Revision, p pdf.Page) []pdf.Rect {
	key := [2]int64{r.End(), int64(p.Ref.Num)}
	if boxes, ok := pc.pages[key]; ok {
		return boxes
	}
	page := p.MediaBox
	if !p.MediaBoxOK {
		page = pdf.Rect{X0: -1e9, Y0: -1e9, X1: 1e9, Y1: 1e9}
	}
	pt := &painter{r: r, pc: pc, page: page, fonts: map[*pdf.Dict]*fontMetrics{}}
	content, err := r.PageContent(p)
	if err == nil {
		err = pt.run(content, p.Resources, pdf.Identity, page, 0)
	}
	var boxes []pdf.Rect
	if err != nil {
		boxes = []pdf.Rect{page} // cannot tell: the whole page counts as painted
	} else {
		boxes = pt.boxes
		if !pt.overflow.Empty() {
			boxes = append(boxes, pt.overflow)
		}
	}
	pc.pages[key] = boxes
	return boxes
}

type gstate struct {
	ctm                    pdf.Matrix
	clip                   pdf.Rect
	lineWidth              float64
	fillWhite, strokeWhite bool
	font                   *fontMetrics
	fontSize, tc, tw, th   float64
	leading, rise          float64
	renderMode             int
}

type fontMetrics struct {
	first   int
	widths  []float64 // in text space units per 1 em (glyph width / 1000)
	twoByte bool
}

type painter struct {
	r        *pdf.Revision
	pc       *paintCache
	page     pdf.Rect
	boxes    []pdf.Rect
	overflow pdf.Rect
	fonts    map[*pdf.Dict]*fontMetrics
}

// mark records a painted rectangle (already in default user space), clipped.
func (pt *painter) mark(r, clip pdf.Rect) {
	if math.IsNaN(r.X0) || math.IsNaN(r.Y0) || math.IsNaN(r.X1) || math.IsNaN(r.Y1) {
		r = pt.page
	}
	r = r.Intersect(clip).Intersect(pt.page)
	if r.Empty() {
		return
	}
	if len(pt.boxes) < maxPaintBoxes {
		pt.boxes = append(pt.boxes, r)
		return
	}
	if pt.overflow.Empty() {
		pt.overflow = r
		return
	}
	pt.overflow = pdf.Rect{X0: min(pt.overflow.X0, r.X0), Y0: min(pt.overflow.Y0, r.Y0), X1: max(pt.overflow.X1, r.X1), Y1: max(pt.overflow.Y1, r.Y1)}
}

func translate(x, y float64) pdf.Matrix { return pdf.Matrix{1, 0, 0, 1, x, y} }

// run interprets one content stream (a page's or a form's) with resources res, starting
// with matrix ctm and clip.
func (pt *painter) run(content []byte, res *pdf.Dict, ctm pdf.Matrix, clip pdf.Rect, depth int) error {
	if depth > maxPaintDepth {
		return errPaintBudget
	}
	g := gstate{ctm: ctm, clip: clip, lineWidth: 1, th: 1}
	var stack []gstate
	var tm, tlm pdf.Matrix
	var path pdf.Rect
	hasPath, pendingClip := false, false
	addPoint := func(x, y float64) {
		x, y = g.ctm.Apply(x, y)
		if !hasPath {
			path = pdf.Rect{X0: x, Y0: y, X1: x, Y1: y}
			hasPath = true
			return
		}
		path = pdf.Rect{X0: min(path.X0, x), Y0: min(path.Y0, y), X1: max(path.X1, x), Y1: max(path.Y1, y)}
	}
	endPath := func(fill, stroke bool) {
		if hasPath {
			if fill && !g.fillWhite {
				pt.mark(path, g.clip)
			}
			if stroke && !g.strokeWhite {
				// Half the line width, in user space (the larger scale of the CTM).
				w := max(g.lineWidth, 1) / 2 * max(math.Hypot(g.ctm[0], g.ctm[1]), math.Hypot(g.ctm[2], g.ctm[3]), 1)
				pt.mark(pdf.Rect{X0: path.X0 - w, Y0: path.Y0 - w, X1: path.X1 + w, Y1: path.Y1 + w}, g.clip)
			}
			if pendingClip {
				g.clip = g.clip.Intersect(path)
			}
		}
		hasPath, pendingClip = false, false
	}
	l := pdf.NewContentLexer(content)
	num := func(op pdf.Op, i int) float64 {
		if i < 0 || i >= len(op.Operands) {
			return 0
		}
		v, _ := l.Number(op.Operands[i])
		return v
	}
	// last n operands as numbers (operators take their operands from the end).
	nums := func(op pdf.Op, n int) ([]float64, bool) {
		if len(op.Operands) < n {
			return nil, false
		}
		out := make([]float64, n)
		for i, t := range op.Operands[len(op.Operands)-n:] {
			v, ok := l.Number(t)
			if !ok {
				return nil, false
			}
			out[i] = v
		}
		return out, true
	}
	show := func(s []byte, adjust float64) {
		w := 0.0
		fm := g.font
		step := 1
		if fm != nil && fm.twoByte {
			step = 2
		}
		for i := 0; i < len(s); i += step {
			gw := 1.0
			if fm != nil && len(fm.widths) > 0 {
				if j := int(s[i]) - fm.first; j >= 0 && j < len(fm.widths) {
					gw = fm.widths[j]
				}
			}
			w += (gw*g.fontSize + g.tc) * g.th
			if step == 1 && s[i] == ' ' {
				w += g.tw * g.th
			}
		}
		w -= adjust / 1000 * g.fontSize * g.th
		if g.renderMode != 3 && g.renderMode != 7 {
			box := pdf.Rect{X0: min(0, w), Y0: -0.3*g.fontSize + g.rise, X1: max(0, w), Y1: 1.2*g.fontSize + g.rise}
			if box.Y0 > box.Y1 {
				box.Y0, box.Y1 = box.Y1, box.Y0
			}
			pt.mark(tm.Mul(g.ctm).TransformRect(box), g.clip)
		}
		tm = translate(w, 0).Mul(tm)
	}
	for {
		if pt.pc.ops--; pt.pc.ops < 0 {
			return errPaintBudget
		}
		op, err := l.NextOp()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch op.Name(l) {
		case "q":
			if len(stack) >= maxGraphicsStack {
				return errPaintBudget
			}
			stack = append(stack, g)
		case "Q":
			if n := len(stack); n > 0 {
				g = stack[n-1]
				stack = stack[:n-1]
			}
		case "cm":
			if v, ok := nums(op, 6); ok {
				g.ctm = pdf.Matrix{v[0], v[1], v[2], v[3], v[4], v[5]}.Mul(g.ctm)
			}
		case "w":
			g.lineWidth = num(op, len(op.Operands)-1)
		case "g":
			g.fillWhite = num(op, len(op.Operands)-1) >= 1
		case "G":
			g.strokeWhite = num(op, len(op.Operands)-1) >= 1
		case "rg":
			v, ok := nums(op, 3)
			g.fillWhite = ok && v[0] >= 1 && v[1] >= 1 && v[2] >= 1
		case "RG":
			v, ok := nums(op, 3)
			g.strokeWhite = ok && v[0] >= 1 && v[1] >= 1 && v[2] >= 1
		case "k":
			v, ok := nums(op, 4)
			g.fillWhite = ok && v[0] <= 0 && v[1] <= 0 && v[2] <= 0 && v[3] <= 0
		case "K":
			v, ok := nums(op, 4)
			g.strokeWhite = ok && v[0] <= 0 && v[1] <= 0 && v[2] <= 0 && v[3] <= 0
		case "cs", "sc", "scn":
			g.fillWhite = false
		case "CS", "SC", "SCN":
			g.strokeWhite = false
		case "m", "l":
			if v, ok := nums(op, 2); ok {
				addPoint(v[0], v[1])
			}
		case "c":
			if v, ok := nums(op, 6); ok {
				addPoint(v[0], v[1])
				addPoint(v[2], v[3])
				addPoint(v[4], v[5])
			}
		case "v", "y":
			if v, ok := nums(op, 4); ok {
				addPoint(v[0], v[1])
				addPoint(v[2], v[3])
			}
		case "re":
			if v, ok := nums(op, 4); ok {
				addPoint(v[0], v[1])
				addPoint(v[0]+v[2], v[1]+v[3])
				addPoint(v[0], v[1]+v[3])
				addPoint(v[0]+v[2], v[1])
			}
		case "W", "W*":
			pendingClip = true
		case "f", "F", "f*":
			endPath(true, false)
		case "S", "s":
			endPath(false, true)
		case "B", "B*", "b", "b*":
			endPath(true, true)
		case "n":
			endPath(false, false)
		case "sh":
			pt.mark(g.clip, g.clip)
		case "BI":
			pt.mark(g.ctm.TransformRect(pdf.Rect{X1: 1, Y1: 1}), g.clip)
		case "Do":
			if len(op.Operands) == 0 {
				continue
			}
			xo := pt.r.Stream(pt.r.Dict(res.Get("XObject")).Get(l.Name(op.Operands[len(op.Operands)-1])))
			if xo == nil {
				continue
			}
			switch pdf.NameOf(pt.r.Resolve(xo.Dict.Get("Subtype"))) {
			case "Image":
				pt.mark(g.ctm.TransformRect(pdf.Rect{X1: 1, Y1: 1}), g.clip)
			case "Form":
				m, ok := pt.r.Matrix(xo.Dict.Get("Matrix"))
				if !ok {
					m = pdf.Identity
				}
				fctm := m.Mul(g.ctm)
				fclip := g.clip
				if bb, ok := pt.r.Rect(xo.Dict.Get("BBox")); ok {
					fclip = fclip.Intersect(fctm.TransformRect(bb))
				}
				if fclip.Empty() {
					continue
				}
				body, err := pt.r.Decode(xo)
				if err != nil {
					return err
				}
				fres := pt.r.Dict(xo.Dict.Get("Resources"))
				if fres == nil {
					fres = res
				}
				if err := pt.run(body, fres, fctm, fclip, depth+1); err != nil {
					return err
				}
			default:
				pt.mark(g.clip, g.clip) // PostScript or unknown: assume it paints its clip
			}
		case "BT":
			tm, tlm = pdf.Identity, pdf.Identity
		case "Tf":
			if len(op.Operands) >= 2 {
				g.fontSize = num(op, len(op.Operands)-1)
				g.font = pt.font(pt.r.Dict(pt.r.Dict(res.Get("Font")).Get(l.Name(op.Operands[len(op.Operands)-2]))))
			}
		case "Tc":
			g.tc = num(op, len(op.Operands)-1)
		case "Tw":
			g.tw = num(op, len(op.Operands)-1)
		case "Tz":
			g.th = num(op, len(op.Operands)-1) / 100
		case "TL":
			g.leading = num(op, len(op.Operands)-1)
		case "Ts":
			g.rise = num(op, len(op.Operands)-1)
		case "Tr":
			g.renderMode = int(num(op, len(op.Operands)-1))
		case "Td", "TD":
			if v, ok := nums(op, 2); ok {
				tlm = translate(v[0], v[1]).Mul(tlm)
				tm = tlm
				if op.Name(l) == "TD" {
					g.leading = -v[1]
				}
			}
		case "Tm":
			if v, ok := nums(op, 6); ok {
				tlm = pdf.Matrix{v[0], v[1], v[2], v[3], v[4], v[5]}
				tm = tlm
			}
		case "T*":
			tlm = translate(0, -g.leading).Mul(tlm)
			tm = tlm
		case "Tj", "'", "\"":
			if op.Name(l) != "Tj" {
				if op.Name(l) == "\"" && len(op.Operands) >= 3 {
					g.tw = num(op, len(op.Operands)-3)
					g.tc = num(op, len(op.Operands)-2)
				}
				tlm = translate(0, -g.leading).Mul(tlm)
				tm = tlm
			}
			if len(op.Operands) > 0 {
				if s, ok := pt.value(l, op.Operands[len(op.Operands)-1]).(pdf.String); ok {
					show(s.Value, 0)
				}
			}
		case "TJ":
			if len(op.Operands) == 0 {
				continue
			}
			arr, _ := pt.value(l, op.Operands[len(op.Operands)-1]).(pdf.Array)
			adjust := 0.0
			for _, el := range arr {
				switch x := el.(type) {
				case pdf.String:
					show(x.Value, adjust)
					adjust = 0
				default:
					if n, ok := pdf.NumberOf(x); ok {
						adjust += n
					}
				}
			}
			if adjust != 0 {
				show(nil, adjust)
			}
		}
	}
}

func (pt *painter) value(l *pdf.ContentLexer, t pdf.Token) pdf.Object {
	v, err := l.Value(t)
	if err != nil {
		return nil
	}
	return v
}

// font returns what the painter knows of a font's metrics: the /Widths of a simple font,
// or that it is a composite (Type0) font whose codes are read two bytes at a time (every
// glyph then counts 1 em: CJK and Latin glyphs are at most about that wide).
func (pt *painter) font(d *pdf.Dict) *fontMetrics {
	if d == nil {
		return nil
	}
	if fm, ok := pt.fonts[d]; ok {
		return fm
	}
	fm := &fontMetrics{}
	if pdf.NameOf(pt.r.Resolve(d.Get("Subtype"))) == "Type0" {
		// Identity-H/V codes are two bytes; another CMap may use one-byte codes, so
		// every byte counts 1 em then.
		enc := pdf.NameOf(pt.r.Resolve(d.Get("Encoding")))
		fm.twoByte = enc == "Identity-H" || enc == "Identity-V"
		if !fm.twoByte {
			fm.widths = nil
		}
	} else if ws := pt.r.Array(d.Get("Widths")); len(ws) > 0 && len(ws) <= 65536 {
		first, _ := pdf.IntOf(pt.r.Resolve(d.Get("FirstChar")))
		fm.first = int(first)
		scale := 1.0 / 1000
		if m, ok := pt.r.Matrix(d.Get("FontMatrix")); ok {
			scale = math.Abs(m[0]) // Type 3: glyph space to text space
		}
		fm.widths = make([]float64, len(ws))
		for i, w := range ws {
			n, ok := pdf.NumberOf(pt.r.Resolve(w))
			if !ok || n*scale > 2 || n < 0 {
				n = 1 / scale // unknown or odd: 1 em (or the value, capped)
			}
			fm.widths[i] = max(n*scale, 0.5) // never narrower than half an em
		}
	}
	pt.fonts[d] = fm
	return fm
}
