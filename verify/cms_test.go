package verify

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/chungthuc/chungthuc/cms"
)

// TestCMSFailures maps each failure of the cms package to its sub-indication.
func TestCMSFailures(t *testing.T) {
	p := getPKI()
	base := basePDF(1, 0, false).classic()
	flipLast := func(der, part []byte) []byte {
		i := bytes.LastIndex(der, part)
		if i < 0 {
			t.Fatal("part not found")
		}
		out := bytes.Clone(der)
		out[i+len(part)-1] ^= 0x01
		return out
	}
	sigValue := func(der []byte) []byte {
		v, err := cms.SignatureValue(der)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	officerHash := sha256.Sum256(p.officer.cert.Raw)
	serial := p.officer.cert.SerialNumber.Bytes()
	cases := []struct {
		name      string
		o         signOpts
		ind, sub  string
		integrity string
	}{
		{"content_changed", signOpts{content: func(c []byte) []byte { return c[1:] }}, TotalFailed, SubHashFailure, "broken"},
		{"signature_value_changed", signOpts{cms: func(d []byte) []byte { return flipLast(d, sigValue(d)) }}, TotalFailed, SubSigCryptoFailure, "broken"},
		{"signer_identifier_changed", signOpts{cms: func(d []byte) []byte { return flipLast(d, append([]byte{2, byte(len(serial))}, serial...)) }}, Indeterminate, SubNoSigningCertificate, "unchecked"},
		{"ess_hash_changed", signOpts{cms: func(d []byte) []byte { return flipLast(d, officerHash[:]) }}, Indeterminate, SubNoSigningCertificate, "unchecked"},
		{"not_signed_data", signOpts{cms: func(d []byte) []byte {
			b, _ := asn1.Marshal(struct{ T asn1.ObjectIdentifier }{cms.OIDData})
			return b
		}}, TotalFailed, SubFormatFailure, "unchecked"},
		{"rsa_1024", signOpts{key: p.rsa1024}, Indeterminate, SubCryptoConstraints, "unchecked"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := mustVerify(t, signPDF(t, base, c.o), testOptions())
			s := rep.Signatures[0]
			if rep.Valid || s.Indication != c.ind || s.SubIndication != c.sub || s.Integrity != c.integrity {
				t.Fatalf("want %s/%s integrity %s:\n%s", c.ind, c.sub, c.integrity, dump(t, rep))
			}
		})
	}
}

// TestSignatureTimestampChecks: a signature time-stamp must be over this signature's value
// and come from a certificate with id-kp-timeStamping; a trusted one proves the time.
func TestSignatureTimestampChecks(t *testing.T) {
	p := getPKI()
	base := basePDF(1, 0, false).classic()
	token := func(k testKey, over func(sig []byte) []byte) func([]byte) []byte {
		return func(der []byte) []byte {
			v, err := cms.SignatureValue(der)
			if err != nil {
				t.Fatal(err)
			}
			d := sha256.Sum256(over(v))
			ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: d[:], Time: testNow.Add(time.Minute),
				Policy: asn1.ObjectIdentifier{1, 2, 3}, SerialNumber: big.NewInt(9), AddTSACertificate: true}
			resp, err := ts.CreateResponseWithOpts(k.cert, k.key, crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := timestamp.ParseResponse(resp)
			if err != nil {
				t.Fatal(err)
			}
			out, err := cms.AddUnsignedAttribute(der, cms.OIDAttrTimeStampToken, parsed.RawToken)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
	}
	same := func(b []byte) []byte { return b }
	other := func(b []byte) []byte { return append(bytes.Clone(b), 0) }

	rep := mustVerify(t, signPDF(t, base, signOpts{cms: token(p.tsa, same)}), testOptions())
	if s := rep.Signatures[0]; !rep.Valid || s.Timestamp == nil || !s.Timestamp.Trusted || s.POESource != "signature_timestamp" {
		t.Fatalf("good token:\n%s", dump(t, rep))
	}
	for _, c := range []struct {
		name, problem string
		hook          func([]byte) []byte
	}{
		{"token_over_another_value", "not over this signature's value", token(p.tsa, other)},
		{"tsa_without_timestamping", "lacks the timeStamping extended key usage", token(p.seal, same)},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := mustVerify(t, signPDF(t, base, signOpts{cms: c.hook}), testOptions())
			s := rep.Signatures[0]
			if rep.Valid || s.Timestamp == nil || s.Timestamp.Valid || !strings.Contains(s.Timestamp.Problem, c.problem) || s.SubIndication != SubFormatFailure {
				t.Fatalf("want an invalid time-stamp:\n%s", dump(t, rep))
			}
		})
	}
}
