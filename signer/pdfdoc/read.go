package pdfdoc

import (
	"errors"
	"fmt"

	"github.com/chungthuc/chungthuc/internal/pdf"
)

// ErrNotOurs is returned when a file does not have the classic structure this package writes
// (cross-reference tables, not streams), so it cannot be updated here.
var ErrNotOurs = errors.New("pdfdoc: not a classic-xref PDF as written by this package")

// Reader is the last revision of a finished file, read with the project's PDF reader
// (internal/pdf, under its default limits), with the objects it returns converted to this
// package's objects so that they can be changed and written back in an incremental update.
// Rev describes the revision for UpdateInPlace. It is not safe for concurrent use.
type Reader struct {
	rev *pdf.Revision
	Rev Revision
}

// Read reads the revision that ends at the end of file. The file must have classic
// cross-reference tables only (ErrNotOurs otherwise, as for a newest trailer without
// /Size or /Root): an update written by Writer continues the chain with a table.
func Read(file []byte) (*Reader, error) {
	r, err := pdf.Open(file, pdf.Limits{}).Revision(int64(len(file)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotOurs, err)
	}
	for _, s := range r.Sections() {
		if s.Stream {
			return nil, ErrNotOurs
		}
	}
	t := r.Sections()[0].Trailer
	size, _ := t.Get("Size").(pdf.Int)
	root, _ := t.Get("Root").(pdf.Ref)
	info, _ := t.Get("Info").(pdf.Ref)
	if size <= 0 || root.Num <= 0 || r.StartXref() <= 0 {
		return nil, ErrNotOurs
	}
	rd := &Reader{rev: r, Rev: Revision{Size: int(size), Root: Ref(root), Info: Ref(info),
		StartXref: r.StartXref(), Length: int64(len(file))}}
	if ids, ok := t.Get("ID").(pdf.Array); ok && len(ids) == 2 {
		a, _ := ids[0].(pdf.String)
		b, _ := ids[1].(pdf.String)
		rd.Rev.ID = [2]Hex{Hex(a.Value), Hex(b.Value)}
	}
	return rd, nil
}

// Object reads object ref's value. A stream comes back as *Stream with its raw (still
// encoded) data, which aliases the file, and without /Length (Writer sets it). Errors: the
// object is free or missing, its generation is not ref's, or it cannot be parsed.
func (r *Reader) Object(ref Ref) (Object, error) {
	e, ok := r.rev.Entry(ref.Num)
	if !ok || e.Type != pdf.InUse {
		return nil, fmt.Errorf("pdfdoc: object %d not found", ref.Num)
	}
	if e.Gen != ref.Gen {
		return nil, fmt.Errorf("pdfdoc: object %d not at its offset", ref.Num)
	}
	v, err := r.rev.Object(ref.Num)
	if err != nil {
		return nil, fmt.Errorf("pdfdoc: %w", err)
	}
	return fromPDF(v), nil
}

// Dict reads object ref, which must be a dictionary.
func (r *Reader) Dict(ref Ref) (Dict, error) {
	o, err := r.Object(ref)
	if err != nil {
		return nil, err
	}
	d, ok := o.(Dict)
	if !ok {
		return nil, fmt.Errorf("pdfdoc: object %d is not a dictionary", ref.Num)
	}
	return d, nil
}

// fromPDF converts a value read by internal/pdf into this package's objects: null becomes
// Null, a hexadecimal string Hex and a literal one String (their bytes), a dictionary a
// Dict (keys written twice keep the value the reader kept, the last).
func fromPDF(o pdf.Object) Object {
	switch v := o.(type) {
	case nil:
		return Null{}
	case pdf.Bool:
		return Bool(v)
	case pdf.Int:
		return Int(v)
	case pdf.Real:
		return Real(v)
	case pdf.Name:
		return Name(v)
	case pdf.String:
		if v.Hex {
			return Hex(v.Value)
		}
		return String(v.Value)
	case pdf.Ref:
		return Ref(v)
	case pdf.Array:
		a := make(Array, len(v))
		for i, x := range v {
			a[i] = fromPDF(x)
		}
		return a
	case *pdf.Dict:
		return dictFromPDF(v)
	case *pdf.Stream:
		d := dictFromPDF(v.Dict)
		delete(d, "Length")
		return &Stream{Dict: d, Data: v.Raw}
	}
	panic(fmt.Sprintf("pdfdoc: unexpected %T from the reader", o))
}

func dictFromPDF(v *pdf.Dict) Dict {
	d := make(Dict, v.Len())
	for k, x := range v.All() {
		d[Name(k)] = fromPDF(x)
	}
	return d
}
