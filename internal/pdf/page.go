package pdf

import (
	"errors"
	"fmt"
	"math"
)

// Pages, their content, annotations and appearance streams: what a revision shows.

// MaxPageTreeDepth bounds the nesting of the page tree.
const MaxPageTreeDepth = 64

// ErrTooManyPages is returned by Pages when the tree has more leaves than asked for.
var ErrTooManyPages = errors.New("too many pages")

// Rect is a rectangle in default user space, normalised so that X0 <= X1 and Y0 <= Y1.
type Rect struct{ X0, Y0, X1, Y1 float64 }

// Empty reports whether r has no area.
func (r Rect) Empty() bool { return r.X0 >= r.X1 || r.Y0 >= r.Y1 }

// Intersect returns the intersection of r and s (an empty Rect when they do not meet).
func (r Rect) Intersect(s Rect) Rect {
	out := Rect{max(r.X0, s.X0), max(r.Y0, s.Y0), min(r.X1, s.X1), min(r.Y1, s.Y1)}
	if out.Empty() {
		return Rect{}
	}
	return out
}

// Rect resolves o as an array of four finite numbers and returns it normalised; ok is
// false for anything else.
func (r *Revision) Rect(o Object) (Rect, bool) {
	a := r.Array(o)
	if len(a) != 4 {
		return Rect{}, false
	}
	var v [4]float64
	for i, x := range a {
		f, ok := NumberOf(r.Resolve(x))
		if !ok {
			return Rect{}, false
		}
		v[i] = f
	}
	return Rect{min(v[0], v[2]), min(v[1], v[3]), max(v[0], v[2]), max(v[1], v[3])}, true
}

// Matrix is a transformation matrix [a b c d e f]: (x, y) → (ax + cy + e, bx + dy + f).
type Matrix [6]float64

// Identity is the identity matrix.
var Identity = Matrix{1, 0, 0, 1, 0, 0}

// Mul returns m × n: first m, then n (the order of PDF's "cm" concatenation: a new
// "m cm" under current matrix n gives m.Mul(n)).
func (m Matrix) Mul(n Matrix) Matrix {
	return Matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// Apply transforms the point (x, y).
func (m Matrix) Apply(x, y float64) (float64, float64) {
	return m[0]*x + m[2]*y + m[4], m[1]*x + m[3]*y + m[5]
}

// TransformRect returns the bounding box of r transformed by m.
func (m Matrix) TransformRect(r Rect) Rect {
	xs, ys := [4]float64{}, [4]float64{}
	xs[0], ys[0] = m.Apply(r.X0, r.Y0)
	xs[1], ys[1] = m.Apply(r.X1, r.Y0)
	xs[2], ys[2] = m.Apply(r.X0, r.Y1)
	xs[3], ys[3] = m.Apply(r.X1, r.Y1)
	out := Rect{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for i := range 4 {
		out.X0, out.X1 = min(out.X0, xs[i]), max(out.X1, xs[i])
		out.Y0, out.Y1 = min(out.Y0, ys[i]), max(out.Y1, ys[i])
	}
	return out
}

// Matrix resolves o as an array of six finite numbers; ok is false for anything else.
func (r *Revision) Matrix(o Object) (Matrix, bool) {
	a := r.Array(o)
	if len(a) != 6 {
		return Matrix{}, false
	}
	var m Matrix
	for i, x := range a {
		f, ok := NumberOf(r.Resolve(x))
		if !ok {
			return Matrix{}, false
		}
		m[i] = f
	}
	return m, true
}

// Page is a leaf of a revision's page tree with the attributes it inherits.
type Page struct {
	Ref       Ref   // the page object; Num is 0 when the page is a direct object
	Dict      *Dict // the page dictionary
	Resources *Dict // /Resources, inherited, resolved; nil when none
	// MediaBox is /MediaBox (inherited), ok false when missing or malformed; CropBox is
	// /CropBox (inherited) clipped to the MediaBox, the MediaBox when missing, malformed
	// or empty after clipping.
	MediaBox, CropBox Rect
	MediaBoxOK        bool
	Rotate            int // /Rotate (inherited), 0, 90, 180 or 270 (other values read as 0)
}

// Pages walks the page tree from the catalog's /Pages and returns its leaves in order. A
// node with /Type /Page, or without /Kids, is a leaf. A node met twice (a loop or a shared
// subtree), a tree deeper than MaxPageTreeDepth or a node that is not a dictionary is an
// error; more than max leaves is ErrTooManyPages (max <= 0: no bound but Limits).
func (r *Revision) Pages(max int) ([]Page, error) {
	root := r.Root()
	if root == nil || root.Get("Pages") == nil {
		return nil, errors.New("no page tree")
	}
	type inherited struct {
		res, media, crop, rotate Object
	}
	var pages []Page
	seen := map[int]bool{}
	var walk func(o Object, inh inherited, depth int) error
	walk = func(o Object, inh inherited, depth int) error {
		if depth > MaxPageTreeDepth {
			return errors.New("page tree too deep")
		}
		var ref Ref
		if rf, ok := o.(Ref); ok {
			if seen[rf.Num] {
				return errors.New("page tree has a loop")
			}
			seen[rf.Num] = true
			ref = rf
		}
		d := r.Dict(o)
		if d == nil {
			return fmt.Errorf("page tree node %v is not a dictionary", ref)
		}
		for k, p := range map[Name]*Object{"Resources": &inh.res, "MediaBox": &inh.media, "CropBox": &inh.crop, "Rotate": &inh.rotate} {
			if v := d.Get(k); v != nil {
				*p = v
			}
		}
		kids := d.Get("Kids")
		if NameOf(r.Resolve(d.Get("Type"))) == "Page" || kids == nil {
			if max > 0 && len(pages) >= max {
				return ErrTooManyPages
			}
			pages = append(pages, r.page(ref, d, inh.res, inh.media, inh.crop, inh.rotate))
			return nil
		}
		ka, ok := r.Resolve(kids).(Array)
		if !ok {
			return fmt.Errorf("page tree node %v: /Kids is not an array", ref)
		}
		for _, k := range ka {
			if err := walk(k, inh, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root.Get("Pages"), inherited{}, 0); err != nil {
		return nil, err
	}
	return pages, nil
}

func (r *Revision) page(ref Ref, d *Dict, res, media, crop, rotate Object) Page {
	p := Page{Ref: ref, Dict: d, Resources: r.Dict(res)}
	p.MediaBox, p.MediaBoxOK = r.Rect(media)
	p.CropBox = p.MediaBox
	if cb, ok := r.Rect(crop); ok && p.MediaBoxOK {
		if c := cb.Intersect(p.MediaBox); !c.Empty() {
			p.CropBox = c
		}
	}
	if n, ok := IntOf(r.Resolve(rotate)); ok {
		n %= 360
		if n < 0 {
			n += 360
		}
		if n%90 == 0 {
			p.Rotate = int(n)
		}
	}
	return p
}

// ContentStreams returns the streams of a page's /Contents (a stream or an array of
// streams; elements that are not streams are skipped).
func (r *Revision) ContentStreams(p Page) []*Stream {
	switch c := r.Resolve(p.Dict.Get("Contents")).(type) {
	case *Stream:
		return []*Stream{c}
	case Array:
		var out []*Stream
		for _, o := range c {
			if s := r.Stream(o); s != nil {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// PageContent returns the page's content: its content streams decoded and joined with a
// newline between them (a content stream may end in the middle of a token only where the
// next one continues it; the newline keeps tokens apart, as viewers do). Decoding is
// charged to the File's budgets.
func (r *Revision) PageContent(p Page) ([]byte, error) {
	streams := r.ContentStreams(p)
	if len(streams) == 1 {
		return r.Decode(streams[0])
	}
	var out []byte
	for i, s := range streams {
		b, err := r.Decode(s)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out = append(out, '\n')
		}
		out = append(out, b...)
	}
	return out, nil
}

// Annotation is one entry of a page's /Annots.
type Annotation struct {
	Ref     Ref   // Num is 0 for a direct annotation dictionary
	Dict    *Dict // the annotation dictionary
	Subtype Name
	Rect    Rect // /Rect; RectOK false when missing or malformed
	RectOK  bool
	Flags   int64 // /F (0 when absent)
}

// Annotation flags (/F) that decide whether an annotation is shown.
const (
	AnnotInvisible = 1 << 0
	AnnotHidden    = 1 << 1
	AnnotNoView    = 1 << 5
)

// Annotations returns the annotations of page p in /Annots order (entries that are not
// dictionaries are skipped).
func (r *Revision) Annotations(p Page) []Annotation {
	var out []Annotation
	for _, o := range r.Array(p.Dict.Get("Annots")) {
		d := r.Dict(o)
		if d == nil {
			continue
		}
		a := Annotation{Dict: d, Subtype: NameOf(r.Resolve(d.Get("Subtype")))}
		if ref, ok := o.(Ref); ok {
			a.Ref = ref
		}
		a.Rect, a.RectOK = r.Rect(d.Get("Rect"))
		a.Flags, _ = IntOf(r.Resolve(d.Get("F")))
		out = append(out, a)
	}
	return out
}

// Appearance returns the normal appearance stream of an annotation: /AP /N when it is a
// stream, or the entry of /AP /N named by /AS when /N is a dictionary of states; nil
// when there is none. A viewer maps the appearance's /BBox, transformed by its /Matrix,
// onto the annotation's /Rect (PDF 32000-1, 12.5.5) and clips to it, so an appearance
// paints inside /Rect, and paints nothing when its /BBox (or /Rect) has no area.
func (r *Revision) Appearance(annot *Dict) *Stream {
	ap := r.Dict(annot.Get("AP"))
	n := r.Resolve(ap.Get("N"))
	switch n := n.(type) {
	case *Stream:
		return n
	case *Dict:
		as := NameOf(r.Resolve(annot.Get("AS")))
		if as == "" {
			return nil
		}
		return r.Stream(n.Get(as))
	}
	return nil
}
