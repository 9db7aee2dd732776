package pdfdoc

import (
	"bytes"
	"errors"
	"testing"
)

func TestReadBack(t *testing.T) {
	b, rev, page := onePage(t)
	w, _ := UpdateInPlace(bytes.Clone(b), rev)
	w.Put(page, Dict{"Type": Name("Page"), "Parent": Ref{Num: 1}, "Annots": Array{Ref{Num: 3}, Ref{Num: 4, Gen: 0}}, "T": Text("Lê Thị Ĩ (x)"), "N": Real(1.5), "S": String("a(b)\\c\n")})
	b2, rev2, err := w.Finish(rev.Root, rev.Info)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Read(b2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rev.Size != rev2.Size || r.Rev.Root != rev2.Root || r.Rev.Info != rev2.Info || r.Rev.StartXref != rev2.StartXref ||
		r.Rev.Length != rev2.Length || !bytes.Equal(r.Rev.ID[0], rev2.ID[0]) || !bytes.Equal(r.Rev.ID[1], rev2.ID[1]) {
		t.Fatalf("read %+v, wrote %+v", r.Rev, rev2)
	}
	d, err := r.Dict(page)
	if err != nil {
		t.Fatal(err)
	}
	// Text comes back as the bytes it was written as (a hex UTF-16 string).
	got := string(Bytes(d))
	wantHex := string(Bytes(Dict{"Type": Name("Page"), "Parent": Ref{Num: 1}, "Annots": Array{Ref{Num: 3}, Ref{Num: 4}}, "N": Real(1.5), "S": String("a(b)\\c\n")}))
	if !bytes.Contains([]byte(got), []byte("/T <FEFF")) || len(got) < len(wantHex) {
		t.Fatalf("page read back as %s", got)
	}
	delete(d, "T")
	if string(Bytes(d)) != wantHex {
		t.Fatalf("page read back as\n%s\nwant\n%s", Bytes(d), wantHex)
	}
	if s, err := r.Object(Ref{Num: 2}); err != nil {
		t.Fatal(err)
	} else if st, ok := s.(*Stream); !ok || len(st.Data) == 0 {
		t.Fatalf("object 2 = %T", s)
	}
	for _, bad := range [][]byte{nil, []byte("%PDF-1.7\nstartxref\n99999\n%%EOF"), b2[:len(b2)/2]} {
		if _, err := Read(bad); err == nil {
			t.Errorf("Read accepted a broken file of %d bytes", len(bad))
		}
	}
}

// TestReadRefuses: files this package cannot continue (xref streams), and objects that
// are free, of another generation or unreadable.
func TestReadRefuses(t *testing.T) {
	b, rev, page := onePage(t)
	xrefStream := []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" +
		"2 0 obj\n<< /Type /XRef /Size 3 /W [1 1 0] /Root 1 0 R /Length 6 >>\nstream\n\x00\x00\x01\x09\x01\x2d\nendstream\nendobj\nstartxref\n45\n%%EOF\n")
	if _, err := Read(xrefStream); err != ErrNotOurs { // read, then refused
		t.Errorf("xref stream: %v", err)
	}
	if _, err := Read(bytes.Replace(b, []byte("/Root"), []byte("/Roo "), 1)); !errors.Is(err, ErrNotOurs) {
		t.Errorf("no /Root: %v", err)
	}
	w, _ := UpdateInPlace(bytes.Clone(b), rev)
	s := w.Add(&Stream{Dict: Dict{"Filter": Name("FlateDecode")}, Data: Deflate([]byte("x"))})
	b2, _, err := w.Finish(rev.Root, rev.Info)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Read(b2)
	if err != nil {
		t.Fatal(err)
	}
	if o, err := r.Object(s); err != nil || o.(*Stream).Dict["Length"] != nil || o.(*Stream).Dict["Filter"] != Name("FlateDecode") {
		t.Errorf("stream read back: %v %v", o, err)
	}
	if _, err := r.Object(Ref{Num: 0}); err == nil {
		t.Error("free object 0 read")
	}
	if _, err := r.Object(Ref{Num: page.Num, Gen: 1}); err == nil {
		t.Error("wrong generation read")
	}
	if _, err := r.Dict(s); err == nil {
		t.Error("a stream read as a dictionary")
	}
	broken := bytes.Replace(b2, []byte("/Type /Catalog"), []byte("/Type )Catalog"), 1)
	r, err = Read(broken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Dict(rev.Root); err == nil {
		t.Error("unreadable catalog read")
	}
}
