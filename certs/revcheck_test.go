package certs_test

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/internal/testpki"
)

// fixedSource answers every chain with the same data (or error).
type fixedSource struct {
	data *chungthuc.RevocationData
	err  error
}

func (f fixedSource) Revocation(context.Context, []*x509.Certificate) (*chungthuc.RevocationData, error) {
	return f.data, f.err
}

func TestRevocationCheck(t *testing.T) {
	p, other := testpki.New(), testpki.New()
	leaf := p.Leaf("Trần Văn Nghĩa", "Phường Hòa Bình", "ecdsa")
	bystander := p.Leaf("Lê Thị Ĩ", "Phường Hòa Bình", "ecdsa")
	ctx := context.Background()
	revokedAt := map[string]time.Time{leaf.Chain[0].SerialNumber.String(): time.Now().Add(-time.Hour)}
	for _, c := range []struct {
		name string
		src  chungthuc.RevocationSource
		want string
	}{
		{"no revocation data", fixedSource{data: &chungthuc.RevocationData{}}, ""},
		{"a CRL without it", fixedSource{data: &chungthuc.RevocationData{CRLs: [][]byte{p.CRL(bystander.Chain[0].SerialNumber)}}}, ""},
		{"a CRL listing it", fixedSource{data: &chungthuc.RevocationData{CRLs: [][]byte{p.CRL(leaf.Chain[0].SerialNumber)}}}, chungthuc.EFORBIDDEN},
		{"another issuer's CRL with its serial", fixedSource{data: &chungthuc.RevocationData{CRLs: [][]byte{other.CRL(leaf.Chain[0].SerialNumber)}}}, ""},
		{"OCSP good", p.OCSP(testpki.OCSPOptions{}), ""},
		{"OCSP revoked", p.OCSP(testpki.OCSPOptions{Revoked: revokedAt}), chungthuc.EFORBIDDEN},
		{"OCSP revoked by a delegated responder", p.OCSP(testpki.OCSPOptions{Revoked: revokedAt, Delegated: true}), chungthuc.EFORBIDDEN},
		{"source unavailable", fixedSource{err: chungthuc.Errorf(chungthuc.EUNAVAILABLE, "OCSP responder down")}, chungthuc.EUNAVAILABLE},
	} {
		err := certs.RevocationCheck(c.src)(ctx, leaf.Chain)
		if got := chungthuc.ErrorCode(err); got != c.want {
			t.Errorf("%s: %v, want code %q", c.name, err, c.want)
		}
	}
	if err := certs.RevocationCheck(fixedSource{data: &chungthuc.RevocationData{}})(ctx, nil); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("no chain: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := certs.RevocationCheck(fixedSource{err: canceled.Err()})(canceled, leaf.Chain); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
