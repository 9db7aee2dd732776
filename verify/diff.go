package verify

import (
	"bytes"
	"fmt"
	"sort"
)

// The revision diff: what a reader of the final file sees, compared with what the reader
// of the signed revision saw.
//
// Every object of the final revision whose bytes live somewhere else than in the signed
// revision is parsed on both sides and compared structurally. The final revision's object
// graph is then walked from the trailer, recording through which kind of path (context)
// each object is reached. A changed object is allowed only if it is allowed in every
// context it is reached from: anything reachable as page content, resources, fonts,
// images, annotations or form values makes the change a modification; new signatures,
// their fields and appearances, and the DSS are allowed. An object reached through no path
// cannot be shown and is ignored, but the bytes appended after signing must all be
// accounted for by the cross-reference sections (so readers that rebuild a broken xref by
// scanning cannot be shown anything else).

type ctxKind uint16

const (
	ctxDoc ctxKind = 1 << iota
	ctxCatalog
	ctxAcroForm
	ctxFields
	ctxField
	ctxPage
	ctxAnnots
	ctxAnnot
	ctxSigValue
	ctxSigAP
	ctxDSS
	ctxMeta
)

type differ struct {
	s, f    *revision
	later   map[int]bool // signature dictionaries of intact later signatures
	ctx     map[int]ctxKind
	seen    map[[2]int]bool
	owner   map[int]int // annots array object → page object
	changes []Change
	steps   int
}

// diffRevisions lists the changes from s to f.
func diffRevisions(s, f *revision, later map[int]bool) []Change {
	d := &differ{s: s, f: f, later: later, ctx: map[int]ctxKind{}, seen: map[[2]int]bool{}, owner: map[int]int{}}
	changed := d.changedObjects()
	var out []Change
	if s.trailer.has("Encrypt") != f.trailer.has("Encrypt") || !equalObj(s.trailer.get("Encrypt"), f.trailer.get("Encrypt")) {
		out = append(out, Change{Category: "structure", Detail: "encryption changed"})
	}
	if len(changed) == 0 {
		return out
	}
	d.walk(f.trailer.get("Root"), ctxCatalog, 0)
	d.walk(f.trailer.get("Info"), ctxMeta, 0)
	for _, num := range changed {
		c, ok := d.ctx[num]
		if !ok {
			continue // not reachable: cannot be shown
		}
		out = append(out, d.judge(num, c))
	}
	return out
}

// changedObjects lists the objects whose value differs between s and f.
func (d *differ) changedObjects() []int {
	var out []int
	for num := range d.f.entries {
		if d.f.location(num) == d.s.location(num) {
			continue
		}
		vs, es := d.s.get(num)
		vf, ef := d.f.get(num)
		if es == nil && ef == nil && equalObj(vs, vf) {
			continue
		}
		out = append(out, num)
	}
	for num := range d.s.entries {
		if _, ok := d.f.entries[num]; !ok {
			if v, _ := d.s.get(num); v != nil {
				out = append(out, num) // disappeared (only possible with a broken chain)
			}
		}
	}
	sort.Ints(out)
	return out
}

const maxWalkSteps = 2_000_000

// walk records the contexts of every object reachable from o.
func (d *differ) walk(o object, c ctxKind, depth int) {
	d.steps++
	if depth > 200 || d.steps > maxWalkSteps {
		return
	}
	if r, ok := o.(pref); ok {
		key := [2]int{r.num, int(c)}
		d.ctx[r.num] |= c
		if d.seen[key] {
			return
		}
		d.seen[key] = true
		v, _ := d.f.get(r.num)
		d.walkValue(v, c, r.num, depth+1)
		return
	}
	d.walkValue(o, c, 0, depth+1)
}

func (d *differ) walkValue(v object, c ctxKind, num int, depth int) {
	switch x := v.(type) {
	case parray:
		for _, el := range x {
			child := c
			switch c {
			case ctxFields:
				child = ctxField
			case ctxAnnots:
				child = d.annotCtx(el)
			}
			d.walk(el, child, depth)
		}
	case *pdict:
		d.walkDict(x, c, num, depth)
	case *pstream:
		d.walkDict(x.dict, c, num, depth)
	}
}

func (d *differ) annotCtx(o object) ctxKind {
	a := d.f.dict(o)
	if nameOf(d.f.resolve(a.get("Subtype"))) == "Widget" || a.has("FT") || a.has("Parent") {
		return ctxField
	}
	return ctxAnnot
}

func (d *differ) walkDict(x *pdict, c ctxKind, num int, depth int) {
	isSig := c == ctxField && d.fieldType(x) == "Sig"
	for i, k := range x.keys {
		v := x.vals[i]
		child := ctxDoc
		switch c {
		case ctxCatalog:
			switch k {
			case "DSS":
				child = ctxDSS
			case "AcroForm":
				child = ctxAcroForm
			case "Pages":
				child = ctxPage
			case "Metadata":
				child = ctxMeta
			}
		case ctxAcroForm:
			if k == "Fields" {
				child = ctxFields
			}
		case ctxField:
			switch k {
			case "Parent":
				child = ctxField
			case "P":
				child = ctxPage
			case "V":
				if isSig {
					child = ctxSigValue
				}
			case "AP":
				if isSig {
					child = ctxSigAP
				}
			}
		case ctxPage:
			switch k {
			case "Kids", "Parent":
				child = ctxPage
			case "Annots":
				child = ctxAnnots
				if r, ok := v.(pref); ok {
					d.owner[r.num] = num
				}
			}
		case ctxSigValue:
			if k == "Data" {
				continue // FieldMDP/UR references back into the document; not shown
			}
			child = ctxSigValue
		case ctxSigAP, ctxDSS, ctxMeta:
			child = c
		}
		if c == ctxPage && k == "Annots" {
			if _, ok := v.(parray); ok {
				// Inline annotations array: its elements belong to this page.
				for _, el := range v.(parray) {
					d.walk(el, d.annotCtx(el), depth)
				}
				continue
			}
		}
		d.walk(v, child, depth)
	}
}

// fieldType returns the (inherited) /FT of a field in the final revision.
func (d *differ) fieldType(x *pdict) pname {
	for range 32 {
		if x == nil {
			return ""
		}
		if ft := nameOf(d.f.resolve(x.get("FT"))); ft != "" {
			return ft
		}
		x = d.f.dict(x.get("Parent"))
	}
	return ""
}

func (d *differ) inS(num int) bool {
	e, ok := d.s.entries[num]
	return ok && e.typ != 0
}

// judge decides whether the change of object num, reached in contexts c, is allowed.
func (d *differ) judge(num int, c ctxKind) Change {
	ch := Change{Object: num, Allowed: true}
	vf, _ := d.f.get(num)
	deny := func(cat, format string, args ...any) {
		if ch.Allowed || ch.Category == "" {
			ch.Category = cat
			ch.Detail = fmt.Sprintf(format, args...)
		}
		ch.Allowed = false
	}
	allow := func(cat, detail string) {
		if ch.Category == "" {
			ch.Category, ch.Detail = cat, detail
		}
	}
	isNew := !d.inS(num)
	for bit := ctxDoc; bit <= ctxMeta; bit <<= 1 {
		if c&bit == 0 {
			continue
		}
		switch bit {
		case ctxDSS:
			allow("dss", "validation data (DSS)")
		case ctxMeta:
			allow("metadata", "document metadata")
		case ctxSigValue, ctxSigAP:
			if isNew {
				allow("signature", "a later signature")
			} else {
				deny("signature", "an existing signature or appearance object was changed")
			}
		case ctxCatalog:
			if msg := d.catalogChange(); msg != "" {
				deny("catalog", "%s", msg)
			} else if d.catalogOnlyDSS() {
				allow("dss", "catalog: DSS added or updated")
			} else {
				allow("signature", "catalog: signature form or DSS added")
			}
		case ctxAcroForm:
			if msg := d.acroFormChange(); msg != "" {
				deny("form", "%s", msg)
			} else {
				allow("signature", "form: signature field added")
			}
		case ctxFields:
			deny("form", "a form field list outside the document's form was changed")
			if sa, fa := d.fieldsArrays(); sa != nil || fa != nil {
				if msg := d.listChange(sa, fa); msg == "" {
					ch = Change{Object: num, Allowed: true, Category: "signature", Detail: "signature field added"}
				}
			}
		case ctxField:
			if msg := d.fieldChange(num, isNew); msg != "" {
				deny("form", "%s", msg)
			} else {
				allow("signature", "signature field")
			}
		case ctxPage:
			if msg := d.pageChange(num, isNew); msg != "" {
				deny("page", "%s", msg)
			} else {
				allow("signature", "page: signature widget added")
			}
		case ctxAnnots:
			page, ok := d.owner[num]
			msg := "annotations changed"
			if ok && d.inS(page) {
				msg = d.annotsChange(page)
			}
			if msg != "" {
				deny("annotation", "%s", msg)
			} else {
				allow("signature", "page annotations: signature widget added")
			}
		case ctxAnnot:
			deny("annotation", "an annotation shown on a page was added or changed")
		case ctxDoc:
			cat := categoryOf(vf)
			if vf == nil {
				vs, _ := d.s.get(num)
				cat = categoryOf(vs)
			}
			deny(cat, "%s changed after signing", cat)
		}
	}
	if ch.Category == "" {
		ch.Category = "other"
	}
	return ch
}

func categoryOf(o object) string {
	var dct *pdict
	isStream := false
	switch x := o.(type) {
	case *pdict:
		dct = x
	case *pstream:
		dct, isStream = x.dict, true
	case nil:
		return "content"
	default:
		return "other"
	}
	switch {
	case nameOf(dct.get("Subtype")) == "Image":
		return "image"
	case nameOf(dct.get("Type")) == "Font", nameOf(dct.get("Type")) == "FontDescriptor", dct.has("BaseFont"), dct.has("FontFile2"), dct.has("FontFile"):
		return "font"
	case nameOf(dct.get("Type")) == "Page", nameOf(dct.get("Type")) == "Pages":
		return "page"
	case dct.has("FT"):
		return "form"
	case dct.has("Rect") && dct.has("Subtype"):
		return "annotation"
	case isStream:
		return "content"
	}
	return "other"
}

// catalogChange explains a disallowed catalog change, or returns "".
func (d *differ) catalogChange() string {
	sc, fc := d.s.root(), d.f.root()
	if sc == nil || fc == nil {
		return "the catalog cannot be read"
	}
	for _, k := range changedKeys(sc, fc) {
		switch k {
		case "DSS", "Metadata", "Extensions":
		case "AcroForm":
			if msg := d.acroFormChange(); msg != "" {
				return msg
			}
		default:
			return fmt.Sprintf("catalog entry /%s changed", k)
		}
	}
	return ""
}

func (d *differ) catalogOnlyDSS() bool {
	for _, k := range changedKeys(d.s.root(), d.f.root()) {
		if k != "DSS" && k != "Extensions" {
			return false
		}
	}
	return true
}

func (d *differ) acroForms() (*pdict, *pdict) {
	return d.s.dict(d.s.root().get("AcroForm")), d.f.dict(d.f.root().get("AcroForm"))
}

func (d *differ) acroFormChange() string {
	sa, fa := d.acroForms()
	if fa == nil {
		return "the form was removed"
	}
	if sa == nil {
		sa = &pdict{}
	}
	for _, k := range changedKeys(sa, fa) {
		switch k {
		case "Fields":
			if msg := d.listChange(d.fieldsArrays()); msg != "" {
				return msg
			}
		case "SigFlags":
		default:
			return fmt.Sprintf("form entry /%s changed", k)
		}
	}
	return ""
}

func (d *differ) fieldsArrays() (parray, parray) {
	sa, fa := d.acroForms()
	s, _ := d.s.resolve(sa.get("Fields")).(parray)
	f, _ := d.f.resolve(fa.get("Fields")).(parray)
	return s, f
}

// listChange checks that f keeps every element of s in order and only adds new,
// allowed signature fields or widgets.
func (d *differ) listChange(s, f parray) string {
	i := 0
	for _, el := range f {
		if i < len(s) && equalObj(s[i], el) {
			i++
			continue
		}
		if !d.allowedNewSigField(el) {
			return "a field or annotation other than a signed signature field was added"
		}
	}
	if i != len(s) {
		return "a field or annotation was removed or reordered"
	}
	return ""
}

// allowedNewSigField: a field/widget created after signing, of type signature, whose value
// is an intact later signature (or which is invisible and unsigned).
func (d *differ) allowedNewSigField(o object) bool {
	r, ok := o.(pref)
	if !ok || d.inS(r.num) {
		return false
	}
	fd := d.f.dict(r)
	if fd == nil || d.fieldType(fd) != "Sig" || fd.has("Kids") {
		return false
	}
	if v, ok := fd.get("V").(pref); ok {
		return d.later[v.num]
	}
	if fd.has("V") {
		return false
	}
	return invisible(d.f, fd)
}

// invisible reports whether a widget cannot show anything (no appearance or no area).
func invisible(r *revision, fd *pdict) bool {
	if !fd.has("AP") {
		return true
	}
	rect, _ := r.resolve(fd.get("Rect")).(parray)
	if len(rect) != 4 {
		return true
	}
	var v [4]float64
	for i, x := range rect {
		switch n := r.resolve(x).(type) {
		case pint:
			v[i] = float64(n)
		case preal:
			v[i] = float64(n)
		}
	}
	return v[0] == v[2] || v[1] == v[3]
}

// fieldChange explains a disallowed change of a field or widget, or returns "".
func (d *differ) fieldChange(num int, isNew bool) string {
	if isNew {
		if d.allowedNewSigField(pref{num: num, gen: d.f.entries[num].genOf()}) {
			return ""
		}
		return "a form field or widget was added"
	}
	sv, _ := d.s.get(num)
	fv, _ := d.f.get(num)
	sd, ok1 := sv.(*pdict)
	fd, ok2 := fv.(*pdict)
	if !ok1 || !ok2 {
		return "a form field was changed"
	}
	if d.fieldType(fd) != "Sig" {
		return "a form field value or widget was changed"
	}
	for _, k := range changedKeys(sd, fd) {
		switch k {
		case "V":
			if sd.has("V") {
				return "an existing signature was replaced"
			}
			v, ok := fd.get("V").(pref)
			if !ok || !d.later[v.num] {
				return "a signature field was given a value that is not an intact later signature"
			}
		case "AP", "AS":
			if sd.has("V") || !fd.has("V") {
				return "the appearance of a signature field changed"
			}
		default:
			return fmt.Sprintf("signature field entry /%s changed", k)
		}
	}
	return ""
}

func (e xrefEntry) genOf() int {
	if e.typ == 1 {
		return e.gen
	}
	return 0
}

// pageChange explains a disallowed change of a page or page-tree node, or returns "".
func (d *differ) pageChange(num int, isNew bool) string {
	if isNew {
		return "a page or page-tree node was added"
	}
	sv, _ := d.s.get(num)
	fv, _ := d.f.get(num)
	sd, ok1 := sv.(*pdict)
	fd, ok2 := fv.(*pdict)
	if !ok1 || !ok2 {
		return "a page was changed"
	}
	for _, k := range changedKeys(sd, fd) {
		if k != "Annots" {
			return fmt.Sprintf("page entry /%s changed", k)
		}
		if msg := d.annotsChange(num); msg != "" {
			return msg
		}
	}
	return ""
}

func (d *differ) annotsChange(page int) string {
	sp := d.s.dict(pref{num: page, gen: d.s.entries[page].genOf()})
	fp := d.f.dict(pref{num: page, gen: d.f.entries[page].genOf()})
	if sp == nil || fp == nil {
		return "annotations changed"
	}
	sa, _ := d.s.resolve(sp.get("Annots")).(parray)
	fa, _ := d.f.resolve(fp.get("Annots")).(parray)
	return d.listChange(sa, fa)
}

// accountAppended checks that every byte of data[from:to] belongs to an object or xref
// section of the revisions in f's chain that start at or after from, or is white space,
// "startxref N" or "%%EOF". It returns a description of the first unaccounted byte, or "".
func accountAppended(f *revision, from, to int64) string {
	data := f.f.data
	type span struct{ a, b int64 }
	var spans []span
	for _, sec := range f.chain {
		if sec.off < from {
			continue
		}
		spans = append(spans, span{sec.off, sec.end})
		for i, e := range sec.ents {
			if e.typ != 1 || e.off < from || e.off >= to {
				continue
			}
			p := f.f.parser(e.off)
			p.length = f.lengthOf
			n, _, _, err := p.parseIndirect()
			if err != nil || n != sec.nums[i] {
				return fmt.Sprintf("the xref entry of object %d points at no such object", sec.nums[i])
			}
			spans = append(spans, span{e.off, int64(p.pos)})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a < spans[j].a })
	pos := from
	check := func(a, b int64) string {
		if a >= b {
			return ""
		}
		p := &parser{buf: data[:b], pos: int(a), fromFile: true}
		for {
			for p.pos < len(p.buf) && isWhite(p.buf[p.pos]) {
				p.pos++
			}
			if p.pos >= len(p.buf) {
				return ""
			}
			switch {
			case bytes.HasPrefix(p.buf[p.pos:], []byte("%%EOF")):
				p.pos += 5
			case bytes.HasPrefix(p.buf[p.pos:], []byte("startxref")):
				p.pos += len("startxref")
				if _, ok := p.readUint(); !ok {
					return fmt.Sprintf("bad startxref at byte %d", p.pos)
				}
			default:
				return fmt.Sprintf("bytes %d..%d appended after signing are not part of any object the cross-reference lists", p.pos, b)
			}
		}
	}
	for _, sp := range spans {
		if sp.a > pos {
			if msg := check(pos, min(sp.a, to)); msg != "" {
				return msg
			}
		}
		pos = max(pos, sp.b)
	}
	return check(pos, to)
}
