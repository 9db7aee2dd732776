package intake

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"math"
	"strconv"
	"sync"
	"weak"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/pdf"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
	"github.com/pdfcpu/pdfcpu/pkg/filter"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// A graph holds the sanitised copy of what the pages of one PDF scan need, as pdfdoc
// objects. References between them are placeholders, pdfdoc.Ref{Num: -(i+1)} for node i;
// Emit replaces them with objects allocated in the Writer. Each source object becomes at
// most one node per role, so shared fonts and images are copied once.
type graph struct {
	xt     *model.XRefTable
	name   string
	lim    Limits
	rep    *Report
	where  string // "file.pdf page 3", for messages
	nodes  []pdfdoc.Object
	index  map[nodeKey]int
	budget int64 // decoded content bytes still allowed
}

type role int

const (
	roleAny       role = iota
	roleResources      // a /Resources dictionary: only the allowed resource types are kept
	roleContent        // a stream of content operators (glyph procedures of Type 3 fonts)
)

type nodeKey struct {
	num  int
	role role
}

func newGraph(xt *model.XRefTable, name string, lim Limits, rep *Report) *graph {
	return &graph{xt: xt, name: name, lim: lim, rep: rep, index: map[nodeKey]int{}, budget: pdfMaxContentDecode}
}

func (g *graph) invalid(detail string) error {
	return chungthuc.Errorf(chungthuc.EINVALID, "%q: damaged PDF file (%s)", g.where, detail)
}

// Resource types a scan may use. Everything else in /Resources is dropped and reported.
var allowedResources = map[string]bool{
	"Font": true, "XObject": true, "ExtGState": true, "ColorSpace": true,
	"Pattern": true, "Shading": true, "ProcSet": true,
}

// Keys dropped from every dictionary copied, with the report line (empty: silently).
var droppedKeys = map[string]string{
	"OC":            "optional content (hidden layers) removed; all content is shown",
	"AA":            "actions removed",
	"A":             "actions removed",
	"JS":            "JavaScript removed",
	"Metadata":      "metadata removed",
	"PieceInfo":     "",
	"LastModified":  "",
	"StructParent":  "",
	"StructParents": "",
	"OPI":           "OPI proxy references removed",
	"Alternates":    "alternate images removed",
	"Ref":           "reference to an external page removed",
	"F":             "",
	"FFilter":       "",
	"FDecodeParms":  "",
	"DL":            "",
	"Length":        "",
}

// pageForm builds the node of a page as a Form XObject: its box, sanitised resources and
// its content streams concatenated and rewritten.
func (g *graph) pageForm(p pdfPage, b [4]float64) (int, error) {
	d := pdfdoc.Dict{
		"Type": pdfdoc.Name("XObject"), "Subtype": pdfdoc.Name("Form"),
		"BBox": pdfdoc.Array{num(b[0]), num(b[1]), num(b[2]), num(b[3])},
	}
	if p.resources != nil {
		r, err := g.convert(p.resources, roleResources, 0)
		if err != nil {
			return 0, err
		}
		d["Resources"] = r
	}
	if grp, ok := p.dict["Group"]; ok && grp != nil {
		o, err := g.convert(grp, roleAny, 0)
		if err != nil {
			return 0, err
		}
		d["Group"] = o
	}
	// Contents: a stream or an array of streams, concatenated.
	var parts []types.StreamDict
	c, err := g.xt.Dereference(p.dict["Contents"])
	if err != nil {
		return 0, g.invalid("page contents")
	}
	switch c := c.(type) {
	case nil:
	case types.StreamDict:
		parts = append(parts, c)
	case types.Array:
		for _, o := range c {
			s, err := g.xt.Dereference(o)
			if err != nil {
				return 0, g.invalid("page contents")
			}
			if sd, ok := s.(types.StreamDict); ok {
				parts = append(parts, sd)
			}
		}
	default:
		return 0, g.invalid("page contents")
	}
	var data []byte
	if len(parts) == 1 {
		s, err := g.contentStream(parts[0], d)
		if err != nil {
			return 0, err
		}
		return g.add(s), nil
	}
	for _, sd := range parts {
		b, err := g.decode(sd)
		if err != nil {
			return 0, err
		}
		data = append(data, b...)
		data = append(data, '\n')
	}
	s, err := g.rewrite(data, d, nil)
	if err != nil {
		return 0, err
	}
	return g.add(s), nil
}

func (g *graph) add(o pdfdoc.Object) int {
	g.nodes = append(g.nodes, o)
	return len(g.nodes) - 1
}

func placeholder(i int) pdfdoc.Ref { return pdfdoc.Ref{Num: -(i + 1)} }

func num(f float64) pdfdoc.Object {
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) < 1e-9 {
		f = 0
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return pdfdoc.Int(int64(f))
	}
	// Full precision: Type 3 font matrices and the like need more than 4 decimals.
	return pdfdoc.Raw(strconv.FormatFloat(f, 'f', -1, 64))
}

// decode inflates a content stream within the remaining budget.
func (g *graph) decode(sd types.StreamDict) ([]byte, error) {
	if len(sd.Raw) == 0 {
		return nil, nil
	}
	if plainFlate(sd) {
		// The common case, and the bombs' shape: inflated here within the budget, holding
		// at most the budget (pdfcpu's decoder grows a bytes.Buffer to twice that).
		zr, err := zlib.NewReader(bytes.NewReader(sd.Raw))
		if err != nil {
			return nil, g.invalid("a content stream cannot be decoded")
		}
		data, err := pdf.ReadAtMost(zr, max(g.budget, 0), int64(len(sd.Raw)))
		_ = zr.Close() // a reader over memory: nothing to release or report
		switch {
		case errors.Is(err, pdf.ErrBomb):
			return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%q: the page content inflates to more than %s, the limit", g.where, mb(pdfMaxContentDecode))
		case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
			return nil, g.invalid("a content stream cannot be decoded")
		}
		g.budget -= int64(len(data))
		return data, nil
	}
	sd.Content = nil
	if err := sd.DecodeWithLimit(g.budget); err != nil {
		if errors.Is(err, filter.ErrDecodeLimitExceeded) {
			return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%q: the page content inflates to more than %s, the limit", g.where, mb(pdfMaxContentDecode))
		}
		return nil, g.invalid("a content stream cannot be decoded")
	}
	g.budget -= int64(len(sd.Content))
	if g.budget < 0 {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%q: the page content inflates to more than %s, the limit", g.where, mb(pdfMaxContentDecode))
	}
	return sd.Content, nil
}

// plainFlate reports whether sd is FlateDecode alone, without parameters.
func plainFlate(sd types.StreamDict) bool {
	if sd.Dict["DecodeParms"] != nil {
		return false
	}
	switch f := sd.Dict["Filter"].(type) {
	case types.Name:
		return f == "FlateDecode"
	case types.Array:
		return len(f) == 1 && f[0] == types.Name("FlateDecode")
	}
	return false
}

// contentStream copies a stream of content operators with dictionary d (already
// converted), rewriting marked content; the source bytes pass through when nothing
// changes and they are plainly Flate-compressed.
func (g *graph) contentStream(sd types.StreamDict, d pdfdoc.Dict) (*pdfdoc.Stream, error) {
	data, err := g.decode(sd)
	if err != nil {
		return nil, err
	}
	var raw []byte
	if plainFlate(sd) {
		raw = sd.Raw
	}
	return g.rewrite(data, d, raw)
}

func (g *graph) rewrite(data []byte, d pdfdoc.Dict, raw []byte) (*pdfdoc.Stream, error) {
	mc, err := rewriteMarkedContent(data)
	if err != nil {
		return nil, g.invalid("malformed page content")
	}
	if mc.oc > 0 {
		g.rep.add("%s: optional content (hidden layers) removed; all content is shown", g.where)
	}
	delete(d, "DecodeParms")
	if mc.changed == 0 && raw != nil {
		d["Filter"] = pdfdoc.Name("FlateDecode")
		return &pdfdoc.Stream{Dict: d, Data: raw}, nil
	}
	return pdfdoc.FlateStream(d, mc.out), nil
}

// convert copies o for the role r, following references (each source object becomes one
// node).
func (g *graph) convert(o types.Object, r role, depth int) (pdfdoc.Object, error) {
	if depth > pdfMaxDepth {
		return nil, g.invalid("objects nested too deeply")
	}
	ref, ok := o.(types.IndirectRef)
	if !ok {
		return g.direct(o, r, depth)
	}
	key := nodeKey{ref.ObjectNumber.Value(), r}
	if i, ok := g.index[key]; ok {
		return placeholder(i), nil // also closes cycles: node i may still be in conversion
	}
	if len(g.nodes) >= pdfMaxObjects {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%q: more than %d objects to copy", g.where, pdfMaxObjects)
	}
	v, err := g.xt.Dereference(ref)
	if err != nil {
		return nil, g.invalid("unreadable object")
	}
	i := g.add(nil)
	g.index[key] = i
	c, err := g.direct(v, r, depth)
	if err != nil {
		return nil, err
	}
	g.nodes[i] = c
	return placeholder(i), nil
}

// direct copies a direct object (its children may be references).
func (g *graph) direct(o types.Object, r role, depth int) (pdfdoc.Object, error) {
	switch o := o.(type) {
	case nil:
		return pdfdoc.Null{}, nil
	case types.Boolean:
		return pdfdoc.Bool(o), nil
	case types.Integer:
		return pdfdoc.Int(o), nil
	case types.Float:
		return num(float64(o)), nil
	case types.Name:
		return pdfdoc.Name(o), nil
	case types.StringLiteral:
		b, err := types.Unescape(string(o))
		if err != nil {
			return nil, g.invalid("bad string")
		}
		return pdfdoc.String(b), nil
	case types.HexLiteral:
		b, err := o.Bytes()
		if err != nil {
			return nil, g.invalid("bad string")
		}
		return pdfdoc.Hex(b), nil
	case types.Array:
		a := make(pdfdoc.Array, 0, len(o))
		for _, e := range o {
			c, err := g.convert(e, roleAny, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, c)
		}
		return a, nil
	case types.Dict:
		if r == roleResources {
			return g.resources(o, depth)
		}
		return g.dict(o, depth)
	case types.StreamDict:
		return g.stream(o, r, depth)
	case types.IndirectRef:
		return g.convert(o, r, depth+1)
	}
	return nil, g.invalid("unexpected object")
}

// dict copies a dictionary without the keys in droppedKeys.
func (g *graph) dict(o types.Dict, depth int) (pdfdoc.Dict, error) {
	d := make(pdfdoc.Dict, len(o))
	for k, v := range o {
		if what, drop := droppedKeys[k]; drop {
			if what != "" {
				g.rep.add("%s: %s", g.where, what)
			}
			continue
		}
		r := roleAny
		switch k {
		case "Resources":
			r = roleResources
		case "CharProcs":
			cp, err := g.xt.DereferenceDict(v)
			if err != nil {
				return nil, g.invalid("bad glyph procedures")
			}
			out := make(pdfdoc.Dict, len(cp))
			for name, proc := range cp {
				c, err := g.convert(proc, roleContent, depth+1)
				if err != nil {
					return nil, err
				}
				out[pdfdoc.Name(name)] = c
			}
			d["CharProcs"] = out
			continue
		}
		c, err := g.convert(v, r, depth+1)
		if err != nil {
			return nil, err
		}
		d[pdfdoc.Name(k)] = c
	}
	return d, nil
}

// resources copies a /Resources dictionary: only the allowed resource types; property
// lists (marked content, optional content) and anything unknown are dropped.
func (g *graph) resources(o types.Dict, depth int) (pdfdoc.Dict, error) {
	d := pdfdoc.Dict{}
	for k, v := range o {
		if !allowedResources[k] {
			if k == "Properties" {
				if g.hasOC(v) {
					g.rep.add("%s: optional content (hidden layers) removed; all content is shown", g.where)
				}
				continue
			}
			g.rep.add("%s: resources of type /%s removed", g.where, k)
			continue
		}
		if k == "ProcSet" {
			continue // obsolete, and never needed
		}
		cat, err := g.xt.DereferenceDict(v)
		if err != nil {
			return nil, g.invalid("bad /" + k + " resources")
		}
		out := make(pdfdoc.Dict, len(cat))
		for name, res := range cat {
			c, err := g.convert(res, roleAny, depth+1)
			if err != nil {
				return nil, err
			}
			out[pdfdoc.Name(name)] = c
		}
		d[pdfdoc.Name(k)] = out
	}
	return d, nil
}

// hasOC reports whether a /Properties resource dictionary holds optional content groups
// or membership dictionaries.
func (g *graph) hasOC(o types.Object) bool {
	props, err := g.xt.DereferenceDict(o)
	if err != nil {
		return false
	}
	for _, v := range props {
		if p, err := g.xt.DereferenceDict(v); err == nil && p != nil {
			if t := p.Type(); t != nil && (*t == "OCG" || *t == "OCMD") {
				return true
			}
		}
	}
	return false
}

// stream copies a stream. Streams of content operators (Form XObjects, tiling patterns,
// Type 3 glyphs) are decoded and rewritten; everything else (images, fonts, functions) is
// copied as encoded, filters and all, without being decoded. PostScript XObjects become
// empty forms; images are held to the pixel limit.
func (g *graph) stream(sd types.StreamDict, r role, depth int) (pdfdoc.Object, error) {
	st := sd.Dict.Subtype()
	switch {
	case st != nil && *st == "PS":
		// Replaced by an empty form, so that "Do" still finds an XObject.
		g.rep.add("%s: PostScript XObject removed", g.where)
		return &pdfdoc.Stream{Dict: pdfdoc.Dict{"Type": pdfdoc.Name("XObject"), "Subtype": pdfdoc.Name("Form"),
			"BBox": pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Int(0)}}}, nil
	case st != nil && *st == "Image":
		w, _ := g.xt.DereferenceInteger(sd.Dict["Width"])
		h, _ := g.xt.DereferenceInteger(sd.Dict["Height"])
		if w == nil || h == nil || *w <= 0 || *h <= 0 {
			return nil, g.invalid("image without a size")
		}
		if err := tooManyPixels(g.where, int64(*w), int64(*h), g.lim); err != nil {
			return nil, err
		}
	}
	pt := sd.Dict.IntEntry("PatternType")
	content := r == roleContent || st != nil && *st == "Form" || pt != nil && *pt == 1
	d, err := g.dict(sd.Dict, depth)
	if err != nil {
		return nil, err
	}
	if content {
		return g.contentStream(sd, d)
	}
	return &pdfdoc.Stream{Dict: d, Data: sd.Raw}, nil
}

// emitter writes the nodes of one graph into Writers. Objects shared by several pages of
// the source go into a Writer once: the emitter remembers, per Writer, which nodes are
// there already. The Writer is held by a weak pointer, so the emitter does not keep it
// alive, and a new Writer never inherits the record of an old one.
type emitter struct {
	g       *graph
	mu      sync.Mutex
	written map[weak.Pointer[pdfdoc.Writer]][]pdfdoc.Ref
}

func (e *emitter) emitFunc(node int, content []byte) func(w *pdfdoc.Writer) (pdfdoc.Dict, []byte, error) {
	return func(w *pdfdoc.Writer) (pdfdoc.Dict, []byte, error) {
		ref := e.emit(w, node)
		return pdfdoc.Dict{"XObject": pdfdoc.Dict{"S0": ref}}, content, nil
	}
}

func (e *emitter) emit(w *pdfdoc.Writer, root int) pdfdoc.Ref {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.written == nil {
		e.written = map[weak.Pointer[pdfdoc.Writer]][]pdfdoc.Ref{}
	}
	for k := range e.written {
		if k.Value() == nil {
			delete(e.written, k)
		}
	}
	key := weak.Make(w)
	refs := e.written[key]
	if refs == nil {
		refs = make([]pdfdoc.Ref, len(e.g.nodes))
		e.written[key] = refs
	}
	// Find the nodes reachable from root that w does not have yet; allocate, then write.
	var todo []int
	stack := []int{root}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if refs[i].Num != 0 {
			continue
		}
		refs[i] = w.Alloc()
		todo = append(todo, i)
		eachPlaceholder(e.g.nodes[i], func(j int) { stack = append(stack, j) })
	}
	for _, i := range todo {
		w.Put(refs[i], substitute(e.g.nodes[i], refs))
	}
	return refs[root]
}

func eachPlaceholder(o pdfdoc.Object, f func(int)) {
	switch o := o.(type) {
	case pdfdoc.Ref:
		if o.Num < 0 {
			f(-o.Num - 1)
		}
	case pdfdoc.Dict:
		for _, v := range o {
			eachPlaceholder(v, f)
		}
	case pdfdoc.Array:
		for _, v := range o {
			eachPlaceholder(v, f)
		}
	case *pdfdoc.Stream:
		eachPlaceholder(o.Dict, f)
	}
}

// substitute returns a copy of o with placeholders replaced by refs (stream data shared).
func substitute(o pdfdoc.Object, refs []pdfdoc.Ref) pdfdoc.Object {
	switch o := o.(type) {
	case pdfdoc.Ref:
		if o.Num < 0 {
			return refs[-o.Num-1]
		}
		return o
	case pdfdoc.Dict:
		d := make(pdfdoc.Dict, len(o))
		for k, v := range o {
			d[k] = substitute(v, refs)
		}
		return d
	case pdfdoc.Array:
		a := make(pdfdoc.Array, len(o))
		for i, v := range o {
			a[i] = substitute(v, refs)
		}
		return a
	case *pdfdoc.Stream:
		return &pdfdoc.Stream{Dict: substitute(o.Dict, refs).(pdfdoc.Dict), Data: o.Data}
	}
	return o
}
