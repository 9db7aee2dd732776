package verify

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"testing"

	"golang.org/x/crypto/ocsp"
)

// TestOCSPResponderChecks checks who may answer for a certificate: the issuer, or a
// delegated responder issued by it with id-kp-OCSPSigning, about that issuer's
// certificate (CertID hashes, not only the serial number).
func TestOCSPResponderChecks(t *testing.T) {
	p := getPKI()
	ocspEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	delegated := issue(&p.root, "OCSP Responder", mustKey(true, 0), false, ocspEKU, nil)
	noEKU := issue(&p.root, "Not a Responder", mustKey(true, 0), false, []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, nil)
	foreign := issue(&p.strangerRoot, "Foreign Responder", mustKey(true, 0), false, ocspEKU, nil)
	tmpl := ocsp.Response{Status: ocsp.Revoked, SerialNumber: p.officer.cert.SerialNumber, ThisUpdate: testNow, NextUpdate: testNow.AddDate(0, 0, 1), RevokedAt: testNow.AddDate(0, 0, -1)}
	mk := func(issuer *x509.Certificate, responder testKey, include bool) []byte {
		t.Helper()
		tp := tmpl
		if include {
			tp.Certificate = responder.cert
		}
		b, err := ocsp.CreateResponse(issuer, responder.cert, tp, responder.key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name  string
		resp  []byte
		extra []*x509.Certificate
		ok    bool
	}{
		{"issuer", mk(p.root.cert, p.root, false), nil, true},
		{"delegated_included", mk(p.root.cert, delegated, true), nil, true},
		{"delegated_in_dss", mk(p.root.cert, delegated, false), []*x509.Certificate{delegated.cert}, true},
		{"delegated_unknown", mk(p.root.cert, delegated, false), nil, false},
		{"responder_without_ocsp_signing", mk(p.root.cert, noEKU, true), nil, false},
		{"responder_of_another_ca", mk(p.root.cert, foreign, true), nil, false},
		{"signed_by_the_issuer_about_another_issuer", mk(p.strangerRoot.cert, p.root, false), nil, false},
		{"signed_by_a_stranger", mk(p.root.cert, testKey{cert: p.root.cert, key: p.strangerRoot.key}, false), nil, false},
		{"garbage", []byte{0x30, 0x03, 0x0a, 0x01, 0x00}, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := ocspFor(c.resp, p.officer.cert, p.root.cert, c.extra)
			if c.name == "signed_by_the_issuer_about_another_issuer" && (err == nil || err.Error() != "OCSP response about a certificate of another issuer") {
				t.Fatalf("want the CertID check to refuse it, got %v", err)
			}
			if (err == nil) != c.ok {
				t.Fatalf("accepted=%v, want %v (%v)", err == nil, c.ok, err)
			}
			if c.ok && resp.Status != ocsp.Revoked {
				t.Fatalf("status %d", resp.Status)
			}
			st := embeddedStatus(p.officer.cert, p.root.cert, [][]byte{c.resp}, nil, c.extra, testNow, "embedded")
			if (st.status == "revoked") != c.ok {
				t.Fatalf("embeddedStatus: %+v", st)
			}
		})
	}
}

// TestRevocationFreshness: a "good" answer counts only when it was issued at or after the
// time that matters, or was current then; otherwise a certificate that names a
// revocation service is TRY_LATER (or a warning with SoftFailRevocation).
func TestRevocationFreshness(t *testing.T) {
	p := getPKI()
	withOCSP := issue(&p.root, "Officer With OCSP", mustKey(true, 0), false, []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		func(c *x509.Certificate) { c.OCSPServer = []string{"http://ocsp.example.invalid/"} })
	crlAt := func(days int) []byte {
		crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
			Number: big.NewInt(int64(100 + days)), ThisUpdate: testNow.AddDate(0, 0, days), NextUpdate: testNow.AddDate(0, 0, days+7),
		}, p.root.cert, p.root.key)
		if err != nil {
			t.Fatal(err)
		}
		ra, _ := asn1.Marshal(struct {
			CRL []asn1.RawValue `asn1:"explicit,optional,tag:0"`
		}{CRL: []asn1.RawValue{{FullBytes: crl}}})
		return ra
	}
	base := basePDF(1, 0, false).classic()
	fresh := mustVerify(t, signPDF(t, base, signOpts{key: withOCSP, revocation: crlAt(-1)}), testOptions())
	if s := fresh.Signatures[0]; !fresh.Valid || s.Revocation[0].Status != "good" || s.Revocation[0].ThisUpdate == nil {
		t.Fatalf("current CRL: want good:\n%s", dump(t, fresh))
	}
	stalePDF := signPDF(t, base, signOpts{key: withOCSP, revocation: crlAt(-30)})
	stale := mustVerify(t, stalePDF, testOptions())
	if s := stale.Signatures[0]; stale.Valid || s.SubIndication != SubTryLater || s.Revocation[0].Status != "unknown" {
		t.Fatalf("stale CRL: want TRY_LATER:\n%s", dump(t, stale))
	}
	opt := testOptions()
	opt.SoftFailRevocation = true
	if rep := mustVerify(t, stalePDF, opt); !rep.Valid {
		t.Fatalf("stale CRL, soft fail: want valid:\n%s", dump(t, rep))
	}
}
