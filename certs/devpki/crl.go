package devpki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"time"

	"github.com/chungthuc/chungthuc"
)

// NewCRL returns a DER X.509 v2 CRL (RFC 5280) issued by issuer and signed by signer,
// with CRL number number, listing revoked, valid from thisUpdate until nextUpdate. For
// development and tests (a production CA publishes CRLs from its own records).
//
// issuer must be a CA certificate with the cRLSign key usage and a subject key identifier
// (which becomes the CRL's authority key identifier), and signer its key. Each entry needs
// SerialNumber and RevocationTime; ReasonCode 0 means unspecified.
//
// Errors: EINVALID when an argument is missing, nextUpdate is not after thisUpdate, or
// signer is not issuer's key, or issuer cannot sign CRLs (crypto/x509's reason is in the message).
func NewCRL(issuer *x509.Certificate, signer crypto.Signer, number *big.Int, revoked []x509.RevocationListEntry, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	switch {
	case issuer == nil || signer == nil:
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "CRL: issuer and signer are required")
	case number == nil || number.Sign() < 0:
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "CRL: a non-negative CRL number is required")
	case !nextUpdate.After(thisUpdate):
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "CRL: nextUpdate must be after thisUpdate")
	}
	if pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(issuer.PublicKey) {
		// crypto/x509 would sign a CRL no verifier can check.
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "CRL: signer is not the key of issuer %q", issuer.Subject.CommonName)
	}
	for i, e := range revoked {
		if e.SerialNumber == nil || e.RevocationTime.IsZero() {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "CRL: entry %d needs a serial number and a revocation time", i)
		}
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                thisUpdate.UTC(),
		NextUpdate:                nextUpdate.UTC(),
		RevokedCertificateEntries: revoked,
	}, issuer, signer)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "CRL: %v", err)
	}
	return der, nil
}
