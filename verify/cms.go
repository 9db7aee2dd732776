package verify

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"github.com/chungthuc/chungthuc/cms"
)

// This file is the one place where a PDF signature's CMS is parsed and verified, with the
// project's cms package. The signed bytes are never concatenated: the digest is computed
// over the two byte ranges in place and handed to cms.SignerInfo.Verify.

var (
	oidSigningCertV2  = cms.OIDAttrSigningCertV2
	oidTimestampToken = cms.OIDAttrTimeStampToken
	oidAdbeRevocation = cms.OIDAttrAdobeRevocation
	// id-ri-ocsp-response (RFC 5940): an OCSP response in the CMS crls field.
	oidRIOCSPResponse = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 16, 2}
)

// cmsOutcome is what the CMS step tells the engine about one signature.
type cmsOutcome struct {
	signer      *x509.Certificate
	certs       []*x509.Certificate
	hash        crypto.Hash
	sigAlg      string
	signingTime time.Time
	sigValue    []byte
	tsToken     []byte
	crls        [][]byte // DER CRLs from the CMS and the Adobe revocation attribute
	ocsps       [][]byte // DER OCSP responses from the CMS and the Adobe revocation attribute
	// signingCert: 0 no ESS signing-certificate attribute, 1 present and matching the
	// signer, -1 present and not matching, 2 present but not checked (an earlier failure).
	signingCert int
	weak        []string // weak algorithms found
	// notes are facts worth a warning that do not change the outcome (BER encoding,
	// repeated signed attributes, no signed attributes).
	notes []string
	err   error
	// reason classifies err (a cms.Reason); "" when the signature verified.
	reason cms.Reason
}

// hashFor returns the hash a digest algorithm OID names, 0 if unknown.
func hashFor(oid asn1.ObjectIdentifier) crypto.Hash { return cms.HashForOID(oid) }

// checkCMS parses a detached (or, for adbe.pkcs7.sha1, enveloping) CMS signature, DER or
// BER, and verifies it over the signed bytes, whose digest with a given hash digest
// computes. Signed attributes are required for ETSI.CAdES.detached only; without them the
// signature value is over the content digest (adbe.pkcs7.detached: the digest of the byte
// ranges; adbe.pkcs7.sha1: the digest of the encapsulated SHA-1 of the byte ranges).
//
// Failures are classified by the cms package's reasons; applyCMS turns them into
// sub-indications (HASH_FAILURE, SIG_CRYPTO_FAILURE, CRYPTO_CONSTRAINTS_FAILURE_NO_POE for
// weak and for unsupported algorithms, NO_SIGNING_CERTIFICATE_FOUND, FORMAT_FAILURE).
func checkCMS(der []byte, subFilter string, digest func(crypto.Hash) []byte) *cmsOutcome {
	out := &cmsOutcome{}
	fail := func(err error) *cmsOutcome {
		out.err = err
		var ce *cms.Error
		if errors.As(err, &ce) {
			out.reason = ce.Reason
		} else {
			out.reason = cms.ReasonMalformed
		}
		return out
	}
	sd, err := cms.Parse(der)
	if err != nil {
		return fail(err)
	}
	out.certs = sd.Certificates
	for _, c := range sd.CRLs {
		out.addRevocationChoice(c)
	}
	si, err := sd.Signer()
	if err != nil {
		return fail(err)
	}
	out.sigValue = si.Signature
	out.hash = si.DigestAlgorithm
	out.tsToken = si.TimestampToken
	if si.SigningTime != nil {
		out.signingTime = *si.SigningTime
	}
	if si.SigningCertificateV2 != nil || si.SigningCertificate != nil {
		out.signingCert = 2
	}
	for _, a := range si.SignedAttrs {
		if a.Type.Equal(oidAdbeRevocation) && len(a.Values) == 1 {
			out.addAdobeRevocation(a.Values[0])
		}
	}
	if sd.BER {
		out.notes = append(out.notes, "the CMS is BER-encoded (normalised to DER lengths to be read; the signed attributes were checked as signed)")
	}
	for _, t := range si.RepeatedAttrs {
		out.notes = append(out.notes, fmt.Sprintf("signed attribute %v appears more than once (each instance checked)", t))
	}
	if si.RawSignedAttrs == nil {
		// RFC 5652 5.4: without signed attributes the signature is over the content digest
		// itself. Adobe's adbe.pkcs7.detached and adbe.pkcs7.sha1 allow it (pyHanko, pdfsig
		// and pdfsign accept it); PAdES does not (ETSI EN 319 142-1 6.3 requires
		// content-type, message-digest and signing-certificate-v2).
		if subFilter == "ETSI.CAdES.detached" {
			return fail(&cms.Error{Reason: cms.ReasonMalformed, Detail: "an ETSI.CAdES.detached signature without signed attributes"})
		}
		out.notes = append(out.notes, "no signed attributes: the signature is over the content digest itself")
	}
	if c, err := si.Certificate(sd); err == nil {
		out.signer = c
		out.sigAlg = sigAlgName(c, out.hash)
	}

	var contentDigest []byte
	if subFilter == "adbe.pkcs7.sha1" {
		// The signed content is the SHA-1 of the byte range, encapsulated.
		if !sd.HasContent || !bytes.Equal(sd.Content, digest(crypto.SHA1)) {
			return fail(&cms.Error{Reason: cms.ReasonDigestMismatch, Detail: "the encapsulated SHA-1 does not match the signed bytes"})
		}
		out.weak = append(out.weak, "adbe.pkcs7.sha1 (SHA-1 document digest)")
		if out.hash != 0 && out.hash.Available() {
			hh := out.hash.New()
			hh.Write(sd.Content)
			contentDigest = hh.Sum(nil)
		}
	} else {
		if sd.HasContent {
			return fail(&cms.Error{Reason: cms.ReasonMalformed, Detail: "a detached signature carries encapsulated content"})
		}
		if !sd.ContentType.Equal(cms.OIDData) {
			return fail(&cms.Error{Reason: cms.ReasonMalformed, Detail: fmt.Sprintf("the signed content type is %v, not id-data", sd.ContentType)})
		}
		if out.hash != 0 && out.hash.Available() {
			contentDigest = digest(out.hash)
		}
	}
	cert, err := si.Verify(sd, contentDigest)
	if cert != nil {
		out.signer = cert
	}
	if err != nil {
		if errors.Is(err, cms.ErrSigningCertificate) {
			out.signingCert = -1
		}
		return fail(err)
	}
	if out.signingCert == 2 {
		out.signingCert = 1
	}
	if w := weakKey(out.signer); w != "" {
		out.weak = append(out.weak, w)
	}
	return out
}

// addRevocationChoice adds one RevocationInfoChoice of the CMS crls field: a CRL, or an
// OCSP response in OtherRevocationInfoFormat (RFC 5940).
func (o *cmsOutcome) addRevocationChoice(b []byte) {
	if len(b) == 0 {
		return
	}
	if b[0] == 0x30 {
		o.crls = append(o.crls, b)
		return
	}
	var other struct {
		Format asn1.ObjectIdentifier
		Info   asn1.RawValue
	}
	if _, err := asn1.UnmarshalWithParams(b, &other, "tag:1"); err == nil && other.Format.Equal(oidRIOCSPResponse) {
		o.ocsps = append(o.ocsps, other.Info.FullBytes)
	}
}

// addAdobeRevocation adds the CRLs and OCSP responses of Adobe's signed
// revocationInfoArchival attribute (PDF 2.0, 12.8.3.3.2).
func (o *cmsOutcome) addAdobeRevocation(v []byte) {
	var ra struct {
		CRL   []asn1.RawValue `asn1:"explicit,optional,tag:0"`
		OCSP  []asn1.RawValue `asn1:"explicit,optional,tag:1"`
		Other asn1.RawValue   `asn1:"explicit,optional,tag:2"`
	}
	if _, err := asn1.Unmarshal(v, &ra); err != nil {
		return
	}
	for _, c := range ra.CRL {
		o.crls = append(o.crls, c.FullBytes)
	}
	for _, r := range ra.OCSP {
		o.ocsps = append(o.ocsps, r.FullBytes)
	}
}

func keyInfo(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	}
	return c.PublicKeyAlgorithm.String(), 0
}

// weakKey names a key too weak to accept (RSA < 2048, ECDSA < 256), or "".
func weakKey(c *x509.Certificate) string {
	alg, bits := keyInfo(c)
	switch {
	case alg == "RSA" && bits < 2048:
		return fmt.Sprintf("RSA key of %d bits", bits)
	case alg == "ECDSA" && bits < 256:
		return fmt.Sprintf("ECDSA key of %d bits", bits)
	}
	return ""
}

func sigAlgName(c *x509.Certificate, h crypto.Hash) string {
	alg, _ := keyInfo(c)
	return alg + "-" + h.String()
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
