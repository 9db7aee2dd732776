package intake

import (
	"io"

	"github.com/chungthuc/chungthuc/internal/pdf"
)

// Content streams of PDF scans are rewritten in one respect: marked content that points
// at a property list ("/Tag /Name BDC", and "/OC <<…>> BDC") becomes plain "/Tag BMC".
// Property lists (/Properties resources) are not copied, and optional content (hidden
// layers) is exactly such a property: after the rewrite all content is unconditionally
// visible, in every viewer, whatever state a layer had or could be switched to.

// markedContent is the result of rewriting one content stream.
type markedContent struct {
	out     []byte // the rewritten content (the input itself if nothing changed)
	changed int    // BDC operators rewritten
	oc      int    // of which tagged /OC (optional content)
}

// rewriteMarkedContent tokenises c with the project's content lexer (strings, names,
// arrays, dictionaries, comments and inline images included) and rewrites BDC operators as
// described above.
func rewriteMarkedContent(c []byte) (markedContent, error) {
	l := pdf.NewContentLexer(c)
	var out []byte
	last := 0
	r := markedContent{}
	for {
		op, err := l.NextOp()
		if err == io.EOF {
			break
		}
		if err != nil {
			return r, err // pdf.ErrContent
		}
		if n := len(op.Operands); n >= 2 && op.Name(l) == "BDC" && op.Operands[n-2].Kind == pdf.TokName {
			tag, props := op.Operands[n-2], op.Operands[n-1]
			isOC := l.Name(tag) == "OC"
			if props.Kind == pdf.TokName || props.Kind == pdf.TokDict && isOC {
				if out == nil {
					out = make([]byte, 0, len(c))
				}
				out = append(out, c[last:tag.End]...)
				out = append(out, " BMC"...)
				last = op.Operator.End
				r.changed++
				if isOC {
					r.oc++
				}
			}
		}
	}
	if out == nil {
		r.out = c
		return r, nil
	}
	r.out = append(out, c[last:]...)
	return r, nil
}
