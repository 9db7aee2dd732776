package pdfdoc

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ErrNotOurs is returned when a file does not have the classic structure this package writes
// (cross-reference tables, not streams), so it cannot be updated here.
var ErrNotOurs = errors.New("pdfdoc: not a classic-xref PDF as written by this package")

// Reader reads back files this package wrote — or any PDF with classic cross-reference
// tables — far enough to append an incremental update: the last revision's trailer and
// individual non-stream objects. It is not a general PDF parser and trusts nothing: every
// offset and length is checked.
type Reader struct {
	file    []byte
	offsets map[int]int64 // latest offset of each object
	Rev     Revision
}

// Read parses the trailer chain of file.
func Read(file []byte) (*Reader, error) {
	r := &Reader{file: file, offsets: map[int]int64{}}
	tail := file[max(0, len(file)-1024):]
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return nil, ErrNotOurs
	}
	p := &parser{b: tail, i: i + len("startxref")}
	sx, ok := p.object().(Int)
	if !ok || int64(sx) <= 0 || int64(sx) >= int64(len(file)) {
		return nil, ErrNotOurs
	}
	r.Rev.StartXref = int64(sx)
	r.Rev.Length = int64(len(file))
	seen := map[int64]bool{}
	first := true
	for off := int64(sx); off > 0; {
		if seen[off] || len(seen) > 1000 {
			return nil, fmt.Errorf("pdfdoc: cross-reference loop")
		}
		seen[off] = true
		trailer, err := r.section(off)
		if err != nil {
			return nil, err
		}
		if first {
			first = false
			size, _ := trailer["Size"].(Int)
			root, _ := trailer["Root"].(Ref)
			info, _ := trailer["Info"].(Ref)
			r.Rev.Size, r.Rev.Root, r.Rev.Info = int(size), root, info
			if ids, ok := trailer["ID"].(Array); ok && len(ids) == 2 {
				a, _ := ids[0].(Hex)
				b, _ := ids[1].(Hex)
				r.Rev.ID = [2]Hex{a, b}
			}
			if r.Rev.Size <= 0 || root.Num <= 0 {
				return nil, ErrNotOurs
			}
		}
		prev, _ := trailer["Prev"].(Int)
		off = int64(prev)
	}
	return r, nil
}

// section reads one xref table at off and its trailer; entries not yet known are recorded
// (later sections were read first, so they win).
func (r *Reader) section(off int64) (Dict, error) {
	if off < 0 || off >= int64(len(r.file)) || !bytes.HasPrefix(r.file[off:], []byte("xref")) {
		return nil, ErrNotOurs
	}
	p := &parser{b: r.file, i: int(off) + 4}
	for {
		p.space()
		if bytes.HasPrefix(p.b[p.i:], []byte("trailer")) {
			p.i += len("trailer")
			d, ok := p.object().(Dict)
			if !ok {
				return nil, ErrNotOurs
			}
			return d, nil
		}
		start, ok1 := p.object().(Int)
		count, ok2 := p.object().(Int)
		if !ok1 || !ok2 || start < 0 || count < 0 || count > 1<<20 {
			return nil, ErrNotOurs
		}
		p.space()
		for k := 0; k < int(count); k++ {
			if p.i+20 > len(p.b) {
				return nil, ErrNotOurs
			}
			e := p.b[p.i : p.i+20]
			p.i += 20
			n := int(start) + k
			if e[17] == 'n' {
				o, err := strconv.ParseInt(string(e[:10]), 10, 64)
				if err != nil || o <= 0 || o >= int64(len(r.file)) {
					return nil, ErrNotOurs
				}
				if _, known := r.offsets[n]; !known {
					r.offsets[n] = o
				}
			} else if _, known := r.offsets[n]; !known {
				r.offsets[n] = -1 // free
			}
		}
	}
}

// Object reads object ref's value. Streams are returned as *Stream with their raw data.
func (r *Reader) Object(ref Ref) (Object, error) {
	off, ok := r.offsets[ref.Num]
	if !ok || off < 0 {
		return nil, fmt.Errorf("pdfdoc: object %d not found", ref.Num)
	}
	p := &parser{b: r.file, i: int(off)}
	n, _ := p.object().(Int)
	g, _ := p.object().(Int)
	p.space()
	if int(n) != ref.Num || int(g) != ref.Gen || !bytes.HasPrefix(p.b[p.i:], []byte("obj")) {
		return nil, fmt.Errorf("pdfdoc: object %d not at its offset", ref.Num)
	}
	p.i += 3
	o := p.object()
	if p.err != nil {
		return nil, fmt.Errorf("pdfdoc: object %d: %w", ref.Num, p.err)
	}
	if d, ok := o.(Dict); ok {
		p.space()
		if bytes.HasPrefix(p.b[p.i:], []byte("stream")) {
			p.i += len("stream")
			if p.i < len(p.b) && p.b[p.i] == '\r' {
				p.i++
			}
			if p.i < len(p.b) && p.b[p.i] == '\n' {
				p.i++
			}
			l, ok := d["Length"].(Int)
			if !ok || l < 0 || p.i+int(l) > len(p.b) {
				return nil, fmt.Errorf("pdfdoc: object %d: bad stream length", ref.Num)
			}
			s := &Stream{Dict: d, Data: p.b[p.i : p.i+int(l)]}
			delete(s.Dict, "Length")
			return s, nil
		}
	}
	return o, nil
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

// parser reads PDF objects from b.
type parser struct {
	b     []byte
	i     int
	depth int
	err   error
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}
func isDelim(c byte) bool { return bytes.IndexByte([]byte("()<>[]{}/%"), c) >= 0 }

func (p *parser) space() {
	for p.i < len(p.b) {
		c := p.b[p.i]
		if isSpace(c) {
			p.i++
		} else if c == '%' {
			for p.i < len(p.b) && p.b[p.i] != '\n' && p.b[p.i] != '\r' {
				p.i++
			}
		} else {
			return
		}
	}
}

func (p *parser) fail(msg string) Object {
	if p.err == nil {
		p.err = errors.New(msg)
	}
	return Null{}
}

func (p *parser) token() []byte {
	s := p.i
	for p.i < len(p.b) && !isSpace(p.b[p.i]) && !isDelim(p.b[p.i]) {
		p.i++
	}
	return p.b[s:p.i]
}

// object parses one object; "N G R" becomes a Ref.
func (p *parser) object() Object {
	p.space()
	if p.i >= len(p.b) {
		return p.fail("unexpected end")
	}
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 64 {
		return p.fail("nesting too deep")
	}
	switch c := p.b[p.i]; {
	case c == '/':
		p.i++
		return Name(unescapeName(p.token()))
	case c == '[':
		p.i++
		var a Array
		for {
			p.space()
			if p.i >= len(p.b) {
				return p.fail("unterminated array")
			}
			if p.b[p.i] == ']' {
				p.i++
				return a
			}
			a = append(a, p.object())
			if p.err != nil {
				return Null{}
			}
			a = foldRef(a)
		}
	case c == '<' && p.i+1 < len(p.b) && p.b[p.i+1] == '<':
		p.i += 2
		d := Dict{}
		for {
			p.space()
			if p.i+1 < len(p.b) && p.b[p.i] == '>' && p.b[p.i+1] == '>' {
				p.i += 2
				return d
			}
			k, ok := p.object().(Name)
			if !ok || p.err != nil {
				return p.fail("dictionary key is not a name")
			}
			v := p.object()
			// A reference "N G R" spans three tokens.
			if n, ok := v.(Int); ok {
				save := p.i
				if g, ok := p.object().(Int); ok {
					p.space()
					if p.i < len(p.b) && p.b[p.i] == 'R' {
						p.i++
						v = Ref{Num: int(n), Gen: int(g)}
					} else {
						p.i = save
					}
				} else {
					p.i = save
				}
				p.err = nil
			}
			d[k] = v
			if p.err != nil {
				return Null{}
			}
		}
	case c == '<':
		p.i++
		var h []byte
		for p.i < len(p.b) && p.b[p.i] != '>' {
			if !isSpace(p.b[p.i]) {
				h = append(h, p.b[p.i])
			}
			p.i++
		}
		p.i++
		if len(h)%2 == 1 {
			h = append(h, '0')
		}
		out := make(Hex, len(h)/2)
		for k := range out {
			v, err := strconv.ParseUint(string(h[2*k:2*k+2]), 16, 8)
			if err != nil {
				return p.fail("bad hex string")
			}
			out[k] = byte(v)
		}
		return out
	case c == '(':
		p.i++
		var s []byte
		level := 1
		for p.i < len(p.b) {
			c := p.b[p.i]
			p.i++
			switch c {
			case '\\':
				if p.i < len(p.b) {
					e := p.b[p.i]
					p.i++
					switch e {
					case 'n':
						s = append(s, '\n')
					case 'r':
						s = append(s, '\r')
					case 't':
						s = append(s, '\t')
					case 'b':
						s = append(s, '\b')
					case 'f':
						s = append(s, '\f')
					default:
						if e >= '0' && e <= '7' {
							v := int(e - '0')
							for k := 0; k < 2 && p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '7'; k++ {
								v = v*8 + int(p.b[p.i]-'0')
								p.i++
							}
							s = append(s, byte(v))
						} else if e != '\n' && e != '\r' {
							s = append(s, e)
						}
					}
				}
			case '(':
				level++
				s = append(s, c)
			case ')':
				level--
				if level == 0 {
					return String(s)
				}
				s = append(s, c)
			default:
				s = append(s, c)
			}
		}
		return p.fail("unterminated string")
	default:
		t := p.token()
		if len(t) == 0 {
			p.i++
			return p.fail("unexpected delimiter")
		}
		switch string(t) {
		case "true":
			return Bool(true)
		case "false":
			return Bool(false)
		case "null":
			return Null{}
		case "R":
			return Raw("R")
		}
		if v, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return Int(v)
		}
		if v, err := strconv.ParseFloat(string(t), 64); err == nil {
			return Real(v)
		}
		return Raw(t)
	}
}

// foldRef turns a trailing "N G R" in an array into a Ref.
func foldRef(a Array) Array {
	if len(a) >= 3 {
		if r, ok := a[len(a)-1].(Raw); ok && string(r) == "R" {
			n, ok1 := a[len(a)-3].(Int)
			g, ok2 := a[len(a)-2].(Int)
			if ok1 && ok2 {
				return append(a[:len(a)-3], Ref{Num: int(n), Gen: int(g)})
			}
		}
	}
	return a
}

func unescapeName(t []byte) string {
	if bytes.IndexByte(t, '#') < 0 {
		return string(t)
	}
	var out []byte
	for i := 0; i < len(t); i++ {
		if t[i] == '#' && i+2 < len(t) {
			if v, err := strconv.ParseUint(string(t[i+1:i+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 2
				continue
			}
		}
		out = append(out, t[i])
	}
	return string(out)
}
