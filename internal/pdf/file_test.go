package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestClassicFile(t *testing.T) {
	file := classic("/Root 1 0 R /Info 6 0 R", append(onePage(), "<< /Title (t) >>")...)
	r := final(t, file, Limits{})
	if r.Len() != 7 || len(r.Sections()) != 1 || r.Sections()[0].Stream || r.End() != int64(len(file)) {
		t.Fatalf("len %d, sections %d", r.Len(), len(r.Sections()))
	}
	if !reflect.DeepEqual(r.Numbers(), []int{0, 1, 2, 3, 4, 5, 6}) {
		t.Fatalf("numbers %v", r.Numbers())
	}
	if NameOf(r.Root().Get("Type")) != "Catalog" || r.Trailer().Get("Info") != (Ref{6, 0}) {
		t.Fatal("root")
	}
	v, err := r.Object(4)
	if err != nil {
		t.Fatal(err)
	}
	s := v.(*Stream)
	off, end, ok := s.Span()
	if !ok || string(file[off:end]) != "BT /F1 12 Tf 72 720 Td (Hello) Tj ET" {
		t.Fatalf("stream span %d..%d", off, end)
	}
	o, e, ok := r.Span(4)
	if !ok || !bytes.HasPrefix(file[o:], []byte("4 0 obj")) || !bytes.HasSuffix(file[:e], []byte("endobj")) {
		t.Fatalf("object span %q", file[o:e])
	}
	if _, _, ok := r.Span(0); ok {
		t.Fatal("span of the free object 0")
	}
	if v, err := r.Object(0); v != nil || err != nil {
		t.Fatal("object 0")
	}
	if v, err := r.Object(99); v != nil || err != nil {
		t.Fatal("object 99")
	}
	if r.Resolve(Ref{3, 1}) != nil {
		t.Fatal("a reference with the wrong generation resolved")
	}
	if loc := r.Location(3); loc.Type != InUse || loc.Off != o-(o-loc.Off) || loc.Index != 0 {
		t.Fatalf("location %+v", loc)
	}
	if (r.Location(0) != Location{}) {
		t.Fatal("location of a free object")
	}
	n, g, val, end2, err := r.ObjectAt(o)
	if err != nil || n != 4 || g != 0 || end2 != e || !Equal(val, v) {
		t.Fatalf("ObjectAt: %d %d %v", n, g, err)
	}
	if r.Ref(3) != (Ref{3, 0}) || r.Array(r.Dict(Ref{2, 0}).Get("Kids")) == nil || r.Stream(Ref{4, 0}) == nil {
		t.Fatal("accessors")
	}
}

func TestModernFile(t *testing.T) {
	file := modern("/Root 1 0 R", onePage()...)
	r := final(t, file, Limits{})
	if !r.Sections()[0].Stream {
		t.Fatal("not read as an xref stream")
	}
	e, _ := r.Entry(2)
	if e.Type != Compressed || e.Off != 6 || e.Generation() != 0 {
		t.Fatalf("entry of 2: %+v", e)
	}
	loc := r.Location(2)
	s6, _ := r.Entry(6)
	if loc.Type != Compressed || loc.Off != 6 || loc.StmOff != s6.Off || loc.Index != 1 {
		t.Fatalf("location %+v", loc)
	}
	pages := r.Dict(Ref{2, 0})
	if pages == nil || NameOf(pages.Get("Type")) != "Pages" {
		t.Fatalf("object 2: %v", pages)
	}
	if _, _, ok := pages.Span(); ok {
		t.Fatal("a compressed dictionary has a file span")
	}
	if _, _, ok := r.Span(2); ok {
		t.Fatal("a compressed object has a file span")
	}
	if s, ok := r.Resolve(Ref{4, 0}).(*Stream); !ok || s.Off < 0 {
		t.Fatal("plain stream object in a modern file")
	}
	// Object 2 claims index 0 of its stream: the stream holds object 1 there.
	rb := final(t, file, Limits{}) // a fresh File, whose entries the test edits
	rb.entries[2] = Entry{Type: Compressed, Off: 6, Gen: 0}
	if _, err := rb.Object(2); err == nil {
		t.Fatal("object at the wrong index of an object stream")
	}
	rb.entries[3] = Entry{Type: Compressed, Off: 4, Gen: 0}
	if _, err := rb.Object(3); err == nil || !strings.Contains(err.Error(), "not an object stream") {
		t.Fatalf("object in a non-object stream: %v", err)
	}
}

func TestIncrementalRevisions(t *testing.T) {
	one := classic("/Root 1 0 R", onePage()...)
	two := update(t, one, 7, "/Root 1 0 R", map[int]string{3: "<< /Type /Page /Parent 2 0 R /Contents 6 0 R >>", 6: stm("", "0 0 1 rg 0 0 10 10 re f")})
	three := update(t, two, 7, "/Root 1 0 R", map[int]string{5: ""})
	ends := RevisionEnds(three)
	if len(ends) != 3 || ends[0] != int64(len(one)) || ends[1] != int64(len(two)) || !EndsRevision(three, ends[1]) || EndsRevision(three, ends[1]-3) {
		t.Fatalf("ends %v", ends)
	}
	f := Open(three, Limits{})
	r1, err1 := f.Revision(ends[0])
	r2, err2 := f.Revision(ends[1])
	r3, err3 := f.Revision(ends[2])
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	if again, _ := f.Revision(ends[1]); again != r2 {
		t.Fatal("revisions are not cached")
	}
	if r1.Location(1) != r3.Location(1) || r1.Location(3) == r2.Location(3) {
		t.Fatal("locations across revisions")
	}
	if v, _ := r1.Object(6); v != nil {
		t.Fatal("revision 1 sees an object of revision 2")
	}
	if v, _ := r2.Object(5); v == nil {
		t.Fatal("revision 2 lost the font")
	}
	if v, err := r3.Object(5); v != nil || err != nil {
		t.Fatal("revision 3 still has the freed font")
	}
	if len(r3.Sections()) != 3 || r3.Sections()[0].Prev != r2.StartXref() {
		t.Fatal("chain")
	}
	if f.Data() == nil || f.Limits().MaxObjects != DefaultMaxObjects || f.Limits().MaxDecoded != 4*DefaultMaxStream {
		t.Fatal("defaults")
	}
}

func TestHybridFile(t *testing.T) {
	base := classic("/Root 1 0 R", onePage()...)
	// The update's table lists object 5 at one place; its /XRefStm stream lists
	// object 5 at another and adds object 6.
	var b bytes.Buffer
	b.Write(base)
	offA := b.Len()
	b.WriteString("5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>\nendobj\n")
	offB := b.Len()
	b.WriteString("5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>\nendobj\n")
	off6 := b.Len()
	b.WriteString("6 0 obj\n(six)\nendobj\n")
	xs := b.Len()
	rows := []byte{1, byte(offB >> 8), byte(offB), 0, 1, byte(off6 >> 8), byte(off6), 0}
	fmt.Fprintf(&b, "7 0 obj\n<< /Type /XRef /Size 8 /W [1 2 1] /Index [5 2] /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(rows), rows)
	x := b.Len()
	fmt.Fprintf(&b, "xref\n5 1\n%010d 00000 n \ntrailer\n<< /Size 8 /Root 1 0 R /Prev %d /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n", offA, startxrefOf(t, base), xs, x)
	r := final(t, b.Bytes(), Limits{})
	if !reflect.DeepEqual(r.Ambiguous(), []int{5}) || len(r.Sections()) != 3 || !r.Sections()[1].Stream || r.Sections()[0].XRefStm != int64(xs) {
		t.Fatalf("ambiguous %v, %d sections", r.Ambiguous(), len(r.Sections()))
	}
	if NameOf(r.Dict(Ref{5, 0}).Get("BaseFont")) != "Courier" {
		t.Fatal("the table's entry must win in a hybrid section")
	}
	if s, _ := r.Resolve(Ref{6, 0}).(String); string(s.Value) != "six" {
		t.Fatal("object listed only in /XRefStm")
	}
}

func TestBrokenStructures(t *testing.T) {
	good := classic("/Root 1 0 R", onePage()...)
	sx := startxrefOf(t, good)
	for name, c := range map[string]struct {
		file []byte
		want string
	}{
		"no startxref":        {[]byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"), "no startxref"},
		"bad startxref":       {bytes.Replace(good, []byte("startxref\n"), []byte("startxref\nx"), 1), "bad startxref"},
		"offset outside":      {bytes.Replace(good, []byte(fmt.Sprintf("startxref\n%d", sx)), []byte("startxref\n999999"), 1), "outside the file"},
		"no xref there":       {bytes.Replace(good, []byte(fmt.Sprintf("startxref\n%d", sx)), []byte("startxref\n9"), 1), "not an xref stream"},
		"no root":             {classic("", onePage()...), "without /Root"},
		"prev loop":           {bytes.Replace(good, []byte("/Size 6 /Root 1 0 R"), []byte(fmt.Sprintf("/Size 6 /Root 1 0 R /Prev %d", sx)), 1), "loop"},
		"bad entry":           {bytes.Replace(good, []byte(" 00000 n \n"), []byte(" 00000 x \n"), 1), "bad xref entry"},
		"free gen too large":  {bytes.Replace(good, []byte("65535 f"), []byte("65536 f"), 1), "bad xref entry"},
		"trailer not a dict":  {bytes.Replace(good, []byte("trailer\n<<"), []byte("trailer\n[<<"), 1), "syntax"},
		"subsection too long": {bytes.Replace(good, []byte("xref\n0 6\n"), []byte("xref\n0 600\n"), 1), "longer than the file"},
	} {
		_, err := Open(c.file, Limits{}).Revision(int64(len(c.file)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
	// A section that starts after the revision's end.
	two := update(t, good, 6, "/Root 1 0 R", map[int]string{5: "<< >>"})
	cut := bytes.Replace(two, []byte(fmt.Sprintf("startxref\n%d", startxrefOf(t, two))), []byte(fmt.Sprintf("startxref\n%d", len(two)-5)), 1)
	if _, err := Open(cut, Limits{}).Revision(int64(len(cut))); err == nil {
		t.Error("a section after the end of the revision")
	}
	if _, err := Open(good, Limits{}).Revision(int64(len(good)) + 1); err == nil {
		t.Error("a revision past the end of the file")
	}
	// Objects: wrong number at the offset, unreadable body, a stream whose /Length
	// refers to itself.
	wrong := bytes.Replace(good, []byte("3 0 obj"), []byte("9 0 obj"), 1)
	if _, err := final(t, wrong, Limits{}).Object(3); err == nil || !strings.Contains(err.Error(), "found object 9 0") {
		t.Errorf("wrong object at offset: %v", err)
	}
	broken := bytes.Replace(good, []byte("/Type /Page /Parent"), []byte("/Type /Page )Parent"), 1)
	r := final(t, broken, Limits{})
	if _, err := r.Object(3); err == nil {
		t.Error("syntax error in an object")
	}
	if _, err := r.Object(3); err == nil {
		t.Error("cached error lost")
	}
	self := classic("/Root 1 0 R", "<< /Type /Catalog >>", "<< /Length 2 0 R >>\nstream\nabc\nendstream")
	if v, err := final(t, self, Limits{}).Object(2); err != nil || string(v.(*Stream).Raw) != "abc" {
		t.Errorf("self-referential /Length: %v %v", v, err)
	}
	noEnd := classic("/Root 1 0 R", "<< /Type /Catalog >>", "<< /Length 99 >>\nstream\nabc")
	if _, err := final(t, noEnd, Limits{}).Object(2); err == nil || !strings.Contains(err.Error(), "without endstream") {
		t.Errorf("stream without endstream: %v", err)
	}
}

func TestLimits(t *testing.T) {
	good := classic("/Root 1 0 R", onePage()...)
	if _, err := Open(good, Limits{MaxObjects: 3}).Revision(int64(len(good))); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxObjects: %v", err)
	}
	two := update(t, good, 6, "/Root 1 0 R", map[int]string{5: "<< >>"})
	if _, err := Open(two, Limits{MaxSections: 1}).Revision(int64(len(two))); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxSections: %v", err)
	}
	fw := Open(two, Limits{})
	if _, err := fw.Revision(int64(len(two))); err != nil {
		t.Fatal(err)
	}
	rw, err := Open(two, Limits{MaxWork: fw.work + 10}).Revision(int64(len(two)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rw.Object(3); !errors.Is(err, ErrWork) {
		t.Errorf("MaxWork: %v", err)
	}
	if _, err := Open(two, Limits{MaxWork: 10}).Revision(int64(len(two))); !errors.Is(err, ErrWork) {
		t.Errorf("MaxWork (startxref search): %v", err)
	}
	big := classic("/Root 1 0 R /Size 9999999", onePage()...)
	if _, err := Open(big, Limits{}).Revision(int64(len(big))); !errors.Is(err, ErrLimit) {
		t.Errorf("/Size: %v", err)
	}
	// Decode budgets: one stream, then the whole file.
	bomb := deflate(make([]byte, 1<<20))
	file := classic("/Root 1 0 R", "<< /Type /Catalog >>", fmt.Sprintf("<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream", len(bomb), bomb))
	r := final(t, file, Limits{MaxStream: 1 << 19})
	if _, err := r.Decode(r.Stream(Ref{2, 0})); !errors.Is(err, ErrBomb) {
		t.Errorf("MaxStream: %v", err)
	}
	r = final(t, file, Limits{MaxStream: 1 << 20, MaxDecoded: 3 << 19})
	if b, err := r.Decode(r.Stream(Ref{2, 0})); err != nil || len(b) != 1<<20 {
		t.Fatalf("first decode: %v", err)
	}
	if _, err := r.Decode(r.Stream(Ref{2, 0})); !errors.Is(err, ErrLimit) {
		t.Errorf("MaxDecoded: %v", err)
	}
	// Revisions per file.
	f := Open(good, Limits{})
	for i := range maxRevisions {
		f.revs[int64(-1-i)] = nil
	}
	if _, err := f.Revision(int64(len(good))); !errors.Is(err, ErrLimit) {
		t.Errorf("revisions: %v", err)
	}
}

// TestObjectStreamAmplification: entries of an object stream that all point at one large
// object cost one parse (charged to the work budget), not one each.
func TestObjectStreamAmplification(t *testing.T) {
	const n = 20000
	var hdr strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&hdr, "%d 0 ", i+1)
	}
	hdr.WriteString("\n")
	big := "[" + strings.Repeat("0 ", 100_000) + "]"
	data := deflate([]byte(hdr.String() + big))
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	catOff := b.Len()
	b.WriteString("1 0 obj\n<< /Type /Catalog >>\nendobj\n")
	stmNum, xrNum := n+2, n+3
	stmOff := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n", stmNum, n, hdr.Len(), len(data), data)
	xrOff := b.Len()
	row := func(typ byte, off, idx int) []byte {
		return []byte{typ, byte(off >> 24), byte(off >> 16), byte(off >> 8), byte(off), byte(idx >> 8), byte(idx)}
	}
	rows := row(0, 0, 0xffff)
	rows = append(rows, row(1, catOff, 0)...)
	for i := range n {
		rows = append(rows, row(2, stmNum, i)...)
	}
	rows = append(rows, row(1, stmOff, 0)...)
	rows = append(rows, row(1, xrOff, 0)...)
	xd := deflate(rows)
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xrNum, xrNum+1, len(xd), xd, xrOff)
	r := final(t, b.Bytes(), Limits{MaxWork: 4 << 20})
	for _, num := range r.Numbers() {
		v, err := r.Object(num)
		if _, ok := v.(Array); num >= 2 && num <= n+1 && (err != nil || !ok) {
			t.Fatalf("object %d: %v", num, err)
		}
	}
	if max := 2*int64(len(big)) + 20*int64(r.Len()) + int64(b.Len())/16; r.f.work > max { // parse, merge, startxref
		t.Fatalf("work %d for an object of %d bytes", r.f.work, len(big))
	}
}

// TestSharedOffset: cross-reference entries that all point at one large object cost one
// parse; the entries whose number is not the one written there are errors.
func TestSharedOffset(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	catOff := b.Len()
	b.WriteString("1 0 obj\n<< /Type /Catalog >>\nendobj\n")
	bigOff := b.Len()
	big := "2 0 obj\n[" + strings.Repeat("0 ", 50_000) + "]\nendobj\n"
	b.WriteString(big)
	x := b.Len()
	const n = 5000
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n%010d 00000 n \n", n+2, catOff)
	for range n {
		fmt.Fprintf(&b, "%010d 00000 n \n", bigOff)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", n+2, x)
	r := final(t, b.Bytes(), Limits{})
	errs := 0
	for _, num := range r.Numbers() {
		if _, err := r.Object(num); err != nil {
			errs++
		}
	}
	if errs != n-1 {
		t.Fatalf("%d errors", errs)
	}
	if r.f.work > 2*int64(len(big))+20*int64(r.Len())+int64(b.Len())/16 {
		t.Fatalf("work %d for an object of %d bytes", r.f.work, len(big))
	}
	// A second revision of the File reuses the parse.
	w := r.f.work
	r.f.revs = map[int64]*Revision{}
	r2, err := r.f.Revision(int64(b.Len()))
	if err != nil || r2 == r {
		t.Fatal(err)
	}
	if _, err := r2.Object(2); err != nil || r.f.work-w > 20*int64(r.Len())+int64(b.Len())/16+64 {
		t.Fatalf("second revision: %v, work %d", err, r.f.work-w)
	}
}

// TestIndirectLengthPerRevision: a stream whose /Length is an indirect object is read with
// each revision's value of that object (its parse is not shared between revisions).
func TestIndirectLengthPerRevision(t *testing.T) {
	one := classic("/Root 1 0 R", "<< /Type /Catalog >>", "<< /Length 3 0 R >>\nstream\nab\nendstream\nXY\nendstream", "2")
	two := update(t, one, 4, "/Root 1 0 R", map[int]string{3: "15"})
	f := Open(two, Limits{})
	ends := RevisionEnds(two)
	r1, err1 := f.Revision(ends[0])
	r2, err2 := f.Revision(ends[1])
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if s := r1.Stream(Ref{2, 0}); s == nil || string(s.Raw) != "ab" {
		t.Fatalf("revision 1: %q", s.Raw)
	}
	if s := r2.Stream(Ref{2, 0}); s == nil || string(s.Raw) != "ab\nendstream\nXY" {
		t.Fatalf("revision 2: %q", s.Raw)
	}
}

// TestManyRevisionsOverOneTable: each revision merges its whole chain, which is charged,
// so a thousand tiny updates over one large table run out of work instead of merging it a
// thousand times.
func TestManyRevisionsOverOneTable(t *testing.T) {
	objs := onePage()
	for range 5000 {
		objs = append(objs, "null")
	}
	file := classic("/Root 1 0 R", objs...)
	for range 200 {
		file = update(t, file, len(objs)+1, "/Root 1 0 R", map[int]string{5: "<< >>"})
	}
	f := Open(file, Limits{MaxWork: 4 << 20})
	var err error
	n := 0
	for _, end := range RevisionEnds(file) {
		if _, err = f.Revision(end); err != nil {
			break
		}
		n++
	}
	if !errors.Is(err, ErrWork) || n > 60 {
		t.Fatalf("%d revisions read, then %v", n, err)
	}
}

// TestObjectStreamSharedByRevisions: revisions that keep an object stream where it was
// decode and parse it once.
func TestObjectStreamSharedByRevisions(t *testing.T) {
	one := modern("/Root 1 0 R", onePage()...)
	two := update(t, one, 9, "/Root 1 0 R", map[int]string{8: "(new)"})
	// The update's table continues an xref stream chain: classic /Prev to a stream.
	f := Open(two, Limits{})
	ends := RevisionEnds(two)
	r1, err1 := f.Revision(ends[0])
	r2, err2 := f.Revision(ends[1])
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	v1, _ := r1.Object(2)
	decoded := f.decoded
	v2, _ := r2.Object(2)
	if v1 == nil || v1 != v2 || f.decoded != decoded {
		t.Fatalf("object 2: %v / %v, decoded %d then %d", v1, v2, decoded, f.decoded)
	}
}
