package verify

import (
	ipdf "github.com/chungthuc/chungthuc/internal/pdf"

	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"golang.org/x/text/unicode/norm"
)

func mustVerify(t testing.TB, pdf []byte, opt Options) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), opt)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

func dump(t testing.TB, rep *Report) string {
	b, _ := json.MarshalIndent(rep, "", "  ")
	return string(b)
}

func TestCertifiedCopyIsValid(t *testing.T) {
	for _, modern := range []bool{false, true} {
		w := basePDF(2, 3000, false)
		base := w.classic()
		if modern {
			base = w.modern()
		}
		pdf := certifiedCopy(t, base)
		rep := mustVerify(t, pdf, testOptions())
		if !rep.Valid || rep.Indication != TotalPassed || len(rep.Signatures) != 2 {
			t.Fatalf("modern=%v: want valid, got\n%s", modern, dump(t, rep))
		}
		s1, s2 := rep.Signatures[0], rep.Signatures[1]
		if s1.Kind != "certification" || s1.DocMDP == nil || s1.DocMDP.P != 2 || s2.Kind != "approval" {
			t.Errorf("kinds: %s %v %s", s1.Kind, s1.DocMDP, s2.Kind)
		}
		if s1.CoversWholeFile || !s2.CoversWholeFile || s1.ModifiedAfterSigning {
			t.Errorf("coverage: %+v", rep)
		}
		if len(s1.ChangesAfter) == 0 {
			t.Errorf("no changes listed after signature 1")
		}
		for _, c := range s1.ChangesAfter {
			if !c.Allowed || c.Category != "signature" {
				t.Errorf("change after sig 1: %+v", c)
			}
		}
		if s2.Signer == nil || s2.Signer.Subject == "" {
			t.Errorf("no signer")
		}
	}
}

func TestModernIncrementalSignatures(t *testing.T) {
	p := getPKI()
	base := basePDF(1, 0, false).modern()
	one := signPDF(t, base, signOpts{key: p.officer, certify: 2, xrefStream: true})
	two := signPDF(t, one, signOpts{key: p.seal, visible: true, xrefStream: true})
	rep := mustVerify(t, two, testOptions())
	if !rep.Valid {
		t.Fatalf("want valid:\n%s", dump(t, rep))
	}
}

func TestTimestampsAndDSS(t *testing.T) {
	p := getPKI()
	base := basePDF(1, 0, false).classic()
	one := signPDF(t, base, signOpts{key: p.officer, certify: 2, tsa: true})
	two := signPDF(t, one, signOpts{key: p.seal, visible: true, tsa: true})
	rep := mustVerify(t, two, testOptions())
	if !rep.Valid {
		t.Fatalf("want valid:\n%s", dump(t, rep))
	}
	ts := rep.Signatures[1].Timestamp
	if ts == nil || !ts.Valid || !ts.Trusted || !ts.Time.Equal(testNow.Add(time.Minute)) {
		t.Fatalf("timestamp: %+v", ts)
	}

	// PAdES B-LT: a DSS appended after the last signature is allowed.
	r := docView(t, two)
	n := sizeOf(r)
	cat := r.Root()
	nc := cat.Clone()
	nc.Set("DSS", ipdf.Ref{Num: n})
	lt := appendUpdate(t, two, map[int][]byte{
		n:     []byte(fmt.Sprintf("<< /Certs [%d 0 R] >>", n+1)),
		n + 1: streamObj("", p.root.cert.Raw),
		1:     []byte(serialize(nc)),
	}, updateOpts{})
	rep = mustVerify(t, lt, testOptions())
	if !rep.Valid {
		t.Fatalf("B-LT: want valid:\n%s", dump(t, rep))
	}
	for _, c := range rep.Signatures[1].ChangesAfter {
		if c.Category != "dss" || !c.Allowed {
			t.Errorf("change after the seal: %+v", c)
		}
	}

	// PAdES B-LTA: a document timestamp on top.
	lta := signPDF(t, lt, signOpts{key: p.tsa, docTS: true, field: "DocTS"})
	rep = mustVerify(t, lta, testOptions())
	if !rep.Valid || rep.Signatures[2].Kind != "document_timestamp" {
		t.Fatalf("B-LTA: want valid:\n%s", dump(t, rep))
	}
	// A tampered document timestamp imprint.
	bad := signPDF(t, lt, signOpts{key: p.tsa, docTS: true, field: "DocTS", content: func(c []byte) []byte { return c[1:] }})
	if rep := mustVerify(t, bad, testOptions()); rep.Valid || rep.Signatures[2].SubIndication != SubHashFailure {
		t.Fatalf("bad doc timestamp:\n%s", dump(t, rep))
	}
}

func TestWeakAndUntrusted(t *testing.T) {
	p := getPKI()
	base := basePDF(1, 0, false).classic()
	cases := []struct {
		name string
		o    signOpts
		opt  func(*Options)
		ind  string
		sub  string
	}{
		{"sha1_digest", signOpts{hash: crypto.SHA1, noESS: true, subFilter: "adbe.pkcs7.detached"}, nil, Indeterminate, SubCryptoConstraints},
		{"adbe_pkcs7_sha1", signOpts{subFilter: "adbe.pkcs7.sha1"}, nil, Indeterminate, SubCryptoConstraints},
		{"rsa_1024", signOpts{key: p.rsa1024}, nil, Indeterminate, SubCryptoConstraints},
		{"untrusted_root", signOpts{key: p.stranger}, nil, Indeterminate, SubNoCertificateChain},
		{"no_trust_anchors", signOpts{}, func(o *Options) { o.Roots = nil }, Indeterminate, SubNoCertificateChain},
		{"expired", signOpts{}, func(o *Options) { o.Now = func() time.Time { return testNow.AddDate(5, 0, 0) } }, Indeterminate, SubOutOfBoundsNoPOE},
		{"cades_without_ess", signOpts{noESS: true}, nil, TotalFailed, SubFormatFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pdf := signPDF(t, base, c.o)
			opt := testOptions()
			if c.opt != nil {
				c.opt(&opt)
			}
			rep := mustVerify(t, pdf, opt)
			s := rep.Signatures[0]
			if rep.Valid || s.Indication != c.ind || s.SubIndication != c.sub {
				t.Fatalf("want %s/%s:\n%s", c.ind, c.sub, dump(t, rep))
			}
		})
	}
	// Expired now, but a trusted timestamp proves the signature older: passes.
	pdf := signPDF(t, base, signOpts{tsa: true})
	opt := testOptions()
	opt.Now = func() time.Time { return testNow.AddDate(2, 0, 1) }
	// The TSA and root expire too; only the leaf's expiry is rescued by the timestamp.
	rep := mustVerify(t, pdf, opt)
	if rep.Signatures[0].Timestamp == nil {
		t.Fatalf("no timestamp:\n%s", dump(t, rep))
	}
}

func TestRevokedEmbeddedCRL(t *testing.T) {
	p := getPKI()
	revoked := issue(&p.root, "Revoked Officer", mustKey(true, 0), false, []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, nil)
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: testNow.AddDate(0, 0, -1), NextUpdate: testNow.AddDate(0, 0, 7),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: revoked.cert.SerialNumber, RevocationTime: testNow.AddDate(0, -1, 0)}},
	}, p.root.cert, p.root.key)
	if err != nil {
		t.Fatal(err)
	}
	ra, _ := asn1.Marshal(struct {
		CRL []asn1.RawValue `asn1:"explicit,optional,tag:0"`
	}{CRL: []asn1.RawValue{{FullBytes: crl}}})
	base := basePDF(1, 0, false).classic()
	rep := mustVerify(t, signPDF(t, base, signOpts{key: revoked, revocation: ra}), testOptions())
	if s := rep.Signatures[0]; rep.Valid || s.SubIndication != SubRevokedNoPOE || s.Revocation[0].Status != "revoked" {
		t.Fatalf("want revoked:\n%s", dump(t, rep))
	}
	// The same CRL says "good" for the seal.
	rep = mustVerify(t, signPDF(t, base, signOpts{key: p.seal, revocation: ra}), testOptions())
	if s := rep.Signatures[0]; !rep.Valid || s.Revocation[0].Status != "good" {
		t.Fatalf("want good:\n%s", dump(t, rep))
	}
}

func TestRegister(t *testing.T) {
	pdf := certifiedCopy(t, basePDF(1, 0, false).classic())
	at := time.Date(2026, 3, 10, 16, 0, 0, 0, chungthuc.Vietnam)
	revokedAt := at.AddDate(0, 1, 0)
	cases := []struct {
		name   string
		lookup func(context.Context, string) (*RegisterMatch, error)
		status string
		valid  bool
		msg    string
	}{
		{"certified", func(_ context.Context, h string) (*RegisterMatch, error) {
			return &RegisterMatch{Unit: "UBND phường Hòa Bình", Number: 42, Book: "01/2026-SCTĐT/BS", CertifiedAt: at, Status: chungthuc.StatusIssued}, nil
		}, "certified", true, "Certified by UBND phường Hòa Bình on 10/03/2026, number 42."},
		{"revoked", func(_ context.Context, h string) (*RegisterMatch, error) {
			return &RegisterMatch{Unit: "UBND phường Hòa Bình", Number: 42, CertifiedAt: at, Status: chungthuc.StatusRevoked, RevokeReason: "cấp nhầm", RevokedAt: &revokedAt}, nil
		}, "revoked", false, "REVOKED on 10/04/2026 (reason: cấp nhầm)"},
		{"unknown", func(_ context.Context, h string) (*RegisterMatch, error) {
			return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no such hash")
		}, "not_registered", false, "not in the certification register"},
		{"down", func(_ context.Context, h string) (*RegisterMatch, error) {
			return nil, errors.New("connection refused")
		}, "unavailable", false, "could not be consulted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opt := testOptions()
			var got string
			opt.Lookup = func(ctx context.Context, h string) (*RegisterMatch, error) { got = h; return c.lookup(ctx, h) }
			rep := mustVerify(t, pdf, opt)
			sum := sha256.Sum256(pdf)
			if got != hex.EncodeToString(sum[:]) {
				t.Errorf("looked up %q", got)
			}
			if rep.Register == nil || rep.Register.Status != c.status || rep.Valid != c.valid || !strings.Contains(rep.SummaryEN, c.msg) {
				t.Fatalf("want %s valid=%v %q:\n%s", c.status, c.valid, c.msg, dump(t, rep))
			}
			if !norm.NFC.IsNormalString(rep.SummaryVI) {
				t.Errorf("summary not NFC")
			}
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Verify(ctx, bytes.NewReader([]byte("hello")), 5, Options{}); chungthuc.ErrorCode(err) != chungthuc.EUNSUPPORTED {
		t.Errorf("not a PDF: %v", err)
	}
	big := make([]byte, 2000)
	if _, err := Verify(ctx, bytes.NewReader(big), 2000, Options{MaxSize: 1000}); chungthuc.ErrorCode(err) != chungthuc.ETOOLARGE {
		t.Errorf("too large: %v", err)
	}
	// A PDF with no signature.
	rep := mustVerify(t, basePDF(1, 0, false).classic(), testOptions())
	if rep.Valid || rep.Indication != Indeterminate || rep.SubIndication != SubNoSignature {
		t.Errorf("unsigned:\n%s", dump(t, rep))
	}
	// A PDF whose structure is broken.
	rep = mustVerify(t, []byte("%PDF-1.7\n1 0 obj << >> endobj\nstartxref\n999\n%%EOF\n"), testOptions())
	if rep.Valid || rep.Indication != TotalFailed {
		t.Errorf("broken:\n%s", dump(t, rep))
	}
}
