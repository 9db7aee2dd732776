package pdf

import (
	"bytes"
	"errors"
	"io"
	"strconv"
)

// The content-stream lexer. Content streams are sequences of operands followed by an
// operator ("1 0 0 1 72 720 cm", "/F1 12 Tf", "(text) Tj"), plus inline images
// ("BI … ID <binary data> EI"). The lexer only splits them into tokens with byte spans:
// it is lenient where viewers are (a number is any token that starts like one, a hex
// string runs to the first ">") and strict where a wrong split would change what follows
// (unterminated strings, arrays and dictionaries, stray closing delimiters, operators
// inside arrays or dictionaries are ErrContent). Values are parsed only when asked for
// (Value, Number, Name).

// ErrContent is returned for a content stream that cannot be split into tokens.
var ErrContent = errors.New("malformed content stream")

// MaxContentNesting bounds the nesting of arrays and dictionaries in a content stream.
const MaxContentNesting = 64

// maxOperands is how many operands NextOp keeps before an operator (the last ones win):
// no operator takes more than a few dozen (scn with 32 colorants and a pattern name).
const maxOperands = 64

// TokenKind is the kind of a content-stream token.
type TokenKind int

// The token kinds.
const (
	TokOperator TokenKind = iota + 1 // a keyword that is not true/false/null: an operator
	TokNumber                        // a number, true, false, null, or a stray { or } (inert)
	TokName                          // /Name (the span includes the slash)
	TokString                        // (literal) or <hex> (the span includes the delimiters)
	TokArray                         // [ … ] (the span covers the whole array)
	TokDict                          // << … >> (the span covers the whole dictionary)
)

// Token is one operand or operator: its kind and its byte span [Start, End) in the
// content.
type Token struct {
	Kind       TokenKind
	Start, End int
}

// ContentLexer splits one content stream into tokens. It does not copy the content. The
// zero value is not usable; call NewContentLexer.
type ContentLexer struct {
	b   []byte
	p   int
	ops []Token
}

// NewContentLexer returns a lexer over the decoded content stream b.
func NewContentLexer(b []byte) *ContentLexer { return &ContentLexer{b: b} }

// Pos returns the offset of the next byte the lexer reads.
func (l *ContentLexer) Pos() int { return l.p }

// Bytes returns the bytes of t (aliasing the content).
func (l *ContentLexer) Bytes(t Token) []byte { return l.b[t.Start:t.End] }

// Next returns the next token after white space and comments; io.EOF at the end of the
// content, ErrContent when it is malformed. After a "BI" operator the caller must call
// InlineImage (NextOp does) before Next, or the image data is read as tokens.
func (l *ContentLexer) Next() (Token, error) {
	l.skipSpace()
	if l.p >= len(l.b) {
		return Token{}, io.EOF
	}
	return l.object(0)
}

func (l *ContentLexer) skipSpace() {
	for l.p < len(l.b) {
		c := l.b[l.p]
		if IsWhite(c) {
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

func (l *ContentLexer) regular() {
	for l.p < len(l.b) && IsRegular(l.b[l.p]) {
		l.p++
	}
}

// object reads one object or operator starting at l.p (after white space).
func (l *ContentLexer) object(depth int) (Token, error) {
	if depth > MaxContentNesting {
		return Token{}, ErrContent
	}
	start := l.p
	c := l.b[l.p]
	switch {
	case c == '/':
		l.p++
		l.regular()
		return Token{TokName, start, l.p}, nil
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
			return Token{}, ErrContent
		}
		return Token{TokString, start, l.p}, nil
	case c == '<' && l.p+1 < len(l.b) && l.b[l.p+1] == '<':
		l.p += 2
		for {
			l.skipSpace()
			if l.p+1 < len(l.b) && l.b[l.p] == '>' && l.b[l.p+1] == '>' {
				l.p += 2
				return Token{TokDict, start, l.p}, nil
			}
			if l.p >= len(l.b) {
				return Token{}, ErrContent
			}
			o, err := l.object(depth + 1)
			if err != nil {
				return o, err
			}
			if o.Kind == TokOperator && string(l.b[o.Start:o.End]) != "R" {
				// Content streams have no operators inside dictionaries (nor "R"
				// references, but those are harmless to skip over).
				return Token{}, ErrContent
			}
		}
	case c == '<':
		i := bytes.IndexByte(l.b[l.p:], '>')
		if i < 0 {
			return Token{}, ErrContent
		}
		l.p += i + 1
		return Token{TokString, start, l.p}, nil
	case c == '[':
		l.p++
		for {
			l.skipSpace()
			if l.p >= len(l.b) {
				return Token{}, ErrContent
			}
			if l.b[l.p] == ']' {
				l.p++
				return Token{TokArray, start, l.p}, nil
			}
			o, err := l.object(depth + 1)
			if err != nil {
				return o, err
			}
			if o.Kind == TokOperator {
				return Token{}, ErrContent
			}
		}
	case c == '{' || c == '}':
		// PostScript calculator braces do not belong in content; treat them as inert
		// operands so that the stream stays in step.
		l.p++
		return Token{TokNumber, start, l.p}, nil
	case IsDelim(c): // ) > ] stray delimiters
		return Token{}, ErrContent
	}
	l.regular()
	tok := l.b[start:l.p]
	switch {
	case c == '+' || c == '-' || c == '.' || c >= '0' && c <= '9',
		string(tok) == "true", string(tok) == "false", string(tok) == "null":
		return Token{TokNumber, start, l.p}, nil
	}
	return Token{TokOperator, start, l.p}, nil
}

// InlineImage is an inline image "BI <dictionary> ID <data> EI".
type InlineImage struct {
	Dict []Token // the tokens of the image dictionary (keys and values, in order)
	// Data is the span of the image data: /L or /Length bytes after the white space that
	// follows ID when the dictionary gives it, else up to the white space before EI.
	DataStart, DataEnd int
	End                int // just after "EI"
}

// InlineImage reads "… ID <data> EI" after a BI operator. The data ends after the /L or
// /Length given in the image dictionary (PDF 2.0), else at the first "EI" that has white
// space before it and white space, a delimiter or the end after it. A dictionary that
// ends in another operator, or data without EI, is ErrContent.
func (l *ContentLexer) InlineImage() (InlineImage, error) {
	var img InlineImage
	length := -1
	var key string
	for {
		l.skipSpace()
		if l.p >= len(l.b) {
			return img, ErrContent
		}
		o, err := l.object(1)
		if err != nil {
			return img, err
		}
		tok := l.b[o.Start:o.End]
		if o.Kind == TokOperator {
			if string(tok) != "ID" {
				return img, ErrContent
			}
			break
		}
		img.Dict = append(img.Dict, o)
		if o.Kind == TokName && key == "" {
			key = DecodeName(tok[1:])
			continue
		}
		if (key == "L" || key == "Length") && o.Kind == TokNumber {
			if n, err := strconv.Atoi(string(tok)); err == nil && n >= 0 {
				length = n
			}
		}
		key = ""
	}
	if l.p < len(l.b) && IsWhite(l.b[l.p]) {
		l.p++
	}
	img.DataStart = l.p
	if length >= 0 && length <= len(l.b)-l.p {
		l.p += length
		img.DataEnd = l.p
		l.skipSpace()
		if l.p+2 <= len(l.b) && string(l.b[l.p:l.p+2]) == "EI" {
			l.p += 2
			img.End = l.p
			return img, nil
		}
		return img, ErrContent
	}
	for i := l.p; ; {
		j := bytes.Index(l.b[i:], []byte("EI"))
		if j < 0 {
			return img, ErrContent
		}
		i += j
		if i > l.p && IsWhite(l.b[i-1]) && (i+2 == len(l.b) || IsWhite(l.b[i+2]) || IsDelim(l.b[i+2])) {
			img.DataEnd = i - 1
			l.p = i + 2
			img.End = l.p
			return img, nil
		}
		i += 2
	}
}

// Op is one operator with its operands.
type Op struct {
	Operator Token
	// Operands are the operands before the operator, at most the last 64. The slice is
	// reused by the next call of NextOp.
	Operands []Token
	// Image is the inline image of a "BI" operator (nil otherwise).
	Image *InlineImage
}

// Name returns the operator's keyword ("cm", "Tj", "BI").
func (o Op) Name(l *ContentLexer) string { return string(l.Bytes(o.Operator)) }

// NextOp returns the next operator and its operands, reading an inline image after BI.
// Operands at the end of the content without an operator are ignored. It returns io.EOF
// at the end, ErrContent when the content is malformed.
func (l *ContentLexer) NextOp() (Op, error) {
	l.ops = l.ops[:0]
	for {
		t, err := l.Next()
		if err != nil {
			return Op{}, err
		}
		if t.Kind != TokOperator {
			if len(l.ops) < maxOperands {
				l.ops = append(l.ops, t)
			} else {
				copy(l.ops, l.ops[1:])
				l.ops[len(l.ops)-1] = t
			}
			continue
		}
		op := Op{Operator: t, Operands: l.ops}
		if t.End-t.Start == 2 && l.b[t.Start] == 'B' && l.b[t.Start+1] == 'I' {
			img, err := l.InlineImage()
			if err != nil {
				return Op{}, err
			}
			op.Image = &img
		}
		return op, nil
	}
}

// Value parses token t as a PDF object (strings decoded, names unescaped, arrays and
// dictionaries with their elements). Operators and braces are ErrContent; a token the
// lexer accepted leniently (a malformed number or hex string) may be ErrSyntax here.
func (l *ContentLexer) Value(t Token) (Object, error) {
	if t.Kind == TokOperator {
		return nil, ErrContent
	}
	b := l.b[t.Start:t.End]
	if len(b) == 1 && (b[0] == '{' || b[0] == '}') {
		return nil, ErrContent
	}
	v, _, err := ParseObject(b)
	return v, err
}

// Number returns token t as a finite number.
func (l *ContentLexer) Number(t Token) (float64, bool) {
	if t.Kind != TokNumber {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(l.b[t.Start:t.End]), 64)
	if err != nil {
		v, err := l.Value(t)
		if err != nil {
			return 0, false
		}
		return NumberOf(v)
	}
	return f, f-f == 0 // finite
}

// Name returns token t as a name (without the slash, #xx escapes undone), or "".
func (l *ContentLexer) Name(t Token) Name {
	if t.Kind != TokName {
		return ""
	}
	return Name(DecodeName(l.b[t.Start+1 : t.End]))
}

// DecodeName undoes the #xx escapes of a name's bytes (given without the slash). A "#"
// not followed by two hex digits is kept as is.
func DecodeName(b []byte) string {
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
