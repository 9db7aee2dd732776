package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzReader feeds arbitrary bytes to everything the reader offers — every revision, every
// object, spans, decoding, pages, annotations, appearances, the content lexer and token
// values — and checks what must hold for any input: no panic, every span inside the file
// and pointing at what it claims, every decoded stream within Limits, the budgets charged,
// every value equal to itself and to its own re-parse. Seeds: files built here, the real
// files of testdata/real, and regressions in testdata/fuzz/FuzzReader.
// Run: go test -run '^$' -fuzz FuzzReader -fuzztime 3m ./internal/pdf/
func FuzzReader(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	names, _ := filepath.Glob("testdata/real/*.pdf")
	for _, n := range names {
		if b, err := os.ReadFile(n); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		checkReader(t, data)
	})
}

// fuzzSeeds are small files covering every structure the reader knows.
func fuzzSeeds(t testing.TB) [][]byte {
	pageObjs := []string{
		"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] >> >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>",
		"<< /Type /Page /Parent 2 0 R /Contents [4 0 R 5 0 R] /Annots [6 0 R] /Resources << /Font << /F1 7 0 R >> >> /CropBox [10 10 500 800] /Rotate 90 >>",
		stm("/Filter /FlateDecode", string(deflate([]byte("q 1 0 0 1 72 720 cm BT /F1 12 Tf (Hi \\(x\\)) Tj ET Q")))),
		stm("/Filter [/AHx]", hexOf([]byte("BI /W 2 /H 1 /BPC 8 /CS /G /L 2 ID \x00\xff EI /OC /L1 BDC [<20> 1 (a)] TJ EMC"))+">"),
		"<< /FT /Sig /Type /Annot /Subtype /Widget /Rect [350 50 550 120] /F 132 /P 3 0 R /AS /N /AP << /N << /N 8 0 R >> >> /V << /Contents <3082> /ByteRange [0 1 2 3] >> >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		stm("/Type /XObject /Subtype /Form /BBox [0 0 200 70] /Matrix [1 0 0 1 0 0]", "1 0 0 rg 0 0 200 70 re f"),
	}
	one := classic("/Root 1 0 R /ID [<01> <02>]", pageObjs...)
	two := update(t, one, 10, "/Root 1 0 R", map[int]string{7: "", 9: "<< /Names [(a) 1 0 R] >>", 3: strings.Replace(pageObjs[2], "/Rotate 90", "/Rotate 180", 1)})
	return [][]byte{
		one,
		two,
		modern("/Root 1 0 R", pageObjs...),
		classic("/Root 1 0 R", onePage()...),
		[]byte("%PDF-1.7\n1 0 obj << /Length 2 0 R >> stream\nx\nendstream endobj\nxref\n0 1\ntrailer << /Root 1 0 R /Prev 0 >>\nstartxref\n0\n%%EOF"),
		[]byte("%PDF-1.7\nxref\n0 1\n0000000000 65535 f \ntrailer << /Size 1 /Root 1 0 R /XRefStm 9 >>\nstartxref\n9\n%%EOF"),
	}
}

// fuzzLimits are small, so that hostile inputs reach the limits quickly.
var fuzzLimits = Limits{MaxObjects: 5000, MaxStream: 1 << 18, MaxDecoded: 1 << 20, MaxSections: 64}

func checkReader(t *testing.T, data []byte) {
	f := Open(data, fuzzLimits)
	lim := f.Limits()
	ends := RevisionEnds(data)
	if len(ends) > 8 {
		ends = ends[len(ends)-8:]
	}
	ends = append(ends, int64(len(data)))
	for _, end := range ends {
		if end < 0 || end > int64(len(data)) {
			t.Fatalf("revision end %d outside the file", end)
		}
		r, err := f.Revision(end)
		if err != nil {
			continue
		}
		if r.End() != end || r.Trailer() == nil || len(r.Sections()) == 0 || r.Len() > lim.MaxObjects {
			t.Fatalf("revision at %d: end %d, %d sections, %d objects", end, r.End(), len(r.Sections()), r.Len())
		}
		for _, s := range r.Sections() {
			if s.Off < 0 || s.Off >= end || s.End <= s.Off || s.End > int64(len(data)) || len(s.Nums) != len(s.Entries) {
				t.Fatalf("section %+v of the revision at %d", s, end)
			}
		}
		nums := r.Numbers()
		if len(nums) > 300 {
			nums = nums[:300]
		}
		for _, num := range nums {
			v, err := r.Object(num)
			if err != nil && v != nil {
				t.Fatalf("object %d: a value and an error", num)
			}
			checkObject(t, r, v, 0)
			if off, oend, ok := r.Span(num); ok {
				if off < 0 || oend <= off || oend > int64(len(data)) || r.Location(num).Type != InUse {
					t.Fatalf("span of object %d: %d..%d", num, off, oend)
				}
				n, _, w, wend, err := r.ObjectAt(off)
				if err == nil && (n != num || wend != oend || !Equal(w, v)) {
					t.Fatalf("ObjectAt(%d) disagrees with Object(%d)", off, num)
				}
			}
			if s, ok := v.(*Stream); ok {
				b, err := r.Decode(s)
				if err == nil && int64(len(b)) > lim.MaxStream {
					t.Fatalf("decoded %d bytes, limit %d", len(b), lim.MaxStream)
				}
				if err != nil && !errors.Is(err, ErrLimit) && !errors.Is(err, ErrBomb) && b != nil {
					t.Fatal("decoded data with an error")
				}
			}
		}
		checkPages(t, r)
	}
	if f.decoded > lim.MaxDecoded+lim.MaxStream {
		t.Fatalf("decoded %d bytes in all, limit %d", f.decoded, lim.MaxDecoded)
	}
}

// checkObject checks the invariants of a value read from revision r.
func checkObject(t *testing.T, r *Revision, v Object, depth int) {
	data := r.File().Data()
	if depth > MaxDepth+1 {
		t.Fatalf("nesting %d", depth)
	}
	if !Equal(v, v) {
		t.Fatalf("%#v is not equal to itself", v)
	}
	switch x := v.(type) {
	case String:
		if x.Off >= 0 {
			if x.End <= x.Off || x.End > int64(len(data)) || (data[x.Off] != '(' && data[x.Off] != '<') ||
				(data[x.End-1] != ')' && data[x.End-1] != '>') || x.Hex != (data[x.Off] == '<') {
				t.Fatalf("string span %d..%d", x.Off, x.End)
			}
		} else if x.End != -1 {
			t.Fatalf("string span -1..%d", x.End)
		}
	case Ref:
		if x.Num < 0 || x.Num > 1<<31 || x.Gen < 0 || x.Gen > 65535 {
			t.Fatalf("reference %v", x)
		}
	case Real:
		if f, ok := NumberOf(x); !ok || f != float64(x) {
			t.Fatalf("real %v", x)
		}
	case Array:
		for _, e := range x {
			checkObject(t, r, e, depth+1)
		}
	case *Dict:
		if off, end, ok := x.Span(); ok {
			if off < 0 || end > int64(len(data)) || string(data[off:off+2]) != "<<" || string(data[end-2:end]) != ">>" {
				t.Fatalf("dictionary span %d..%d", off, end)
			}
		}
		if x.Dup() != (len(x.DuplicateKeys()) > 0) {
			t.Fatal("duplicate marks")
		}
		for _, e := range x.All() {
			checkObject(t, r, e, depth+1)
		}
	case *Stream:
		if off, end, ok := x.Span(); ok && (end > int64(len(data)) || !bytes.Equal(data[off:end], x.Raw)) {
			t.Fatalf("stream span %d..%d", off, end)
		}
		checkObject(t, r, x.Dict, depth+1)
	}
	if depth == 0 && v != nil {
		// The value re-parses to itself.
		text := serialize(v)
		w, n, err := ParseObject([]byte(text))
		if err != nil || n != len(text) || serialize(w) != text {
			t.Fatalf("%s re-parses as %s (%v)", text, serialize(w), err)
		}
	}
}

// checkPages walks the page tree, its contents, annotations and appearances.
func checkPages(t *testing.T, r *Revision) {
	pages, err := r.Pages(50)
	if err != nil {
		return
	}
	for _, p := range pages {
		if p.Dict == nil || p.Rotate%90 != 0 || p.Rotate < 0 || p.Rotate >= 360 || (p.MediaBoxOK && p.CropBox.Empty() && !p.MediaBox.Empty()) {
			t.Fatalf("page %+v", p)
		}
		if c, err := r.PageContent(p); err == nil {
			checkContent(t, c)
		}
		for _, a := range r.Annotations(p) {
			if ap := r.Appearance(a.Dict); ap != nil {
				if b, err := r.Decode(ap); err == nil {
					checkContent(t, b)
				}
			}
		}
	}
}

// checkContent lexes content and checks the tokens' spans.
func checkContent(t *testing.T, c []byte) {
	l := NewContentLexer(c)
	last := 0
	for range 100_000 {
		op, err := l.NextOp()
		if err == io.EOF {
			return
		}
		if err != nil {
			if !errors.Is(err, ErrContent) {
				t.Fatalf("content: %v", err)
			}
			return
		}
		for _, tok := range append(op.Operands, op.Operator) {
			if tok.Start < last || tok.End <= tok.Start || tok.End > len(c) {
				t.Fatalf("token %+v after %d in %d bytes", tok, last, len(c))
			}
			last = tok.End
			l.Value(tok)
			l.Number(tok)
			l.Name(tok)
		}
		if op.Image != nil {
			im := op.Image
			if im.DataStart < last || im.DataEnd < im.DataStart || im.End < im.DataEnd+2 || im.End > len(c) || im.End != l.Pos() {
				t.Fatalf("inline image %+v", im)
			}
			last = im.End
		}
	}
}

// serialize writes a value as PDF syntax: names with #xx escapes, strings in hex, reals
// in full precision. Duplicate keys are written once.
func serialize(o Object) string {
	switch v := o.(type) {
	case nil:
		return "null"
	case Bool:
		return strconv.FormatBool(bool(v))
	case Int:
		return strconv.FormatInt(int64(v), 10)
	case Real:
		s := strconv.FormatFloat(float64(v), 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0" // stays a real when re-parsed ("5", "-0")
		}
		return s
	case Name:
		var b strings.Builder
		b.WriteByte('/')
		for _, c := range []byte(v) {
			if !IsRegular(c) || c == '#' || c < '!' || c > '~' {
				fmt.Fprintf(&b, "#%02x", c)
			} else {
				b.WriteByte(c)
			}
		}
		return b.String()
	case String:
		return "<" + hexOf(v.Value) + ">"
	case Ref:
		return v.String()
	case Array:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = serialize(x)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case *Dict:
		var b strings.Builder
		b.WriteString("<<")
		for k, x := range v.All() {
			b.WriteString(serialize(k) + " " + serialize(x) + " ")
		}
		b.WriteString(">>")
		return b.String()
	case *Stream:
		return serialize(v.Dict)
	}
	panic(fmt.Sprintf("serialize %T", o))
}
