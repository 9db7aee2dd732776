package devpki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"io"

	"github.com/chungthuc/chungthuc"
)

// The development PKI is a leaf package: it shares no code with certs (production key
// material), so that certs never depends on it and its tests can use it as a fixture.
// These are the few key and certificate helpers it needs.

// checkKeyMatchesCert refuses a key file that does not belong to its certificate: the
// public keys must be equal (the keys are software keys this package wrote; tokens, which
// can lie about their public key, are certs' business). EINVALID naming the subject.
func checkKeyMatchesCert(signer crypto.Signer, cert *x509.Certificate) error {
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return chungthuc.Errorf(chungthuc.EINVALID,
			"the private key does not match the certificate %q (serial %x)", cert.Subject.String(), cert.SerialNumber)
	}
	return nil
}

// opaqueSigner hides the concrete key type, so that no code holding a SigningKey of the
// development PKI can type-assert its way to the key bytes.
type opaqueSigner struct{ s crypto.Signer }

func (o opaqueSigner) Public() crypto.PublicKey { return o.s.Public() }

func (o opaqueSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.s.Sign(r, digest, opts)
}

// opaque wraps a key in an opaqueSigner (once).
func opaque(s crypto.Signer) crypto.Signer {
	if o, ok := s.(opaqueSigner); ok {
		return o
	}
	return opaqueSigner{s}
}

// encodeCertificatePEM encodes certificates as concatenated PEM blocks.
func encodeCertificatePEM(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}) // a bytes.Buffer does not fail
	}
	return b.Bytes()
}

// parseCertificatePEM parses every CERTIFICATE block of data; EINVALID when there is none
// or one does not parse.
func parseCertificatePEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "a certificate does not parse")
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no certificate found")
	}
	return out, nil
}

// hasTimeStampingEKU reports whether cert carries the id-kp-timeStamping usage.
func hasTimeStampingEKU(cert *x509.Certificate) bool {
	for _, u := range cert.ExtKeyUsage {
		if u == x509.ExtKeyUsageTimeStamping {
			return true
		}
	}
	return false
}

// tsaHashes lists the hashes the development TSA stamps (as certs.TSAClient asks).
var tsaHashes = map[crypto.Hash]bool{crypto.SHA256: true, crypto.SHA384: true, crypto.SHA512: true}
