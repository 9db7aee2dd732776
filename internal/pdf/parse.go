package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// MaxDepth bounds the nesting of arrays and dictionaries in one object (deep-nesting
// attacks); deeper input is ErrSyntax.
const MaxDepth = 64

// ErrSyntax is wrapped by every error about malformed PDF syntax; the message names the
// absolute byte offset (or -1 inside decoded data).
var ErrSyntax = errors.New("pdf syntax error")

func syntaxErr(pos int64, format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrSyntax, pos, fmt.Sprintf(format, args...))
}

// parser reads PDF objects from buf. base is the absolute file offset of buf[0]; fromFile
// is false for decoded object-stream data, whose positions are not file positions.
type parser struct {
	buf      []byte
	pos      int
	base     int64
	fromFile bool
	depth    int
	// length resolves an indirect /Length of a stream; nil means indirect lengths are not
	// followed (the data is then delimited by "endstream").
	length func(Ref) (int64, bool)
	// work, when set, is charged with every byte scanned, and parsing fails once it
	// exceeds workLimit: hostile files cannot make the reader rescan the file forever.
	work      *int64
	workLimit int64
}

// ErrWork is returned (wrapping ErrLimit) once a File has spent its parse-work budget.
var ErrWork = fmt.Errorf("%w: too much parsing work for this file", ErrLimit)

// charge accounts for n scanned bytes.
func (p *parser) charge(n int) error {
	if p.work == nil {
		return nil
	}
	*p.work += int64(n)
	if *p.work > p.workLimit {
		return ErrWork
	}
	return nil
}

// IsWhite reports whether c is a PDF white-space character (NUL, TAB, LF, FF, CR, SP).
func IsWhite(c byte) bool {
	return c == 0 || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '
}

// IsDelim reports whether c is a PDF delimiter: ( ) < > [ ] { } / %.
func IsDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// IsRegular reports whether c is a regular character (neither white space nor a
// delimiter): the characters of names, numbers and keywords.
func IsRegular(c byte) bool { return !IsWhite(c) && !IsDelim(c) }

// ReadUint reads an unsigned decimal integer token (at most 18 digits, not followed by a
// regular character) after any white space and comments at buf[pos:]. It returns the value
// and the position just after it; ok is false (and next is pos) when there is none.
func ReadUint(buf []byte, pos int) (v int64, next int, ok bool) {
	p := &parser{buf: buf, pos: pos}
	v, ok = p.readUint()
	if !ok {
		return 0, pos, false
	}
	return v, p.pos, true
}

// ParseObject parses the one direct object at the start of b (after white space and
// comments): a reference "n g R" counts as one object, a stream does not (its dictionary
// is returned). It returns the object and the number of bytes read. Strings and
// dictionaries carry no file offsets. Nesting deeper than MaxDepth is ErrSyntax.
func ParseObject(b []byte) (Object, int, error) {
	p := &parser{buf: b}
	v, err := p.parseObject()
	if err != nil {
		return nil, 0, err
	}
	return v, p.pos, nil
}

func (p *parser) abs(i int) int64 {
	if !p.fromFile {
		return -1
	}
	return p.base + int64(i)
}

// skipWS skips white space and comments.
func (p *parser) skipWS() {
	for p.pos < len(p.buf) {
		c := p.buf[p.pos]
		if IsWhite(c) {
			p.pos++
		} else if c == '%' {
			for p.pos < len(p.buf) && p.buf[p.pos] != '\n' && p.buf[p.pos] != '\r' {
				p.pos++
			}
		} else {
			return
		}
	}
}

// peekKeyword returns the run of regular characters after white space, without consuming
// it.
func (p *parser) peekKeyword() []byte {
	p.skipWS()
	i := p.pos
	for i < len(p.buf) && IsRegular(p.buf[i]) {
		i++
	}
	return p.buf[p.pos:i]
}

// acceptKeyword consumes keyword kw when it comes next.
func (p *parser) acceptKeyword(kw string) bool {
	if string(p.peekKeyword()) == kw {
		p.pos += len(kw)
		return true
	}
	return false
}

// readUint reads an unsigned decimal integer token after white space; ok is false
// otherwise (and only the white space was consumed).
func (p *parser) readUint() (int64, bool) {
	p.skipWS()
	i := p.pos
	for i < len(p.buf) && p.buf[i] >= '0' && p.buf[i] <= '9' {
		i++
	}
	if i == p.pos || i-p.pos > 18 || (i < len(p.buf) && IsRegular(p.buf[i])) {
		return 0, false
	}
	v, err := strconv.ParseInt(string(p.buf[p.pos:i]), 10, 64)
	if err != nil {
		return 0, false
	}
	p.pos = i
	return v, true
}

// parseObject reads one direct object (a reference counts as one).
func (p *parser) parseObject() (Object, error) {
	p.skipWS()
	if p.pos >= len(p.buf) {
		return nil, syntaxErr(p.abs(p.pos), "unexpected end of data")
	}
	c := p.buf[p.pos]
	switch {
	case c == '/':
		return p.parseName()
	case c == '(':
		return p.parseLiteral()
	case c == '<':
		if p.pos+1 < len(p.buf) && p.buf[p.pos+1] == '<' {
			return p.parseDict()
		}
		return p.parseHex()
	case c == '[':
		return p.parseArray()
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		return p.parseNumberOrRef()
	case IsRegular(c):
		kw := p.peekKeyword()
		switch string(kw) {
		case "true":
			p.pos += 4
			return Bool(true), nil
		case "false":
			p.pos += 5
			return Bool(false), nil
		case "null":
			p.pos += 4
			return nil, nil
		}
		return nil, syntaxErr(p.abs(p.pos), "unexpected keyword %.20q", kw)
	}
	return nil, syntaxErr(p.abs(p.pos), "unexpected character %q", c)
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return syntaxErr(p.abs(p.pos), "nesting deeper than %d", MaxDepth)
	}
	return nil
}

func (p *parser) parseName() (Object, error) {
	p.pos++ // '/'
	start := p.pos
	for p.pos < len(p.buf) && IsRegular(p.buf[p.pos]) {
		p.pos++
	}
	return Name(DecodeName(p.buf[start:p.pos])), nil
}

func (p *parser) parseLiteral() (Object, error) {
	start := p.pos
	p.pos++ // '('
	var b []byte
	depth := 1
	for p.pos < len(p.buf) {
		c := p.buf[p.pos]
		p.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return String{Value: b, Off: p.abs(start), End: p.abs(p.pos)}, nil
			}
		case '\\':
			if p.pos >= len(p.buf) {
				continue
			}
			e := p.buf[p.pos]
			p.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if p.pos < len(p.buf) && p.buf[p.pos] == '\n' {
					p.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && p.pos < len(p.buf) && p.buf[p.pos] >= '0' && p.buf[p.pos] <= '7'; k++ {
						v = v*8 + int(p.buf[p.pos]-'0')
						p.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		b = append(b, c)
	}
	return nil, syntaxErr(p.abs(start), "unterminated string")
}

// HexDigit returns the value of the hexadecimal digit c (0-9, a-f, A-F).
func HexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (p *parser) parseHex() (Object, error) {
	start := p.pos
	p.pos++ // '<'
	end := bytes.IndexByte(p.buf[p.pos:], '>')
	if err := p.charge(max(end, len(p.buf)-p.pos)); end < 0 || err != nil {
		if err != nil {
			return nil, err
		}
		return nil, syntaxErr(p.abs(start), "unterminated hex string")
	}
	raw := p.buf[p.pos : p.pos+end]
	b := make([]byte, 0, len(raw)/2+1)
	var hi byte
	half := false
	for _, c := range raw {
		if IsWhite(c) {
			continue
		}
		v, ok := HexDigit(c)
		if !ok {
			return nil, syntaxErr(p.abs(start), "bad hex digit %q", c)
		}
		if half {
			b = append(b, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		b = append(b, hi<<4)
	}
	p.pos += end + 1
	return String{Value: b, Hex: true, Off: p.abs(start), End: p.abs(p.pos)}, nil
}

func (p *parser) parseArray() (Object, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.pos++ // '['
	var a Array
	for {
		p.skipWS()
		if p.pos >= len(p.buf) {
			return nil, syntaxErr(p.abs(p.pos), "unterminated array")
		}
		if p.buf[p.pos] == ']' {
			p.pos++
			if a == nil {
				a = Array{}
			}
			return a, nil
		}
		v, err := p.parseObject()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}

func (p *parser) parseDict() (Object, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	d := &Dict{off: p.abs(p.pos)}
	p.pos += 2 // '<<'
	for {
		p.skipWS()
		if p.pos >= len(p.buf) {
			return nil, syntaxErr(p.abs(p.pos), "unterminated dictionary")
		}
		if p.buf[p.pos] == '>' {
			if p.pos+1 < len(p.buf) && p.buf[p.pos+1] == '>' {
				p.pos += 2
				if p.fromFile {
					d.end = p.abs(p.pos)
				}
				return d, nil
			}
			return nil, syntaxErr(p.abs(p.pos), "stray '>' in dictionary")
		}
		if p.buf[p.pos] != '/' {
			return nil, syntaxErr(p.abs(p.pos), "dictionary key is not a name")
		}
		k, _ := p.parseName()
		v, err := p.parseObject()
		if err != nil {
			return nil, err
		}
		d.add(k.(Name), v)
	}
}

func (p *parser) parseNumberOrRef() (Object, error) {
	start := p.pos
	i := p.pos
	for i < len(p.buf) && IsRegular(p.buf[i]) {
		i++
	}
	tok := string(p.buf[p.pos:i])
	p.pos = i
	if v, err := strconv.ParseInt(tok, 10, 64); err == nil {
		if v >= 0 && tok[0] != '+' {
			// Possibly "num gen R".
			save := p.pos
			if g, ok := p.readUint(); ok {
				p.skipWS()
				if p.pos < len(p.buf) && p.buf[p.pos] == 'R' && (p.pos+1 == len(p.buf) || !IsRegular(p.buf[p.pos+1])) {
					p.pos++
					if v > 1<<31 || g > 65535 {
						return nil, syntaxErr(p.abs(start), "reference out of range")
					}
					return Ref{Num: int(v), Gen: int(g)}, nil
				}
			}
			p.pos = save
		}
		return Int(v), nil
	}
	// Non-finite values ("+inf", "-nan", which strconv accepts) are not PDF numbers.
	if f, err := strconv.ParseFloat(tok, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return Real(f), nil
	}
	// Tolerate forms like "--5" or "5." that some writers produce.
	if f, err := strconv.ParseFloat(string(bytes.TrimLeft([]byte(tok), "+-")), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return Real(-f), nil
	}
	return nil, syntaxErr(p.abs(start), "bad number %.20q", tok)
}

// objectHead is the part of an indirect object that does not depend on the revision
// reading it: its number, generation and value (for a stream, its dictionary), and where
// the parse stopped. A stream's data does depend on it (an indirect /Length).
type objectHead struct {
	num, gen int
	v        Object
	stream   bool // v is the dictionary of a stream whose data starts at pos
	pos      int  // just after the object, or after the "stream" keyword
	err      error
}

// parseHead reads "num gen obj <object>" and, after a dictionary, the "stream" keyword.
func (p *parser) parseHead() objectHead {
	start := p.pos
	n, ok1 := p.readUint()
	g, ok2 := p.readUint()
	if !ok1 || !ok2 || !p.acceptKeyword("obj") || n > 1<<31 || g > 65535 {
		return objectHead{err: syntaxErr(p.abs(start), "no object header")}
	}
	v, err := p.parseObject()
	if err != nil {
		return objectHead{err: err}
	}
	h := objectHead{num: int(n), gen: int(g), v: v}
	if _, ok := v.(*Dict); ok && p.acceptKeyword("stream") {
		h.stream = true
	}
	h.pos = p.pos
	if err := p.charge(p.pos - start); err != nil {
		return objectHead{err: err}
	}
	return h
}

// parseTail reads what follows head h: a stream's data, then "endobj" (tolerated when
// missing). It returns the object's value.
func (p *parser) parseTail(h objectHead) (Object, error) {
	p.pos = h.pos
	v := h.v
	if h.stream {
		s, err := p.parseStreamData(v.(*Dict))
		if err != nil {
			return nil, err
		}
		v = s
	}
	p.acceptKeyword("endobj") // tolerated when missing
	if err := p.charge(p.pos - h.pos); err != nil {
		return nil, err
	}
	return v, nil
}

// parseIndirect reads "num gen obj <object> [stream…endstream] endobj" at p.pos and returns
// the object number, generation and value; p.pos is then just after the object.
func (p *parser) parseIndirect() (num, gen int, v Object, err error) {
	h := p.parseHead()
	if h.err != nil {
		return 0, 0, nil, h.err
	}
	v, err = p.parseTail(h)
	if err != nil {
		return 0, 0, nil, err
	}
	return h.num, h.gen, v, nil
}

// parseStreamData reads the data of a stream whose dictionary is d; p.pos is just after
// the "stream" keyword.
func (p *parser) parseStreamData(d *Dict) (*Stream, error) {
	// The keyword is followed by CRLF or LF (a lone CR is tolerated).
	if p.pos < len(p.buf) && p.buf[p.pos] == '\r' {
		p.pos++
	}
	if p.pos < len(p.buf) && p.buf[p.pos] == '\n' {
		p.pos++
	}
	start := p.pos
	var n int64 = -1
	switch l := d.Get("Length").(type) {
	case Int:
		n = int64(l)
	case Ref:
		if p.length != nil {
			if v, ok := p.length(l); ok {
				n = v
			}
		}
	}
	if n >= 0 && n <= int64(len(p.buf)-start) {
		q := start + int(n)
		j := q
		for j < len(p.buf) && IsWhite(p.buf[j]) && j-q < 4 {
			j++
		}
		if bytes.HasPrefix(p.buf[j:], []byte("endstream")) {
			p.pos = j + len("endstream")
			return &Stream{Dict: d, Raw: p.buf[start:q:q], Off: p.abs(start)}, nil
		}
	}
	// Length missing or wrong: the data ends at the first "endstream".
	k := bytes.Index(p.buf[start:], []byte("endstream"))
	if k < 0 {
		if err := p.charge(len(p.buf) - start); err != nil {
			return nil, err
		}
		return nil, syntaxErr(p.abs(start), "stream without endstream")
	}
	if err := p.charge(k); err != nil {
		return nil, err
	}
	end := start + k
	if end > start && p.buf[end-1] == '\n' {
		end--
	}
	if end > start && p.buf[end-1] == '\r' {
		end--
	}
	p.pos = start + k + len("endstream")
	return &Stream{Dict: d, Raw: p.buf[start:end:end], Off: p.abs(start)}, nil
}
