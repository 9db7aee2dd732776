package pdf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseObject(t *testing.T) {
	d := func(kv ...any) *Dict {
		x := &Dict{}
		for i := 0; i < len(kv); i += 2 {
			x.Set(Name(kv[i].(string)), kv[i+1])
		}
		return x
	}
	s := func(v string) String { return String{Value: []byte(v), Off: -1, End: -1} }
	h := func(v string) String { return String{Value: []byte(v), Hex: true, Off: -1, End: -1} }
	for _, c := range []struct {
		in   string
		want Object
		n    int
	}{
		{"  % comment\n 42 ", Int(42), 15},
		{"-3.5", Real(-3.5), 4},
		{"+7", Int(7), 2},
		{"--5", Real(-5), 3},
		{"5.", Real(5), 2},
		{".5", Real(0.5), 2},
		{"12 0 R", Ref{12, 0}, 6},
		{"12 0 Rx", Int(12), 2},
		{"-1 0 R", Int(-1), 2},
		{"true", Bool(true), 4},
		{"false", Bool(false), 5},
		{"null", nil, 4},
		{"/A#42c", Name("ABc"), 6},
		{"/A#4", Name("A#4"), 4},
		{"/", Name(""), 1},
		{`(a\(b\)\n\101\0011(x))`, s("a(b)\nA\x011(x)"), 22},
		{"(a\\\r\nb)", s("ab"), 7},
		{"<48 65 6c6C 6>", h("Hell`"), 14},
		{"[1 2 0 R /N [true]]", Array{Int(1), Ref{2, 0}, Name("N"), Array{Bool(true)}}, 19},
		{"[]", Array{}, 2},
		{"<< /A 1 /B << /C (x) >> /D null >>", d("A", Int(1), "B", d("C", s("x")), "D", nil), 34},
	} {
		got, n, err := ParseObject([]byte(c.in))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !Equal(got, c.want) || reflect.TypeOf(got) != reflect.TypeOf(c.want) || n != c.n {
			t.Errorf("%q → %#v (%d bytes), want %#v (%d)", c.in, got, n, c.want, c.n)
		}
		if st, ok := got.(String); ok && (st.Off != -1 || st.Hex != c.want.(String).Hex) {
			t.Errorf("%q: string %+v", c.in, st)
		}
	}
	for _, bad := range []string{"", "(open", "<4", "<zz>", "[1 2", "<< /A 1", "<< 1 2 >>", "<< /A 1 > >>", ")", "]", "{",
		"obj", "1.2.3", "99999999999 0 R", "1 99999 R", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)} {
		if v, _, err := ParseObject([]byte(bad)); err == nil {
			t.Errorf("%q accepted as %#v", bad, v)
		} else if !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: %v is not ErrSyntax", bad, err)
		}
	}
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, _, err := ParseObject([]byte(deep)); err != nil {
		t.Errorf("nesting of %d refused: %v", MaxDepth, err)
	}
}

func TestReadUint(t *testing.T) {
	for _, c := range []struct {
		in       string
		v        int64
		next     int
		ok       bool
		startPos int
	}{
		{"startxref\n123\n", 123, 13, true, 9},
		{"  % c\n 7 ", 7, 8, true, 0},
		{"12a", 0, 0, false, 0},
		{"-1", 0, 0, false, 0},
		{"1234567890123456789", 0, 0, false, 0},
		{"", 0, 0, false, 0},
	} {
		v, next, ok := ReadUint([]byte(c.in), c.startPos)
		if ok != c.ok || v != c.v || (ok && next != c.next) || (!ok && next != c.startPos) {
			t.Errorf("%q: %d %d %v", c.in, v, next, ok)
		}
	}
}

func TestDict(t *testing.T) {
	file := classic("/Root 1 0 R", "<< /Type /Catalog /A 1 /A 2 /B (s) /A 3 >>")
	r := final(t, file, Limits{})
	d := r.Root()
	if d.Get("A") != Int(3) || !d.Dup() || !reflect.DeepEqual(d.DuplicateKeys(), []Name{"A", "A"}) || d.Len() != 3 {
		t.Fatalf("duplicates: %v %v %v", d.Get("A"), d.Dup(), d.DuplicateKeys())
	}
	off, end, ok := d.Span()
	if !ok || string(file[off:off+2]) != "<<" || string(file[end-2:end]) != ">>" {
		t.Fatalf("span %d %d %v", off, end, ok)
	}
	str := d.Get("B").(String)
	if string(file[str.Off:str.End]) != "(s)" || str.Hex {
		t.Fatalf("string span %+v", str)
	}
	c := d.Clone() // forgets the duplicate marks, so it compares unequal to d
	if EqualDict(c, d, nil) {
		t.Fatal("a clone without duplicate marks equals the ambiguous original")
	}
	c.Set("A", Int(4))
	if c.Dup() || c.Get("A") != Int(4) || d.Get("A") != Int(3) {
		t.Fatal("Set on a clone")
	}
	if _, _, ok := c.Span(); ok {
		t.Fatal("a clone has a file span")
	}
	var keys []Name
	for k := range c.All() {
		keys = append(keys, k)
	}
	if !reflect.DeepEqual(keys, []Name{"Type", "A", "B"}) {
		t.Fatalf("keys %v", keys)
	}
	var nilDict *Dict
	if nilDict.Get("A") != nil || nilDict.Len() != 0 || nilDict.Dup() || nilDict.Clone().Len() != 0 {
		t.Fatal("nil dictionary")
	}
	for range nilDict.All() {
		t.Fatal("nil dictionary iterates")
	}
}

func TestEqual(t *testing.T) {
	a, _, _ := ParseObject([]byte("<< /A [1 (x) 2 0 R] /B null /C << /D /E >> >>"))
	b, _, _ := ParseObject([]byte("<< /C << /D /E >> /A [1 <78> 2 0 R] >>"))
	c, _, _ := ParseObject([]byte("<< /C << /D /F >> /A [1 <78> 2 0 R] >>"))
	if !Equal(a, b) || Equal(a, c) || !Equal(nil, nil) || Equal(Ref{1, 0}, Ref{1, 1}) {
		t.Fatal("Equal")
	}
	// Numbers compare by value (612 and 612.0 are one number); large integers exactly.
	if !Equal(Int(612), Real(612)) || !Equal(Real(612), Int(612)) || Equal(Int(1), Real(1.5)) ||
		Equal(Int(1<<53+1), Int(1<<53)) || Equal(Int(1), Name("1")) || Equal(Real(1), nil) {
		t.Fatal("Equal numbers")
	}
	if got := ChangedKeys(a.(*Dict), c.(*Dict)); !reflect.DeepEqual(got, []Name{"C"}) {
		t.Fatalf("ChangedKeys %v", got)
	}
	if !EqualDict(a.(*Dict), c.(*Dict), map[Name]bool{"C": true}) {
		t.Fatal("EqualDict skip")
	}
	if n, ok := IntOf(Real(3)); !ok || n != 3 {
		t.Fatal("IntOf(3.0)")
	}
	if _, ok := IntOf(Real(3.5)); ok {
		t.Fatal("IntOf(3.5)")
	}
	if f, ok := NumberOf(Int(2)); !ok || f != 2 {
		t.Fatal("NumberOf")
	}
	if NameOf(Int(1)) != "" || NameOf(Name("X")) != "X" {
		t.Fatal("NameOf")
	}
	if (Ref{3, 1}).String() != "3 1 R" {
		t.Fatal("Ref.String")
	}
}
