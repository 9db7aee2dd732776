package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Limits on hostile input. Real PDF signatures are a few KiB (tens with embedded
// revocation data); these leave ample room while bounding work per Parse.
const (
	MaxDERSize      = 1 << 20 // bytes given to Parse, trailing padding included
	maxCertificates = 64
	maxCRLs         = 64
	maxSigners      = 16
	maxDigestAlgs   = 16
	maxAttributes   = 64 // per signed or unsigned attribute set
	maxAttrValues   = 16 // per attribute
)

// SignedData is a parsed CMS ContentInfo of type signedData. All byte slices point into
// a private copy of the input, so the caller may reuse its buffer.
type SignedData struct {
	// Raw is the DER of the ContentInfo, without trailing padding.
	Raw []byte
	// TrailingZeros counts the zero bytes that followed the DER (the padding of a PDF
	// /Contents placeholder). Any other trailing byte makes Parse fail.
	TrailingZeros int
	// Version is the SignedData version (1 for what SignDetached writes).
	Version int
	// DigestAlgorithms lists the OIDs of the digestAlgorithms field.
	DigestAlgorithms []asn1.ObjectIdentifier
	// ContentType is eContentType (id-data for PDF signatures).
	ContentType asn1.ObjectIdentifier
	// HasContent is true when eContent is present; a detached signature has none.
	HasContent bool
	// Content is eContent, nil when detached.
	Content []byte
	// Certificates are the X.509 certificates of the certificates field, in order.
	Certificates []*x509.Certificate
	// OtherCertificates holds certificate choices that are not X.509 certificates or that
	// crypto/x509 refuses to parse (raw DER, one element each).
	OtherCertificates [][]byte
	// CRLs holds the raw RevocationInfoChoice elements of the crls field.
	CRLs [][]byte
	// Signers are all SignerInfos, in order.
	Signers []SignerInfo

	head []byte // SignedData content before signerInfos, for AddUnsignedAttribute
}

// SignerIdentifier identifies the signer certificate: by issuer and serial number
// (Issuer is the DER Name) or by subject key identifier.
type SignerIdentifier struct {
	Issuer       []byte
	Serial       *big.Int
	SubjectKeyID []byte
}

// Algorithm is an AlgorithmIdentifier: the OID, a readable name ("sha256WithRSAEncryption",
// or the dotted OID when unknown) and the raw DER parameters (nil when absent).
type Algorithm struct {
	OID    asn1.ObjectIdentifier
	Name   string
	Params []byte
}

// Attribute is one CMS attribute: its type and the raw DER of each value.
type Attribute struct {
	Type   asn1.ObjectIdentifier
	Values [][]byte
	Raw    []byte // DER of the whole Attribute
}

// CertID is the first ESSCertID(v2) of a signing-certificate(-v2) attribute (RFC 2634,
// RFC 5035): the hash of the signer certificate and optionally its issuer and serial.
type CertID struct {
	V2       bool        // from signing-certificate-v2 (else signing-certificate, SHA-1)
	Hash     crypto.Hash // 0 when the OID is unknown
	HashOID  asn1.ObjectIdentifier
	CertHash []byte
	Issuer   []byte   // DER Name of the first directoryName in issuerSerial, nil if absent
	Serial   *big.Int // nil if issuerSerial is absent
}

// SignerInfo is one parsed SignerInfo.
type SignerInfo struct {
	Raw     []byte // DER of the SignerInfo
	Version int
	SID     SignerIdentifier
	// DigestAlgorithm is the hash of digestAlgorithm, 0 when unknown (see DigestAlgorithmOID).
	DigestAlgorithm    crypto.Hash
	DigestAlgorithmOID asn1.ObjectIdentifier
	SignatureAlgorithm Algorithm
	Signature          []byte
	// RawSignedAttrs is the DER of the signed attributes retagged as SET OF (0x31): the
	// bytes the signature covers. Nil when the SignerInfo has no signed attributes.
	RawSignedAttrs []byte
	SignedAttrs    []Attribute
	UnsignedAttrs  []Attribute
	// From the signed attributes (zero values when absent):
	ContentType          asn1.ObjectIdentifier
	MessageDigest        []byte
	SigningTime          *time.Time
	SigningCertificateV2 *CertID
	SigningCertificate   *CertID // the older SHA-1 signing-certificate attribute
	// TimestampToken is the value of the first signature-time-stamp unsigned attribute
	// (a DER ContentInfo holding an RFC 3161 TimeStampToken), nil if none.
	TimestampToken []byte

	head []byte // SignerInfo content before unsignedAttrs, for AddUnsignedAttribute
}

var (
	tagCtx0 = cbasn1.Tag(0).ContextSpecific().Constructed()
	tagCtx1 = cbasn1.Tag(1).ContextSpecific().Constructed()
	tagSKI  = cbasn1.Tag(0).ContextSpecific() // [0] IMPLICIT SubjectKeyIdentifier
)

// Parse parses a DER CMS ContentInfo holding SignedData, as found in a PDF /Contents
// string. Trailing zero bytes are accepted and counted in TrailingZeros.
//
// Parse checks structure only: that the DER is well formed, that the signed attributes
// (when present) hold exactly one content-type equal to eContentType and exactly one
// message-digest, and that no signed attribute type repeats. Cryptographic checks are
// SignerInfo.Verify's job.
//
// Errors: ErrTooLarge (input above MaxDERSize, or too many certificates, signers or
// attributes), ErrMalformed (anything else: BER, wrong content type, trailing garbage,
// missing required attributes).
func Parse(der []byte) (*SignedData, error) {
	if len(der) > MaxDERSize {
		return nil, errorf(ReasonTooLarge, "%d bytes (at most %d)", len(der), MaxDERSize)
	}
	input := cryptobyte.String(der)
	var ci cryptobyte.String
	if !input.ReadASN1Element(&ci, cbasn1.SEQUENCE) {
		return nil, malformed("not a DER ContentInfo")
	}
	for _, c := range input {
		if c != 0 {
			return nil, malformed("non-zero bytes after the DER")
		}
	}
	sd := &SignedData{Raw: bytes.Clone(ci), TrailingZeros: len(input)}
	s := cryptobyte.String(sd.Raw)
	var body, content cryptobyte.String
	var ct asn1.ObjectIdentifier
	if !s.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&ct) {
		return nil, malformed("bad ContentInfo")
	}
	if !ct.Equal(OIDSignedData) {
		return nil, malformed("content type %v is not signedData", ct)
	}
	if !body.ReadASN1(&content, tagCtx0) || !body.Empty() {
		return nil, malformed("bad ContentInfo content")
	}
	var sdb cryptobyte.String
	if !content.ReadASN1(&sdb, cbasn1.SEQUENCE) || !content.Empty() {
		return nil, malformed("bad SignedData")
	}
	if err := sd.parseBody(sdb); err != nil {
		return nil, err
	}
	return sd, nil
}

func (sd *SignedData) parseBody(s cryptobyte.String) error {
	start := s
	if !readSmallInt(&s, &sd.Version) {
		return malformed("bad SignedData version")
	}
	var algs cryptobyte.String
	if !s.ReadASN1(&algs, cbasn1.SET) {
		return malformed("bad digestAlgorithms")
	}
	for !algs.Empty() {
		if len(sd.DigestAlgorithms) == maxDigestAlgs {
			return errorf(ReasonTooLarge, "more than %d digest algorithms", maxDigestAlgs)
		}
		a, err := readAlgorithm(&algs)
		if err != nil {
			return err
		}
		sd.DigestAlgorithms = append(sd.DigestAlgorithms, a.OID)
	}
	if err := sd.parseEncap(&s); err != nil {
		return err
	}
	if s.PeekASN1Tag(tagCtx0) {
		var certs cryptobyte.String
		if !s.ReadASN1(&certs, tagCtx0) {
			return malformed("bad certificates")
		}
		for !certs.Empty() {
			if len(sd.Certificates)+len(sd.OtherCertificates) == maxCertificates {
				return errorf(ReasonTooLarge, "more than %d certificates", maxCertificates)
			}
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !certs.ReadAnyASN1Element(&el, &tag) {
				return malformed("bad certificate")
			}
			if tag == cbasn1.SEQUENCE {
				if c, err := x509.ParseCertificate(el); err == nil {
					sd.Certificates = append(sd.Certificates, c)
					continue
				}
			}
			sd.OtherCertificates = append(sd.OtherCertificates, el)
		}
	}
	if s.PeekASN1Tag(tagCtx1) {
		var crls cryptobyte.String
		if !s.ReadASN1(&crls, tagCtx1) {
			return malformed("bad crls")
		}
		for !crls.Empty() {
			if len(sd.CRLs) == maxCRLs {
				return errorf(ReasonTooLarge, "more than %d CRLs", maxCRLs)
			}
			var el cryptobyte.String
			var tag cbasn1.Tag
			if !crls.ReadAnyASN1Element(&el, &tag) {
				return malformed("bad crl")
			}
			sd.CRLs = append(sd.CRLs, el)
		}
	}
	sd.head = start[:len(start)-len(s)]
	var signers cryptobyte.String
	if !s.ReadASN1(&signers, cbasn1.SET) || !s.Empty() {
		return malformed("bad signerInfos")
	}
	for !signers.Empty() {
		if len(sd.Signers) == maxSigners {
			return errorf(ReasonTooLarge, "more than %d signers", maxSigners)
		}
		var el cryptobyte.String
		if !signers.ReadASN1Element(&el, cbasn1.SEQUENCE) {
			return malformed("bad SignerInfo")
		}
		si, err := parseSignerInfo(el)
		if err != nil {
			return err
		}
		if si.ContentType != nil && !si.ContentType.Equal(sd.ContentType) {
			return malformed("content-type attribute %v differs from eContentType %v", si.ContentType, sd.ContentType)
		}
		sd.Signers = append(sd.Signers, *si)
	}
	return nil
}

func (sd *SignedData) parseEncap(s *cryptobyte.String) error {
	var encap cryptobyte.String
	if !s.ReadASN1(&encap, cbasn1.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&sd.ContentType) {
		return malformed("bad encapContentInfo")
	}
	if encap.Empty() {
		return nil
	}
	var ec, oct cryptobyte.String
	if !encap.ReadASN1(&ec, tagCtx0) || !ec.ReadASN1(&oct, cbasn1.OCTET_STRING) || !ec.Empty() || !encap.Empty() {
		return malformed("bad eContent")
	}
	sd.HasContent, sd.Content = true, oct
	return nil
}

func parseSignerInfo(raw cryptobyte.String) (*SignerInfo, error) {
	si := &SignerInfo{Raw: raw}
	var s cryptobyte.String
	if !raw.ReadASN1(&s, cbasn1.SEQUENCE) {
		return nil, malformed("bad SignerInfo")
	}
	start := s
	if !readSmallInt(&s, &si.Version) {
		return nil, malformed("bad SignerInfo version")
	}
	switch {
	case s.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias, name cryptobyte.String
		si.SID.Serial = new(big.Int)
		if !s.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&name, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(si.SID.Serial) || !ias.Empty() {
			return nil, malformed("bad issuerAndSerialNumber")
		}
		si.SID.Issuer = name
		if si.Version != 1 {
			return nil, malformed("SignerInfo version %d with issuerAndSerialNumber", si.Version)
		}
	case s.PeekASN1Tag(tagSKI):
		var ski cryptobyte.String
		if !s.ReadASN1(&ski, tagSKI) || len(ski) == 0 {
			return nil, malformed("bad subjectKeyIdentifier")
		}
		si.SID.SubjectKeyID = ski
		if si.Version != 3 {
			return nil, malformed("SignerInfo version %d with subjectKeyIdentifier", si.Version)
		}
	default:
		return nil, malformed("bad SignerIdentifier")
	}
	da, err := readAlgorithm(&s)
	if err != nil {
		return nil, err
	}
	si.DigestAlgorithmOID = da.OID
	si.DigestAlgorithm = hashForOID(da.OID)
	if s.PeekASN1Tag(tagCtx0) {
		var el cryptobyte.String
		if !s.ReadASN1Element(&el, tagCtx0) {
			return nil, malformed("bad signedAttrs")
		}
		// The signature covers the SET OF encoding: same bytes, universal SET tag.
		si.RawSignedAttrs = append([]byte{0x31}, el[1:]...)
		if si.SignedAttrs, err = parseAttributes(el); err != nil {
			return nil, err
		}
		if len(si.SignedAttrs) == 0 {
			return nil, malformed("empty signedAttrs")
		}
		if err := si.interpretSigned(); err != nil {
			return nil, err
		}
	}
	if si.SignatureAlgorithm, err = readAlgorithm(&s); err != nil {
		return nil, err
	}
	var sig cryptobyte.String
	if !s.ReadASN1(&sig, cbasn1.OCTET_STRING) {
		return nil, malformed("bad signature value")
	}
	si.Signature = sig
	si.head = start[:len(start)-len(s)]
	if s.PeekASN1Tag(tagCtx1) {
		var el cryptobyte.String
		if !s.ReadASN1Element(&el, tagCtx1) {
			return nil, malformed("bad unsignedAttrs")
		}
		if si.UnsignedAttrs, err = parseAttributes(el); err != nil {
			return nil, err
		}
		for _, a := range si.UnsignedAttrs {
			if a.Type.Equal(OIDAttrTimeStampToken) {
				si.TimestampToken = a.Values[0]
				break
			}
		}
	}
	if !s.Empty() {
		return nil, malformed("trailing data in SignerInfo")
	}
	return si, nil
}

// parseAttributes parses a SET OF Attribute given as a whole element (any tag).
func parseAttributes(el cryptobyte.String) ([]Attribute, error) {
	var set cryptobyte.String
	var tag cbasn1.Tag
	if !el.ReadAnyASN1(&set, &tag) {
		return nil, malformed("bad attributes")
	}
	var attrs []Attribute
	for !set.Empty() {
		if len(attrs) == maxAttributes {
			return nil, errorf(ReasonTooLarge, "more than %d attributes", maxAttributes)
		}
		var raw, a, vals cryptobyte.String
		var at Attribute
		if !set.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
			return nil, malformed("bad attribute")
		}
		at.Raw = raw
		if !raw.ReadASN1(&a, cbasn1.SEQUENCE) || !a.ReadASN1ObjectIdentifier(&at.Type) ||
			!a.ReadASN1(&vals, cbasn1.SET) || !a.Empty() {
			return nil, malformed("bad attribute")
		}
		for !vals.Empty() {
			if len(at.Values) == maxAttrValues {
				return nil, errorf(ReasonTooLarge, "more than %d values in attribute %v", maxAttrValues, at.Type)
			}
			var v cryptobyte.String
			var vt cbasn1.Tag
			if !vals.ReadAnyASN1Element(&v, &vt) {
				return nil, malformed("bad value of attribute %v", at.Type)
			}
			at.Values = append(at.Values, v)
		}
		if len(at.Values) == 0 {
			return nil, malformed("attribute %v has no value", at.Type)
		}
		attrs = append(attrs, at)
	}
	return attrs, nil
}

// interpretSigned extracts the well-known signed attributes and enforces RFC 5652 5.3:
// content-type and message-digest present, each with exactly one value; and no
// attribute type twice.
func (si *SignerInfo) interpretSigned() error {
	for i, a := range si.SignedAttrs {
		for _, b := range si.SignedAttrs[:i] {
			if a.Type.Equal(b.Type) {
				return malformed("signed attribute %v appears twice", a.Type)
			}
		}
		single := func() (cryptobyte.String, error) {
			if len(a.Values) != 1 {
				return nil, malformed("signed attribute %v has %d values", a.Type, len(a.Values))
			}
			return cryptobyte.String(a.Values[0]), nil
		}
		var err error
		var v cryptobyte.String
		switch {
		case a.Type.Equal(OIDAttrContentType):
			if v, err = single(); err != nil {
				return err
			}
			if !v.ReadASN1ObjectIdentifier(&si.ContentType) || !v.Empty() {
				return malformed("bad content-type attribute")
			}
		case a.Type.Equal(OIDAttrMessageDigest):
			if v, err = single(); err != nil {
				return err
			}
			var d cryptobyte.String
			if !v.ReadASN1(&d, cbasn1.OCTET_STRING) || !v.Empty() {
				return malformed("bad message-digest attribute")
			}
			si.MessageDigest = d
		case a.Type.Equal(OIDAttrSigningTime):
			if v, err = single(); err != nil {
				return err
			}
			var t time.Time
			switch {
			case v.PeekASN1Tag(cbasn1.UTCTime):
				if !v.ReadASN1UTCTime(&t) {
					return malformed("bad signing-time attribute")
				}
			case !v.ReadASN1GeneralizedTime(&t):
				return malformed("bad signing-time attribute")
			}
			if !v.Empty() {
				return malformed("bad signing-time attribute")
			}
			si.SigningTime = &t
		case a.Type.Equal(OIDAttrSigningCertV2), a.Type.Equal(OIDAttrSigningCert):
			if v, err = single(); err != nil {
				return err
			}
			v2 := a.Type.Equal(OIDAttrSigningCertV2)
			id, err := parseSigningCertificate(v, v2)
			if err != nil {
				return err
			}
			if v2 {
				si.SigningCertificateV2 = id
			} else {
				si.SigningCertificate = id
			}
		}
	}
	if si.ContentType == nil {
		return malformed("signed attributes lack content-type")
	}
	if si.MessageDigest == nil {
		return malformed("signed attributes lack message-digest")
	}
	return nil
}

// parseSigningCertificate reads SigningCertificate(V2) and returns its first cert ID,
// which by definition identifies the signer certificate.
func parseSigningCertificate(v cryptobyte.String, v2 bool) (*CertID, error) {
	bad := malformed("bad signing-certificate attribute")
	var sc, certs, id cryptobyte.String
	if !v.ReadASN1(&sc, cbasn1.SEQUENCE) || !v.Empty() || !sc.ReadASN1(&certs, cbasn1.SEQUENCE) ||
		!certs.ReadASN1(&id, cbasn1.SEQUENCE) {
		return nil, bad
	}
	// Further cert IDs and policies are allowed and not interpreted; check they are DER.
	for !certs.Empty() {
		var x cryptobyte.String
		if !certs.ReadASN1(&x, cbasn1.SEQUENCE) {
			return nil, bad
		}
	}
	if !sc.Empty() {
		var pol cryptobyte.String
		if !sc.ReadASN1(&pol, cbasn1.SEQUENCE) || !sc.Empty() {
			return nil, bad
		}
	}
	c := &CertID{V2: v2, Hash: crypto.SHA1, HashOID: oidSHA1}
	if v2 {
		c.Hash, c.HashOID = crypto.SHA256, oidSHA256
		if id.PeekASN1Tag(cbasn1.SEQUENCE) {
			a, err := readAlgorithm(&id)
			if err != nil {
				return nil, err
			}
			c.HashOID, c.Hash = a.OID, hashForOID(a.OID)
		}
	}
	var h cryptobyte.String
	if !id.ReadASN1(&h, cbasn1.OCTET_STRING) {
		return nil, bad
	}
	c.CertHash = h
	if !id.Empty() {
		var is, names cryptobyte.String
		c.Serial = new(big.Int)
		if !id.ReadASN1(&is, cbasn1.SEQUENCE) || !is.ReadASN1(&names, cbasn1.SEQUENCE) ||
			!is.ReadASN1Integer(c.Serial) || !is.Empty() || !id.Empty() {
			return nil, bad
		}
		for !names.Empty() {
			var gn cryptobyte.String
			var tag cbasn1.Tag
			if !names.ReadAnyASN1(&gn, &tag) {
				return nil, bad
			}
			if tag == cbasn1.Tag(4).ContextSpecific().Constructed() && c.Issuer == nil {
				var name cryptobyte.String
				if !gn.ReadASN1Element(&name, cbasn1.SEQUENCE) || !gn.Empty() {
					return nil, bad
				}
				c.Issuer = name
			}
		}
	}
	return c, nil
}

// readAlgorithm reads an AlgorithmIdentifier.
func readAlgorithm(s *cryptobyte.String) (Algorithm, error) {
	var a Algorithm
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&a.OID) {
		return a, malformed("bad AlgorithmIdentifier")
	}
	if !seq.Empty() {
		var p cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadAnyASN1Element(&p, &tag) || !seq.Empty() {
			return a, malformed("bad AlgorithmIdentifier parameters")
		}
		a.Params = p
	}
	if h := hashForOID(a.OID); h != 0 {
		a.Name = h.String()
	} else {
		_, _, a.Name = lookupSigAlg(a.OID)
	}
	return a, nil
}

// readSmallInt reads a non-negative INTEGER that fits in an int32.
func readSmallInt(s *cryptobyte.String, out *int) bool {
	var v int64
	if !s.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v < 0 || v > 1<<31-1 {
		return false
	}
	*out = int(v)
	return true
}
