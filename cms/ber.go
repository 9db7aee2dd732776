package cms

// BER normalisation.
//
// RFC 5652 lets a SignedData travel in BER; BouncyCastle's streaming generator and
// `openssl cms -sign -stream` write indefinite lengths (30 80 … 00 00) and cut an
// encapsulated content into a constructed OCTET STRING of chunks. Parse reads DER only,
// so a BER input is first rewritten by normalizeBER into the equivalent encoding with
// definite, minimal lengths and primitive OCTET STRINGs, then parsed as usual.
//
// What normalizeBER changes, and nothing else:
//   - indefinite lengths become definite (the end-of-contents octets are dropped);
//   - long-form lengths that are not minimal become minimal;
//   - a constructed universal OCTET STRING (tag 0x24) becomes one primitive OCTET STRING
//     holding the concatenation of its segments (segments may nest).
//
// Every other byte is copied as received: tags, primitive contents, and the order of the
// elements of a SET (the DER sort order is not imposed here; see SignerInfo.RawSignedAttrs
// for the one place where the order matters). An element whose encoding is already DER is
// copied unchanged, so DER islands inside a BER message (certificates, signed attributes)
// keep their exact bytes. Constructed forms of other string types (BIT STRING, the
// character strings) and of implicitly tagged OCTET STRINGs are not merged, since without
// the schema they cannot be told apart from other constructed elements; CMS producers do
// not write them.
//
// Hostile input is bounded: nesting depth (maxBERDepth), number of elements (maxBERNodes)
// and output size; nothing recurses beyond maxBERDepth and nothing panics.

const (
	// maxBERDepth bounds nesting. A SignedData with certificates and signed attributes
	// nests about 15 levels deep (ContentInfo, SignedData, certificates, TBSCertificate,
	// extensions, names...).
	maxBERDepth = 48
	// maxBERNodes bounds the number of elements of one input (64 certificates of a few
	// hundred elements each fit easily).
	maxBERNodes = 1 << 17
	// maxBEROut bounds the normalised output: definite lengths can take a few more bytes
	// than the two-byte indefinite header and end-of-contents they replace.
	maxBEROut = MaxDERSize + MaxDERSize/16
)

// berNode is one element of the parsed BER tree.
type berNode struct {
	tag     []byte   // identifier octets as received (0x24 is rewritten to 0x04 on output)
	prim    [][]byte // primitive content: one slice, or the segments of a merged OCTET STRING
	kids    []*berNode
	length  int  // length of the content in the output
	altered bool // the output encoding of this element differs from the input
}

type berParser struct {
	in    []byte
	nodes int
}

// normalizeBER rewrites the BER element at the start of in as described above. It returns
// the normalised element, the number of input bytes the element used, and the output
// offsets of the elements whose encoding was changed (an element is changed when it or any
// element inside it is). altered is empty when in started with a DER element.
//
// Errors: ErrMalformed (not BER, too deep, too many elements), ErrTooLarge (output above
// maxBEROut).
func normalizeBER(in []byte) (out []byte, used int, altered []int, err error) {
	p := &berParser{in: in}
	root, n, err := p.element(0, 0)
	if err != nil {
		return nil, 0, nil, err
	}
	if size(root) > maxBEROut {
		return nil, 0, nil, errorf(ReasonTooLarge, "BER input normalises to more than %d bytes", maxBEROut)
	}
	out = make([]byte, 0, size(root))
	out = emit(out, root, &altered)
	return out, n, altered, nil
}

// size is the length of a node's output encoding.
func size(n *berNode) int { return len(n.tag) + derLenLen(n.length) + n.length }

// element parses the element starting at in[off] at nesting depth depth, returning it and
// the offset just after it.
func (p *berParser) element(off, depth int) (*berNode, int, error) {
	if depth > maxBERDepth {
		return nil, 0, malformed("BER nesting deeper than %d", maxBERDepth)
	}
	if p.nodes++; p.nodes > maxBERNodes {
		return nil, 0, malformed("more than %d BER elements", maxBERNodes)
	}
	in := p.in
	start := off
	if off >= len(in) {
		return nil, 0, malformed("BER: truncated")
	}
	first := in[off]
	off++
	if first&0x1f == 0x1f { // high tag number: base-128, minimal, at most 4 octets
		if off >= len(in) || in[off] == 0x80 {
			return nil, 0, malformed("BER: bad tag")
		}
		var num uint32
		for i := 0; ; i++ {
			if off >= len(in) || i == 4 {
				return nil, 0, malformed("BER: bad tag")
			}
			b := in[off]
			off++
			num = num<<7 | uint32(b&0x7f)
			if b&0x80 == 0 {
				break
			}
		}
		if num < 0x1f {
			return nil, 0, malformed("BER: tag number %d in the long form", num)
		}
	}
	n := &berNode{tag: in[start:off]}
	constructed := first&0x20 != 0
	if off >= len(in) {
		return nil, 0, malformed("BER: truncated length")
	}
	lb := in[off]
	off++
	indefinite := false
	length := 0
	switch {
	case lb < 0x80:
		length = int(lb)
	case lb == 0x80:
		if !constructed {
			return nil, 0, malformed("BER: indefinite length on a primitive element")
		}
		indefinite = true
		n.altered = true
	case lb <= 0x84:
		k := int(lb & 0x7f)
		if off+k > len(in) {
			return nil, 0, malformed("BER: truncated length")
		}
		for _, b := range in[off : off+k] {
			length = length<<8 | int(b)
		}
		off += k
		if derLenLen(length) != 1+k || length < 0x80 {
			n.altered = true // not the minimal form DER requires
		}
	default:
		return nil, 0, malformed("BER: length too large")
	}
	if !indefinite && length > len(in)-off {
		return nil, 0, malformed("BER: element longer than the input")
	}
	if first == 0 {
		return nil, 0, malformed("BER: end-of-contents where an element belongs")
	}
	if !constructed {
		n.prim = [][]byte{in[off : off+length]}
		n.length = length
		return n, off + length, nil
	}
	end := off + length
	for {
		if indefinite {
			if off+1 < len(in) && in[off] == 0 && in[off+1] == 0 {
				off += 2
				break
			}
		} else if off == end {
			break
		}
		kid, next, err := p.element(off, depth+1)
		if err != nil {
			return nil, 0, err
		}
		if !indefinite && next > end {
			return nil, 0, malformed("BER: element runs past its parent")
		}
		off = next
		n.kids = append(n.kids, kid)
		n.length += size(kid)
		n.altered = n.altered || kid.altered
	}
	if first == 0x24 { // constructed OCTET STRING: merge its segments
		segs, total, err := octetSegments(n, nil, 0)
		if err != nil {
			return nil, 0, err
		}
		n.tag = []byte{0x04}
		n.prim, n.kids, n.length, n.altered = segs, nil, total, true
	}
	return n, off, nil
}

// octetSegments collects the primitive segments of a constructed OCTET STRING.
func octetSegments(n *berNode, segs [][]byte, total int) ([][]byte, int, error) {
	for _, k := range n.kids {
		switch {
		case len(k.tag) == 1 && k.tag[0] == 0x04:
			for _, s := range k.prim {
				segs = append(segs, s)
				total += len(s)
			}
		case len(k.tag) == 1 && k.tag[0] == 0x24:
			var err error
			if segs, total, err = octetSegments(k, segs, total); err != nil {
				return nil, 0, err
			}
		default:
			return nil, 0, malformed("BER: a constructed OCTET STRING holds a %x element", k.tag)
		}
	}
	return segs, total, nil
}

// emit appends the DER-length encoding of n to out, recording the offsets of changed
// elements.
func emit(out []byte, n *berNode, altered *[]int) []byte {
	if n.altered {
		*altered = append(*altered, len(out))
	}
	out = append(out, n.tag...)
	switch l := n.length; {
	case l < 0x80:
		out = append(out, byte(l))
	default:
		k := derLenLen(l) - 1
		out = append(out, 0x80|byte(k))
		for i := k - 1; i >= 0; i-- {
			out = append(out, byte(l>>(8*i)))
		}
	}
	for _, s := range n.prim {
		out = append(out, s...)
	}
	for _, k := range n.kids {
		out = emit(out, k, altered)
	}
	return out
}

// NormalizeBER returns the first BER element of in with definite, minimal lengths and
// primitive OCTET STRINGs, as Parse does before reading BER (see above for what changes
// and what is kept), and the number of bytes of in it used. A DER element comes back
// byte for byte. For the other structures of a CMS exchange (an RFC 3161 TimeStampResp,
// a TSTInfo) read with DER parsers.
//
// Errors: ErrTooLarge (in above MaxDERSize, or the result above it by more than a
// sixteenth), ErrMalformed (not BER, nesting deeper than 48, more than 131072 elements).
func NormalizeBER(in []byte) ([]byte, int, error) {
	if len(in) > MaxDERSize {
		return nil, 0, errorf(ReasonTooLarge, "%d bytes (at most %d)", len(in), MaxDERSize)
	}
	out, n, _, err := normalizeBER(in)
	return out, n, err
}
