package certs

import (
	"context"
	"crypto/x509"

	"github.com/chungthuc/chungthuc"
)

// LocalAuthority is a certification authority that answers in-process for the
// certificates it issued itself (the development PKI).
type LocalAuthority interface {
	// Issued reports whether c was issued by this authority.
	Issued(c *x509.Certificate) bool
	chungthuc.RevocationSource
}

// RevocationRouter is the service's one revocation source: chains whose leaf Local issued
// are answered by Local in-process (its OCSP address is this service, which need not be
// reachable from here); all others are fetched by Online (a *RevocationFetcher).
type RevocationRouter struct {
	Local  LocalAuthority // nil: none
	Online chungthuc.RevocationSource
}

var _ chungthuc.RevocationSource = (*RevocationRouter)(nil)

// Revocation implements chungthuc.RevocationSource. An empty chain yields empty data.
// Errors: those of the source used; a chain that reaches no trust anchor is EINVALID with a
// hint at the trust anchors (CHUNGTHUC_TRUST_ANCHORS).
func (r *RevocationRouter) Revocation(ctx context.Context, chain []*x509.Certificate) (*chungthuc.RevocationData, error) {
	if len(chain) == 0 {
		return &chungthuc.RevocationData{}, nil
	}
	if r.Local != nil && r.Local.Issued(chain[0]) {
		return r.Local.Revocation(ctx, chain)
	}
	data, err := r.Online.Revocation(ctx, chain)
	if chungthuc.ErrorCode(err) == chungthuc.EINVALID {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s (add its root to the trust anchors, CHUNGTHUC_TRUST_ANCHORS)", chungthuc.ErrorMessage(err))
	}
	return data, err
}
