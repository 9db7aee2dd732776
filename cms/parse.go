package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"slices"
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
	// Raw is the DER of the ContentInfo, without trailing padding; for BER input, its
	// normalised encoding (see ber.go), not the bytes received.
	Raw []byte
	// BER is true when the input was not DER and was normalised before parsing.
	BER bool
	// TrailingZeros counts the zero bytes that followed the ContentInfo (the padding of a
	// PDF /Contents placeholder). Any other trailing byte makes Parse fail.
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

	head    []byte // SignedData content before signerInfos, for AddUnsignedAttribute
	altered []int  // offsets in Raw of elements BER normalisation changed
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
	// RawSignedAttrs is the encoding of the signed attributes retagged as SET OF (0x31):
	// the bytes the signature covers. Nil when the SignerInfo has no signed attributes.
	//
	// When the attributes arrived with DER lengths (always for DER input, and for the DER
	// islands BouncyCastle writes inside BER), these are the received bytes, whatever the
	// order of the set: the signer signed what it sent. When they arrived in BER
	// (SignedAttrsReencoded), they are their DER encoding as RFC 5652 5.4 defines the
	// signed message: definite lengths, the attributes and each attribute's values sorted
	// into DER SET OF order (deeper SETs, inside attribute values, keep their order).
	RawSignedAttrs       []byte
	SignedAttrsReencoded bool
	SignedAttrs          []Attribute
	UnsignedAttrs        []Attribute
	// RepeatedAttrs lists the signed attribute types that appear more than once. Only
	// signing-certificate(-v2), each instance of which must name the signer certificate,
	// and attributes this package does not interpret may repeat: BouncyCastle, and hence
	// EU DSS, verify such signatures as intact (DSS's UnicitySigningCertificate constraint
	// only warns).
	RepeatedAttrs []asn1.ObjectIdentifier
	// From the signed attributes (zero values when absent):
	ContentType          asn1.ObjectIdentifier
	MessageDigest        []byte
	SigningTime          *time.Time
	SigningCertificateV2 *CertID
	SigningCertificate   *CertID // the older SHA-1 signing-certificate attribute
	// moreCertIDs holds the first cert ID of the repeated signing-certificate(-v2)
	// instances after the first of each type.
	moreCertIDs []*CertID
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

// Parse parses a CMS ContentInfo holding SignedData, as found in a PDF /Contents string.
// Trailing zero bytes are accepted and counted in TrailingZeros.
//
// DER is read directly. Anything else is tried as BER (indefinite lengths, non-minimal
// lengths, constructed OCTET STRINGs, as BouncyCastle and `openssl cms -stream` write):
// it is normalised to definite lengths first (see ber.go), BER is set, and Raw holds the
// normalised encoding. The same limits apply to both.
//
// Parse checks structure only: that the encoding is well formed; that the signed
// attributes (when present) hold exactly one content-type equal to eContentType, exactly
// one message-digest and at most one signing-time, each with a single value (RFC 5652
// 11.1–11.3; a second message-digest would let two contents claim one signature); that
// repeated signing-certificate(-v2) attributes can be checked one by one; and that other
// repeated signed attributes are only listed (RepeatedAttrs). Cryptographic checks are
// SignerInfo.Verify's job.
//
// Errors: ErrTooLarge (input above MaxDERSize, or too many certificates, signers or
// attributes), ErrMalformed (anything else: not BER either, wrong content type, trailing
// garbage, missing or repeated required attributes).
func Parse(der []byte) (*SignedData, error) {
	if len(der) > MaxDERSize {
		return nil, errorf(ReasonTooLarge, "%d bytes (at most %d)", len(der), MaxDERSize)
	}
	input := cryptobyte.String(der)
	var ci cryptobyte.String
	if input.ReadASN1Element(&ci, cbasn1.SEQUENCE) {
		sd, err := parseContentInfo(bytes.Clone(ci), input, nil)
		if err == nil {
			return sd, nil
		}
		var ce *Error
		if !errors.As(err, &ce) || ce.Reason != ReasonMalformed {
			return nil, err
		}
	}
	// Not DER: try BER. When normalising changes nothing, the input was DER after all
	// and the DER error stands.
	norm, used, altered, err := normalizeBER(der)
	if err != nil {
		return nil, err
	}
	if len(altered) == 0 {
		_, derErr := parseDERContentInfo(der)
		return nil, derErr
	}
	sd, err := parseContentInfo(norm, der[used:], altered)
	if err != nil {
		return nil, err
	}
	sd.BER = true
	return sd, nil
}

// parseDERContentInfo is Parse without the BER fallback, for its error.
func parseDERContentInfo(der []byte) (*SignedData, error) {
	input := cryptobyte.String(der)
	var ci cryptobyte.String
	if !input.ReadASN1Element(&ci, cbasn1.SEQUENCE) {
		return nil, malformed("neither DER nor BER")
	}
	return parseContentInfo(bytes.Clone(ci), input, nil)
}

// parseContentInfo parses raw, one DER ContentInfo the result may keep (a private copy),
// followed in the input by trailing. altered lists the offsets in raw of the elements
// BER normalisation changed (sorted, nil for DER input).
func parseContentInfo(raw []byte, trailing []byte, altered []int) (*SignedData, error) {
	for _, c := range trailing {
		if c != 0 {
			return nil, malformed("non-zero bytes after the signature")
		}
	}
	sd := &SignedData{Raw: raw, TrailingZeros: len(trailing), altered: altered}
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

// reencoded reports whether BER normalisation changed the element at el, a sub-slice of
// sd.Raw. (Sub-slices of one array share its end, so the capacity tells the offset.)
func (sd *SignedData) reencoded(el []byte) bool {
	if len(sd.altered) == 0 {
		return false
	}
	off := cap(sd.Raw) - cap(el)
	_, found := slices.BinarySearch(sd.altered, off)
	return found
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
		si, err := sd.parseSignerInfo(el)
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

func (sd *SignedData) parseSignerInfo(raw cryptobyte.String) (*SignerInfo, error) {
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
		if si.SignedAttrs, err = parseAttributes(el); err != nil {
			return nil, err
		}
		if len(si.SignedAttrs) == 0 {
			return nil, malformed("empty signedAttrs")
		}
		if sd.reencoded(el) {
			// They arrived in BER: what the signer signed is their DER encoding (RFC 5652
			// 5.4), which is what BouncyCastle (hence EU DSS) and OpenSSL re-encode and
			// verify.
			if si.RawSignedAttrs, err = derAttributes(si.SignedAttrs); err != nil {
				return nil, err
			}
			si.SignedAttrsReencoded = true
		} else {
			// They arrived in DER (lengths): the signature covers these very bytes with
			// the universal SET tag.
			si.RawSignedAttrs = append([]byte{0x31}, el[1:]...)
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

// interpretSigned extracts the well-known signed attributes and enforces RFC 5652 11.1–11.3:
// content-type and message-digest present, each once and with exactly one value;
// signing-time at most once. Other types may repeat (see RepeatedAttrs).
func (si *SignerInfo) interpretSigned() error {
	for i, a := range si.SignedAttrs {
		repeated := false
		for _, b := range si.SignedAttrs[:i] {
			if a.Type.Equal(b.Type) {
				repeated = true
				break
			}
		}
		once := a.Type.Equal(OIDAttrContentType) || a.Type.Equal(OIDAttrMessageDigest) || a.Type.Equal(OIDAttrSigningTime)
		if repeated {
			if once {
				return malformed("signed attribute %v appears twice", a.Type)
			}
			if !slices.ContainsFunc(si.RepeatedAttrs, a.Type.Equal) {
				si.RepeatedAttrs = append(si.RepeatedAttrs, a.Type)
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
			switch {
			case v2 && si.SigningCertificateV2 == nil:
				si.SigningCertificateV2 = id
			case !v2 && si.SigningCertificate == nil:
				si.SigningCertificate = id
			default:
				si.moreCertIDs = append(si.moreCertIDs, id)
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

// derAttributes returns the DER SET OF the attributes, the attributes and the values of
// each sorted as X.690 11.6 asks.
func derAttributes(attrs []Attribute) ([]byte, error) {
	enc := make([][]byte, 0, len(attrs))
	for _, a := range attrs {
		vals, err := derSetOf(a.Values...)
		if err != nil {
			return nil, malformed("signed attributes cannot be re-encoded")
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(a.Type)
			b.AddBytes(vals)
		})
		e, err := b.Bytes()
		if err != nil {
			return nil, malformed("signed attributes cannot be re-encoded")
		}
		enc = append(enc, e)
	}
	out, err := derSetOf(enc...)
	if err != nil {
		return nil, malformed("signed attributes cannot be re-encoded")
	}
	return out, nil
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
