package pdf

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// ops lexes c into "operator(operand kinds…)" strings.
func ops(t *testing.T, c string) ([]string, error) {
	t.Helper()
	l := NewContentLexer([]byte(c))
	var out []string
	for {
		op, err := l.NextOp()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		var parts []string
		for _, o := range op.Operands {
			parts = append(parts, string(l.Bytes(o)))
		}
		s := op.Name(l) + "(" + strings.Join(parts, ",") + ")"
		if op.Image != nil {
			var dict []string
			for _, o := range op.Image.Dict {
				dict = append(dict, string(l.Bytes(o)))
			}
			s += "{" + strings.Join(dict, ",") + "}[" + c[op.Image.DataStart:op.Image.DataEnd] + "]"
			if op.Image.End != l.Pos() {
				t.Errorf("image end %d, lexer at %d", op.Image.End, l.Pos())
			}
		}
		out = append(out, s)
	}
}

func TestContentLexer(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"1 0 0 1 72 720 cm /F1 12 Tf", []string{"cm(1,0,0,1,72,720)", "Tf(/F1,12)"}},
		{"[(a) 1 <20>] TJ % comment Tj\n(x\\)) '", []string{"TJ([(a) 1 <20>])", "'((x\\)))"}},
		{"/Span <</ActualText (\\) BDC) /R 1 0 R>> BDC EMC", []string{"BDC(/Span,<</ActualText (\\) BDC) /R 1 0 R>>)", "EMC()"}},
		{"true false null { } d0", []string{"d0(true,false,null,{,})"}},
		{"BI /W 2 /H 1 /CS /G /BPC 8 ID \x00\xff EI Q", []string{"BI(){/W,2,/H,1,/CS,/G,/BPC,8}[\x00\xff]", "Q()"}},
		{"BI /W 4 /H 1 /L 4 ID EI x EI Q", []string{"BI(){/W,4,/H,1,/L,4}[EI x]", "Q()"}},
		{"BI /W 1 ID xEIx EI", []string{"BI(){/W,1}[xEIx]"}},
		{"1 2 3", nil},
		{"", nil},
	} {
		got, err := ops(t, c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q → %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"(open", "<< /A", "[1 2", ")", ">", "]", "<abc", "[1 Tj]", "<< /A q >>",
		"BI /W 1 ID xx", "BI /W 1 Q", "BI /W", "BI /L 2 ID abcd EI", strings.Repeat("[", 100)} {
		if _, err := ops(t, bad); !errors.Is(err, ErrContent) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// Operands: the last 64 are kept.
	l := NewContentLexer([]byte(strings.Repeat("1 ", 70) + "2 sc"))
	op, err := l.NextOp()
	if err != nil || len(op.Operands) != 64 || string(l.Bytes(op.Operands[63])) != "2" {
		t.Fatalf("%d operands, %v", len(op.Operands), err)
	}
}

func TestContentValues(t *testing.T) {
	l := NewContentLexer([]byte("/A#42 -1.5 (x\\(y) <4142> [1 /N] <</K 2>> 3 Tj {"))
	var toks []Token
	for {
		tok, err := l.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	if len(toks) != 9 || l.Pos() != 47 {
		t.Fatalf("%d tokens, at %d", len(toks), l.Pos())
	}
	if l.Name(toks[0]) != "AB" || l.Name(toks[1]) != "" {
		t.Error("Name")
	}
	if f, ok := l.Number(toks[1]); !ok || f != -1.5 {
		t.Error("Number")
	}
	if _, ok := l.Number(toks[0]); ok {
		t.Error("Number of a name")
	}
	want := []Object{Name("AB"), Real(-1.5), String{Value: []byte("x(y")}, String{Value: []byte("AB")},
		Array{Int(1), Name("N")}, nil, Int(3)}
	for i, w := range want {
		v, err := l.Value(toks[i])
		if err != nil || (i != 5 && !Equal(v, w)) {
			t.Errorf("token %d: %#v %v", i, v, err)
		}
	}
	if d, _ := l.Value(toks[5]); !Equal(d.(*Dict).Get("K"), Int(2)) {
		t.Error("dictionary value")
	}
	if _, err := l.Value(toks[7]); err == nil {
		t.Error("Value of an operator")
	}
	if _, err := l.Value(toks[8]); err == nil {
		t.Error("Value of a brace")
	}
	bad := NewContentLexer([]byte("1.2.3 --4"))
	t1, _ := bad.Next()
	t2, _ := bad.Next()
	if _, ok := bad.Number(t1); ok {
		t.Error("1.2.3 is a number")
	}
	if f, ok := bad.Number(t2); !ok || f != -4 {
		t.Error("--4 as readers take it")
	}
	if DecodeName([]byte("a#2")) != "a#2" || DecodeName([]byte("a#20b")) != "a b" || DecodeName([]byte("#zz")) != "#zz" {
		t.Error("DecodeName")
	}
}
