package cms

import (
	"bytes"
	"encoding/asn1"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// SignatureValue returns the signature value of the one signer of der: the bytes whose
// digest a time-stamping authority must stamp for a signature-time-stamp (ETSI EN 319
// 122-1, 5.3). Trailing zero padding is ignored.
//
// Errors: those of Parse; ErrUnsupported when der has not exactly one signer.
func SignatureValue(der []byte) ([]byte, error) {
	sd, err := Parse(der)
	if err != nil {
		return nil, err
	}
	si, err := sd.Signer()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(si.Signature), nil
}

// AddUnsignedAttribute returns der (trailing zero padding dropped) with one more unsigned
// attribute on its one signer: type oid with the single value value, which must be one
// complete DER element (for a signature-time-stamp, OIDAttrTimeStampToken and the DER
// TimeStampToken ContentInfo). Existing unsigned attributes are kept; the set is
// re-sorted as DER requires. Everything the signature covers is copied byte for byte.
//
// Errors: those of Parse; ErrUnsupported when der has not exactly one signer or its signed
// attributes arrived in BER (they would have to be rewritten, which the signature forbids);
// ErrMalformed when value is not one DER element; ErrTooLarge when the result would
// exceed MaxDERSize.
func AddUnsignedAttribute(der []byte, oid asn1.ObjectIdentifier, value []byte) ([]byte, error) {
	sd, err := Parse(der)
	if err != nil {
		return nil, err
	}
	si, err := sd.Signer()
	if err != nil {
		return nil, err
	}
	if si.SignedAttrsReencoded {
		return nil, errorf(ReasonUnsupported, "the signed attributes are BER-encoded")
	}
	v := cryptobyte.String(value)
	var el cryptobyte.String
	var tag cbasn1.Tag
	if !v.ReadAnyASN1Element(&el, &tag) || !v.Empty() {
		return nil, malformed("attribute value is not one DER element")
	}
	if len(oid) < 2 {
		return nil, malformed("bad attribute type %v", oid)
	}
	if len(si.UnsignedAttrs) >= maxAttributes {
		return nil, errorf(ReasonTooLarge, "more than %d unsigned attributes", maxAttributes)
	}
	if len(der)+len(value) > MaxDERSize {
		return nil, errorf(ReasonTooLarge, "result above %d bytes", MaxDERSize)
	}
	attr, err := encodeAttribute(oid, value)
	if err != nil {
		return nil, malformed("bad attribute type %v", oid)
	}
	attrs := [][]byte{attr}
	for _, a := range si.UnsignedAttrs {
		attrs = append(attrs, a.Raw)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(si.head)
		addUnsignedAttrs(b, attrs)
	})
	signer, err := b.Bytes()
	if err != nil {
		return nil, &Error{Reason: ReasonMalformed, Detail: "encoding failed", Err: err}
	}
	out, err := wrapContentInfo(sd.head, [][]byte{signer})
	if err != nil {
		return nil, &Error{Reason: ReasonMalformed, Detail: "encoding failed", Err: err}
	}
	if len(out) > MaxDERSize {
		return nil, errorf(ReasonTooLarge, "result above %d bytes", MaxDERSize)
	}
	return out, nil
}
