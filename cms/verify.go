package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// MinRSABits is the smallest RSA modulus Verify accepts.
const MinRSABits = 2048

// Signer returns the one SignerInfo of a PDF signature. Errors: ErrUnsupported when sd
// has no signer or more than one.
func (sd *SignedData) Signer() (*SignerInfo, error) {
	if len(sd.Signers) != 1 {
		return nil, errorf(ReasonUnsupported, "%d signers (a PDF signature has exactly one)", len(sd.Signers))
	}
	return &sd.Signers[0], nil
}

// Certificate returns the certificate of sd.Certificates that the signer identifier
// names. Errors: ErrSignerNotFound when none does, ErrMalformed when two different
// certificates do (an attacker could otherwise choose which one a verifier trusts).
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
		return nil, errorf(ReasonSignerNotFound, "no certificate matches the signer identifier")
	}
	return found, nil
}

// Verify checks this SignerInfo cryptographically against contentDigest, the digest of
// the signed content (the PDF ByteRange) computed with s.DigestAlgorithm; sd is the
// SignedData s was parsed from. It does not
// build or validate a certificate chain, check revocation or time: that is the caller's
// job, with the certificate returned.
//
// In order, it: finds the signer certificate in sd.Certificates by the signer identifier;
// refuses weak or unknown algorithms; checks the signing-certificate-v2 (and v1)
// attribute, when present, against that certificate; compares message-digest with
// contentDigest; verifies the signature over the DER signed attributes (or, when there are
// none, over contentDigest directly) with the certificate's public key.
//
// The certificate is returned whenever it was found, even with an error, so a report can
// name the signer. Errors: ErrSignerNotFound, ErrMalformed (ambiguous signer, a
// signature algorithm whose hash differs from the digest algorithm), ErrWeakAlgorithm
// (MD5 or SHA-1, RSA below MinRSABits), ErrUnsupported (unknown or unsupported
// algorithm), ErrSigningCertificate, ErrDigestMismatch, ErrBadSignature.
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
		return errorf(ReasonUnsupported, "digest algorithm %v", s.DigestAlgorithmOID)
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
	switch {
	case weakHash(sigHash):
		return errorf(ReasonWeakAlgorithm, "signature algorithm %s", name)
	case sigHash != 0 && sigHash != h:
		return malformed("signature algorithm %s does not use the digest algorithm %v", name, h)
	}
	if err := checkKey(kind, cert.PublicKey); err != nil {
		return err
	}
	for _, id := range []*CertID{s.SigningCertificateV2, s.SigningCertificate} {
		if err := id.matches(cert); err != nil {
			return err
		}
	}
	if len(contentDigest) != h.Size() {
		return errorf(ReasonDigestMismatch, "content digest has %d bytes, %v has %d", len(contentDigest), h, h.Size())
	}
	var digest, message []byte
	if s.RawSignedAttrs != nil {
		if !bytes.Equal(s.MessageDigest, contentDigest) {
			return errorf(ReasonDigestMismatch, "message-digest does not match the content")
		}
		hh := h.New()
		hh.Write(s.RawSignedAttrs)
		digest, message = hh.Sum(nil), s.RawSignedAttrs
	} else {
		digest = contentDigest
	}
	var ok bool
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if pss != nil {
			ok = rsa.VerifyPSS(pub, h, digest, s.Signature, pss) == nil
		} else {
			ok = rsa.VerifyPKCS1v15(pub, h, digest, s.Signature) == nil
		}
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(pub, digest, s.Signature)
	case ed25519.PublicKey:
		// RFC 8419: PureEdDSA over the signed attributes themselves, with SHA-512.
		if message == nil || h != crypto.SHA512 {
			return errorf(ReasonUnsupported, "Ed25519 needs signed attributes and SHA-512")
		}
		ok = ed25519.Verify(pub, message, s.Signature)
	}
	if !ok {
		return errorf(ReasonBadSignature, "%s signature does not verify", name)
	}
	return nil
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
		if kind == kindECDSA {
			return nil
		}
	case ed25519.PublicKey:
		if kind == kindEd25519 {
			return nil
		}
	default:
		return errorf(ReasonUnsupported, "public key type %T", pub)
	}
	if kind == kindUnknown || kind == kindDSA {
		return errorf(ReasonUnsupported, "signature algorithm")
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
		return errorf(ReasonUnsupported, "signing-certificate hash %v", id.HashOID)
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

// parsePSSParams reads RSASSA-PSS-params (RFC 4055) into PSSOptions. The mask generation
// must be MGF1 with the same hash, and the trailer field 1.
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
		if o.Hash = hashForOID(a.OID); o.Hash == 0 {
			return nil, errorf(ReasonUnsupported, "RSASSA-PSS hash %v", a.OID)
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
			return nil, errorf(ReasonUnsupported, "RSASSA-PSS mask generation %v", a.OID)
		}
		p := cryptobyte.String(a.Params)
		ma, err := readAlgorithm(&p)
		if err != nil || !p.Empty() {
			return nil, bad
		}
		mgfHash = hashForOID(ma.OID)
	}
	if mgfHash != o.Hash {
		return nil, errorf(ReasonUnsupported, "RSASSA-PSS with MGF1 hash %v and hash %v", mgfHash, o.Hash)
	}
	if seq.PeekASN1Tag(cbasn1.Tag(2).ContextSpecific().Constructed()) {
		if !seq.ReadASN1(&ex, cbasn1.Tag(2).ContextSpecific().Constructed()) ||
			!readSmallInt(&ex, &o.SaltLength) || !ex.Empty() || o.SaltLength > 1024 {
			return nil, bad
		}
	}
	if seq.PeekASN1Tag(cbasn1.Tag(3).ContextSpecific().Constructed()) {
		var t int
		if !seq.ReadASN1(&ex, cbasn1.Tag(3).ContextSpecific().Constructed()) ||
			!readSmallInt(&ex, &t) || !ex.Empty() || t != 1 {
			return nil, bad
		}
	}
	if !seq.Empty() {
		return nil, bad
	}
	return o, nil
}
