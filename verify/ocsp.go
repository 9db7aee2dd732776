package verify

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ocspFor parses an OCSP response and returns it only if it is an authoritative answer
// about cert issued by issuer (RFC 6960 3.2, 4.2.2.2):
//
//   - its CertID names cert's serial number and issuer (hashes of the issuer's name and
//     key, not just the serial, which another CA could reuse);
//   - it is signed by issuer itself, or by a delegated responder: a certificate issued by
//     issuer with the id-kp-OCSPSigning extended key usage, valid when the response was
//     produced, found in the response or in extra (the DSS certificates).
//
// golang.org/x/crypto/ocsp checks neither the CertID's issuer hashes nor the responder's
// extended key usage, so both are checked here.
func ocspFor(b []byte, cert, issuer *x509.Certificate, extra []*x509.Certificate) (resp *ocsp.Response, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, fmt.Errorf("malformed OCSP response")
		}
	}()
	// No issuer: parse and, when the response carries a certificate, check the
	// signature with it; who that certificate is gets decided below.
	resp, err = ocsp.ParseResponseForCert(b, cert, nil)
	if err != nil {
		return nil, err
	}
	if resp.SerialNumber == nil || resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		return nil, errors.New("OCSP response for another certificate")
	}
	if err := ocspCertIDMatches(b, cert.SerialNumber, issuer); err != nil {
		return nil, err
	}
	if resp.Certificate != nil {
		if resp.Certificate.Equal(issuer) || delegatedResponder(resp.Certificate, issuer, resp.ProducedAt) {
			return resp, nil
		}
		return nil, errors.New("OCSP response signed by a certificate that is neither the issuer nor its delegated responder")
	}
	if resp.CheckSignatureFrom(issuer) == nil {
		return resp, nil
	}
	for _, c := range extra {
		if delegatedResponder(c, issuer, resp.ProducedAt) && resp.CheckSignatureFrom(c) == nil {
			return resp, nil
		}
	}
	return nil, errors.New("OCSP response not signed by the issuer or a delegated responder")
}

// delegatedResponder reports whether c may sign OCSP responses for certificates of
// issuer at time t.
func delegatedResponder(c, issuer *x509.Certificate, t time.Time) bool {
	return hasEKU(c, x509.ExtKeyUsageOCSPSigning) && bytes.Equal(c.RawIssuer, issuer.RawSubject) &&
		c.CheckSignatureFrom(issuer) == nil && !t.Before(c.NotBefore) && !t.After(c.NotAfter)
}

// The OCSP response structures, as far as the CertIDs (RFC 6960 4.2.1); encoding/asn1
// ignores the fields that follow.
type ocspResponseASN1 struct {
	Status   asn1.Enumerated
	Response struct {
		ResponseType asn1.ObjectIdentifier
		Response     []byte
	} `asn1:"explicit,tag:0,optional"`
}

type ocspBasicResponse struct {
	TBSResponseData struct {
		Raw            asn1.RawContent
		Version        int `asn1:"optional,default:0,explicit,tag:0"`
		RawResponderID asn1.RawValue
		ProducedAt     time.Time `asn1:"generalized"`
		Responses      []struct {
			CertID struct {
				HashAlgorithm pkix.AlgorithmIdentifier
				NameHash      []byte
				IssuerKeyHash []byte
				SerialNumber  *big.Int
			}
		}
	}
}

// ocspCertIDMatches checks that the response's single response for serial names issuer.
func ocspCertIDMatches(b []byte, serial *big.Int, issuer *x509.Certificate) error {
	var r ocspResponseASN1
	if _, err := asn1.Unmarshal(b, &r); err != nil {
		return err
	}
	var basic ocspBasicResponse
	if _, err := asn1.Unmarshal(r.Response.Response, &basic); err != nil {
		return err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return err
	}
	for _, sr := range basic.TBSResponseData.Responses {
		id := sr.CertID
		if id.SerialNumber == nil || id.SerialNumber.Cmp(serial) != 0 {
			continue
		}
		h := hashFor(id.HashAlgorithm.Algorithm)
		if h == 0 || h == crypto.MD5 || !h.Available() {
			return errors.New("OCSP CertID with an unknown hash")
		}
		hh := h.New()
		hh.Write(issuer.RawSubject)
		name := hh.Sum(nil)
		hh.Reset()
		hh.Write(spki.PublicKey.RightAlign())
		if bytes.Equal(name, id.NameHash) && bytes.Equal(hh.Sum(nil), id.IssuerKeyHash) {
			return nil
		}
		return errors.New("OCSP response about a certificate of another issuer")
	}
	return errors.New("no OCSP answer for this serial number")
}
