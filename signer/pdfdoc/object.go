package pdfdoc

import (
	"bytes"
	"sort"
	"strconv"
	"unicode/utf16"

	"github.com/chungthuc/chungthuc/internal/pdf"
)

// Object is any PDF object this package can write.
type Object interface {
	appendTo(b []byte) []byte
}

// Name is a PDF name, written with # escapes where needed (without the leading slash here).
type Name string

// Int is a PDF integer.
type Int int64

// Real is a PDF real number, written with at most 4 decimals.
type Real float64

// Bool is a PDF boolean.
type Bool bool

// Null is the PDF null object.
type Null struct{}

// String is a PDF literal string of raw bytes (escaped on output). For human-readable text
// use Text, which handles any Unicode.
type String []byte

// Text is a PDF text string: written as PDFDocEncoding-safe ASCII when possible, else as
// UTF-16BE with a byte-order mark in hex form, so any Unicode (e.g. "Lê Thị Ĩ") survives
// and no byte can break the string's delimiters.
type Text string

// Hex is a PDF hexadecimal string.
type Hex []byte

// Ref is an indirect reference "N G R".
type Ref struct{ Num, Gen int }

// Array is a PDF array.
type Array []Object

// Dict is a PDF dictionary. Keys are written in sorted order; nil values are skipped.
type Dict map[Name]Object

// Raw is preformatted PDF syntax written verbatim (the caller vouches for it).
type Raw []byte

// Stream is a stream object. Data is written as is (already encoded per Dict's /Filter);
// /Length is set by the writer.
type Stream struct {
	Dict Dict
	Data []byte
}

func (n Name) appendTo(b []byte) []byte {
	b = append(b, '/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < '!' || c > '~' || c == '#' || pdf.IsDelim(c) {
			b = append(b, '#', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		} else {
			b = append(b, c)
		}
	}
	return b
}

func (i Int) appendTo(b []byte) []byte { return strconv.AppendInt(b, int64(i), 10) }

func (r Real) appendTo(b []byte) []byte { return AppendReal(b, float64(r)) }

// AppendReal appends f formatted as a PDF number with at most 4 decimals and no exponent.
func AppendReal(b []byte, f float64) []byte {
	if f == float64(int64(f)) {
		return strconv.AppendInt(b, int64(f), 10)
	}
	s := strconv.AppendFloat(nil, f, 'f', 4, 64)
	s = bytes.TrimRight(s, "0")
	s = bytes.TrimSuffix(s, []byte("."))
	if string(s) == "-0" {
		s = []byte("0")
	}
	return append(b, s...)
}

func (v Bool) appendTo(b []byte) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

func (Null) appendTo(b []byte) []byte { return append(b, "null"...) }

func (s String) appendTo(b []byte) []byte {
	b = append(b, '(')
	for _, c := range []byte(s) {
		switch c {
		case '(', ')', '\\':
			b = append(b, '\\', c)
		case '\r':
			b = append(b, '\\', 'r')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return append(b, ')')
}

func (t Text) appendTo(b []byte) []byte {
	ascii := true
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return String(t).appendTo(b)
	}
	u := utf16.Encode([]rune(string(t)))
	h := make([]byte, 0, 2+2*len(u))
	h = append(h, 0xFE, 0xFF)
	for _, c := range u {
		h = append(h, byte(c>>8), byte(c))
	}
	return Hex(h).appendTo(b)
}

func (h Hex) appendTo(b []byte) []byte {
	const digits = "0123456789ABCDEF"
	b = append(b, '<')
	for _, c := range h {
		b = append(b, digits[c>>4], digits[c&15])
	}
	return append(b, '>')
}

func (r Ref) appendTo(b []byte) []byte {
	b = strconv.AppendInt(b, int64(r.Num), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.Gen), 10)
	return append(b, " R"...)
}

func (a Array) appendTo(b []byte) []byte {
	b = append(b, '[')
	for i, o := range a {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendObject(b, o)
	}
	return append(b, ']')
}

func (d Dict) appendTo(b []byte) []byte {
	keys := make([]string, 0, len(d))
	for k, v := range d {
		if v != nil {
			keys = append(keys, string(k))
		}
	}
	sort.Strings(keys)
	b = append(b, "<<"...)
	for _, k := range keys {
		b = Name(k).appendTo(b)
		b = append(b, ' ')
		b = appendObject(b, d[Name(k)])
	}
	return append(b, ">>"...)
}

func (r Raw) appendTo(b []byte) []byte { return append(b, r...) }

func (s *Stream) appendTo(b []byte) []byte {
	d := make(Dict, len(s.Dict)+1)
	for k, v := range s.Dict {
		d[k] = v
	}
	d["Length"] = Int(len(s.Data))
	b = d.appendTo(b)
	b = append(b, "\nstream\n"...)
	b = append(b, s.Data...)
	return append(b, "\nendstream"...)
}

func appendObject(b []byte, o Object) []byte {
	if o == nil {
		return append(b, "null"...)
	}
	return o.appendTo(b)
}

// Bytes returns the PDF syntax of o (for tests and content streams).
func Bytes(o Object) []byte { return appendObject(nil, o) }

// String returns h in PDF hex form.
func (h Hex) String() string { return string(h.appendTo(nil)) }
