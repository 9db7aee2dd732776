package verify

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
)

// sourceFunc adapts a function to chungthuc.RevocationSource.
type sourceFunc func(ctx context.Context, chain []*x509.Certificate) (*chungthuc.RevocationData, error)

func (f sourceFunc) Revocation(ctx context.Context, chain []*x509.Certificate) (*chungthuc.RevocationData, error) {
	return f(ctx, chain)
}

// TestRevocationSource: Options.Revocation is the verifier's only way online. A signature
// whose file carries no revocation data is good when the source answers with a current
// CRL, revoked when the CRL lists the certificate, and TRY_LATER naming the source's
// failure when it cannot answer; without a source the verifier says it is offline.
func TestRevocationSource(t *testing.T) {
	p := getPKI()
	key := issue(&p.root, "Officer Named In OCSP", mustKey(true, 0), false, []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		func(c *x509.Certificate) { c.OCSPServer = []string{"http://ocsp.example.invalid/"} })
	pdf := signPDF(t, basePDF(1, 0, false).classic(), signOpts{key: key})
	crl := func(revoked ...*big.Int) []byte {
		var entries []x509.RevocationListEntry
		for _, s := range revoked {
			entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: testNow.AddDate(0, 0, -10)})
		}
		der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number: big.NewInt(7), ThisUpdate: testNow.Add(-1e9), NextUpdate: testNow.AddDate(0, 0, 7), RevokedCertificateEntries: entries,
		}, p.root.cert, p.root.key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	var asked [][]*x509.Certificate
	source := func(data *chungthuc.RevocationData, err error) Options {
		opt := testOptions()
		opt.Revocation = sourceFunc(func(_ context.Context, chain []*x509.Certificate) (*chungthuc.RevocationData, error) {
			asked = append(asked, chain)
			return data, err
		})
		return opt
	}

	rep := mustVerify(t, pdf, testOptions())
	if r := rep.Signatures[0].Revocation[0]; rep.Valid || r.Status != "unknown" || !strings.Contains(r.Detail, "online checking is off") {
		t.Fatalf("no source: want unknown, offline:\n%s", dump(t, rep))
	}

	rep = mustVerify(t, pdf, source(&chungthuc.RevocationData{CRLs: [][]byte{crl()}}, nil))
	if r := rep.Signatures[0].Revocation[0]; !rep.Valid || r.Status != "good" || r.Source != "revocation service CRL" {
		t.Fatalf("source with a current CRL: want good:\n%s", dump(t, rep))
	}
	if len(asked) == 0 || !asked[0][0].Equal(key.cert) {
		t.Fatalf("the source was not asked about the signer's chain: %d calls", len(asked))
	}

	rep = mustVerify(t, pdf, source(&chungthuc.RevocationData{CRLs: [][]byte{crl(key.cert.SerialNumber)}}, nil))
	if r := rep.Signatures[0].Revocation[0]; rep.Valid || r.Status != "revoked" {
		t.Fatalf("source with a CRL listing the signer: want revoked:\n%s", dump(t, rep))
	}

	rep = mustVerify(t, pdf, source(nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "responder down")))
	s := rep.Signatures[0]
	if rep.Valid || s.SubIndication != SubTryLater || s.Revocation[0].Status != "unknown" || !strings.Contains(s.Revocation[0].Detail, "responder down") {
		t.Fatalf("failing source: want TRY_LATER naming the failure:\n%s", dump(t, rep))
	}
}
