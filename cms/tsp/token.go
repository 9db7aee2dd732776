package tsp

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"

	"github.com/chungthuc/chungthuc/cms"
)

// Token is a parsed time-stamp token.
type Token struct {
	// Info is the signed TSTInfo (nil when it could not be read).
	Info *Info
	// SignedData is the parsed CMS (nil when it could not be parsed).
	SignedData *cms.SignedData
	// Certificate is the TSA certificate the signer identifier names, nil when the token
	// does not carry it.
	Certificate *x509.Certificate
	// Certificates are all the certificates the token carries.
	Certificates []*x509.Certificate
}

// ParseToken parses a TimeStampToken (a ContentInfo holding a SignedData of id-ct-TSTInfo)
// and verifies what can be verified without trust anchors: one signer whose certificate
// is in the token; signed attributes with a signing-certificate(-v2) attribute naming it
// (RFC 3161 2.4.1, RFC 5816); a signature that verifies over the TSTInfo
// (cms.SignerInfo.Verify); the id-kp-timeStamping extended key usage on the certificate;
// an imprint hash cms knows and that is not weak. The TSA's chain, its revocation and
// what the imprint covers are the caller's checks (Covers).
//
// The token comes back even with an error, holding what could be read (Info, the TSA
// certificate), so a caller can still name the TSA or compare the imprint.
//
// Errors (all *cms.Error): ErrMalformed (not a token, bad TSTInfo, not one signer);
// ErrTooLarge; ErrSignerNotFound (the token does not carry the TSA certificate);
// ErrSigningCertificate (no signing-certificate attribute, or one that names another
// certificate; a certificate without the timeStamping usage); ErrWeakAlgorithm (SHA-1 or
// MD5 in the imprint or the signature, a weak key); ErrUnsupportedAlg (an algorithm cms
// cannot verify, an unknown imprint hash); ErrDigestMismatch and ErrBadSignature (the
// token was altered).
func ParseToken(der []byte) (*Token, error) {
	tok := &Token{}
	sd, err := cms.Parse(der)
	if err != nil {
		return tok, err
	}
	tok.SignedData, tok.Certificates = sd, sd.Certificates
	if !sd.ContentType.Equal(OIDTSTInfo) || !sd.HasContent {
		return tok, &cms.Error{Reason: cms.ReasonMalformed, Detail: "not a time-stamp token (no TSTInfo content)"}
	}
	if tok.Info, err = ParseInfo(sd.Content); err != nil {
		return tok, err
	}
	si, err := sd.Signer()
	if err != nil {
		return tok, err
	}
	if c, err := si.Certificate(sd); err == nil {
		tok.Certificate = c
	}
	if si.RawSignedAttrs == nil || (si.SigningCertificateV2 == nil && si.SigningCertificate == nil) {
		return tok, &cms.Error{Reason: cms.ReasonSigningCertificate, Detail: "the token has no signing-certificate attribute"}
	}
	var contentDigest []byte
	if h := si.DigestAlgorithm; h != 0 && h.Available() {
		hh := h.New()
		hh.Write(sd.Content)
		contentDigest = hh.Sum(nil)
	}
	cert, err := si.Verify(sd, contentDigest)
	if cert != nil {
		tok.Certificate = cert
	}
	if err != nil {
		return tok, err
	}
	if !hasTimeStampingEKU(cert) {
		return tok, &cms.Error{Reason: cms.ReasonSigningCertificate, Detail: "the TSA certificate lacks the timeStamping extended key usage"}
	}
	switch h := tok.Info.Hash; {
	case h == 0 || !h.Available():
		return tok, &cms.Error{Reason: cms.ReasonUnsupportedAlg, Detail: fmt.Sprintf("message imprint hash %v", tok.Info.HashOID)}
	case h == crypto.SHA1 || h == crypto.MD5:
		return tok, &cms.Error{Reason: cms.ReasonWeakAlgorithm, Detail: "the message imprint uses " + h.String()}
	}
	return tok, nil
}

// Covers reports whether the token's imprint is the digest of data. It is false when the
// imprint's hash is unknown.
func (t *Token) Covers(data []byte) bool {
	if t.Info == nil || t.Info.Hash == 0 || !t.Info.Hash.Available() {
		return false
	}
	h := t.Info.Hash.New()
	h.Write(data)
	return bytes.Equal(h.Sum(nil), t.Info.Digest)
}

// Sign returns a TimeStampToken for info: its DER TSTInfo encapsulated in a CMS SignedData
// (cms.SignEncapsulated with id-ct-TSTInfo) signed by opt, with the certificates of
// opt.Chain when withCerts (the request's certReq). opt.Chain[0] should carry the
// critical timeStamping extended key usage (RFC 3161 2.3); ParseToken refuses tokens from
// a certificate without it.
//
// Errors: those of Info.Marshal and cms.SignEncapsulated.
func Sign(info *Info, opt cms.SignOptions, withCerts bool) ([]byte, error) {
	content, err := info.Marshal()
	if err != nil {
		return nil, err
	}
	return cms.SignEncapsulated(OIDTSTInfo, content, opt, withCerts)
}

func hasTimeStampingEKU(c *x509.Certificate) bool {
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageTimeStamping {
			return true
		}
	}
	return false
}
