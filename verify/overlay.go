package verify

import (
	"github.com/chungthuc/chungthuc/internal/pdf"

	"fmt"
)

// The overlay rule ("sneaky signatures"). DocMDP P=2 and approval signatures allow a
// later signer to add a signature field, and a signature field may have a visible
// appearance — which a viewer paints on top of the page. An appearance that covers what
// the signed revision painted changes what the page shows, whatever the objects say. So,
// for every page of the final revision that the signed revision also has, every
// annotation that the final revision shows and the signed revision did not reserve is
// compared with what the signed revision paints on that page:
//
//   - shown in the final revision: not Hidden or NoView (/F bits 2 and 6), a normal
//     appearance stream for a widget (other annotations are drawn without one: a note
//     icon, FreeText from /DA and /Contents, a link's border; a popup only when /Open),
//     and a /Rect (normalised) whose intersection with the page's
//     MediaBox has an area. A viewer clips an appearance to /Rect (PDF 32000-1 12.5.5),
//     so /Rect ∩ MediaBox bounds what it can paint; a /Rect far larger than the page is
//     the whole page, and one off the page paints nothing.
//   - reserved by the signed revision: the same annotation object was on the same page,
//     not Hidden or NoView, with an area on the page (a prepared signature field the
//     certifier placed, with or without an appearance; its /Rect cannot change, see
//     fieldChange). A hidden or zero-size widget that becomes visible later (a /F change)
//     is not reserved.
//   - painted by the signed revision: the page's content (see paint.go) and the /Rect of
//     every annotation the signed revision shows on that page (an earlier signature's
//     visible appearance is content too).
//
// An unreserved shown annotation whose area meets a painted area is a modification for
// that signature: "an appearance paints over content of the signed revision".

// drawn reports whether a viewer draws annotation a of revision r on page p, and where
// (see the rule above: widgets need an appearance stream, other annotations do not, a
// popup is drawn only while open).
func drawn(r *pdf.Revision, p pdf.Page, a pdf.Annotation) (pdf.Rect, bool) {
	if a.Subtype == "Popup" {
		if open, _ := r.Resolve(a.Dict.Get("Open")).(pdf.Bool); !open {
			return pdf.Rect{}, false
		}
	}
	return annotShown(r, p, a, isFieldAnnot(r, a.Dict))
}

// maxOverlayPages bounds the page tree walked for the overlay rule.
const maxOverlayPages = 100_000

func annotShown(r *pdf.Revision, p pdf.Page, a pdf.Annotation, needAppearance bool) (pdf.Rect, bool) {
	if a.Flags&(pdf.AnnotHidden|pdf.AnnotNoView) != 0 {
		return pdf.Rect{}, false
	}
	if needAppearance && r.Appearance(a.Dict) == nil {
		return pdf.Rect{}, false
	}
	if !a.RectOK {
		// A shown annotation whose /Rect cannot be read: a viewer may place it anywhere.
		if p.MediaBoxOK {
			return p.MediaBox, true
		}
		return pdf.Rect{X0: -1e9, Y0: -1e9, X1: 1e9, Y1: 1e9}, true
	}
	area := a.Rect
	if p.MediaBoxOK {
		area = area.Intersect(p.MediaBox)
	}
	return area, !area.Empty()
}

// overlays returns one disallowed change per annotation of the final revision that paints
// over content of the signed revision.
func (d *differ) overlays() []Change {
	if d.paint == nil {
		return nil
	}
	fpages, err := d.f.Pages(maxOverlayPages)
	if err != nil {
		return nil // the page tree itself is judged by the object diff
	}
	var spages map[int]pdf.Page
	var out []Change
	for i, fp := range fpages {
		if fp.Ref.Num == 0 {
			continue
		}
		for _, a := range d.f.Annotations(fp) {
			area, shown := drawn(d.f, fp, a)
			if !shown {
				continue
			}
			if spages == nil {
				spages = map[int]pdf.Page{}
				sp, err := d.s.Pages(maxOverlayPages)
				if err != nil {
					return nil
				}
				for _, p := range sp {
					if p.Ref.Num != 0 {
						spages[p.Ref.Num] = p
					}
				}
			}
			sp, ok := spages[fp.Ref.Num]
			if !ok {
				continue // a page added after signing: a modification of its own
			}
			sAnnots := d.s.Annotations(sp)
			self := 0
			if a.Ref.Num != 0 {
				if old, ok := reserved(d.s, sp, sAnnots, a.Ref.Num); ok {
					if !d.annots || isFieldAnnot(d.f, a.Dict) || old.Intersect(area) == area {
						continue
					}
					// A comment that DocMDP P=3 lets a reader change, now reaching beyond
					// the area it had: judged like a new one, against all but itself.
					self = a.Ref.Num
				}
			}
			if hit, ok := d.paintedOver(sp, sAnnots, area, self); ok {
				out = append(out, Change{Object: a.Ref.Num, Category: "annotation", Detail: fmt.Sprintf(
					"the appearance of %s on page %d (/Rect [%s]) paints over content of the signed revision at [%s]",
					annotName(d.f, a), i+1, fmtRect(a.Rect), fmtRect(hit))})
			}
		}
	}
	return out
}

// reserved reports whether annotation num was on page sp of the signed revision, not
// hidden, with an area on the page, and returns that area.
func reserved(s *pdf.Revision, sp pdf.Page, annots []pdf.Annotation, num int) (pdf.Rect, bool) {
	for _, a := range annots {
		if a.Ref.Num == num {
			return annotShown(s, sp, a, false)
		}
	}
	return pdf.Rect{}, false
}

// paintedOver returns a painted area of page sp of the signed revision that meets area;
// annotation self (if not 0) does not count.
func (d *differ) paintedOver(sp pdf.Page, annots []pdf.Annotation, area pdf.Rect, self int) (pdf.Rect, bool) {
	for _, a := range annots {
		if self != 0 && a.Ref.Num == self {
			continue
		}
		if r, ok := drawn(d.s, sp, a); ok {
			if hit := r.Intersect(area); !hit.Empty() {
				return hit, true
			}
		}
	}
	for _, r := range d.paint.painted(d.s, sp) {
		if hit := r.Intersect(area); !hit.Empty() {
			return hit, true
		}
	}
	return pdf.Rect{}, false
}

func annotName(r *pdf.Revision, a pdf.Annotation) string {
	what := "annotation"
	if a.Subtype != "" {
		what = string(a.Subtype) + " annotation"
	}
	if a.Ref.Num != 0 {
		what += fmt.Sprintf(" %d", a.Ref.Num)
	}
	if t, ok := r.Resolve(a.Dict.Get("T")).(pdf.String); ok && len(t.Value) > 0 && len(t.Value) <= 64 {
		what += fmt.Sprintf(" (field %q)", decodeText(t.Value))
	}
	return what
}

func fmtRect(r pdf.Rect) string {
	return fmt.Sprintf("%.0f %.0f %.0f %.0f", r.X0, r.Y0, r.X1, r.Y1)
}
