package pdf

import (
	"bytes"
	"fmt"
	"iter"
	"math"
)

// Object is any PDF value: nil (null), Bool, Int, Real, Name, String, Array, *Dict, Ref or
// *Stream. The reader never returns any other type.
type Object any

type (
	// Bool is a PDF boolean.
	Bool bool
	// Int is a PDF integer (any token that parses as a decimal int64).
	Int int64
	// Real is a PDF real number.
	Real float64
	// Name is a PDF name without its slash, with #xx escapes undone.
	Name string
	// Array is a PDF array. Its elements are direct objects or references.
	Array []Object
)

// Ref is an indirect reference "Num Gen R". The reader only produces references with
// 0 <= Num <= 2^31 and 0 <= Gen <= 65535.
type Ref struct {
	Num int
	Gen int
}

// String returns the reference in PDF syntax ("12 0 R").
func (r Ref) String() string { return fmt.Sprintf("%d %d R", r.Num, r.Gen) }

// String is a literal "(…)" or hexadecimal "<…>" string. Value holds the decoded bytes
// (escapes and hex digits undone). Off and End are the absolute file offsets of the whole
// token, from "(" or "<" to just after the closing delimiter; both are -1 when the string
// was not read from the file itself (from an object stream or a content stream).
type String struct {
	Value    []byte
	Hex      bool
	Off, End int64
}

// Dict is a dictionary that keeps its keys in file order. A key written twice keeps its
// last value (as most readers do) and marks the dictionary as ambiguous: Dup reports it,
// and DuplicateKeys names the keys. The zero value is an empty dictionary not read from a
// file. Get, Has, Len, At and All are safe for concurrent use; Set is not.
type Dict struct {
	keys []Name
	vals []Object
	dups []Name
	// off and end are the absolute offsets of "<<" and just after ">>"; end is 0 when the
	// dictionary was not read from the file.
	off, end int64
}

// Get returns the value of key k, or nil. A key present with the value null is absent.
// Get on a nil *Dict returns nil.
func (d *Dict) Get(k Name) Object {
	if d == nil {
		return nil
	}
	for i, kk := range d.keys {
		if kk == k {
			return d.vals[i]
		}
	}
	return nil
}

// Has reports whether key k is present with a non-null value.
func (d *Dict) Has(k Name) bool { return d.Get(k) != nil }

// Set sets key k to v, replacing an existing value in place or appending the key. It never
// marks the dictionary as having duplicates (only the parser does).
func (d *Dict) Set(k Name, v Object) {
	for i, kk := range d.keys {
		if kk == k {
			d.vals[i] = v
			return
		}
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

// add is Set for the parser: a repeated key is recorded as a duplicate.
func (d *Dict) add(k Name, v Object) {
	for i, kk := range d.keys {
		if kk == k {
			d.dups = append(d.dups, k)
			d.vals[i] = v // the last one wins, like most readers; Dup flags the ambiguity
			return
		}
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

// Len returns the number of keys (including keys whose value is null). Len of a nil *Dict
// is 0.
func (d *Dict) Len() int {
	if d == nil {
		return 0
	}
	return len(d.keys)
}

// At returns the i-th key and its value in file order (0 <= i < Len()).
func (d *Dict) At(i int) (Name, Object) { return d.keys[i], d.vals[i] }

// All iterates over the keys and values in file order (nulls included). A nil *Dict
// yields nothing.
func (d *Dict) All() iter.Seq2[Name, Object] {
	return func(yield func(Name, Object) bool) {
		if d == nil {
			return
		}
		for i, k := range d.keys {
			if !yield(k, d.vals[i]) {
				return
			}
		}
	}
}

// Dup reports whether the file wrote a key of this dictionary more than once (readers
// disagree on which value counts: the engine treats it as an attack on signature
// dictionaries).
func (d *Dict) Dup() bool { return d != nil && len(d.dups) > 0 }

// DuplicateKeys lists the keys the file wrote more than once (each repetition once).
func (d *Dict) DuplicateKeys() []Name {
	if d == nil {
		return nil
	}
	return d.dups
}

// Span returns the absolute offsets of "<<" and just after ">>"; ok is false when the
// dictionary was not read from the file (object streams, built in memory).
func (d *Dict) Span() (off, end int64, ok bool) {
	if d == nil || d.end == 0 {
		return 0, 0, false
	}
	return d.off, d.end, true
}

// Clone returns a copy of d without its duplicate marks and file position: the keys and
// top-level values are copied (values themselves are shared). Clone of nil is an empty
// dictionary.
func (d *Dict) Clone() *Dict {
	if d == nil {
		return &Dict{}
	}
	return &Dict{keys: append([]Name(nil), d.keys...), vals: append([]Object(nil), d.vals...)}
}

// Stream is a stream object: its dictionary and its raw (still encoded) data. Raw aliases
// the file's bytes (or a decoded object stream's); it must not be modified. Off is the
// absolute offset of the first data byte, -1 when unknown.
type Stream struct {
	Dict *Dict
	Raw  []byte
	Off  int64
}

// Span returns the absolute offsets of the stream's data [off, end); ok is false when the
// stream was not read from the file.
func (s *Stream) Span() (off, end int64, ok bool) {
	if s == nil || s.Off < 0 {
		return 0, 0, false
	}
	return s.Off, s.Off + int64(len(s.Raw)), true
}

// NameOf returns o as a name, or "" when it is not one.
func NameOf(o Object) Name {
	n, _ := o.(Name)
	return n
}

// IntOf returns o as an integer: an Int, or a Real with an integral value.
func IntOf(o Object) (int64, bool) {
	switch v := o.(type) {
	case Int:
		return int64(v), true
	case Real:
		if float64(int64(v)) == float64(v) {
			return int64(v), true
		}
	}
	return 0, false
}

// NumberOf returns o as a finite number: an Int or a finite Real.
func NumberOf(o Object) (float64, bool) {
	switch v := o.(type) {
	case Int:
		return float64(v), true
	case Real:
		f := float64(v)
		return f, !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return 0, false
}

// Equal compares two values structurally: numbers compare by value (an Int and a Real
// with the same value are equal), references compare by number and generation
// (they are not followed), dictionaries ignore key order and null values but not
// duplicate marks, streams compare their dictionaries and raw data, strings compare their
// decoded bytes (a literal and a hex string with the same bytes are equal).
func Equal(a, b Object) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case Bool:
		y, ok := b.(Bool)
		return ok && x == y
	case Int, Real:
		// Numbers compare by value: 612 and 612.0 are the same number.
		if xi, ok := x.(Int); ok {
			if yi, ok := b.(Int); ok {
				return xi == yi
			}
		}
		xf, _ := NumberOf(x)
		yf, ok := NumberOf(b)
		return ok && xf == yf
	case Name:
		y, ok := b.(Name)
		return ok && x == y
	case Ref:
		y, ok := b.(Ref)
		return ok && x == y
	case String:
		y, ok := b.(String)
		return ok && bytes.Equal(x.Value, y.Value)
	case Array:
		y, ok := b.(Array)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Dict:
		y, ok := b.(*Dict)
		return ok && EqualDict(x, y, nil)
	case *Stream:
		y, ok := b.(*Stream)
		return ok && EqualDict(x.Dict, y.Dict, nil) && bytes.Equal(x.Raw, y.Raw)
	}
	return false
}

// EqualDict compares two dictionaries as Equal does, ignoring the keys in skip. Two nil
// dictionaries are equal; nil and non-nil are not.
func EqualDict(a, b *Dict, skip map[Name]bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Dup() != b.Dup() {
		return false
	}
	n := 0
	for i, k := range a.keys {
		if skip[k] || a.vals[i] == nil {
			continue
		}
		n++
		if !Equal(a.vals[i], b.Get(k)) {
			return false
		}
	}
	m := 0
	for i, k := range b.keys {
		if skip[k] || b.vals[i] == nil {
			continue
		}
		m++
	}
	return n == m
}

// ChangedKeys lists the keys whose values differ (by Equal) between a and b, in the order
// of a's keys then b's. Either may be nil.
func ChangedKeys(a, b *Dict) []Name {
	var out []Name
	seen := map[Name]bool{}
	for _, d := range []*Dict{a, b} {
		if d == nil {
			continue
		}
		for _, k := range d.keys {
			if seen[k] {
				continue
			}
			seen[k] = true
			if !Equal(a.Get(k), b.Get(k)) {
				out = append(out, k)
			}
		}
	}
	return out
}
