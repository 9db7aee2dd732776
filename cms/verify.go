package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MinRSABits is the smallest RSA modulus Verify accepts.
const MinRSABits = 2048

// MinECDSABits is the smallest ECDSA curve size Verify accepts (P-224 is refused).
const MinECDSABits = 256

// Signer returns the one SignerInfo of a PDF signature. Errors: ErrUnsupported when sd
// has no signer or more than one.
func (sd *SignedData) Signer() (*SignerInfo, error) {
	if len(sd.Signers) != 1 {
		return nil, errorf(ReasonUnsupported, "%d signers (a PDF signature has exactly one)", len(sd.Signers))
	}
	return &sd.Signers[0], nil
}

// Certificate returns the certificate of sd.Certificates that the signer identifier
// names. Errors: ErrSignerNotFound when none does, ErrUnsupportedAlg when the one that does
// is among sd.OtherCertificates because crypto/x509 cannot parse its public key (a
// brainpool or other unsupported curve, an unknown key algorithm), ErrMalformed when two
// different certificates do (an attacker could otherwise choose which one a verifier
// trusts).
func (s *SignerInfo) Certificate(sd *SignedData) (*x509.Certificate, error) {
	if sd == nil || (s.SID.SubjectKeyID == nil && (s.SID.Serial == nil || s.SID.Issuer == nil)) {
		return nil, errorf(ReasonSignerNotFound, "no signer identifier")
	}
	var found *x509.Certificate
	for _, c := range sd.Certificates {
		var match bool
		if s.SID.SubjectKeyID != nil {
			match = bytes.Equal(c.SubjectKeyId, s.SID.SubjectKeyID)
		} else {
			match = c.SerialNumber.Cmp(s.SID.Serial) == 0 && bytes.Equal(c.RawIssuer, s.SID.Issuer)
		}
		if !match {
			continue
		}
		if found != nil && !bytes.Equal(found.Raw, c.Raw) {
			return nil, malformed("two different certificates match the signer identifier")
		}
		found = c
	}
	if found == nil {
		for _, raw := range sd.OtherCertificates {
			if err := s.unparsedSigner(raw); err != nil {
				return nil, err
			}
		}
		return nil, errorf(ReasonSignerNotFound, "no certificate matches the signer identifier")
	}
	return found, nil
}

// unparsedSigner looks at a certificate crypto/x509 refused. When the signer identifier
// names it, the error says why it cannot be used: an unsupported key algorithm
// (ErrUnsupportedAlg) or a certificate that cannot be parsed (ErrSignerNotFound). It
// returns nil when raw is not the signer's certificate.
func (s *SignerInfo) unparsedSigner(raw []byte) error {
	c, ok := peekCertificate(raw)
	if !ok {
		return nil
	}
	match := false
	if s.SID.SubjectKeyID != nil {
		match = c.ski != nil && bytes.Equal(c.ski, s.SID.SubjectKeyID)
	} else {
		match = c.serial.Cmp(s.SID.Serial) == 0 && bytes.Equal(c.issuer, s.SID.Issuer)
	}
	if !match {
		return nil
	}
	if alg := unsupportedKey(c.keyAlg, c.keyParams); alg != "" {
		return errorf(ReasonUnsupportedAlg, "the signer certificate has a %s key", alg)
	}
	_, err := x509.ParseCertificate(raw)
	return &Error{Reason: ReasonSignerNotFound, Detail: "the signer certificate cannot be parsed", Err: err}
}

// Verify checks this SignerInfo cryptographically against contentDigest, the digest of
// the signed content (the PDF ByteRange) computed with s.DigestAlgorithm; sd is the
// SignedData s was parsed from. It does not
// build or validate a certificate chain, check revocation or time: that is the caller's
// job, with the certificate returned.
//
// In order, it: finds the signer certificate in sd.Certificates by the signer identifier;
// refuses weak or unknown algorithms; checks every signing-certificate(-v2) attribute
// present against that certificate; compares message-digest with contentDigest;
// verifies the signature over RawSignedAttrs (or, when there are no signed attributes,
// over contentDigest directly: RFC 5652 5.4, as adbe.pkcs7.detached signers without
// attributes make them) with the certificate's public key.
//
// Supported: RSASSA-PKCS1-v1_5 and RSASSA-PSS (MGF1 with the message hash), ECDSA on
// P-256/P-384/P-521, Ed25519 (with signed attributes and SHA-512), with SHA-2 or SHA-3
// digests.
//
// The certificate is returned whenever it was found, even with an error, so a report can
// name the signer. Errors: ErrSignerNotFound, ErrMalformed (ambiguous signer),
// ErrWeakAlgorithm
// (MD5 or SHA-1, RSA below MinRSABits, ECDSA below MinECDSABits), ErrUnsupportedAlg (a
// digest, signature or key algorithm, or algorithm parameters, this package cannot
// verify: DSA, Ed448, brainpool curves, unknown OIDs, PSS variants), ErrSigningCertificate,
// ErrDigestMismatch, ErrBadSignature.
func (s *SignerInfo) Verify(sd *SignedData, contentDigest []byte) (*x509.Certificate, error) {
	cert, err := s.Certificate(sd)
	if err != nil {
		return nil, err
	}
	return cert, s.verifyWith(cert, contentDigest)
}

func (s *SignerInfo) verifyWith(cert *x509.Certificate, contentDigest []byte) error {
	h := s.DigestAlgorithm
	switch {
	case weakHash(h):
		return errorf(ReasonWeakAlgorithm, "digest algorithm %v", h)
	case h == 0 || !h.Available():
		return errorf(ReasonUnsupportedAlg, "digest algorithm %v", s.DigestAlgorithmOID)
	}
	kind, sigHash, name := lookupSigAlg(s.SignatureAlgorithm.OID)
	var pss *rsa.PSSOptions
	if kind == kindRSAPSS {
		var err error
		if pss, err = parsePSSParams(s.SignatureAlgorithm.Params); err != nil {
			return err
		}
		sigHash = pss.Hash
	}
	// When the signature algorithm names another hash than digestAlgorithm (which the
	// message-digest attribute uses), verifiers disagree on which one hashes the signed
	// attributes: BouncyCastle, hence EU DSS, takes the signature algorithm's
	// (sha256WithRSAEncryption: SHA-256), iText takes digestAlgorithm. Both are tried, in
	// that order; both hashes are held to the same strength rules, so neither choice lets
	// a weaker hash in. Without signed attributes the signature would be over a content
	// digest made with the other hash, which the caller did not compute.
	attrHashes := []crypto.Hash{h}
	switch {
	case weakHash(sigHash):
		return errorf(ReasonWeakAlgorithm, "signature algorithm %s", name)
	case sigHash != 0 && sigHash != h:
		if s.RawSignedAttrs == nil || !sigHash.Available() {
			return errorf(ReasonUnsupportedAlg, "signature algorithm %s over a %v content digest without signed attributes", name, h)
		}
		attrHashes = []crypto.Hash{sigHash, h}
	}
	if err := checkKey(kind, cert.PublicKey); err != nil {
		return err
	}
	for _, id := range [2]*CertID{s.SigningCertificateV2, s.SigningCertificate} {
		if err := id.matches(cert); err != nil {
			return err
		}
	}
	for _, id := range s.moreCertIDs {
		if err := id.matches(cert); err != nil {
			return err
		}
	}
	if len(contentDigest) != h.Size() {
		return errorf(ReasonDigestMismatch, "content digest has %d bytes, %v has %d", len(contentDigest), h, h.Size())
	}
	_, edKey := cert.PublicKey.(ed25519.PublicKey)
	if edKey && (s.RawSignedAttrs == nil || h != crypto.SHA512) {
		return errorf(ReasonUnsupportedAlg, "Ed25519 needs signed attributes and SHA-512 (RFC 8419)")
	}
	if s.RawSignedAttrs == nil {
		if !verifyValue(cert.PublicKey, h, pss, contentDigest, nil, s.Signature) {
			return errorf(ReasonBadSignature, "%s signature does not verify", name)
		}
		return nil
	}
	if !bytes.Equal(s.MessageDigest, contentDigest) {
		return errorf(ReasonDigestMismatch, "message-digest does not match the content")
	}
	for _, ah := range attrHashes {
		hh := ah.New()
		hh.Write(s.RawSignedAttrs)
		if verifyValue(cert.PublicKey, ah, pss, hh.Sum(nil), s.RawSignedAttrs, s.Signature) {
			return nil
		}
	}
	return errorf(ReasonBadSignature, "%s signature does not verify", name)
}

// verifyValue checks a signature value over digest (the h hash of message; message is
// nil when the signature is over a content digest, which Ed25519 cannot verify).
func verifyValue(pub crypto.PublicKey, h crypto.Hash, pss *rsa.PSSOptions, digest, message, sig []byte) bool {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if pss != nil {
			return rsa.VerifyPSS(pub, h, digest, sig, pss) == nil
		}
		return rsa.VerifyPKCS1v15(pub, h, digest, sig) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(pub, digest, sig)
	case ed25519.PublicKey:
		// RFC 8419: PureEdDSA over the signed attributes themselves.
		return message != nil && ed25519.Verify(pub, message, sig)
	}
	return false
}

// checkKey checks that the certificate key fits the signature algorithm and is strong
// enough.
func checkKey(kind keyKind, pub crypto.PublicKey) error {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if kind != kindRSA && kind != kindRSAPSS {
			break
		}
		if pub.N.BitLen() < MinRSABits {
			return errorf(ReasonWeakAlgorithm, "RSA key of %d bits", pub.N.BitLen())
		}
		return nil
	case *ecdsa.PublicKey:
		if kind != kindECDSA {
			break
		}
		if bits := pub.Curve.Params().BitSize; bits < MinECDSABits {
			return errorf(ReasonWeakAlgorithm, "ECDSA key of %d bits", bits)
		}
		return nil
	case ed25519.PublicKey:
		if kind == kindEd25519 {
			return nil
		}
	case nil:
		// crypto/x509 leaves the key of an unknown algorithm (Ed448, for one) unparsed.
		return errorf(ReasonUnsupportedAlg, "the signer certificate's public key algorithm")
	default:
		return errorf(ReasonUnsupportedAlg, "public key type %T", pub)
	}
	switch kind {
	case kindUnknown, kindDSA, kindEd448:
		return errorf(ReasonUnsupportedAlg, "signature algorithm")
	}
	return errorf(ReasonBadSignature, "signature algorithm does not fit the %T key", pub)
}

// matches checks a signing-certificate(-v2) cert ID against the signer certificate. A
// nil CertID matches.
func (id *CertID) matches(cert *x509.Certificate) error {
	if id == nil {
		return nil
	}
	if id.Hash == 0 || !id.Hash.Available() || (id.V2 && weakHash(id.Hash)) {
		return errorf(ReasonUnsupportedAlg, "signing-certificate hash %v", id.HashOID)
	}
	h := id.Hash.New()
	h.Write(cert.Raw)
	if !bytes.Equal(h.Sum(nil), id.CertHash) {
		return errorf(ReasonSigningCertificate, "certificate hash differs")
	}
	if id.Serial != nil && id.Serial.Cmp(cert.SerialNumber) != 0 {
		return errorf(ReasonSigningCertificate, "serial number differs")
	}
	if id.Issuer != nil && !bytes.Equal(id.Issuer, cert.RawIssuer) {
		return errorf(ReasonSigningCertificate, "issuer differs")
	}
	return nil
}

// parsePSSParams reads RSASSA-PSS-params (RFC 4055) into PSSOptions. Parameters crypto/rsa
// cannot verify — a hash it does not know, a mask generation other than MGF1 or MGF1 with
// another hash than the message's, a trailer field other than 1 (RFC 4055 lets verifiers
// refuse it), a salt longer than 1024 bytes — are ErrUnsupportedAlg; an encoding that is
// not RSASSA-PSS-params is ErrMalformed.
func parsePSSParams(params []byte) (*rsa.PSSOptions, error) {
	bad := malformed("bad RSASSA-PSS parameters")
	s := cryptobyte.String(params)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, bad
	}
	o := &rsa.PSSOptions{Hash: crypto.SHA1, SaltLength: 20}
	mgfHash := crypto.SHA1
	var ex cryptobyte.String
	if seq.PeekASN1Tag(tagCtx0) {
		if !seq.ReadASN1(&ex, tagCtx0) {
			return nil, bad
		}
		a, err := readAlgorithm(&ex)
		if err != nil || !ex.Empty() {
			return nil, bad
		}
		if o.Hash = hashForOID(a.OID); o.Hash == 0 || !o.Hash.Available() {
			return nil, errorf(ReasonUnsupportedAlg, "RSASSA-PSS hash %v", a.OID)
		}
	}
	if seq.PeekASN1Tag(tagCtx1) {
		if !seq.ReadASN1(&ex, tagCtx1) {
			return nil, bad
		}
		a, err := readAlgorithm(&ex)
		if err != nil || !ex.Empty() {
			return nil, bad
		}
		if !a.OID.Equal(oidMGF1) {
			return nil, errorf(ReasonUnsupportedAlg, "RSASSA-PSS mask generation %v", a.OID)
		}
		p := cryptobyte.String(a.Params)
		ma, err := readAlgorithm(&p)
		if err != nil || !p.Empty() {
			return nil, bad
		}
		mgfHash = hashForOID(ma.OID)
	}
	if mgfHash != o.Hash {
		return nil, errorf(ReasonUnsupportedAlg, "RSASSA-PSS with MGF1 hash %v and hash %v", mgfHash, o.Hash)
	}
	if seq.PeekASN1Tag(cbasn1.Tag(2).ContextSpecific().Constructed()) {
		if !seq.ReadASN1(&ex, cbasn1.Tag(2).ContextSpecific().Constructed()) ||
			!readSmallInt(&ex, &o.SaltLength) || !ex.Empty() {
			return nil, bad
		}
		if o.SaltLength > 1024 {
			return nil, errorf(ReasonUnsupportedAlg, "RSASSA-PSS salt of %d bytes", o.SaltLength)
		}
	}
	if seq.PeekASN1Tag(cbasn1.Tag(3).ContextSpecific().Constructed()) {
		var t int
		if !seq.ReadASN1(&ex, cbasn1.Tag(3).ContextSpecific().Constructed()) ||
			!readSmallInt(&ex, &t) || !ex.Empty() {
			return nil, bad
		}
		if t != 1 {
			return nil, errorf(ReasonUnsupportedAlg, "RSASSA-PSS trailer field %d", t)
		}
	}
	if !seq.Empty() {
		return nil, bad
	}
	return o, nil
}

// peekedCert is what unparsedSigner needs of a certificate crypto/x509 refused.
type peekedCert struct {
	serial    *big.Int
	issuer    []byte // DER Name
	ski       []byte // subjectKeyIdentifier extension value, nil if absent
	keyAlg    asn1.ObjectIdentifier
	keyParams []byte // DER parameters of the key algorithm, nil if absent
}

var oidExtSubjectKeyID = asn1.ObjectIdentifier{2, 5, 29, 14}

// peekCertificate reads the fields of a certificate that identify it and its key,
// without checking anything else (RFC 5280 4.1).
func peekCertificate(raw []byte) (*peekedCert, bool) {
	s := cryptobyte.String(raw)
	var cert, tbs, issuer, spki, alg cryptobyte.String
	c := &peekedCert{serial: new(big.Int)}
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!tbs.SkipOptionalASN1(tagCtx0) || !tbs.ReadASN1Integer(c.serial) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // signature
		!tbs.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // validity
		!tbs.SkipASN1(cbasn1.SEQUENCE) || // subject
		!tbs.ReadASN1(&spki, cbasn1.SEQUENCE) || !spki.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&c.keyAlg) {
		return nil, false
	}
	c.issuer = issuer
	if !alg.Empty() {
		var p cryptobyte.String
		var tag cbasn1.Tag
		if !alg.ReadAnyASN1Element(&p, &tag) {
			return nil, false
		}
		c.keyParams = p
	}
	if !tbs.SkipOptionalASN1(cbasn1.Tag(1).ContextSpecific()) || !tbs.SkipOptionalASN1(cbasn1.Tag(2).ContextSpecific()) {
		return nil, false
	}
	var exts cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&exts, &present, cbasn1.Tag(3).ContextSpecific().Constructed()) {
		return nil, false
	}
	if present {
		var seq cryptobyte.String
		if !exts.ReadASN1(&seq, cbasn1.SEQUENCE) {
			return nil, false
		}
		for !seq.Empty() {
			var ext, val cryptobyte.String
			var id asn1.ObjectIdentifier
			if !seq.ReadASN1(&ext, cbasn1.SEQUENCE) || !ext.ReadASN1ObjectIdentifier(&id) ||
				!ext.SkipOptionalASN1(cbasn1.BOOLEAN) || !ext.ReadASN1(&val, cbasn1.OCTET_STRING) {
				return nil, false
			}
			var ski cryptobyte.String
			if id.Equal(oidExtSubjectKeyID) && val.ReadASN1(&ski, cbasn1.OCTET_STRING) {
				c.ski = ski
			}
		}
	}
	return c, true
}

// unsupportedKey names a public key algorithm crypto/x509 cannot parse, or returns "" for
// the ones it can (whose certificate failed for another reason).
func unsupportedKey(alg asn1.ObjectIdentifier, params []byte) string {
	switch {
	case alg.Equal(oidECPublicKey):
		var curve asn1.ObjectIdentifier
		p := cryptobyte.String(params)
		if !p.ReadASN1ObjectIdentifier(&curve) {
			return "elliptic-curve key with explicit or no curve parameters"
		}
		for _, c := range supportedCurves {
			if c.Equal(curve) {
				return ""
			}
		}
		for _, c := range unsupportedCurves {
			if c.oid.Equal(curve) {
				return "ECDSA " + c.name
			}
		}
		return "ECDSA curve " + curve.String()
	case alg.Equal(oidRSAEncryption), alg.Equal(oidRSAPSS), alg.Equal(oidEd25519), alg.Equal(oidDSA),
		alg.Equal(asn1.ObjectIdentifier{1, 3, 101, 110}): // X25519
		return ""
	case alg.Equal(oidEd448):
		return "Ed448"
	}
	return "public key algorithm " + alg.String()
}
