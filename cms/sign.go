package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"sort"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// SignOptions says who signs and how.
type SignOptions struct {
	// Signer holds the private key of Chain[0]. It is used only through Sign, exactly once
	// per SignDetached call; Public is called to check that it matches the certificate.
	// RSA (at least 2048 bits) and ECDSA (P-256, P-384, P-521) keys are supported.
	Signer crypto.Signer
	// Chain is the signer certificate followed by its issuers (leaf first). All of them
	// are embedded, in this order, in the certificates field.
	Chain []*x509.Certificate
	// Hash is the digest algorithm for the content, the signed attributes and the
	// signing-certificate-v2 hash: crypto.SHA256 (the default when zero), SHA384 or SHA512.
	Hash crypto.Hash
}

// signPlan is SignOptions checked and resolved into the exact encodings to write.
type signPlan struct {
	opt     SignOptions
	hash    crypto.Hash
	pub     crypto.PublicKey
	sigAlg  asn1.ObjectIdentifier
	sigNull bool // signatureAlgorithm parameters are NULL (RSA) rather than absent (ECDSA)
	maxSig  int  // the largest signature value the key can produce
	// For SignEncapsulated: the eContentType and eContent (nil encap: detached id-data),
	// and whether to leave the certificates out.
	encap   asn1.ObjectIdentifier
	content []byte
	noCerts bool
}

func plan(opt SignOptions) (*signPlan, error) {
	p := &signPlan{opt: opt, hash: opt.Hash}
	if p.hash == 0 {
		p.hash = crypto.SHA256
	}
	switch p.hash {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	case crypto.SHA1, crypto.MD5:
		return nil, errorf(ReasonWeakAlgorithm, "hash %v is not allowed for signing", p.hash)
	default:
		return nil, errorf(ReasonUnsupported, "hash %v is not supported", p.hash)
	}
	if !p.hash.Available() {
		return nil, errorf(ReasonUnsupported, "hash %v is not linked into the binary", p.hash)
	}
	if len(opt.Chain) == 0 {
		return nil, errorf(ReasonInvalidOptions, "no signer certificate")
	}
	for _, c := range opt.Chain {
		if c == nil || len(c.Raw) == 0 {
			return nil, errorf(ReasonInvalidOptions, "empty certificate in chain")
		}
	}
	leaf := opt.Chain[0]
	p.pub = leaf.PublicKey
	switch pub := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 {
			return nil, errorf(ReasonWeakAlgorithm, "RSA key of %d bits (at least 2048 required)", pub.N.BitLen())
		}
		p.maxSig = (pub.N.BitLen() + 7) / 8
		p.sigNull = true
		p.sigAlg = map[crypto.Hash]asn1.ObjectIdentifier{
			crypto.SHA256: oidSHA256WithRSA, crypto.SHA384: oidSHA384WithRSA, crypto.SHA512: oidSHA512WithRSA,
		}[p.hash]
	case *ecdsa.PublicKey:
		switch pub.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return nil, errorf(ReasonUnsupported, "elliptic curve %s", pub.Curve.Params().Name)
		}
		p.maxSig = maxECDSASigLen(pub.Curve)
		p.sigAlg = map[crypto.Hash]asn1.ObjectIdentifier{
			crypto.SHA256: oidECDSAWithSHA256, crypto.SHA384: oidECDSAWithSHA384, crypto.SHA512: oidECDSAWithSHA512,
		}[p.hash]
	default:
		return nil, errorf(ReasonUnsupported, "public key type %T", leaf.PublicKey)
	}
	return p, nil
}

// maxECDSASigLen is the longest DER Ecdsa-Sig-Value for the curve: two INTEGERs of the
// order's size plus a possible leading zero byte each.
func maxECDSASigLen(c elliptic.Curve) int {
	n := (c.Params().N.BitLen()+7)/8 + 1
	ints := 2 * (1 + derLenLen(n) + n)
	return 1 + derLenLen(ints) + ints
}

// derLenLen is the size of a DER length field for a content of n bytes.
func derLenLen(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n < 0x100:
		return 2
	case n < 0x10000:
		return 3
	case n < 0x1000000:
		return 4
	}
	return 5
}

// SignDetached returns a DER CMS ContentInfo holding a detached SignedData over the
// content whose digest (computed with opt.Hash, SHA-256 by default) is contentDigest.
//
// The signed attributes are exactly content-type (id-data), message-digest and
// signing-certificate-v2, as PAdES baseline B-B asks; there is no signing-time. The
// SignerInfo is version 1 (issuerAndSerialNumber); the signature algorithm is
// sha{256,384,512}WithRSAEncryption (PKCS#1 v1.5) or ecdsa-with-SHA{256,384,512}.
//
// It is the two-step path run in one go: PrepareSignedAttributes, one opt.Signer.Sign over
// their digest, AssembleDetached. The returned signature is checked against the
// certificate's public key before it is returned, so a faulty token (or an RSA-CRT fault)
// never produces a document with a broken or key-leaking signature.
//
// Errors: ErrInvalidOptions (no signer or chain, key does not match the certificate,
// digest of the wrong length), ErrWeakAlgorithm (SHA-1, RSA < 2048), ErrUnsupported
// (other hashes or key types), ErrSignerFailed (Sign failed, wrapping its error, or
// returned a signature that does not verify).
func SignDetached(contentDigest []byte, opt SignOptions) ([]byte, error) {
	p, err := plan(opt)
	if err != nil {
		return nil, err
	}
	if err := p.checkSigner(); err != nil {
		return nil, err
	}
	attrs, digest, err := p.prepareDetached(contentDigest)
	if err != nil {
		return nil, err
	}
	sig, err := p.opt.Signer.Sign(rand.Reader, digest, p.hash)
	if err != nil {
		return nil, &Error{Reason: ReasonSignerFailed, Detail: "signing failed", Err: err}
	}
	der, err := p.assembleDetached(attrs, digest, sig)
	if errors.Is(err, ErrBadSignature) {
		return nil, errorf(ReasonSignerFailed, "the signer returned a signature that does not verify")
	}
	return der, err
}

// PrepareSignedAttributes is the first half of a two-step (external) signature: it returns
// the DER signed attributes that SignDetached would sign for the content whose digest is
// contentDigest and the certificate opt.Chain[0] (a SET OF, tag 0x31: the bytes a device
// that signs data rather than digests must sign), and their digest with opt.Hash (what a
// device that signs digests — PKCS#11, CSC signHash — must sign: for RSA as PKCS#1 v1.5
// with the DigestInfo of opt.Hash, for ECDSA as is). opt.Signer is not used and may be nil.
// The result depends only on its inputs, so a caller may keep either half and recompute
// the other.
//
// Errors: those of SignDetached about the options and the digest (ErrInvalidOptions,
// ErrWeakAlgorithm, ErrUnsupported).
func PrepareSignedAttributes(contentDigest []byte, opt SignOptions) (attrs, digestToSign []byte, err error) {
	p, err := plan(opt)
	if err != nil {
		return nil, nil, err
	}
	return p.prepareDetached(contentDigest)
}

// AssembleDetached is the second half of a two-step signature: it returns the DER CMS
// ContentInfo of SignDetached built from attrs (as PrepareSignedAttributes returned them
// for the same opt.Chain and opt.Hash), the signature value an external device produced
// over them, and opt.Chain (leaf first; all embedded). opt.Signer is not used.
//
// Nothing is assembled unless it checks: attrs must be exactly the attributes this package
// writes for opt.Chain[0] (content-type id-data, a message-digest of opt.Hash's size, the
// signing-certificate-v2 of that certificate), and signatureValue must verify over their
// digest with the certificate's public key. An ECDSA value may be DER (Ecdsa-Sig-Value) or
// the raw r||s that PKCS#11 tokens return; the CMS always carries DER.
//
// Errors: ErrInvalidOptions (options as in SignDetached), ErrSigningCertificate (attrs were
// prepared for another certificate or hash, or are not ours), ErrBadSignature (the value
// does not verify: another key, other attributes, or not a signature at all).
func AssembleDetached(attrs, signatureValue []byte, opt SignOptions) ([]byte, error) {
	p, err := plan(opt)
	if err != nil {
		return nil, err
	}
	md, err := messageDigestOf(attrs)
	if err != nil {
		return nil, err
	}
	if len(md) != p.hash.Size() {
		return nil, errorf(ReasonSigningCertificate, "the signed attributes were not prepared with %v", p.hash)
	}
	want, digest, err := p.prepareDetached(md)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(want, attrs) {
		return nil, errorf(ReasonSigningCertificate, "the signed attributes were not prepared for the certificate %q with %v", p.opt.Chain[0].Subject.String(), p.hash)
	}
	return p.assembleDetached(attrs, digest, signatureValue)
}

// prepareDetached returns the signed attributes over contentDigest and their digest.
func (p *signPlan) prepareDetached(contentDigest []byte) (attrs, digest []byte, err error) {
	if len(contentDigest) != p.hash.Size() {
		return nil, nil, errorf(ReasonInvalidOptions, "content digest has %d bytes, %v needs %d", len(contentDigest), p.hash, p.hash.Size())
	}
	attrs, err = p.signedAttrs(OIDData, contentDigest)
	if err != nil {
		return nil, nil, &Error{Reason: ReasonInvalidOptions, Detail: "encoding failed", Err: err}
	}
	h := p.hash.New()
	h.Write(attrs)
	return attrs, h.Sum(nil), nil
}

// assembleDetached checks sig over digest (the digest of attrs) and builds the SignedData.
func (p *signPlan) assembleDetached(attrs, digest, sig []byte) ([]byte, error) {
	sig, ok := p.checkSignature(digest, sig)
	if !ok {
		return nil, errorf(ReasonBadSignature, "the signature value does not verify with the key of %q", p.opt.Chain[0].Subject.String())
	}
	der, err := p.build(attrs, sig, nil)
	if err != nil {
		return nil, &Error{Reason: ReasonInvalidOptions, Detail: "encoding failed", Err: err}
	}
	return der, nil
}

// checkSignature verifies sig over digest with the certificate's key and returns it in the
// form CMS carries (DER for ECDSA, converted from a raw r||s value when needed).
func (p *signPlan) checkSignature(digest, sig []byte) ([]byte, bool) {
	if len(sig) == 0 {
		return nil, false
	}
	if len(sig) <= p.maxSig && verifyRaw(p.pub, p.hash, digest, sig) {
		return sig, true
	}
	pub, ok := p.pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, false
	}
	n := (pub.Curve.Params().N.BitLen() + 7) / 8
	if len(sig) != 2*n {
		return nil, false
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(new(big.Int).SetBytes(sig[:n]))
		b.AddASN1BigInt(new(big.Int).SetBytes(sig[n:]))
	})
	der, err := b.Bytes()
	if err != nil || len(der) > p.maxSig || !ecdsa.VerifyASN1(pub, digest, der) {
		return nil, false
	}
	return der, true
}

// messageDigestOf returns the message-digest value of DER signed attributes (a SET OF
// Attribute), refusing anything that is not such a set.
func messageDigestOf(attrs []byte) ([]byte, error) {
	s := cryptobyte.String(attrs)
	var set cryptobyte.String
	if !s.ReadASN1(&set, cbasn1.SET) || !s.Empty() {
		return nil, errorf(ReasonSigningCertificate, "the signed attributes are not a DER SET")
	}
	for !set.Empty() {
		var attr, vals, val cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !set.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) || !attr.ReadASN1(&vals, cbasn1.SET) {
			return nil, errorf(ReasonSigningCertificate, "the signed attributes are malformed")
		}
		if oid.Equal(OIDAttrMessageDigest) {
			if !vals.ReadASN1(&val, cbasn1.OCTET_STRING) || !vals.Empty() {
				return nil, errorf(ReasonSigningCertificate, "the message-digest attribute is malformed")
			}
			return val, nil
		}
	}
	return nil, errorf(ReasonSigningCertificate, "the signed attributes have no message-digest")
}

// SignEncapsulated returns a DER CMS ContentInfo holding a SignedData that carries content
// itself (eContent) with eContentType contentType, signed by opt like SignDetached: signed
// attributes content-type (contentType), message-digest (of content) and
// signing-certificate-v2. The SignedData is version 3 (RFC 5652 5.1: eContentType other
// than id-data), the SignerInfo version 1. The certificates of opt.Chain are embedded when
// withCerts is true; otherwise the certificates field is absent.
//
// This is what an RFC 3161 time-stamping authority returns (contentType id-ct-TSTInfo,
// content the DER TSTInfo; withCerts is the request's certReq): see package tsp.
//
// Errors: those of SignDetached; ErrInvalidOptions also for a contentType of fewer than
// two arcs or id-data (use SignDetached) and for an empty content.
func SignEncapsulated(contentType asn1.ObjectIdentifier, content []byte, opt SignOptions, withCerts bool) ([]byte, error) {
	if len(contentType) < 2 || contentType.Equal(OIDData) {
		return nil, errorf(ReasonInvalidOptions, "content type %v", contentType)
	}
	if len(content) == 0 {
		return nil, errorf(ReasonInvalidOptions, "empty content")
	}
	p, err := plan(opt)
	if err != nil {
		return nil, err
	}
	if err := p.checkSigner(); err != nil {
		return nil, err
	}
	h := p.hash.New()
	h.Write(content)
	attrs, err := p.signedAttrs(contentType, h.Sum(nil))
	if err != nil {
		return nil, &Error{Reason: ReasonInvalidOptions, Detail: "encoding failed", Err: err}
	}
	sig, err := p.sign(attrs)
	if err != nil {
		return nil, err
	}
	p.encap, p.content, p.noCerts = contentType, content, !withCerts
	der, err := p.build(attrs, sig, nil)
	if err != nil {
		return nil, &Error{Reason: ReasonInvalidOptions, Detail: "encoding failed", Err: err}
	}
	if len(der) > MaxDERSize {
		return nil, errorf(ReasonInvalidOptions, "the result would exceed %d bytes", MaxDERSize)
	}
	return der, nil
}

// checkSigner checks that opt.Signer holds the key of Chain[0].
func (p *signPlan) checkSigner() error {
	if p.opt.Signer == nil {
		return errorf(ReasonInvalidOptions, "no signer")
	}
	if k, ok := p.opt.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(p.pub) {
		return errorf(ReasonInvalidOptions, "the key does not match the signer certificate")
	}
	return nil
}

// sign signs the DER signed attributes once and checks the result against the
// certificate's key.
func (p *signPlan) sign(attrs []byte) ([]byte, error) {
	h := p.hash.New()
	h.Write(attrs)
	digest := h.Sum(nil)
	sig, err := p.opt.Signer.Sign(rand.Reader, digest, p.hash)
	if err != nil {
		return nil, &Error{Reason: ReasonSignerFailed, Detail: "signing failed", Err: err}
	}
	sig, ok := p.checkSignature(digest, sig)
	if !ok {
		return nil, errorf(ReasonSignerFailed, "the signer returned a signature that does not verify")
	}
	return sig, nil
}

func verifyRaw(pub crypto.PublicKey, h crypto.Hash, digest, sig []byte) bool {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(pub, digest, sig)
	}
	return false
}

// MaxSizeWithExtra returns an upper bound of the length of what SignDetached returns for
// opt, plus room for one unsigned attribute whose single value is extra bytes of DER, added
// later with AddUnsignedAttribute (a signature time-stamp token of at most extra bytes);
// extra <= 0 means no such attribute. It does not use the private key (only Chain[0]'s
// public key is read; Signer may be nil), so the PDF placeholder can be reserved before
// signing. The bound is exact for RSA and at most a few bytes above the result for ECDSA,
// whose signature length varies. It returns 0 when opt is unusable (SignDetached then
// reports why).
func MaxSizeWithExtra(opt SignOptions, extra int) int {
	p, err := plan(opt)
	if err != nil || extra > MaxDERSize {
		return 0
	}
	attrs, err := p.signedAttrs(OIDData, make([]byte, p.hash.Size()))
	if err != nil {
		return 0
	}
	var unsigned [][]byte
	if extra > 0 {
		a, err := encodeAttribute(OIDAttrTimeStampToken, make([]byte, extra))
		if err != nil {
			return 0
		}
		unsigned = [][]byte{a}
	}
	der, err := p.build(attrs, make([]byte, p.maxSig), unsigned)
	if err != nil {
		return 0
	}
	return len(der)
}

// signedAttrs returns the DER of the signed attributes as a SET OF (tag 0x31): the exact
// bytes the signature covers.
func (p *signPlan) signedAttrs(contentType asn1.ObjectIdentifier, contentDigest []byte) ([]byte, error) {
	ct, err := asn1.Marshal(contentType)
	if err != nil {
		return nil, err
	}
	md, err := asn1.Marshal(contentDigest)
	if err != nil {
		return nil, err
	}
	scv2, err := p.signingCertificateV2()
	if err != nil {
		return nil, err
	}
	a1, err := encodeAttribute(OIDAttrContentType, ct)
	if err != nil {
		return nil, err
	}
	a2, err := encodeAttribute(OIDAttrMessageDigest, md)
	if err != nil {
		return nil, err
	}
	a3, err := encodeAttribute(OIDAttrSigningCertV2, scv2)
	if err != nil {
		return nil, err
	}
	return derSetOf(a1, a2, a3)
}

// signingCertificateV2 encodes SigningCertificateV2 (RFC 5035) with one ESSCertIDv2 for
// the leaf: certHash over the whole certificate and issuerSerial; hashAlgorithm is
// omitted for SHA-256, its DER default.
func (p *signPlan) signingCertificateV2() ([]byte, error) {
	leaf := p.opt.Chain[0]
	h := p.hash.New()
	h.Write(leaf.Raw)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SigningCertificateV2
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // certs
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2
				if p.hash != crypto.SHA256 {
					addAlgorithm(b, oidForHash(p.hash), false)
				}
				b.AddASN1OctetString(h.Sum(nil))
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
						b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
							b.AddBytes(leaf.RawIssuer) // directoryName [4] EXPLICIT Name
						})
					})
					b.AddASN1BigInt(leaf.SerialNumber)
				})
			})
		})
	})
	return b.Bytes()
}

// build assembles ContentInfo{signedData, SignedData{...}} around the signed attributes
// (as a SET, retagged [0] IMPLICIT here), the signature value and optional unsigned
// attributes (each a DER Attribute).
func (p *signPlan) build(signedAttrs, sig []byte, unsigned [][]byte) ([]byte, error) {
	digestAlg := oidForHash(p.hash)
	var si cryptobyte.Builder
	si.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerAndSerialNumber
			b.AddBytes(p.opt.Chain[0].RawIssuer)
			b.AddASN1BigInt(p.opt.Chain[0].SerialNumber)
		})
		addAlgorithm(b, digestAlg, false)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddBytes(setContent(signedAttrs))
		})
		addAlgorithm(b, p.sigAlg, p.sigNull)
		b.AddASN1OctetString(sig)
		if len(unsigned) > 0 {
			addUnsignedAttrs(b, unsigned)
		}
	})
	signerInfo, err := si.Bytes()
	if err != nil {
		return nil, err
	}
	var head cryptobyte.Builder // SignedData fields before signerInfos
	if p.encap != nil {
		head.AddASN1Int64(3)
	} else {
		head.AddASN1Int64(1)
	}
	head.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { addAlgorithm(b, digestAlg, false) })
	head.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		if p.encap == nil {
			b.AddASN1ObjectIdentifier(OIDData)
			return
		}
		b.AddASN1ObjectIdentifier(p.encap)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(p.content)
		})
	})
	if !p.noCerts {
		head.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			for _, c := range p.opt.Chain {
				b.AddBytes(c.Raw)
			}
		})
	}
	h, err := head.Bytes()
	if err != nil {
		return nil, err
	}
	return wrapContentInfo(h, [][]byte{signerInfo})
}

// wrapContentInfo returns ContentInfo{signedData, [0] SignedData{head..., SET signers}}.
func wrapContentInfo(head []byte, signers [][]byte) ([]byte, error) {
	set, err := derSetOf(signers...)
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(OIDSignedData)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(head)
				b.AddBytes(set)
			})
		})
	})
	return b.Bytes()
}

func addUnsignedAttrs(b *cryptobyte.Builder, attrs [][]byte) {
	set, err := derSetOf(attrs...)
	if err != nil {
		b.SetError(err)
		return
	}
	b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
		b.AddBytes(setContent(set))
	})
}

// addAlgorithm writes an AlgorithmIdentifier with absent or NULL parameters.
func addAlgorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, null bool) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if null {
			b.AddASN1NULL()
		}
	})
}

// encodeAttribute returns the DER of Attribute{type, SET{value}}; value is one DER element.
func encodeAttribute(oid asn1.ObjectIdentifier, value []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(value) })
	})
	return b.Bytes()
}

// derSetOf returns the DER SET OF the given encoded elements, sorted as X.690 11.6 asks
// (ascending byte order, a shorter encoding sorting as if padded with zeros; DER
// encodings of one type never are prefixes of each other, so bytes.Compare is that order).
func derSetOf(elems ...[]byte) ([]byte, error) {
	sorted := make([][]byte, len(elems))
	copy(sorted, elems)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, e := range sorted {
			b.AddBytes(e)
		}
	})
	return b.Bytes()
}

// setContent strips the tag and length of a DER element, returning its contents.
func setContent(der []byte) []byte {
	s := cryptobyte.String(der)
	var out cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&out, &tag) {
		return nil
	}
	return out
}
