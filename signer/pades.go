package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/cms"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// sigKind is the kind of PDF signature.
type sigKind int

const (
	certification sigKind = iota // the first signature, with DocMDP permissions
	approval                     // a later signature
)

// sigInfo is what a signature dictionary says about its signer.
type sigInfo struct {
	Kind     sigKind
	DocMDP   int // P for a certification signature (1, 2 or 3)
	Name     string
	Reason   string
	Location string
	Contact  string
	Time     time.Time
}

// byteRangePlaceholder has room for four 10-digit numbers.
const byteRangePlaceholder = "[0000000000 0000000000 0000000000 0000000000]"

// sigDict writes the signature dictionary with placeholders for /ByteRange and /Contents
// (contentsLen hex digits) and returns it with the offsets of both placeholders inside it.
func sigDict(info sigInfo, contentsLen int) (body []byte, brOff, contentsOff int) {
	var b bytes.Buffer
	b.WriteString("<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange ")
	brOff = b.Len()
	b.WriteString(byteRangePlaceholder)
	b.WriteString(" /Contents ")
	contentsOff = b.Len()
	b.WriteByte('<')
	b.Write(bytes.Repeat([]byte{'0'}, contentsLen))
	b.WriteByte('>')
	b.WriteString("\n/M ")
	b.Write(pdfdoc.Bytes(pdfdoc.String(pdfDate(info.Time))))
	for _, kv := range []struct{ k, v string }{{"Name", info.Name}, {"Reason", info.Reason}, {"Location", info.Location}, {"ContactInfo", info.Contact}} {
		if kv.v != "" {
			b.WriteString(" /" + kv.k + " ")
			b.Write(pdfdoc.Bytes(pdfdoc.Text(kv.v)))
		}
	}
	if info.Kind == certification {
		b.WriteString("\n/Reference [<</Type /SigRef /TransformMethod /DocMDP /TransformParams <</Type /TransformParams /P ")
		b.WriteString(strconv.Itoa(info.DocMDP))
		b.WriteString(" /V /1.2>> /DigestMethod /SHA256>>]")
	}
	b.WriteString("\n/Prop_Build <</App <</Name /chungthuc>>>>>>")
	return b.Bytes(), brOff, contentsOff
}

// pdfDate formats t as a PDF date in Vietnam time, e.g. D:20261129101500+07'00'.
func pdfDate(t time.Time) string {
	return t.In(chungthuc.Vietnam).Format("D:20060102150405") + "+07'00'"
}

// pendingSig is a signature dictionary written into a revision whose bytes are not final yet.
type pendingSig struct {
	brOff, contentsOff int64 // absolute offsets in the file
	contentsLen        int   // hex digits
}

// tokenRoom is the room kept in a signature for its time-stamp token (DER bytes).
const tokenRoom = 8192

// writeSig adds the signature dictionary as object ref of w, sized for a CMS signature by
// the certificate chain[0], with room for a signature time-stamp when stamped is set.
func writeSig(w *pdfdoc.Writer, ref pdfdoc.Ref, info sigInfo, chain []*x509.Certificate, stamped bool) pendingSig {
	extra := 0
	if stamped {
		extra = tokenRoom
	}
	n := 2 * cms.MaxSizeWithExtra(cms.SignOptions{Chain: chain, Hash: crypto.SHA256}, extra)
	body, br, co := sigDict(info, n)
	off := w.PutRaw(ref, body)
	return pendingSig{brOff: off + int64(br), contentsOff: off + int64(co), contentsLen: n}
}

// prefixHash remembers the SHA-256 state after the first n bytes of a file, so that a later
// signature over the same (grown) file does not hash that prefix again.
type prefixHash struct {
	state []byte
	n     int64
}

// sum returns the hex SHA-256 of file, whose first ph.n bytes are those ph hashed (the
// last signature's prefix: everything after it was appended or filled in later).
func (ph *prefixHash) sum(file []byte) (string, error) {
	h := sha256.New()
	start := int64(0)
	if ph.state != nil && ph.n <= int64(len(file)) {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(ph.state); err != nil {
			return "", err
		}
		start = ph.n
	}
	h.Write(file[start:])
	return hex.EncodeToString(h.Sum(nil)), nil
}

// toSign is what a signature's key must sign: the signed attributes over the file's
// digest (ByteRange) and their digest.
type toSign struct {
	contentDigest []byte // SHA-256 over the ByteRange
	attrs         []byte // DER signed attributes (cms.PrepareSignedAttributes)
	digest        []byte // SHA-256 of attrs: what the key signs
}

// prepare fills the ByteRange of p in the finished file and returns what the signer of
// chain[0] must sign. ph, when not nil, holds (and is updated to) the hash state of a
// prefix of file that no later change touches.
func (p pendingSig) prepare(file []byte, ph *prefixHash, chain []*x509.Certificate) (*toSign, error) {
	cd, err := p.byteRangeDigest(file, ph)
	if err != nil {
		return nil, err
	}
	attrs, digest, err := cms.PrepareSignedAttributes(cd, cms.SignOptions{Chain: chain, Hash: crypto.SHA256})
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the signing certificate cannot sign copies: %v", err)
	}
	return &toSign{contentDigest: cd, attrs: attrs, digest: digest}, nil
}

// embed assembles the CMS from the signature value sig over ts.digest by chain[0] (checked
// before anything is written: cms.AssembleDetached), adds a signature time-stamp (PAdES
// B-T) when tsa is not nil, and writes it into the /Contents placeholder of p in file.
// Errors: EINVALID when the value does not verify or was made for other attributes or
// another certificate; the TSA's errors.
func (p pendingSig) embed(ctx context.Context, file []byte, ts *toSign, sig []byte, chain []*x509.Certificate, tsa chungthuc.Timestamper) error {
	der, err := cms.AssembleDetached(ts.attrs, sig, cms.SignOptions{Chain: chain, Hash: crypto.SHA256})
	if err != nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "the signature is refused: %v", err)
	}
	if tsa != nil {
		// PAdES B-T: a time-stamp over the signature value, as an unsigned attribute.
		sv, err := cms.SignatureValue(der)
		if err != nil {
			return err
		}
		h := sha256.Sum256(sv)
		token, err := tsa.Timestamp(ctx, h[:], crypto.SHA256)
		if err != nil {
			return err
		}
		if len(token) > tokenRoom {
			return fmt.Errorf("signer: time-stamp token of %d bytes exceeds the %d bytes kept for it", len(token), tokenRoom)
		}
		if der, err = cms.AddUnsignedAttribute(der, cms.OIDAttrTimeStampToken, token); err != nil {
			return err
		}
	}
	return p.put(file, der)
}

// put writes der into the /Contents placeholder of p (the rest stays zero padding).
func (p pendingSig) put(file []byte, der []byte) error {
	if 2*len(der) > p.contentsLen {
		return fmt.Errorf("signer: signature of %d bytes exceeds its %d-byte placeholder", len(der), p.contentsLen/2)
	}
	if p.contentsOff+int64(p.contentsLen)+2 > int64(len(file)) || file[p.contentsOff] != '<' {
		return chungthuc.Errorf(chungthuc.EINVALID, "the prepared file has no signature placeholder at %d", p.contentsOff)
	}
	n := hex.Encode(file[p.contentsOff+1:], der)
	for i := p.contentsOff + 1 + int64(n); i <= p.contentsOff+int64(p.contentsLen); i++ {
		file[i] = '0' // padding, also over an earlier attempt's longer value
	}
	return nil
}

// sign is the one-step path: prepare, one Sign with the key held here, embed — the same
// mechanism as an external signature (external.go) with a local signing function.
func (p pendingSig) sign(ctx context.Context, file []byte, key *chungthuc.SigningKey, ph *prefixHash, tsa chungthuc.Timestamper) error {
	ts, err := p.prepare(file, ph, key.Chain)
	if err != nil {
		return err
	}
	sig, err := key.Signer.Sign(rand.Reader, ts.digest, crypto.SHA256)
	if err != nil {
		return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "signing failed")
	}
	if err := p.embed(ctx, file, ts, sig, key.Chain, tsa); err != nil {
		if chungthuc.ErrorCode(err) == chungthuc.EINVALID {
			return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "signing failed")
		}
		return err
	}
	return nil
}

// byteRangeDigest fills the ByteRange of p in the finished file — the whole file but the
// /Contents hex string — and returns its SHA-256; ph as in prepare.
func (p pendingSig) byteRangeDigest(file []byte, ph *prefixHash) ([]byte, error) {
	a := p.contentsOff
	b := p.contentsOff + int64(p.contentsLen) + 2 // past '>'
	br := fmt.Sprintf("[0 %d %d %d]", a, b, int64(len(file))-b)
	if len(br) > len(byteRangePlaceholder) {
		return nil, fmt.Errorf("signer: byte range %s does not fit", br)
	}
	copy(file[p.brOff:], br)
	for i := p.brOff + int64(len(br)); i < p.brOff+int64(len(byteRangePlaceholder)); i++ {
		file[i] = ' '
	}
	h := sha256.New()
	start := int64(0)
	if ph != nil && ph.state != nil && ph.n <= a {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(ph.state); err != nil {
			return nil, err
		}
		start = ph.n
	}
	h.Write(file[start:a])
	if ph != nil {
		st, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil, err
		}
		ph.state, ph.n = st, a
	}
	h.Write(file[b:])
	return h.Sum(nil), nil
}

// fill fills the placeholders of p in the finished file: the ByteRange covers the whole file
// but the /Contents hex string; contents computes what goes in it from the digest.
func (p pendingSig) fill(file []byte, ph *prefixHash, contents func(digest []byte) ([]byte, error)) error {
	d, err := p.byteRangeDigest(file, ph)
	if err != nil {
		return err
	}
	der, err := contents(d)
	if err != nil {
		return err
	}
	return p.put(file, der)
}
