package verify

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/chungthuc/chungthuc/cms"
)

// id-ct-TSTInfo (RFC 3161): the content type of a time-stamp token.
var oidTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}

// tsTok is a parsed and cryptographically verified RFC 3161 time-stamp token.
type tsTok struct {
	time    time.Time   // genTime
	hash    crypto.Hash // of the message imprint
	imprint []byte      // hashedMessage
	tsa     *x509.Certificate
	certs   []*x509.Certificate // the token's certificates field
	reason  cms.Reason          // classification of a failure from the cms package
}

// parseTimestamp parses der as an RFC 3161 TimeStampToken and verifies it as far as it
// can without trust: a CMS SignedData (cms.Parse) whose content is a TSTInfo, signed by
// one signer whose certificate is in the token, with the ESS signing-certificate(-v2)
// attribute naming it (RFC 3161 2.4.1, RFC 5816), a signature that verifies over the
// TSTInfo (cms.SignerInfo.Verify), no weak algorithm, and a TSA certificate with the
// id-kp-timeStamping extended key usage. The TSA's chain and the imprint are the caller's
// job.
//
// On error, the returned token holds what could be read (the TSA certificate when
// found) and reason classifies the failure.
func parseTimestamp(der []byte) (*tsTok, error) {
	tok := &tsTok{}
	fail := func(err error) (*tsTok, error) {
		var ce *cms.Error
		if errors.As(err, &ce) {
			tok.reason = ce.Reason
		} else {
			tok.reason = cms.ReasonMalformed
		}
		return tok, err
	}
	sd, err := cms.Parse(der)
	if err != nil {
		return fail(err)
	}
	tok.certs = sd.Certificates
	if !sd.ContentType.Equal(oidTSTInfo) || !sd.HasContent {
		return fail(&cms.Error{Reason: cms.ReasonMalformed, Detail: "not a time-stamp token (no TSTInfo content)"})
	}
	if err := tok.parseTSTInfo(sd.Content); err != nil {
		return fail(err)
	}
	si, err := sd.Signer()
	if err != nil {
		return fail(err)
	}
	if c, err := si.Certificate(sd); err == nil {
		tok.tsa = c
	}
	if si.RawSignedAttrs == nil || (si.SigningCertificateV2 == nil && si.SigningCertificate == nil) {
		return fail(&cms.Error{Reason: cms.ReasonSigningCertificate, Detail: "the token has no signing-certificate attribute"})
	}
	h := si.DigestAlgorithm
	var contentDigest []byte
	if h != 0 && h.Available() {
		hh := h.New()
		hh.Write(sd.Content)
		contentDigest = hh.Sum(nil)
	}
	cert, err := si.Verify(sd, contentDigest)
	if cert != nil {
		tok.tsa = cert
	}
	if err != nil {
		return fail(err)
	}
	if w := weakKey(cert); w != "" {
		return fail(&cms.Error{Reason: cms.ReasonWeakAlgorithm, Detail: "TSA " + w})
	}
	if tok.hash == crypto.SHA1 || tok.hash == crypto.MD5 {
		return fail(&cms.Error{Reason: cms.ReasonWeakAlgorithm, Detail: "the message imprint uses " + tok.hash.String()})
	}
	if !hasEKU(cert, x509.ExtKeyUsageTimeStamping) {
		return fail(&cms.Error{Reason: cms.ReasonSigningCertificate, Detail: "the TSA certificate lacks the timeStamping extended key usage"})
	}
	return tok, nil
}

// parseTSTInfo reads the leading fields of a TSTInfo: version 1, policy, messageImprint,
// serialNumber, genTime. The optional fields after genTime are not interpreted.
func (tok *tsTok) parseTSTInfo(b []byte) error {
	bad := &cms.Error{Reason: cms.ReasonMalformed, Detail: "bad TSTInfo"}
	s := cryptobyte.String(b)
	var info, imprint, alg cryptobyte.String
	var version int64
	var policy, hashOID asn1.ObjectIdentifier
	serial := new(big.Int)
	if !s.ReadASN1(&info, cbasn1.SEQUENCE) || !s.Empty() ||
		!info.ReadASN1Integer(&version) || version != 1 ||
		!info.ReadASN1ObjectIdentifier(&policy) ||
		!info.ReadASN1(&imprint, cbasn1.SEQUENCE) ||
		!imprint.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&hashOID) ||
		!imprint.ReadASN1Bytes(&tok.imprint, cbasn1.OCTET_STRING) || !imprint.Empty() ||
		!info.ReadASN1Integer(serial) {
		return bad
	}
	var gt cryptobyte.String
	if !info.ReadASN1Element(&gt, cbasn1.GeneralizedTime) {
		return bad
	}
	// encoding/asn1 accepts the fractional seconds RFC 3161 allows.
	if rest, err := asn1.Unmarshal(gt, &tok.time); err != nil || len(rest) != 0 {
		return bad
	}
	tok.time = tok.time.UTC()
	if tok.hash = hashFor(hashOID); tok.hash == 0 || !tok.hash.Available() {
		return &cms.Error{Reason: cms.ReasonUnsupported, Detail: fmt.Sprintf("message imprint hash %v", hashOID)}
	}
	if len(tok.imprint) != tok.hash.Size() {
		return bad
	}
	return nil
}

// covers reports whether the token's imprint is the digest of data.
func (tok *tsTok) covers(data []byte) bool {
	hh := tok.hash.New()
	hh.Write(data)
	return bytes.Equal(hh.Sum(nil), tok.imprint)
}

func hasEKU(c *x509.Certificate, eku x509.ExtKeyUsage) bool {
	for _, u := range c.ExtKeyUsage {
		if u == eku {
			return true
		}
	}
	return false
}
