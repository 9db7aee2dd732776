package certs

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs/devpki"
)

type countingSource struct {
	calls int
	err   error
}

func (s *countingSource) Revocation(context.Context, []*x509.Certificate) (*chungthuc.RevocationData, error) {
	s.calls++
	return &chungthuc.RevocationData{CRLs: [][]byte{{1}}}, s.err
}

// TestRevocationRouter: certificates the local authority issued are answered in-process,
// never fetched; others go online; an untrusted chain's error says where to add its root.
func TestRevocationRouter(t *testing.T) {
	dev := openTestPKI(t, devpki.Options{BaseURL: "http://127.0.0.1:1"})
	other := openTestPKI(t, devpki.Options{})
	mine, err := dev.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := other.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	online := &countingSource{}
	r := &RevocationRouter{Local: dev, Online: online}
	data, err := r.Revocation(context.Background(), mine.Chain)
	if err != nil || len(data.OCSP) == 0 || online.calls != 0 {
		t.Fatalf("local chain: %v, %d OCSP, %d online calls", err, len(data.OCSP), online.calls)
	}
	if _, err := r.Revocation(context.Background(), theirs.Chain); err != nil || online.calls != 1 {
		t.Fatalf("foreign chain: %v, %d online calls", err, online.calls)
	}
	if d, err := r.Revocation(context.Background(), nil); err != nil || len(d.OCSP)+len(d.CRLs) != 0 || online.calls != 1 {
		t.Fatalf("empty chain: %v", err)
	}
	online.err = chungthuc.Errorf(chungthuc.EINVALID, "revocation: the chain does not reach a trust anchor")
	_, err = (&RevocationRouter{Online: online}).Revocation(context.Background(), mine.Chain)
	if chungthuc.ErrorCode(err) != chungthuc.EINVALID || !strings.Contains(err.Error(), "CHUNGTHUC_TRUST_ANCHORS") {
		t.Fatalf("untrusted chain without a local authority: %v", err)
	}
}
