package pdfdoc

import (
	"bytes"
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
