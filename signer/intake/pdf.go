package intake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// Bounds for PDF scans, beyond Limits. They guard against files built to exhaust memory
// or time: streams that inflate enormously, object graphs nested without end.
const (
	pdfMaxStreamDecode = 32 << 20 // decoded size of any one image stream pdfcpu inflates
	// pdfMaxStructDecode bounds any other stream pdfcpu inflates while reading (object
	// streams, xref streams): a few hundred KB in real files (an xref stream of the
	// 200,000 objects allowed is about 1.4 MB); object-stream bombs stop here. pdfcpu
	// inflates into a doubling buffer, so a bomb costs about 4× this before it is refused.
	pdfMaxStructDecode = 4 << 20

	pdfMaxDepth    = 48               // nesting of objects followed through references
	pdfMaxObjects  = 200_000          // objects copied from one PDF
	pdfReadTimeout = 20 * time.Second // parsing one file (a backstop, not the main defence)
)

// pdfMaxContentDecode bounds the decoded page content of one PDF, all pages together
// (a variable for tests).
var pdfMaxContentDecode int64 = 16 << 20

// pdfPage is a leaf of the page tree with its inherited attributes.
type pdfPage struct {
	dict      types.Dict
	resources types.Object
	mediaBox  types.Object
	cropBox   types.Object
	rotate    types.Object
}

type pdfSource struct {
	f      File
	ctx    *model.Context
	leaves []pdfPage
}

func (s *pdfSource) pageCount() int { return len(s.leaves) }

// newPDFConfig returns a fresh pdfcpu configuration for one read: pdfcpu writes into the
// configuration it is given, so a shared one would be a data race. It does not touch the
// file system (unlike model.NewDefaultConfiguration).
func newPDFConfig(lim Limits) *model.Configuration {
	l := model.DefaultResourceLimits()
	l.MaxStreamBytes = lim.MaxTotalBytes
	l.MaxDecodeBytes = pdfMaxStructDecode
	l.MaxImagePixels = lim.MaxPixels
	l.MaxImageBytes = pdfMaxStreamDecode
	l.MaxObjectCount = 1_000_000
	l.MaxXRefEntries = 1_000_000
	l.MaxObjectStreamCount = 100_000
	l.MaxRecursionDepth = pdfMaxDepth
	return &model.Configuration{
		Reader15:       true,
		ValidationMode: model.ValidationRelaxed,
		Eol:            types.EolLF,
		Offline:        true,
		Limits:         l,
	}
}

// readPDF parses f and walks its page tree (pass 1). remaining is how many pages may
// still be added; more is ETOOLARGE before any page content is decoded.
func readPDF(f File, lim Limits, remaining int) (s *pdfSource, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, chungthuc.Errorf(chungthuc.EINVALID, "%q: damaged PDF file", f.Name)
		}
	}()
	c, cancel := context.WithTimeout(context.Background(), pdfReadTimeout)
	defer cancel()
	ctx, err := pdfcpu.ReadWithContext(c, bytes.NewReader(f.Data), newPDFConfig(lim))
	if err != nil {
		return nil, pdfReadError(f.Name, err)
	}
	if ctx.Encrypt != nil || ctx.E != nil {
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "%q: encrypted PDF files are not accepted; send the file without a password or protection", f.Name)
	}
	root, err := ctx.Catalog()
	if err != nil || root == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%q: damaged PDF file (no document catalog)", f.Name)
	}
	pages, err := walkPages(ctx.XRefTable, root["Pages"], remaining)
	if err == errTooManyPages {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%q: the files make more than %d pages, the limit", f.Name, lim.MaxPages)
	}
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%q: damaged PDF file (%v)", f.Name, err)
	}
	if len(pages) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%q: the PDF file has no pages", f.Name)
	}
	return &pdfSource{f: f, ctx: ctx, leaves: pages}, nil
}

func pdfReadError(name string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, pdfcpu.ErrWrongPassword), strings.Contains(msg, "encrypt"), strings.Contains(msg, "password"):
		return chungthuc.Errorf(chungthuc.EUNSUPPORTED, "%q: encrypted PDF files are not accepted; send the file without a password or protection", name)
	case errors.Is(err, context.DeadlineExceeded):
		return chungthuc.Errorf(chungthuc.ETOOLARGE, "%q: the PDF file is too complex to read in %v", name, pdfReadTimeout)
	case strings.Contains(msg, "limit"):
		return chungthuc.Errorf(chungthuc.ETOOLARGE, "%q: the PDF file exceeds a size limit for its internal structures (%s)", name, firstLine(msg))
	}
	return chungthuc.Errorf(chungthuc.EINVALID, "%q: damaged or unreadable PDF file", name)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

var errTooManyPages = errors.New("too many pages")

// walkPages collects the leaves of the page tree in order, with inherited attributes.
// A node met twice (a loop or a shared subtree), a tree deeper than pdfMaxDepth, or more
// than max pages ends the walk with an error.
func walkPages(xt *model.XRefTable, root types.Object, max int) ([]pdfPage, error) {
	var pages []pdfPage
	seen := map[int]bool{}
	var walk func(o types.Object, inh pdfPage, depth int) error
	walk = func(o types.Object, inh pdfPage, depth int) error {
		if depth > pdfMaxDepth {
			return errors.New("page tree too deep")
		}
		if ref, ok := o.(types.IndirectRef); ok {
			n := ref.ObjectNumber.Value()
			if seen[n] {
				return errors.New("page tree has a loop")
			}
			seen[n] = true
		}
		d, err := xt.DereferenceDict(o)
		if err != nil || d == nil {
			return errors.New("bad page tree node")
		}
		for key, p := range map[string]*types.Object{"Resources": &inh.resources, "MediaBox": &inh.mediaBox, "CropBox": &inh.cropBox, "Rotate": &inh.rotate} {
			if v, ok := d[key]; ok && v != nil {
				*p = v
			}
		}
		kids, isNode := d["Kids"]
		if t := d.Type(); t != nil && *t == "Page" || !isNode {
			if len(pages) >= max {
				return errTooManyPages
			}
			inh.dict = d
			pages = append(pages, inh)
			return nil
		}
		ka, err := xt.DereferenceArray(kids)
		if err != nil {
			return errors.New("bad page tree node")
		}
		for _, k := range ka {
			if err := walk(k, inh, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if root == nil {
		return nil, errors.New("no page tree")
	}
	return pages, walk(root, pdfPage{}, 0)
}

// box reads a rectangle, normalised so that x0 < x1 and y0 < y1.
func box(xt *model.XRefTable, o types.Object) (r [4]float64, ok bool) {
	a, err := xt.DereferenceArray(o)
	if err != nil || len(a) != 4 {
		return r, false
	}
	for i, v := range a {
		f, err := xt.DereferenceNumber(v)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e6 {
			return r, false
		}
		r[i] = f
	}
	if r[0] > r[2] {
		r[0], r[2] = r[2], r[0]
	}
	if r[1] > r[3] {
		r[1], r[3] = r[3], r[1]
	}
	return r, r[2]-r[0] >= 1 && r[3]-r[1] >= 1
}

// pageGeometry returns the visible box of the page (CropBox within MediaBox) and its
// rotation (0, 90, 180 or 270).
func pageGeometry(xt *model.XRefTable, p pdfPage) (b [4]float64, rot int, err error) {
	mb, ok := box(xt, p.mediaBox)
	if !ok {
		return b, 0, errors.New("missing or bad MediaBox")
	}
	b = mb
	if cb, ok := box(xt, p.cropBox); ok {
		i := [4]float64{max(cb[0], mb[0]), max(cb[1], mb[1]), min(cb[2], mb[2]), min(cb[3], mb[3])}
		if i[2]-i[0] >= 1 && i[3]-i[1] >= 1 {
			b = i
		}
	}
	if p.rotate != nil {
		if r, err := xt.DereferenceInteger(p.rotate); err == nil && r != nil {
			rot = r.Value() % 360
			if rot < 0 {
				rot += 360
			}
			if rot%90 != 0 {
				rot = 0 // as viewers do with an invalid /Rotate
			}
		}
	}
	return b, rot, nil
}

// pageMatrix maps the page's box (rotated by rot clockwise, as viewers show it) onto
// [0 0 W H] with the origin at the lower left.
func pageMatrix(b [4]float64, rot int) (m matrix, w, h float64) {
	x0, y0 := b[0], b[1]
	bw, bh := b[2]-b[0], b[3]-b[1]
	switch rot {
	case 90:
		return matrix{0, -1, 1, 0, -y0, bw + x0}, bh, bw
	case 180:
		return matrix{-1, 0, 0, -1, bw + x0, bh + y0}, bw, bh
	case 270:
		return matrix{0, 1, -1, 0, bh + y0, -x0}, bh, bw
	}
	return matrix{1, 0, 0, 1, -x0, -y0}, bw, bh
}

func (s *pdfSource) pages(lim Limits, rep *Report) (out []Page, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, chungthuc.Errorf(chungthuc.EINVALID, "%q: damaged PDF file", s.f.Name)
		}
	}()
	xt := s.ctx.XRefTable
	name := s.f.Name
	reportCatalog(xt, name, rep)
	g := newGraph(xt, name, lim, rep)
	shared := &emitter{g: g}
	for i, p := range s.leaves {
		label := fmt.Sprintf("%s page %d", name, i+1)
		g.where = label
		b, rot, err := pageGeometry(xt, p)
		if err != nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "%q page %d: damaged PDF page (%v)", name, i+1, err)
		}
		reportPage(xt, p.dict, label, rep)
		form, err := g.pageForm(p, b)
		if err != nil {
			return nil, err
		}
		m, w, h := pageMatrix(b, rot)
		content := drawContent(m)
		out = append(out, Page{
			Width: w, Height: h, Source: label,
			Emit: shared.emitFunc(form, content),
		})
	}
	return out, nil
}

// reportCatalog names what the document level carries that the copy drops.
func reportCatalog(xt *model.XRefTable, name string, rep *Report) {
	root, err := xt.Catalog()
	if err != nil || root == nil {
		return
	}
	if oa, ok := root["OpenAction"]; ok && oa != nil {
		if isJavaScriptAction(xt, oa) {
			rep.add("%s: JavaScript (OpenAction) removed", name)
		} else if d, err := xt.DereferenceDict(oa); err == nil && d != nil {
			rep.add("%s: action on opening (OpenAction) removed", name)
		}
	}
	if aa, err := xt.DereferenceDict(root["AA"]); err == nil && aa != nil {
		rep.add("%s: document actions (AA) removed", name)
	}
	if names, err := xt.DereferenceDict(root["Names"]); err == nil && names != nil {
		if names["JavaScript"] != nil {
			rep.add("%s: JavaScript (document scripts) removed", name)
		}
		if names["EmbeddedFiles"] != nil {
			rep.add("%s: embedded files removed", name)
		}
	}
	if root["Collection"] != nil {
		rep.add("%s: portfolio (collection) removed", name)
	}
	if af, err := xt.DereferenceDict(root["AcroForm"]); err == nil && af != nil {
		rep.add("%s: form fields (AcroForm) removed", name)
		if af["XFA"] != nil {
			rep.add("%s: XFA form removed", name)
		}
	}
	if root["OCProperties"] != nil {
		rep.add("%s: optional content (hidden layers) removed; all content is shown", name)
	}
	if root["Outlines"] != nil {
		rep.add("%s: bookmarks removed", name)
	}
	if root["Metadata"] != nil {
		rep.add("%s: metadata removed", name)
	}
	if root["AF"] != nil {
		rep.add("%s: embedded files removed", name)
	}
}

// reportPage names what a page carries that the copy drops: annotations (links and form
// fields among them) and page actions.
func reportPage(xt *model.XRefTable, d types.Dict, label string, rep *Report) {
	if annots, err := xt.DereferenceArray(d["Annots"]); err == nil && len(annots) > 0 {
		counts := map[string]int{}
		var order []string
		for _, a := range annots {
			what := "other annotation"
			if ad, err := xt.DereferenceDict(a); err == nil && ad != nil {
				if st := ad.Subtype(); st != nil {
					what = map[string]string{"Link": "link", "Widget": "form field", "FileAttachment": "attached file",
						"Text": "note", "Screen": "media", "RichMedia": "media", "Movie": "media", "Sound": "media",
						"Popup": "popup", "3D": "3D object"}[*st]
					if what == "" {
						what = *st + " annotation"
					}
				}
				if ad["A"] != nil && isJavaScriptAction(xt, ad["A"]) || ad["AA"] != nil {
					rep.add("%s: JavaScript or actions in annotations removed", label)
				}
			}
			if counts[what] == 0 {
				order = append(order, what)
			}
			counts[what]++
		}
		parts := make([]string, len(order))
		for i, w := range order {
			parts[i] = fmt.Sprintf("%d %s", counts[w], w)
		}
		rep.add("%s: annotations removed: %s", label, strings.Join(parts, ", "))
	}
	if d["AA"] != nil {
		rep.add("%s: page actions (AA) removed", label)
	}
	if d["Metadata"] != nil {
		rep.add("%s: metadata removed", label)
	}
}

func isJavaScriptAction(xt *model.XRefTable, o types.Object) bool {
	d, err := xt.DereferenceDict(o)
	if err != nil || d == nil {
		return false
	}
	s := d.NameEntry("S")
	return s != nil && *s == "JavaScript" || d["JS"] != nil
}
