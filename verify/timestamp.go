package verify

import (
	"crypto"
	"crypto/x509"
	"errors"
	"time"

	"github.com/chungthuc/chungthuc/cms"
	"github.com/chungthuc/chungthuc/cms/tsp"
)

// tsTok is a parsed RFC 3161 time-stamp token and what its check found.
type tsTok struct {
	time    time.Time   // genTime
	hash    crypto.Hash // of the message imprint
	imprint []byte      // hashedMessage
	tsa     *x509.Certificate
	certs   []*x509.Certificate // the token's certificates field
	reason  cms.Reason          // classification of a failure from the cms package
	tok     *tsp.Token
}

// parseTimestamp parses der as an RFC 3161 TimeStampToken and verifies it as far as it
// can without trust, with tsp.ParseToken (the code the TSA client runs on the tokens it
// fetches): one signer whose certificate is in the token, the ESS signing-certificate(-v2)
// attribute naming it, a signature that verifies over the TSTInfo, no weak or unsupported
// algorithm, and a TSA certificate with the id-kp-timeStamping extended key usage. The
// TSA's chain and the imprint are the caller's job.
//
// On error, the returned token holds what could be read (time, imprint and TSA
// certificate when found) and reason classifies the failure.
func parseTimestamp(der []byte) (*tsTok, error) {
	t, err := tsp.ParseToken(der)
	tok := &tsTok{tok: t, tsa: t.Certificate, certs: t.Certificates}
	if t.Info != nil {
		tok.time, tok.hash, tok.imprint = t.Info.GenTime, t.Info.Hash, t.Info.Digest
	}
	if err != nil {
		var ce *cms.Error
		if errors.As(err, &ce) {
			tok.reason = ce.Reason
		} else {
			tok.reason = cms.ReasonMalformed
		}
		return tok, err
	}
	return tok, nil
}

// covers reports whether the token's imprint is the digest of data (false when the
// imprint could not be read or its hash is unknown).
func (tok *tsTok) covers(data []byte) bool { return tok.tok.Covers(data) }

// undecidable reports whether a token failure means the token cannot be validated here
// (its TSA certificate is missing, an algorithm is weak or unsupported) rather than that it
// is broken. ETSI EN 319 102-1 makes such a token's own result INDETERMINATE.
func undecidable(r cms.Reason) bool {
	switch r {
	case cms.ReasonSignerNotFound, cms.ReasonWeakAlgorithm, cms.ReasonUnsupportedAlg:
		return true
	}
	return false
}

func hasEKU(c *x509.Certificate, eku x509.ExtKeyUsage) bool {
	for _, u := range c.ExtKeyUsage {
		if u == eku {
			return true
		}
	}
	return false
}
