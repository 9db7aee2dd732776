package verify

import (
	ipdf "github.com/chungthuc/chungthuc/internal/pdf"

	"context"
	"crypto/x509"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/internal/testpki"
	"github.com/chungthuc/chungthuc/internal/testscan"
	"github.com/chungthuc/chungthuc/signer"
)

// ltvWorld is a PKI and the people of a ward, for copies made by the real signer. Every
// time is relative to t0, the moment the world is made: the signer's TSA and revocation
// sources run on the real clock (or a clock given here), and validation times are set
// through Options.Now only.
type ltvWorld struct {
	t0            time.Time
	pki           *testpki.PKI
	officer, seal *chungthuc.SigningKey
	roots         *x509.CertPool
}

func newLTVWorld() *ltvWorld {
	t0 := time.Now().UTC().Truncate(time.Second)
	p := testpki.NewRoot(t0.AddDate(-1, 0, 0), t0.AddDate(50, 0, 0))
	w := &ltvWorld{t0: t0, pki: p,
		officer: p.Leaf("Trần Văn Nghĩa", "Phường Hòa Bình", "ecdsa"), // valid for 3 years
		seal:    p.Leaf("Phường Hòa Bình", "Phường Hòa Bình", "rsa"),
		roots:   x509.NewCertPool()}
	w.roots.AddCert(p.Root)
	return w
}

// tsa starts a TSA whose certificate is valid for years from a day before t0, with the
// clock at t0+clock (the real clock when clock is 0).
func (w *ltvWorld) tsa(t testing.TB, cn string, years int, clock time.Duration) chungthuc.Timestamper {
	var now func() time.Time
	if clock != 0 {
		now = func() time.Time { return w.t0.Add(clock) }
	}
	h, _ := w.pki.TSAAt(cn, w.t0.AddDate(0, 0, -1), w.t0.AddDate(years, 0, 0), now)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &certs.TSAClient{URL: srv.URL, Timeout: 5 * time.Second}
}

var ltvScans = testscan.Scans(1, 60<<10, 100)

// makeCopy certifies a copy with the real signer at level with ts and rev.
func (w *ltvWorld) makeCopy(t testing.TB, level chungthuc.PAdESLevel, ts chungthuc.Timestamper, rev chungthuc.RevocationSource) []byte {
	t.Helper()
	s, err := signer.New(signer.Options{Level: level, Timestamper: ts, Revocation: rev})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.MakeCopy(context.Background(), chungthuc.CopyRequest{
		Scans: []chungthuc.Scan{{Name: "trang1.jpg", Data: ltvScans[0]}}, Place: "Hòa Bình", UnitName: "Phường Hòa Bình",
		OfficerName: "Trần Văn Nghĩa", OfficerTitle: "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", DocTitle: "Giấy khai sinh",
		Officer: w.officer, Seal: w.seal,
		Allocate: func(ctx context.Context, pages int) (*chungthuc.Allocation, error) {
			return &chungthuc.Allocation{Number: 77, BookCode: "01/2026-SCTĐT/BS", CertifiedAt: w.t0.In(chungthuc.Vietnam),
				VerifyURL: "https://chungthuc.example.vn/v/3q2-x8WkR0bPn9ZfKx1mTgH7cYpQ"}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.PDF
}

// at verifies pdf offline, with only the root, at t0 + d.
func (w *ltvWorld) at(t testing.TB, pdf []byte, years int) *Report {
	t.Helper()
	now := w.t0.AddDate(years, 0, 0)
	return mustVerify(t, pdf, Options{Roots: w.roots, Now: func() time.Time { return now }})
}

func checkOf(s SignatureReport, name string) *Check {
	for i := range s.Checks {
		if s.Checks[i].Name == name {
			return &s.Checks[i]
		}
	}
	return nil
}

// TestLongTermValidation validates B-LTA copies made by the real signer 20 years later,
// when every signer and (unless renewed) TSA certificate has expired.
func TestLongTermValidation(t *testing.T) {
	w := newLTVWorld()
	good := w.pki.OCSP(testpki.OCSPOptions{})
	longTSA := w.tsa(t, "TSA 30 năm", 30, 0)

	t.Run("b_lta_passes_20_years_later", func(t *testing.T) {
		pdf := w.makeCopy(t, chungthuc.PAdESLTA, longTSA, good)
		for _, years := range []int{0, 20} {
			rep := w.at(t, pdf, years)
			if !rep.Valid || rep.Indication != TotalPassed || len(rep.Signatures) != 3 {
				t.Fatalf("+%dy: want valid:\n%s", years, dump(t, rep))
			}
		}
		rep := w.at(t, pdf, 20)
		for _, s := range rep.Signatures[:2] {
			if s.BestSignatureTime == nil || s.POESource != "signature_timestamp" || s.ValidationTime == nil ||
				!s.ValidationTime.Equal(*s.BestSignatureTime) || s.Timestamp.ProvenBy != 3 {
				t.Errorf("%s: POE %v from %q, validated at %v, proven by %d", s.Field, s.BestSignatureTime, s.POESource, s.ValidationTime, s.Timestamp.ProvenBy)
			}
			if s.BestSignatureTime != nil && s.BestSignatureTime.Before(w.t0) {
				t.Errorf("POE %v before t0 %v", s.BestSignatureTime, w.t0)
			}
			if len(s.Revocation) != 1 || s.Revocation[0].Status != "good" || s.Revocation[0].Source != "embedded OCSP" {
				t.Errorf("%s: revocation %+v", s.Field, s.Revocation)
			}
			if s.Signer.NotAfter.After(w.t0.AddDate(20, 0, 0)) {
				t.Fatalf("the signer certificate should have expired by then")
			}
		}
		if ts := rep.Signatures[2]; ts.Kind != "document_timestamp" || ts.Timestamp.ProvenBy != 0 || !ts.Timestamp.ValidatedAt.Equal(w.t0.AddDate(20, 0, 0)) {
			t.Errorf("document time-stamp: %+v", ts.Timestamp)
		}
	})

	t.Run("no_timestamp_expired", func(t *testing.T) {
		pdf := w.makeCopy(t, chungthuc.PAdESB, nil, nil)
		if rep := w.at(t, pdf, 0); !rep.Valid {
			t.Fatalf("B-B today: want valid:\n%s", dump(t, rep))
		}
		rep := w.at(t, pdf, 20)
		if rep.Valid || rep.Indication != Indeterminate || rep.SubIndication != SubOutOfBoundsNoPOE {
			t.Fatalf("B-B in 20 years: want OUT_OF_BOUNDS_NO_POE:\n%s", dump(t, rep))
		}
	})

	t.Run("revoked_before_signing", func(t *testing.T) {
		rev := w.pki.OCSP(testpki.OCSPOptions{Revoked: map[string]time.Time{w.officer.Chain[0].SerialNumber.String(): w.t0.Add(-time.Hour)}})
		pdf := w.makeCopy(t, chungthuc.PAdESLTA, longTSA, rev)
		for _, years := range []int{0, 20} {
			rep := w.at(t, pdf, years)
			s := rep.Signatures[0]
			if rep.Valid || rep.Indication != TotalFailed || s.Indication != TotalFailed || s.SubIndication != SubRevoked ||
				s.Revocation[0].Status != "revoked" || rep.Signatures[1].Indication != TotalPassed {
				t.Fatalf("+%dy: want the officer REVOKED:\n%s", years, dump(t, rep))
			}
		}
	})

	t.Run("revoked_evidence_cannot_be_hidden", func(t *testing.T) {
		// An update after the document time-stamp replaces /DSS with an empty one (a DSS
		// change is allowed): the OCSP response of the earlier revision still counts.
		rev := w.pki.OCSP(testpki.OCSPOptions{Revoked: map[string]time.Time{w.officer.Chain[0].SerialNumber.String(): w.t0.Add(-time.Hour)}})
		pdf := w.makeCopy(t, chungthuc.PAdESLTA, longTSA, rev)
		r := docView(t, pdf)
		n := sizeOf(r)
		root := r.Trailer().Get("Root").(ipdf.Ref)
		cat := r.Root()
		nc := cat.Clone()
		nc.Set("DSS", ipdf.Ref{Num: n})
		hidden := appendUpdate(t, pdf, map[int][]byte{n: []byte("<< /Type /DSS >>"), root.Num: []byte(serialize(nc))}, updateOpts{})
		rep := w.at(t, hidden, 0)
		if s := rep.Signatures[0]; rep.Valid || s.SubIndication != SubRevoked {
			t.Fatalf("want REVOKED despite the replaced DSS:\n%s", dump(t, rep))
		}
	})

	t.Run("revoked_after_signing", func(t *testing.T) {
		// The answer was given two hours after signing: revoked one hour after.
		rev := w.pki.OCSP(testpki.OCSPOptions{Now: func() time.Time { return w.t0.Add(2 * time.Hour) },
			Revoked: map[string]time.Time{w.officer.Chain[0].SerialNumber.String(): w.t0.Add(time.Hour)}})
		pdf := w.makeCopy(t, chungthuc.PAdESLTA, longTSA, rev)
		rep := w.at(t, pdf, 20)
		s := rep.Signatures[0]
		if !rep.Valid || s.Revocation[0].Status != "revoked" {
			t.Fatalf("want valid with a revocation note:\n%s", dump(t, rep))
		}
		if c := checkOf(s, "revocation[0]"); c == nil || c.Status != CheckWarning || !strings.Contains(c.Detail, "after the proven time") {
			t.Fatalf("revocation note: %+v", c)
		}
	})

	t.Run("delegated_responder", func(t *testing.T) {
		serial := w.officer.Chain[0].SerialNumber.String()
		revoked := map[string]time.Time{serial: w.t0.Add(-time.Hour)}
		// A delegated responder with id-kp-OCSPSigning is believed…
		pdf := w.makeCopy(t, chungthuc.PAdESLTA, longTSA, w.pki.OCSP(testpki.OCSPOptions{Delegated: true, Revoked: revoked}))
		if rep := w.at(t, pdf, 20); rep.Signatures[0].SubIndication != SubRevoked {
			t.Fatalf("delegated responder: want REVOKED:\n%s", dump(t, rep))
		}
		// …one without it is not: its answer is ignored (these certificates name no
		// revocation service, so the status is then not applicable).
		pdf = w.makeCopy(t, chungthuc.PAdESLTA, longTSA, w.pki.OCSP(testpki.OCSPOptions{Delegated: true, NoEKU: true, Revoked: revoked}))
		rep := w.at(t, pdf, 20)
		if s := rep.Signatures[0]; s.Indication != TotalPassed || s.Revocation[0].Status != "not_applicable" {
			t.Fatalf("responder without id-kp-OCSPSigning: its answer must be ignored:\n%s", dump(t, rep))
		}
	})

	// A copy time-stamped by a TSA whose certificate lasts 10 years.
	shortTSA := w.tsa(t, "TSA 10 năm", 10, 0)
	short := w.makeCopy(t, chungthuc.PAdESLTA, shortTSA, good)

	t.Run("last_document_timestamp_expired", func(t *testing.T) {
		if rep := w.at(t, short, 9); !rep.Valid {
			t.Fatalf("+9y: want valid:\n%s", dump(t, rep))
		}
		rep := w.at(t, short, 20)
		ts := rep.Signatures[2]
		if rep.Valid || rep.Indication != Indeterminate || ts.Indication != Indeterminate || ts.SubIndication != SubOutOfBoundsNoPOE {
			t.Fatalf("+20y: want INDETERMINATE/OUT_OF_BOUNDS_NO_POE:\n%s", dump(t, rep))
		}
		if c := checkOf(ts, "archive"); c == nil || c.Status != CheckFailed {
			t.Errorf("archive check: %+v", c)
		}
	})

	t.Run("renewed_before_expiry", func(t *testing.T) {
		// Nine years later the archive adds a document time-stamp from a newer TSA.
		renewTSA := w.tsa(t, "TSA gia hạn", 30, 9*365*24*time.Hour)
		renewed, err := signer.AddDocumentTimestamp(context.Background(), short, renewTSA, good)
		if err != nil {
			t.Fatal(err)
		}
		rep := w.at(t, renewed, 20)
		if !rep.Valid || len(rep.Signatures) != 4 {
			t.Fatalf("renewed: want valid:\n%s", dump(t, rep))
		}
		first, last := rep.Signatures[2], rep.Signatures[3]
		if first.Timestamp.ProvenBy != 4 || !first.Timestamp.ValidatedAt.Equal(last.Timestamp.Time) {
			t.Errorf("first document time-stamp validated at %v by %d; want the renewal's time %v", first.Timestamp.ValidatedAt, first.Timestamp.ProvenBy, last.Timestamp.Time)
		}
		if s := rep.Signatures[0]; s.Timestamp.ProvenBy != 3 || s.POESource != "signature_timestamp" {
			t.Errorf("officer: time-stamp proven by %d, POE from %q", s.Timestamp.ProvenBy, s.POESource)
		}
		// Past the renewal TSA's own expiry, the chain is open again.
		if rep := w.at(t, renewed, 31); rep.Valid || rep.Signatures[3].SubIndication != SubOutOfBoundsNoPOE {
			t.Fatalf("+31y: want the renewal time-stamp OUT_OF_BOUNDS_NO_POE:\n%s", dump(t, rep))
		}
	})
}
