package renew

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer"
	"github.com/chungthuc/chungthuc/verify"
)

// The engines renewal runs on, adapted to its interfaces.

// Verifier is the Inspector of the verification engine: it verifies the copy against Roots
// (the service's trust pool) at the time asked and reads the newest document time-stamp.
type Verifier struct {
	Roots *x509.CertPool
}

var _ Inspector = Verifier{}

// DocumentTimestampExpiry implements Inspector: the newest document time-stamp's expiry is
// the earliest NotAfter of its TSA certificate and the chain that was built for it. Errors:
// those of verify.VerifyBytes (an unreadable file).
func (v Verifier) DocumentTimestampExpiry(ctx context.Context, pdf []byte, at time.Time) (time.Time, bool, error) {
	rep, err := verify.VerifyBytes(ctx, pdf, verify.Options{Roots: v.Roots, Now: func() time.Time { return at }})
	if err != nil {
		return time.Time{}, false, err
	}
	exp, has := newestDocTimestampExpiry(rep)
	return exp, has, nil
}

// newestDocTimestampExpiry returns when the newest document time-stamp of the report
// stops being verifiable: the earliest expiry in its TSA's chain.
func newestDocTimestampExpiry(rep *verify.Report) (time.Time, bool) {
	for i := len(rep.Signatures) - 1; i >= 0; i-- {
		s := rep.Signatures[i]
		if s.Kind != "document_timestamp" {
			continue
		}
		var exp time.Time
		if s.Timestamp != nil && s.Timestamp.TSA != nil {
			exp = s.Timestamp.TSA.NotAfter
		} else if s.Signer != nil {
			exp = s.Signer.NotAfter
		}
		for _, c := range s.Chain {
			if exp.IsZero() || (!c.NotAfter.IsZero() && c.NotAfter.Before(exp)) {
				exp = c.NotAfter
			}
		}
		return exp, !exp.IsZero()
	}
	return time.Time{}, false
}

// Signer is the Stamper of the signing engine: signer.AddDocumentTimestamp with the
// service's time-stamping authority and revocation source.
type Signer struct {
	TSA        chungthuc.Timestamper
	Revocation chungthuc.RevocationSource
}

var _ Stamper = Signer{}

// AddDocumentTimestamp implements Stamper. Errors: those of signer.AddDocumentTimestamp.
func (s Signer) AddDocumentTimestamp(ctx context.Context, pdf []byte) ([]byte, error) {
	return signer.AddDocumentTimestamp(ctx, pdf, s.TSA, s.Revocation)
}
