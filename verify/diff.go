package verify

import (
	"github.com/chungthuc/chungthuc/internal/pdf"

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

type ctxKind uint32

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
	ctxFormRes // AcroForm /DR: resources for appearances a viewer generates
	ctxExt     // catalog /Extensions: developer extension declarations
	ctxStruct  // the logical structure tree (tags): read by assistive technology, not shown
	ctxNames   // the catalog's name dictionary (/Names)
	ctxNamedAP // its /AP name tree: named annotation appearances, used by no page by itself
	ctxAnnotX  // an annotation that DocMDP P=3 does not allow (links, actions, attachments, media)
)

type differ struct {
	s, f  *pdf.Revision
	later map[int]bool // signature dictionaries of intact later signatures
	ctx   map[int]ctxKind
	seen  map[[2]int]bool
	owner map[int]int // annots array object → page object
	steps int
	paint *paintCache // nil: no overlay analysis
	// annots: the document's certification allows annotations (DocMDP P=3): markup
	// annotations may be created, changed and deleted (ISO 32000-1 12.8.2.2, table 254).
	// Widgets, fields and the overlay rule are judged as for P=2.
	annots bool
	// prepared: objects of the previous appearance of prepared signature fields signed
	// after s (a signer may rewrite them in place when nothing else uses them)
	prepared map[int]bool
}

// diffRevisions lists the changes from s to f. annots: the document's certification
// signature has DocMDP P=3 (annotations allowed).
func diffRevisions(s, f *pdf.Revision, later map[int]bool, paint *paintCache, annots bool) []Change {
	d := &differ{s: s, f: f, later: later, ctx: map[int]ctxKind{}, seen: map[[2]int]bool{}, owner: map[int]int{}, paint: paint, annots: annots}
	changed := d.changedObjects()
	var out []Change
	if s.Trailer().Has("Encrypt") != f.Trailer().Has("Encrypt") || !pdf.Equal(s.Trailer().Get("Encrypt"), f.Trailer().Get("Encrypt")) {
		out = append(out, Change{Category: "structure", Detail: "encryption changed"})
	}
	if len(changed) == 0 {
		return out
	}
	d.walk(f.Trailer().Get("Root"), ctxCatalog, 0)
	d.walk(f.Trailer().Get("Info"), ctxMeta, 0)
	d.prepared = map[int]bool{}
	for _, num := range changed {
		sd, fd := d.s.Dict(d.s.Ref(num)), d.f.Dict(d.f.Ref(num))
		if !d.inS(num) || sd == nil || fd == nil || sd.Has("V") || !fd.Has("V") || d.fieldType(fd) != "Sig" {
			continue
		}
		for _, n := range d.appearanceRefs(sd) {
			d.prepared[n] = true
		}
	}
	for _, num := range changed {
		c, ok := d.ctx[num]
		if !ok {
			continue // not reachable: cannot be shown
		}
		out = append(out, d.judge(num, c))
	}
	return append(out, d.overlays()...)
}

// changedObjects lists the objects whose value differs between s and f.
func (d *differ) changedObjects() []int {
	var out []int
	for _, num := range d.f.Numbers() {
		if d.f.Location(num) == d.s.Location(num) {
			continue
		}
		vs, es := d.s.Object(num)
		vf, ef := d.f.Object(num)
		if es == nil && ef == nil && pdf.Equal(vs, vf) {
			continue
		}
		out = append(out, num)
	}
	for _, num := range d.s.Numbers() {
		if _, ok := d.f.Entry(num); !ok {
			if v, _ := d.s.Object(num); v != nil {
				out = append(out, num) // disappeared (only possible with a broken chain)
			}
		}
	}
	sort.Ints(out)
	return out
}

const maxWalkSteps = 2_000_000

// walk records the contexts of every object reachable from o.
func (d *differ) walk(o pdf.Object, c ctxKind, depth int) {
	d.steps++
	if depth > 200 || d.steps > maxWalkSteps {
		return
	}
	if r, ok := o.(pdf.Ref); ok {
		if (c == ctxDoc || c == ctxAnnot || c == ctxAnnotX) && d.isPageNode(r.Num) {
			// A destination, outline item, structure element (/Pg) or name tree that
			// points at a page: the page is judged as a page (what it shows), the path
			// to it shows nothing by itself.
			c = ctxPage
		} else if (c == ctxDoc || c == ctxAnnot || c == ctxAnnotX) && d.isStructNode(r.Num) {
			// An outline item's /SE or a structure destination (/SD) pointing into the
			// structure tree.
			c = ctxStruct
		}
		key := [2]int{r.Num, int(c)}
		d.ctx[r.Num] |= c
		if d.seen[key] {
			return
		}
		d.seen[key] = true
		v, _ := d.f.Object(r.Num)
		d.walkValue(v, c, r.Num, depth+1)
		return
	}
	d.walkValue(o, c, 0, depth+1)
}

// isPageNode reports whether object num is a page or page-tree node in the final revision
// and was one in the signed revision (a new page is judged through the page tree).
func (d *differ) isPageNode(num int) bool {
	t := pdf.NameOf(d.f.Resolve(d.f.Dict(d.f.Ref(num)).Get("Type")))
	if t != "Page" && t != "Pages" {
		return false
	}
	if !d.inS(num) {
		return false
	}
	return pdf.NameOf(d.s.Resolve(d.s.Dict(d.s.Ref(num)).Get("Type"))) == t
}

// isStructNode reports whether object num is a structure element or the structure tree
// root in the final revision.
func (d *differ) isStructNode(num int) bool {
	switch pdf.NameOf(d.f.Resolve(d.f.Dict(d.f.Ref(num)).Get("Type"))) {
	case "StructElem", "StructTreeRoot":
		return true
	}
	return false
}

func (d *differ) walkValue(v pdf.Object, c ctxKind, num int, depth int) {
	switch x := v.(type) {
	case pdf.Array:
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
	case *pdf.Dict:
		d.walkDict(x, c, num, depth)
	case *pdf.Stream:
		d.walkDict(x.Dict, c, num, depth)
	}
}

func (d *differ) annotCtx(o pdf.Object) ctxKind {
	a := d.f.Dict(o)
	if isFieldAnnot(d.f, a) {
		return ctxField
	}
	if !markupAnnot(d.f, a) {
		return ctxAnnotX
	}
	return ctxAnnot
}

// isFieldAnnot reports whether an element of a page's /Annots is a form field's widget.
func isFieldAnnot(r *pdf.Revision, a *pdf.Dict) bool {
	return pdf.NameOf(r.Resolve(a.Get("Subtype"))) == "Widget" || a.Has("FT") || a.Has("Parent") && pdf.NameOf(r.Resolve(a.Get("Subtype"))) != "Popup"
}

// markupAnnots are the annotation types a reader's commenting tools create (ISO 32000-1
// 12.5.6): what DocMDP P=3 calls "annotations". Links, file attachments, sound, movie,
// screen, rich media, 3D, printer's marks and watermarks are not comments.
var markupAnnots = map[pdf.Name]bool{
	"Text": true, "FreeText": true, "Line": true, "Square": true, "Circle": true, "Polygon": true,
	"PolyLine": true, "Highlight": true, "Underline": true, "Squiggly": true, "StrikeOut": true,
	"Stamp": true, "Caret": true, "Ink": true, "Popup": true, "Redact": true,
}

// markupAnnot reports whether a is a comment that DocMDP P=3 lets a reader add, change or
// delete: a markup annotation (or its popup) without actions (/A, /AA).
func markupAnnot(r *pdf.Revision, a *pdf.Dict) bool {
	return a != nil && markupAnnots[pdf.NameOf(r.Resolve(a.Get("Subtype")))] && !a.Has("A") && !a.Has("AA")
}

func (d *differ) walkDict(x *pdf.Dict, c ctxKind, num int, depth int) {
	isSig := c == ctxField && d.fieldType(x) == "Sig"
	if c == ctxField && !isSig && num != 0 && !x.Has("Parent") && d.isWidgetKid(x) {
		// A bare widget listed in a field's /Kids without /Parent: its field's type.
		if owner := d.kidOwner(num, x); owner != 0 && owner != num {
			isSig = d.fieldType(d.f.Dict(d.f.Ref(owner))) == "Sig"
		}
	}
	for i := range x.Len() {
		k, v := x.At(i)
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
			case "Extensions":
				child = ctxExt
			case "StructTreeRoot":
				child = ctxStruct
			case "Names":
				child = ctxNames
			case "Perms":
				// Signature dictionaries (DocMDP, UR3): judged as signatures, and their
				// /Reference /Data pointing back at the catalog is not a second path.
				child = ctxSigValue
			}
		case ctxAcroForm:
			switch k {
			case "Fields":
				child = ctxFields
			case "DR":
				child = ctxFormRes
			}
		case ctxField:
			switch k {
			case "Parent", "Kids":
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
				if r, ok := v.(pdf.Ref); ok {
					d.owner[r.Num] = num
				}
			}
		case ctxSigValue:
			if k == "Data" {
				continue // FieldMDP/UR references back into the document; not shown
			}
			child = ctxSigValue
		case ctxSigAP, ctxDSS, ctxMeta, ctxFormRes, ctxExt, ctxNamedAP:
			child = c
		case ctxNames:
			// Destinations, JavaScript, embedded files… are judged as before (ctxDoc:
			// a page they name is judged as a page); the /AP tree on its own.
			if k == "AP" {
				child = ctxNamedAP
			}
		case ctxAnnotX:
			child = ctxAnnotX
		case ctxAnnot:
			// An annotation's appearance, popup, border…: reported with the annotation
			// (a modification either way). Its page (/P) is judged as a page (walk).
			child = ctxAnnot
		case ctxStruct:
			switch k {
			case "Obj", "Pg", "Stm", "StmOwn":
				// References from a structure element to what it tags (an
				// annotation, a page, a content stream): those are shown, and judged,
				// through the page tree; the reference itself shows nothing.
				continue
			}
			child = ctxStruct
		}
		if c == ctxPage && k == "Annots" {
			if _, ok := v.(pdf.Array); ok {
				// Inline annotations array: its elements belong to this page.
				for _, el := range v.(pdf.Array) {
					d.walk(el, d.annotCtx(el), depth)
				}
				continue
			}
		}
		d.walk(v, child, depth)
	}
}

// fieldType returns the (inherited) /FT of a field in the final revision.
func (d *differ) fieldType(x *pdf.Dict) pdf.Name {
	for range 32 {
		if x == nil {
			return ""
		}
		if ft := pdf.NameOf(d.f.Resolve(x.Get("FT"))); ft != "" {
			return ft
		}
		x = d.f.Dict(x.Get("Parent"))
	}
	return ""
}

func (d *differ) inS(num int) bool {
	e, ok := d.s.Entry(num)
	return ok && e.Type != pdf.Free
}

// judge decides whether the change of object num, reached in contexts c, is allowed.
func (d *differ) judge(num int, c ctxKind) Change {
	ch := Change{Object: num, Allowed: true}
	vf, _ := d.f.Object(num)
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
	for bit := ctxDoc; bit <= ctxAnnotX; bit <<= 1 {
		if c&bit == 0 {
			continue
		}
		switch bit {
		case ctxDSS:
			allow("dss", "validation data (DSS)")
		case ctxMeta:
			allow("metadata", "document metadata")
		case ctxExt:
			allow("dss", "developer extensions declared (they accompany validation data)")
		case ctxStruct:
			if msg := d.structChange(num, isNew); msg != "" {
				deny("structure", "%s", msg)
			} else {
				allow("structure", "structure tree: elements for added fields registered")
			}
		case ctxFormRes:
			if isNew {
				allow("form", "form default resources added (fonts for field appearances)")
			} else {
				deny("form", "form default resources that existed when signing were changed")
			}
		case ctxSigValue, ctxSigAP:
			if isNew {
				allow("signature", "a later signature")
			} else if bit == ctxSigAP && c == ctxSigAP && d.prepared[num] && !d.inTrailer(num) {
				// The empty appearance of a prepared field, rewritten in place by the
				// signer who fills the field, and used by nothing else (pyHanko allows it).
				allow("signature", "the appearance of a prepared signature field, filled by a later signature")
			} else {
				deny("signature", "an existing signature or appearance object was changed")
			}
		case ctxCatalog:
			if msg := d.catalogChange(); msg == msgNamedAP {
				deny("annotation", "%s", msg)
			} else if msg != "" {
				deny("catalog", "%s", msg)
			} else if d.annots && !pdf.Equal(d.s.Root().Get("Names"), d.f.Root().Get("Names")) {
				allow("annotation", msgAnnotP3)
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
			if msg, annot := d.pageChange(num, isNew); msg != "" {
				deny("page", "%s", msg)
			} else if annot {
				allow("annotation", msgAnnotP3)
			} else {
				allow("signature", "page: signature widget added")
			}
		case ctxAnnots:
			page, ok := d.owner[num]
			msg, annot := "annotations changed", false
			if ok && d.inS(page) {
				msg, annot = d.annotsChange(page)
			}
			if msg != "" {
				deny("annotation", "%s", msg)
			} else if annot {
				allow("annotation", msgAnnotP3)
			} else {
				allow("signature", "page annotations: signature widget added")
			}
		case ctxAnnot:
			if d.annots {
				allow("annotation", msgAnnotP3)
			} else {
				deny("annotation", "an annotation shown on a page was added or changed")
			}
		case ctxAnnotX:
			if d.annots {
				deny("annotation", "an annotation other than a comment (a link, an action, an attachment or media) was added or changed: DocMDP P=3 allows comments only")
			} else {
				deny("annotation", "an annotation shown on a page was added or changed")
			}
		case ctxNames:
			switch msg := d.namesChange(); {
			case msg != "":
				deny("catalog", "%s", msg)
			case d.annots:
				allow("annotation", msgAnnotP3)
			default:
				deny("annotation", msgNamedAP)
			}
		case ctxNamedAP:
			if d.annots {
				allow("annotation", msgAnnotP3)
			} else {
				deny("annotation", msgNamedAP)
			}
		case ctxDoc:
			cat := categoryOf(vf)
			if vf == nil {
				vs, _ := d.s.Object(num)
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

func categoryOf(o pdf.Object) string {
	var dct *pdf.Dict
	isStream := false
	switch x := o.(type) {
	case *pdf.Dict:
		dct = x
	case *pdf.Stream:
		dct, isStream = x.Dict, true
	case nil:
		return "content"
	default:
		return "other"
	}
	switch {
	case pdf.NameOf(dct.Get("Subtype")) == "Image":
		return "image"
	case pdf.NameOf(dct.Get("Type")) == "Font", pdf.NameOf(dct.Get("Type")) == "FontDescriptor", dct.Has("BaseFont"), dct.Has("FontFile2"), dct.Has("FontFile"):
		return "font"
	case pdf.NameOf(dct.Get("Type")) == "Page", pdf.NameOf(dct.Get("Type")) == "Pages":
		return "page"
	case dct.Has("FT"):
		return "form"
	case dct.Has("Rect") && dct.Has("Subtype"):
		return "annotation"
	case isStream:
		return "content"
	}
	return "other"
}

// Details of annotation changes.
const (
	msgAnnotP3 = "comments (markup annotations) added, changed or removed: allowed by DocMDP P=3"
	msgNamedAP = "named annotation appearances (catalog /Names /AP) added or changed, as a reader's commenting tools do"
)

// namesChange explains a change of the catalog's name dictionary other than its /AP tree
// (named annotation appearances), or returns "". Destinations, JavaScript, embedded
// files and the rest change what the document does or holds.
func (d *differ) namesChange() string {
	sn, fn := d.s.Dict(d.s.Root().Get("Names")), d.f.Dict(d.f.Root().Get("Names"))
	for _, k := range pdf.ChangedKeys(sn, fn) {
		if k != "AP" {
			return fmt.Sprintf("catalog /Names entry /%s changed", k)
		}
	}
	return ""
}

// catalogChange explains a disallowed catalog change, or returns "". msgNamedAP: the only
// disallowed change is the /Names /AP tree, which is allowed with annotations (P=3).
func (d *differ) catalogChange() string {
	sc, fc := d.s.Root(), d.f.Root()
	if sc == nil || fc == nil {
		return "the catalog cannot be read"
	}
	namedAP := false
	for _, k := range pdf.ChangedKeys(sc, fc) {
		switch k {
		case "Names":
			if msg := d.namesChange(); msg != "" {
				return msg
			}
			namedAP = !d.annots
		case "DSS", "Metadata", "Extensions":
		case "Version":
			// A later writer declaring a newer version changes no page.
			if _, ok := fc.Get("Version").(pdf.Name); !ok {
				return "catalog entry /Version is not a name"
			}
		case "AcroForm":
			if msg := d.acroFormChange(); msg != "" {
				return msg
			}
		default:
			return fmt.Sprintf("catalog entry /%s changed", k)
		}
	}
	if namedAP {
		return msgNamedAP
	}
	return ""
}

func (d *differ) catalogOnlyDSS() bool {
	for _, k := range pdf.ChangedKeys(d.s.Root(), d.f.Root()) {
		if k != "DSS" && k != "Extensions" && k != "Version" {
			return false
		}
	}
	return true
}

func (d *differ) acroForms() (*pdf.Dict, *pdf.Dict) {
	return d.s.Dict(d.s.Root().Get("AcroForm")), d.f.Dict(d.f.Root().Get("AcroForm"))
}

func (d *differ) acroFormChange() string {
	sa, fa := d.acroForms()
	if fa == nil {
		return "the form was removed"
	}
	if sa == nil {
		sa = &pdf.Dict{}
	}
	for _, k := range pdf.ChangedKeys(sa, fa) {
		switch k {
		case "Fields":
			if msg := d.listChange(d.fieldsArrays()); msg != "" {
				return msg
			}
		case "SigFlags":
		case "DA":
			// A default appearance for fields created later; an existing one may not
			// change (fields without an appearance of their own are drawn with it).
			if sa.Has("DA") {
				return "form entry /DA changed"
			}
		case "DR":
			if msg := d.resourcesKept(d.s.Dict(sa.Get("DR")), d.f.Dict(fa.Get("DR")), 0); msg != "" {
				return msg
			}
		default:
			return fmt.Sprintf("form entry /%s changed", k)
		}
	}
	return ""
}

// resourcesKept explains a change of the form's default resources that alters an entry
// present when signing, or returns "": new entries (fonts for the later signer's own
// appearance) are allowed, since a name already in use keeps its object.
func (d *differ) resourcesKept(s, f *pdf.Dict, depth int) string {
	if s == nil {
		return ""
	}
	if f == nil {
		return "form default resources removed"
	}
	for k, sv := range s.All() {
		fv := f.Get(k)
		if pdf.Equal(sv, fv) {
			continue
		}
		sd, fd := d.s.Dict(sv), d.f.Dict(fv)
		_, sIsRef := sv.(pdf.Ref)
		if depth == 0 && !sIsRef && sd != nil && fd != nil {
			if msg := d.resourcesKept(sd, fd, 1); msg != "" {
				return msg
			}
			continue
		}
		return fmt.Sprintf("form default resource /%s changed", k)
	}
	return ""
}

func (d *differ) fieldsArrays() (pdf.Array, pdf.Array) {
	sa, fa := d.acroForms()
	s, _ := d.s.Resolve(sa.Get("Fields")).(pdf.Array)
	f, _ := d.f.Resolve(fa.Get("Fields")).(pdf.Array)
	return s, f
}

// listChange checks that f keeps every element of s in order and only adds new,
// allowed signature fields or widgets.
func (d *differ) listChange(s, f pdf.Array) string {
	i := 0
	for _, el := range f {
		if i < len(s) && pdf.Equal(s[i], el) {
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
func (d *differ) allowedNewSigField(o pdf.Object) bool {
	r, ok := o.(pdf.Ref)
	if !ok || d.inS(r.Num) {
		return false
	}
	fd := d.f.Dict(r)
	if fd == nil {
		return false
	}
	if d.isWidgetKid(fd) {
		// A widget of a (new) signature field kept as a separate annotation: allowed
		// with its field.
		owner := d.kidOwner(r.Num, fd)
		return owner != 0 && owner != r.Num && d.allowedNewSigFieldDict(owner, d.f.Dict(d.f.Ref(owner)))
	}
	return d.allowedNewSigFieldDict(r.Num, fd)
}

func (d *differ) allowedNewSigFieldDict(num int, fd *pdf.Dict) bool {
	if fd == nil || d.inS(num) || d.fieldType(fd) != "Sig" {
		return false
	}
	visible := !invisible(d.f, fd)
	if fd.Has("Kids") {
		kids := d.f.Array(fd.Get("Kids"))
		if len(kids) == 0 || len(kids) > 16 {
			return false
		}
		for _, k := range kids {
			kr, ok := k.(pdf.Ref)
			kd := d.f.Dict(k)
			if !ok || d.inS(kr.Num) || kd == nil || !d.isWidgetKid(kd) {
				return false
			}
			if p, ok := kd.Get("Parent").(pdf.Ref); ok && p.Num != num {
				return false
			}
			visible = visible || !invisible(d.f, kd)
		}
	}
	if v, ok := fd.Get("V").(pdf.Ref); ok {
		return d.later[v.Num]
	}
	if fd.Has("V") {
		return false
	}
	return !visible
}

// isWidgetKid reports whether d is a bare widget annotation: no field entries of its own.
func (d *differ) isWidgetKid(x *pdf.Dict) bool {
	return pdf.NameOf(d.f.Resolve(x.Get("Subtype"))) == "Widget" && !x.Has("FT") && !x.Has("T") && !x.Has("V") && !x.Has("Kids")
}

// kidOwner returns the field a bare widget belongs to: its /Parent, else the new field of
// the form whose /Kids list it; 0 if none.
func (d *differ) kidOwner(num int, x *pdf.Dict) int {
	if p, ok := x.Get("Parent").(pdf.Ref); ok {
		return p.Num
	}
	_, fields := d.fieldsArrays()
	for _, f := range fields {
		fr, ok := f.(pdf.Ref)
		if !ok || d.inS(fr.Num) {
			continue
		}
		for _, k := range d.f.Array(d.f.Dict(f).Get("Kids")) {
			if kr, ok := k.(pdf.Ref); ok && kr.Num == num {
				return fr.Num
			}
		}
	}
	return 0
}

// invisible reports whether a widget cannot show anything (no appearance or no area).
func invisible(r *pdf.Revision, fd *pdf.Dict) bool {
	if !fd.Has("AP") {
		return true
	}
	rect, _ := r.Resolve(fd.Get("Rect")).(pdf.Array)
	if len(rect) != 4 {
		return true
	}
	var v [4]float64
	for i, x := range rect {
		switch n := r.Resolve(x).(type) {
		case pdf.Int:
			v[i] = float64(n)
		case pdf.Real:
			v[i] = float64(n)
		}
	}
	return v[0] == v[2] || v[1] == v[3]
}

// fieldChange explains a disallowed change of a field or widget, or returns "".
func (d *differ) fieldChange(num int, isNew bool) string {
	if isNew {
		if d.allowedNewSigField(d.f.Ref(num)) {
			return ""
		}
		if kids, ok := d.f.Resolve(d.f.Ref(num)).(pdf.Array); ok && len(kids) > 0 {
			// An indirect /Kids array of a new signature field.
			for _, k := range kids {
				if !d.allowedNewSigField(k) {
					return "a form field or widget was added"
				}
			}
			return ""
		}
		return "a form field or widget was added"
	}
	sv, _ := d.s.Object(num)
	fv, _ := d.f.Object(num)
	sd, ok1 := sv.(*pdf.Dict)
	fd, ok2 := fv.(*pdf.Dict)
	if !ok1 || !ok2 {
		return "a form field was changed"
	}
	if d.fieldType(fd) != "Sig" {
		return "a form field value or widget was changed"
	}
	for _, k := range pdf.ChangedKeys(sd, fd) {
		switch k {
		case "V":
			if sd.Has("V") {
				return "an existing signature was replaced"
			}
			v, ok := fd.Get("V").(pdf.Ref)
			if !ok || !d.later[v.Num] {
				return "a signature field was given a value that is not an intact later signature"
			}
		case "AP", "AS":
			if sd.Has("V") || !fd.Has("V") {
				return "the appearance of a signature field changed"
			}
			if k == "AP" {
				if n := d.sharedOldAppearance(sd); n != 0 {
					return fmt.Sprintf("the field's previous appearance (object %d) is shared with another part of the document; a signer may replace only an appearance of its own", n)
				}
			}
		case "F":
			// Signing applications set flags on the field they sign (Adobe: 4 → 132,
			// print and locked). Flags that reveal a hidden widget are judged by the
			// overlay rule (overlay.go), which compares what it then paints.
			if _, ok := pdf.IntOf(d.f.Resolve(fd.Get("F"))); !ok {
				return "signature field entry /F is not an integer"
			}
		default:
			return fmt.Sprintf("signature field entry /%s changed", k)
		}
	}
	return ""
}

// sharedOldAppearance returns an object of a prepared signature field's previous /AP (the
// dictionary, or a stream of it) that the final revision still uses elsewhere — through
// the document or straight from the trailer — or 0. pyHanko refuses such an update
// (test_disallow_appearance_stream_override_if_clobbers): the field's appearance was not
// the field's alone.
func (d *differ) sharedOldAppearance(sd *pdf.Dict) int {
	for _, n := range d.appearanceRefs(sd) {
		if d.ctx[n]&^ctxSigAP != 0 || d.inTrailer(n) {
			return n
		}
	}
	return 0
}

// inTrailer reports whether the final trailer refers to object n directly (other than
// through /Root, /Info, /Encrypt).
func (d *differ) inTrailer(n int) bool {
	for k, v := range d.f.Trailer().All() {
		if k == "Root" || k == "Info" || k == "Encrypt" {
			continue
		}
		if r, ok := v.(pdf.Ref); ok && r.Num == n {
			return true
		}
	}
	return false
}

// appearanceRefs lists the indirect objects of a field's /AP in the signed revision: the
// dictionary and its N, R, D streams or state dictionaries.
func (d *differ) appearanceRefs(sd *pdf.Dict) []int {
	var refs []int
	ap := sd.Get("AP")
	if r, ok := ap.(pdf.Ref); ok {
		refs = append(refs, r.Num)
	}
	apd := d.s.Dict(ap)
	for _, k := range []pdf.Name{"N", "R", "D"} {
		v := apd.Get(k)
		if r, ok := v.(pdf.Ref); ok {
			refs = append(refs, r.Num)
		}
		if states, ok := d.s.Resolve(v).(*pdf.Dict); ok {
			for _, sv := range states.All() {
				if r, ok := sv.(pdf.Ref); ok {
					refs = append(refs, r.Num)
				}
			}
		}
	}
	return refs
}

// structChange explains a disallowed change of a structure-tree object, or returns "".
// A later signer registers its widget in a tagged document: a new structure element with
// an object reference, the parent tree (number tree) and its next key, and the /K of an
// existing element that gains the new kid. Those are allowed; so is any new structure
// object. Anything else of an existing element — its type, alternate text, actual text,
// expansion, language, attributes — or a kid removed is a modification: it changes what
// assistive technology reads.
func (d *differ) structChange(num int, isNew bool) string {
	if isNew {
		return ""
	}
	sv, _ := d.s.Object(num)
	fv, _ := d.f.Object(num)
	sd, ok1 := sv.(*pdf.Dict)
	fd, ok2 := fv.(*pdf.Dict)
	if !ok1 || !ok2 {
		if sa, ok := sv.(pdf.Array); ok {
			if fa, ok := fv.(pdf.Array); ok && keptIn(sa, fa) {
				return "" // a kids or parent-tree array that only gained elements
			}
		}
		return "a structure tree object was changed"
	}
	for _, k := range pdf.ChangedKeys(sd, fd) {
		switch k {
		case "ParentTree", "ParentTreeNextKey", "Limits", "Nums", "Kids":
		case "K":
			sk, fk := sd.Get("K"), fd.Get("K")
			sa, ok := sk.(pdf.Array)
			if !ok {
				sa = pdf.Array{sk}
			}
			fa, ok := fk.(pdf.Array)
			if !ok {
				fa = pdf.Array{fk}
			}
			if !keptIn(sa, fa) {
				return "a structure element lost or reordered a kid"
			}
		default:
			return fmt.Sprintf("structure entry /%s changed", k)
		}
	}
	return ""
}

// keptIn reports whether every element of s appears in f, in order.
func keptIn(s, f pdf.Array) bool {
	i := 0
	for _, el := range f {
		if i < len(s) && pdf.Equal(s[i], el) {
			i++
		}
	}
	return i == len(s)
}

// pageChange explains a disallowed change of a page or page-tree node, or returns "";
// annot: comments were added or removed (allowed by DocMDP P=3).
func (d *differ) pageChange(num int, isNew bool) (msg string, annot bool) {
	if isNew {
		return "a page or page-tree node was added", false
	}
	sv, _ := d.s.Object(num)
	fv, _ := d.f.Object(num)
	sd, ok1 := sv.(*pdf.Dict)
	fd, ok2 := fv.(*pdf.Dict)
	if !ok1 || !ok2 {
		return "a page was changed", false
	}
	for _, k := range pdf.ChangedKeys(sd, fd) {
		if k == "Tabs" {
			continue // the tab order among annotations shows nothing
		}
		if k != "Annots" {
			return fmt.Sprintf("page entry /%s changed", k), false
		}
		if msg, annot = d.annotsChange(num); msg != "" {
			return msg, false
		}
	}
	return "", annot
}

// annotsChange explains a disallowed change of a page's /Annots, or returns "". Only new
// signature fields may join the list; with DocMDP P=3 comments (markupAnnot) may also be
// added, removed or reordered (annot reports that they were), while every other entry —
// widgets, links, attachments — stays as the signed revision had it.
func (d *differ) annotsChange(page int) (msg string, annot bool) {
	sp := d.s.Dict(d.s.Ref(page))
	fp := d.f.Dict(d.f.Ref(page))
	if sp == nil || fp == nil {
		return "annotations changed", false
	}
	sa, _ := d.s.Resolve(sp.Get("Annots")).(pdf.Array)
	fa, _ := d.f.Resolve(fp.Get("Annots")).(pdf.Array)
	msg = d.listChange(sa, fa)
	if msg == "" || !d.annots {
		return msg, false
	}
	others := func(r *pdf.Revision, a pdf.Array) pdf.Array {
		var out pdf.Array
		for _, el := range a {
			if !markupAnnot(r, r.Dict(el)) {
				out = append(out, el)
			}
		}
		return out
	}
	if msg := d.listChange(others(d.s, sa), others(d.f, fa)); msg != "" {
		return msg, false
	}
	return "", true
}

// accountAppended checks that every byte of data[from:to] belongs to an object or xref
// section of the revisions in f's chain that start at or after from, or is white space,
// "startxref N" or "%%EOF". It returns a description of the first unaccounted byte, or "".
func accountAppended(f *pdf.Revision, from, to int64) string {
	data := f.File().Data()
	type span struct{ a, b int64 }
	var spans []span
	update := false // a cross-reference section was appended: the bytes are a revision
	for _, sec := range f.Sections() {
		if sec.Off < from {
			continue
		}
		update = true
		spans = append(spans, span{sec.Off, sec.End})
		for i, e := range sec.Entries {
			if e.Type != pdf.InUse || e.Off < from || e.Off >= to {
				continue
			}
			n, _, _, end, err := f.ObjectAt(e.Off)
			if err != nil || n != sec.Nums[i] {
				return fmt.Sprintf("the xref entry of object %d points at no such object", sec.Nums[i])
			}
			spans = append(spans, span{e.Off, end})
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a < spans[j].a })
	pos := from
	check := func(a, b int64) string {
		if a >= b {
			return ""
		}
		buf, pos := data[:b], int(a)
		for {
			for pos < len(buf) && pdf.IsWhite(buf[pos]) {
				pos++
			}
			if pos >= len(buf) {
				return ""
			}
			switch {
			case bytes.HasPrefix(buf[pos:], []byte("%%EOF")):
				pos += 5
			case buf[pos] == '%' && update:
				// A comment ("%iText-5.5.13", a PDFBox or DSS version line) in an
				// incremental update: not content, no reader parses anything in it. Without
				// an appended cross-reference section there is no update, and bytes after
				// the signature (even a comment and %%EOF) are unsigned extra. A comment
				// that looks like file structure ("% 6 0 obj … endobj", "trailer") is
				// refused: a reader that rebuilds a damaged file by scanning may take it
				// for an object.
				start := pos
				for pos < len(buf) && buf[pos] != '\n' && buf[pos] != '\r' {
					pos++
				}
				for _, kw := range []string{"obj", "stream", "trailer", "xref", "EOF"} {
					if bytes.Contains(buf[start:pos], []byte(kw)) {
						return fmt.Sprintf("a comment appended after signing at byte %d looks like file structure (%q)", start, kw)
					}
				}
			case bytes.HasPrefix(buf[pos:], []byte("startxref")):
				pos += len("startxref")
				_, next, ok := pdf.ReadUint(buf, pos)
				if !ok {
					return fmt.Sprintf("bad startxref at byte %d", pos)
				}
				pos = next
			default:
				return fmt.Sprintf("bytes %d..%d appended after signing are not part of any object the cross-reference lists", pos, b)
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
