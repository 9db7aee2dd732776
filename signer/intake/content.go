package intake

import (
	"bytes"
	"errors"
	"strconv"
)

// Content streams of PDF scans are rewritten in one respect: marked content that points
// at a property list ("/Tag /Name BDC", and "/OC <<…>> BDC") becomes plain "/Tag BMC".
// Property lists (/Properties resources) are not copied, and optional content (hidden
// layers) is exactly such a property: after the rewrite all content is unconditionally
// visible, in every viewer, whatever state a layer had or could be switched to.

var errContent = errors.New("malformed content stream")

const maxContentNesting = 64

// markedContent is the result of rewriting one content stream.
type markedContent struct {
	out     []byte // the rewritten content (the input itself if nothing changed)
	changed int    // BDC operators rewritten
	oc      int    // of which tagged /OC (optional content)
}

// rewriteMarkedContent tokenises c (strings, names, arrays, dictionaries, comments and
// inline images included) and rewrites BDC operators as described above.
func rewriteMarkedContent(c []byte) (markedContent, error) {
	l := &lexer{b: c}
	var ops []operand
	var out []byte
	last := 0
	r := markedContent{}
	for {
		l.skipSpace()
		if l.p >= len(l.b) {
			break
		}
		o, err := l.object(0)
		if err != nil {
			return r, err
		}
		if o.kind != kOperator {
			if len(ops) < 16 {
				ops = append(ops, o)
			} else { // nothing takes more than a handful of operands; keep the last ones
				copy(ops, ops[1:])
				ops[len(ops)-1] = o
			}
			continue
		}
		op := string(l.b[o.start:o.end])
		switch op {
		case "BDC":
			if n := len(ops); n >= 2 && ops[n-2].kind == kName {
				tag, props := ops[n-2], ops[n-1]
				isOC := decodeName(l.b[tag.start+1:tag.end]) == "OC"
				if props.kind == kName || props.kind == kDict && isOC {
					if out == nil {
						out = make([]byte, 0, len(c))
					}
					out = append(out, c[last:tag.end]...)
					out = append(out, " BMC"...)
					last = o.end
					r.changed++
					if isOC {
						r.oc++
					}
				}
			}
		case "BI":
			if err := l.inlineImage(); err != nil {
				return r, err
			}
		}
		ops = ops[:0]
	}
	if out == nil {
		r.out = c
		return r, nil
	}
	r.out = append(out, c[last:]...)
	return r, nil
}

type tokenKind int

const (
	kOperator tokenKind = iota + 1
	kNumber             // also true, false, null
	kName
	kString
	kArray
	kDict
)

type operand struct {
	kind       tokenKind
	start, end int
}

type lexer struct {
	b []byte
	p int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (l *lexer) skipSpace() {
	for l.p < len(l.b) {
		c := l.b[l.p]
		if isSpace(c) {
			l.p++
		} else if c == '%' {
			for l.p < len(l.b) && l.b[l.p] != '\n' && l.b[l.p] != '\r' {
				l.p++
			}
		} else {
			return
		}
	}
}

func (l *lexer) regular() {
	for l.p < len(l.b) && !isSpace(l.b[l.p]) && !isDelim(l.b[l.p]) {
		l.p++
	}
}

// object reads one object or operator starting at l.p (after white space).
func (l *lexer) object(depth int) (operand, error) {
	if depth > maxContentNesting {
		return operand{}, errContent
	}
	start := l.p
	c := l.b[l.p]
	switch {
	case c == '/':
		l.p++
		l.regular()
		return operand{kName, start, l.p}, nil
	case c == '(':
		l.p++
		nest := 1
		for l.p < len(l.b) && nest > 0 {
			switch l.b[l.p] {
			case '\\':
				l.p++
			case '(':
				nest++
			case ')':
				nest--
			}
			l.p++
		}
		if nest > 0 {
			return operand{}, errContent
		}
		return operand{kString, start, l.p}, nil
	case c == '<' && l.p+1 < len(l.b) && l.b[l.p+1] == '<':
		l.p += 2
		for {
			l.skipSpace()
			if l.p+1 < len(l.b) && l.b[l.p] == '>' && l.b[l.p+1] == '>' {
				l.p += 2
				return operand{kDict, start, l.p}, nil
			}
			if l.p >= len(l.b) {
				return operand{}, errContent
			}
			o, err := l.object(depth + 1)
			if err != nil {
				return o, err
			}
			if o.kind == kOperator && string(l.b[o.start:o.end]) != "R" {
				// Content streams have no operators inside dictionaries (nor "R"
				// references, but those are harmless to skip over).
				return operand{}, errContent
			}
		}
	case c == '<':
		i := bytes.IndexByte(l.b[l.p:], '>')
		if i < 0 {
			return operand{}, errContent
		}
		l.p += i + 1
		return operand{kString, start, l.p}, nil
	case c == '[':
		l.p++
		for {
			l.skipSpace()
			if l.p >= len(l.b) {
				return operand{}, errContent
			}
			if l.b[l.p] == ']' {
				l.p++
				return operand{kArray, start, l.p}, nil
			}
			o, err := l.object(depth + 1)
			if err != nil {
				return o, err
			}
			if o.kind == kOperator {
				return operand{}, errContent
			}
		}
	case c == '{' || c == '}':
		// PostScript calculator braces do not belong in content; treat them as inert
		// operands so that the stream stays in step.
		l.p++
		return operand{kNumber, start, l.p}, nil
	case isDelim(c): // ) > ] stray delimiters
		return operand{}, errContent
	}
	l.regular()
	tok := l.b[start:l.p]
	switch {
	case c == '+' || c == '-' || c == '.' || c >= '0' && c <= '9',
		string(tok) == "true", string(tok) == "false", string(tok) == "null":
		return operand{kNumber, start, l.p}, nil
	}
	return operand{kOperator, start, l.p}, nil
}

// inlineImage skips "… ID <data> EI" after a BI operator. The data ends at the /L or
// /Length given in the image dictionary (PDF 2.0), else at the first "EI" that has white
// space before it and white space, a delimiter or the end after it.
func (l *lexer) inlineImage() error {
	length := -1
	var key string
	for {
		l.skipSpace()
		if l.p >= len(l.b) {
			return errContent
		}
		o, err := l.object(1)
		if err != nil {
			return err
		}
		tok := l.b[o.start:o.end]
		if o.kind == kOperator {
			if string(tok) != "ID" {
				return errContent
			}
			break
		}
		if o.kind == kName && key == "" {
			key = decodeName(tok[1:])
			continue
		}
		if (key == "L" || key == "Length") && o.kind == kNumber {
			if n, err := strconv.Atoi(string(tok)); err == nil && n >= 0 {
				length = n
			}
		}
		key = ""
	}
	if l.p < len(l.b) && isSpace(l.b[l.p]) {
		l.p++
	}
	if length >= 0 && length <= len(l.b)-l.p {
		l.p += length
		l.skipSpace()
		if l.p+2 <= len(l.b) && string(l.b[l.p:l.p+2]) == "EI" {
			l.p += 2
			return nil
		}
		return errContent
	}
	for i := l.p; ; {
		j := bytes.Index(l.b[i:], []byte("EI"))
		if j < 0 {
			return errContent
		}
		i += j
		if i > l.p && isSpace(l.b[i-1]) && (i+2 == len(l.b) || isSpace(l.b[i+2]) || isDelim(l.b[i+2])) {
			l.p = i + 2
			return nil
		}
		i += 2
	}
}

// decodeName undoes #xx escapes in a name (without its slash).
func decodeName(b []byte) string {
	if bytes.IndexByte(b, '#') < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '#' && i+2 < len(b) {
			if v, err := strconv.ParseUint(string(b[i+1:i+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}
