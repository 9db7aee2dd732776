package verify

import (
	"bytes"
	"fmt"
)

// The PDF object model of the low-level reader. It is deliberately small: the engine never
// interprets content, it only locates, compares and classifies objects.

// object is any PDF value: nil (null), pbool, pint, preal, pname, pstring, parray, *pdict,
// pref or *pstream.
type object any

type (
	pbool  bool
	pint   int64
	preal  float64
	pname  string
	parray []object
)

// pref is an indirect reference "num gen R".
type pref struct {
	num int
	gen int
}

// pstring is a literal or hexadecimal string. off/end are the absolute file offsets of the
// whole token (from "(" or "<" to the closing delimiter, exclusive), or -1 when the string
// was not read from the file itself (object streams).
type pstring struct {
	v        []byte
	hex      bool
	off, end int64
}

// pdict is a dictionary in file order. dup is set when a key occurs more than once, which
// the engine treats as an attack on signature dictionaries (parsers disagree on which one
// wins).
type pdict struct {
	keys []pname
	vals []object
	dup  bool
	// off is the absolute offset of "<<", -1 when not read from the file.
	off int64
}

// pstream is a stream: its dictionary and its raw (still encoded) data.
type pstream struct {
	dict *pdict
	data []byte
	off  int64 // absolute offset of the first data byte, -1 when unknown
}

// get returns the value of key, or nil. A key present with the value null is absent.
func (d *pdict) get(k pname) object {
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

// has reports whether key is present with a non-null value.
func (d *pdict) has(k pname) bool { return d.get(k) != nil }

func (d *pdict) set(k pname, v object) {
	for i, kk := range d.keys {
		if kk == k {
			d.dup = true
			d.vals[i] = v // the last one wins, like most readers; dup flags the ambiguity
			return
		}
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
}

// nameOf returns o as a name, or "".
func nameOf(o object) pname {
	n, _ := o.(pname)
	return n
}

// intOf returns o as an integer.
func intOf(o object) (int64, bool) {
	switch v := o.(type) {
	case pint:
		return int64(v), true
	case preal:
		if float64(int64(v)) == float64(v) {
			return int64(v), true
		}
	}
	return 0, false
}

// equalObj compares two values structurally: references compare by number and generation
// (not followed), dictionaries ignore key order and null values, streams compare their
// dictionaries and raw data, strings compare their decoded bytes.
func equalObj(a, b object) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case pbool:
		y, ok := b.(pbool)
		return ok && x == y
	case pint:
		y, ok := b.(pint)
		return ok && x == y
	case preal:
		y, ok := b.(preal)
		return ok && x == y
	case pname:
		y, ok := b.(pname)
		return ok && x == y
	case pref:
		y, ok := b.(pref)
		return ok && x == y
	case pstring:
		y, ok := b.(pstring)
		return ok && bytes.Equal(x.v, y.v)
	case parray:
		y, ok := b.(parray)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalObj(x[i], y[i]) {
				return false
			}
		}
		return true
	case *pdict:
		y, ok := b.(*pdict)
		return ok && equalDict(x, y, nil)
	case *pstream:
		y, ok := b.(*pstream)
		return ok && equalDict(x.dict, y.dict, nil) && bytes.Equal(x.data, y.data)
	}
	return false
}

// equalDict compares two dictionaries, ignoring the keys in skip.
func equalDict(a, b *pdict, skip map[pname]bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.dup != b.dup {
		return false
	}
	n := 0
	for i, k := range a.keys {
		if skip[k] || a.vals[i] == nil {
			continue
		}
		n++
		if !equalObj(a.vals[i], b.get(k)) {
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

// changedKeys lists the keys whose values differ between a and b (either side).
func changedKeys(a, b *pdict) []pname {
	var out []pname
	seen := map[pname]bool{}
	for _, d := range []*pdict{a, b} {
		if d == nil {
			continue
		}
		for _, k := range d.keys {
			if seen[k] {
				continue
			}
			seen[k] = true
			if !equalObj(a.get(k), b.get(k)) {
				out = append(out, k)
			}
		}
	}
	return out
}

func (r pref) String() string { return fmt.Sprintf("%d %d R", r.num, r.gen) }
