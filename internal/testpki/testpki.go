// Package testpki issues throw-away certificates for tests: a root CA and document-signing
// leaves (ECDSA P-256 or RSA), with the key usages our signer and pdfsig expect; time-stamping
// authorities and OCSP answers with chosen validity, clock and revocation status.
package testpki

import (
	"context"
	"net/http"
	"sync/atomic"

	"golang.org/x/crypto/ocsp"

	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"math/big"
	"time"

	"github.com/chungthuc/chungthuc"
)

// PKI is a root CA.
type PKI struct {
	Root *x509.Certificate
	key  crypto.Signer
}

// New makes a root CA valid from a year ago for 20 years.
func New() *PKI {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root", Country: []string{"VN"}},
		NotBefore: time.Now().AddDate(-1, 0, 0), NotAfter: time.Now().AddDate(20, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic(err)
	}
	root, _ := x509.ParseCertificate(der)
	return &PKI{Root: root, key: key}
}

// RootPEM is the root certificate in PEM.
func (p *PKI) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.Root.Raw})
}

var serial = func() *atomic.Int64 { var n atomic.Int64; n.Store(100); return &n }()

// Leaf issues a document-signing certificate for cn (organisation org) with a new key:
// "ecdsa" for P-256, "rsa" for RSA-2048.
func (p *PKI) Leaf(cn, org, alg string) *chungthuc.SigningKey {
	var key crypto.Signer
	if alg == "rsa" {
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	cert := p.Certify(cn, org, key.Public())
	return &chungthuc.SigningKey{Signer: key, Chain: []*x509.Certificate{cert, p.Root}}
}

// Certify issues a document-signing certificate for a public key held elsewhere (a token).
func (p *PKI) Certify(cn, org string, pub crypto.PublicKey) *x509.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: cn, Organization: []string{org}, Country: []string{"VN"}},
		NotBefore: time.Now().AddDate(0, -1, 0), NotAfter: time.Now().AddDate(3, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 36}},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.Root, pub, p.key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// TSA returns an RFC 3161 time-stamping authority certified by the root, as an HTTP handler.
func (p *PKI) TSA() http.Handler {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, err := devpki.IssueTSACert(p.Root, p.key, key.Public(), pkix.Name{CommonName: "Test TSA", Country: []string{"VN"}},
		time.Now().AddDate(0, -1, 0), time.Now().AddDate(10, 0, 0))
	if err != nil {
		panic(err)
	}
	return devpki.NewTSA(key, cert, []*x509.Certificate{p.Root}, time.Now)
}

// Revocation is a chungthuc.RevocationSource that answers every chain with a fresh, empty
// CRL of the root.
func (p *PKI) Revocation() chungthuc.RevocationSource { return revocation{p} }

type revocation struct{ p *PKI }

func (r revocation) Revocation(ctx context.Context, chain []*x509.Certificate) (*chungthuc.RevocationData, error) {
	crl, err := devpki.NewCRL(r.p.Root, r.p.key, big.NewInt(time.Now().Unix()), nil, time.Now(), time.Now().AddDate(0, 0, 7))
	if err != nil {
		return nil, err
	}
	return &chungthuc.RevocationData{CRLs: [][]byte{crl}}, nil
}

// CRL is a fresh CRL of the root listing serials as revoked.
func (p *PKI) CRL(serials ...*big.Int) []byte {
	var entries []x509.RevocationListEntry
	for _, n := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: time.Now().Add(-time.Minute)})
	}
	crl, err := devpki.NewCRL(p.Root, p.key, big.NewInt(time.Now().UnixNano()), entries, time.Now(), time.Now().AddDate(0, 0, 7))
	if err != nil {
		panic(err)
	}
	return crl
}

// NewRoot makes a root CA valid from notBefore to notAfter (long-term validation tests
// need a root that outlives a validation time decades ahead).
func NewRoot(notBefore, notAfter time.Time) *PKI {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Root", Country: []string{"VN"}},
		NotBefore: notBefore, NotAfter: notAfter,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic(err)
	}
	root, _ := x509.ParseCertificate(der)
	return &PKI{Root: root, key: key}
}

// TSAAt returns a time-stamping authority like TSA, whose certificate (named cn) is valid
// from notBefore to notAfter and whose clock is now (time.Now when nil), and that
// certificate.
func (p *PKI) TSAAt(cn string, notBefore, notAfter time.Time, now func() time.Time) (http.Handler, *x509.Certificate) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, err := devpki.IssueTSACert(p.Root, p.key, key.Public(), pkix.Name{CommonName: cn, Country: []string{"VN"}}, notBefore, notAfter)
	if err != nil {
		panic(err)
	}
	return devpki.NewTSA(key, cert, []*x509.Certificate{p.Root}, now), cert
}

// OCSPOptions configure the answers of PKI.OCSP.
type OCSPOptions struct {
	// Now is the responder's clock (thisUpdate and producedAt); time.Now when nil. Answers
	// are valid for a day.
	Now func() time.Time
	// Revoked maps a serial number (decimal) to its revocation time; other serials are good.
	Revoked map[string]time.Time
	// Delegated signs with a delegated responder certificate issued by the root (with
	// id-kp-OCSPSigning unless NoEKU), included in the response, instead of the root key.
	Delegated bool
	// NoEKU leaves id-kp-OCSPSigning out of the delegated responder's certificate: a
	// responder no relying party may accept.
	NoEKU bool
}

// OCSP is a chungthuc.RevocationSource that answers, for every certificate of a chain
// issued by the root, with an OCSP response (RFC 6960) made as o says.
func (p *PKI) OCSP(o OCSPOptions) chungthuc.RevocationSource {
	if o.Now == nil {
		o.Now = time.Now
	}
	src := &ocspSource{p: p, o: o, signer: p.key, cert: p.Root}
	if o.Delegated {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		now := o.Now()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: "Test OCSP Responder", Country: []string{"VN"}},
			NotBefore: now.AddDate(0, -1, 0), NotAfter: now.AddDate(1, 0, 0),
			KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
		}
		if !o.NoEKU {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, p.Root, key.Public(), p.key)
		if err != nil {
			panic(err)
		}
		src.cert, _ = x509.ParseCertificate(der)
		src.signer = key
	}
	return src
}

type ocspSource struct {
	p      *PKI
	o      OCSPOptions
	signer crypto.Signer
	cert   *x509.Certificate
}

func (s *ocspSource) Revocation(ctx context.Context, chain []*x509.Certificate) (*chungthuc.RevocationData, error) {
	out := &chungthuc.RevocationData{}
	for i := 0; i+1 < len(chain); i++ {
		if !chain[i+1].Equal(s.p.Root) {
			continue
		}
		now := s.o.Now().UTC().Truncate(time.Second)
		tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: chain[i].SerialNumber, ThisUpdate: now, NextUpdate: now.AddDate(0, 0, 1)}
		if at, ok := s.o.Revoked[chain[i].SerialNumber.String()]; ok {
			tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, at.UTC().Truncate(time.Second), ocsp.KeyCompromise
		}
		if s.o.Delegated {
			tmpl.Certificate = s.cert
		}
		resp, err := ocsp.CreateResponse(s.p.Root, s.cert, tmpl, s.signer)
		if err != nil {
			return nil, err
		}
		out.OCSP = append(out.OCSP, resp)
	}
	return out, nil
}
