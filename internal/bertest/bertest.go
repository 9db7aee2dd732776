// Package bertest re-encodes DER as BER for tests of BER-tolerant parsers: indefinite
// lengths on constructed elements, OCTET STRINGs cut into constructed segments, long-form
// lengths that are not minimal — what BouncyCastle's and OpenSSL's streaming encoders
// write. DER islands can be kept where a producer keeps them (BouncyCastle writes the
// signed attributes in DER inside a BER SignedData).
package bertest

import (
	"bytes"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Options chooses the BER features.
type Options struct {
	// Chunk, when > 0, cuts every primitive OCTET STRING longer than Chunk bytes into a
	// constructed OCTET STRING of Chunk-byte segments (indefinite length).
	Chunk int
	// LongLengths writes the length of every primitive element in four-byte long form
	// (84 xx xx xx xx), which BER allows and DER forbids.
	LongLengths bool
	// KeepDER, when it returns true for an element's path (the identifier octets of the
	// element and of its ancestors, outermost first), copies that element as DER.
	KeepDER func(path []byte) bool
}

// SignerInfoSignedAttrs is the path of the signed attributes of the signers of a CMS
// SignedData with certificates (ContentInfo, [0], SignedData, SET OF SignerInfo,
// SignerInfo, [0] IMPLICIT signedAttrs).
var SignerInfoSignedAttrs = []byte{0x30, 0xa0, 0x30, 0x31, 0x30, 0xa0}

// Encode returns der (one DER element, single-byte tags) re-encoded as BER. It panics on
// input that is not DER: it is for tests, on encodings they made.
func Encode(der []byte, o Options) []byte {
	s := cryptobyte.String(der)
	var out bytes.Buffer
	encode(&out, &s, nil, o)
	if !s.Empty() {
		panic("bertest: trailing data")
	}
	return out.Bytes()
}

func encode(out *bytes.Buffer, s *cryptobyte.String, path []byte, o Options) {
	var el, content cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1Element(&el, &tag) {
		panic("bertest: not DER")
	}
	e := el
	if !e.ReadAnyASN1(&content, &tag) {
		panic("bertest: not DER")
	}
	t := byte(tag)
	path = append(path, t)
	if o.KeepDER != nil && o.KeepDER(path) {
		out.Write(el)
		return
	}
	switch {
	case t&0x20 != 0:
		out.Write([]byte{t, 0x80})
		for !content.Empty() {
			encode(out, &content, path, o)
		}
		out.Write([]byte{0, 0})
	case t == 0x04 && o.Chunk > 0 && len(content) > o.Chunk:
		out.Write([]byte{0x24, 0x80})
		for len(content) > 0 {
			n := min(o.Chunk, len(content))
			writePrim(out, 0x04, content[:n], o)
			content = content[n:]
		}
		out.Write([]byte{0, 0})
	default:
		writePrim(out, t, content, o)
	}
}

func writePrim(out *bytes.Buffer, t byte, content []byte, o Options) {
	out.WriteByte(t)
	n := len(content)
	switch {
	case o.LongLengths:
		out.Write([]byte{0x84, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	case n < 0x80:
		out.WriteByte(byte(n))
	case n < 0x100:
		out.Write([]byte{0x81, byte(n)})
	case n < 0x10000:
		out.Write([]byte{0x82, byte(n >> 8), byte(n)})
	default:
		out.Write([]byte{0x83, byte(n >> 16), byte(n >> 8), byte(n)})
	}
	out.Write(content)
}

// HasPrefix reports whether path starts with prefix (for KeepDER).
func HasPrefix(path, prefix []byte) bool { return bytes.HasPrefix(path, prefix) }
