package certs

import (
	"bytes"
	"context"
	"crypto/x509"

	"golang.org/x/crypto/ocsp"

	"github.com/chungthuc/chungthuc"
)

// RevocationCheck returns a check of a signer certificate (chain leaf first) for
// signer.Options.CheckCertificate: it gathers the chain's revocation data from src (the
// development PKI in-process, or OCSP/CRL fetched online — src checks what it fetched) and
// refuses (EFORBIDDEN) a leaf that an OCSP response or a CRL of that data lists as revoked
// (a CRL counts when it names the leaf's issuer and, when the chain holds the issuer, is
// signed by it).
// Errors of src come back as they are (EUNAVAILABLE when no answer could be had: signing
// then waits rather than trusting an unknown status). A chain without revocation
// information passes.
func RevocationCheck(src chungthuc.RevocationSource) func(ctx context.Context, chain []*x509.Certificate) error {
	return func(ctx context.Context, chain []*x509.Certificate) error {
		if len(chain) == 0 || chain[0] == nil {
			return chungthuc.Errorf(chungthuc.EINVALID, "no certificate to check")
		}
		data, err := src.Revocation(ctx, chain)
		if err != nil {
			return err
		}
		leaf := chain[0]
		revoked := func() error {
			return chungthuc.Errorf(chungthuc.EFORBIDDEN, "the certificate of %q (serial %X) is revoked", leaf.Subject.CommonName, leaf.SerialNumber)
		}
		for _, der := range data.OCSP {
			resp, err := ocsp.ParseResponse(der, nil)
			if err == nil && resp.SerialNumber != nil && resp.SerialNumber.Cmp(leaf.SerialNumber) == 0 && resp.Status == ocsp.Revoked {
				return revoked()
			}
		}
		var issuer *x509.Certificate // to check the CRL's signature, when the chain has it
		for _, c := range chain[1:] {
			if c != nil && bytes.Equal(c.RawSubject, leaf.RawIssuer) {
				issuer = c
			}
		}
		for _, der := range data.CRLs {
			crl, err := x509.ParseRevocationList(der)
			if err != nil || !bytes.Equal(crl.RawIssuer, leaf.RawIssuer) || (issuer != nil && crl.CheckSignatureFrom(issuer) != nil) {
				continue
			}
			for _, e := range crl.RevokedCertificateEntries {
				if e.SerialNumber != nil && e.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
					return revoked()
				}
			}
		}
		return nil
	}
}
