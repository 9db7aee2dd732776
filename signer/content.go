package signer

import (
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// content builds a PDF content stream.
type content struct{ b []byte }

func (c *content) op(s string) *content { c.b = append(c.b, s...); c.b = append(c.b, '\n'); return c }

func (c *content) nums(op string, v ...float64) *content {
	for _, f := range v {
		c.b = pdfdoc.AppendReal(c.b, f)
		c.b = append(c.b, ' ')
	}
	return c.op(op)
}

// text shows s with the font resource name fn at size, with its baseline starting at (x, y).
func (c *content) text(fn string, e *embedding, size, x, y float64, s string) *content {
	c.b = append(c.b, "BT /"...)
	c.b = append(c.b, fn...)
	c.b = append(c.b, ' ')
	c.b = pdfdoc.AppendReal(c.b, size)
	c.b = append(c.b, " Tf "...)
	c.b = pdfdoc.AppendReal(c.b, x)
	c.b = append(c.b, ' ')
	c.b = pdfdoc.AppendReal(c.b, y)
	c.b = append(c.b, " Td "...)
	c.b = append(c.b, pdfdoc.Bytes(e.glyphs(s))...)
	c.b = append(c.b, " Tj ET\n"...)
	return c
}

// centred shows s centred on x (the register book and refusal slip lay out with it).
func (c *content) centred(fn string, e *embedding, size, x, y float64, s string) *content {
	return c.text(fn, e, size, x-e.width(s, size)/2, y, s)
}

// wrap splits s into lines no wider than width at size, breaking at spaces (a word wider
// than the line stands alone on its line).
func wrap(e *embedding, s string, size, width float64) []string {
	var lines []string
	line := ""
	word := ""
	flush := func() {
		if word == "" {
			return
		}
		if line == "" {
			line = word
		} else if e.width(line+" "+word, size) <= width {
			line += " " + word
		} else {
			lines = append(lines, line)
			line = word
		}
		word = ""
	}
	for _, r := range s {
		if r == ' ' || r == '\n' {
			flush()
			if r == '\n' && line != "" {
				lines = append(lines, line)
				line = ""
			}
			continue
		}
		word += string(r)
	}
	flush()
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
