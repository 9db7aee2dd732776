package devpki

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/chungthuc/chungthuc"
)

// Officers who sign with their own device (a USB token, a remote-signing service) keep
// their key there: the development PKI certifies the public key of a PKCS#10 request made
// on the device, and production registers a certificate a real CA issued. Neither writes
// a key file; the certificate goes to the register (Officer.CertPEM).

// MaxCSRSize bounds a PEM or DER certificate request or certificate file read here.
const MaxCSRSize = 64 << 10

// IssueOfficerFromCSR issues a personal signing certificate for officer o of unit to the
// public key of csr (PEM "CERTIFICATE REQUEST" or DER). The request's own signature must
// verify (the requester holds the key) and its key must be RSA of 2048–8192 bits or ECDSA
// P-256/P-384/P-521. The subject is taken from the officer record (C=VN, O = the unit's
// name, title, CN = the officer's name), never from the request; its extensions are
// ignored. It returns the certificate chain (leaf, root) and the leaf in PEM for
// Officer.CertPEM. It keeps no key and does not replace the certificate of a key issued
// by IssueOfficer; each call issues a new certificate (new serial).
//
// Errors: EINVALID for a missing officer or unit, an officer of another unit, bad names
// (see IssueSeal), a request that cannot be parsed, whose signature does not verify, or
// whose key is of another type or size.
func (p *PKI) IssueOfficerFromCSR(o *chungthuc.Officer, unit *chungthuc.Unit, csr []byte) ([]*x509.Certificate, []byte, error) {
	subject, err := officerSubject(o, unit)
	if err != nil {
		return nil, nil, err
	}
	return p.issueFromCSR(subject, csr, fmt.Sprintf("officer %d", o.ID))
}

// IssueSealFromCSR issues an electronic-seal certificate for unit to the public key of csr,
// for a unit whose seal key is on the records clerk's device: the subject is IssueSeal's
// (C=VN, O and CN = the unit's name, serialNumber = its code), the checks those of
// IssueOfficerFromCSR. It does not replace the seal IssueSeal keeps on disk.
//
// Errors: as IssueOfficerFromCSR; EINVALID for a bad unit code.
func (p *PKI) IssueSealFromCSR(unit *chungthuc.Unit, csr []byte) ([]*x509.Certificate, []byte, error) {
	subject, err := sealSubject(unit)
	if err != nil {
		return nil, nil, err
	}
	return p.issueFromCSR(subject, csr, "seal of unit "+unit.Code)
}

// issueFromCSR certifies the key of a checked PKCS#10 request under subject.
func (p *PKI) issueFromCSR(subject, csr []byte, what string) ([]*x509.Certificate, []byte, error) {
	if len(csr) == 0 || len(csr) > MaxCSRSize {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "the certificate request is empty or larger than %d bytes", MaxCSRSize)
	}
	der := csr
	if b, _ := pem.Decode(csr); b != nil {
		if b.Type != "CERTIFICATE REQUEST" && b.Type != "NEW CERTIFICATE REQUEST" {
			return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "the file holds a %q, not a certificate request", b.Type)
		}
		der = b.Bytes
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "the certificate request cannot be read: %v", err)
	}
	if err := req.CheckSignature(); err != nil {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "the certificate request's signature does not verify (it was not made with its key): %v", err)
	}
	if err := checkSigningKey(req.PublicKey); err != nil {
		return nil, nil, err
	}
	tmpl, err := p.leafTemplate(subject, req.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, p.root, req.PublicKey, p.rootKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: create certificate for the %s: %w", what, err)
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: parse new certificate: %w", err)
	}
	return p.chain(cert), encodeCertificatePEM(cert), nil
}

// CheckOfficerCertificate checks a CA-issued officer certificate before it is registered
// (production: `officer cert --cert officer.pem`): certPEM holds the leaf first, then any
// intermediates. The leaf must chain to roots (the one trust pool) for document signing at
// the time now, carry the digitalSignature or nonRepudiation key usage, have a key as
// IssueOfficerFromCSR accepts, and not be a CA. It returns the chain, leaf first.
//
// Errors: EINVALID for a file without certificates, a CA certificate, a missing key
// usage or an unusable key; EFORBIDDEN when the certificate does not chain to roots or is
// expired or not yet valid at now.
func CheckOfficerCertificate(certPEM []byte, roots *x509.CertPool, now time.Time) ([]*x509.Certificate, error) {
	if len(certPEM) == 0 || len(certPEM) > MaxCSRSize {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the certificate file is empty or larger than %d bytes", MaxCSRSize)
	}
	list, err := parseCertificatePEM(certPEM)
	if err != nil {
		return nil, err
	}
	leaf := list[0]
	if leaf.IsCA {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%q is a CA certificate, not a signer's", leaf.Subject.String())
	}
	if leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%q allows neither digitalSignature nor nonRepudiation", leaf.Subject.String())
	}
	if err := checkSigningKey(leaf.PublicKey); err != nil {
		return nil, err
	}
	if roots == nil {
		return nil, chungthuc.Errorf(chungthuc.EFORBIDDEN, "no trust anchors to check %q against", leaf.Subject.String())
	}
	inter := x509.NewCertPool()
	for _, c := range list[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EFORBIDDEN, "%q is not trusted here: %v", leaf.Subject.String(), err)
	}
	return chains[0], nil
}

// CheckNotRevoked refuses (EFORBIDDEN) a signer certificate (chain leaf first) that this
// PKI has revoked; certificates of other issuers pass. It suits signer.Options.
// CheckCertificate for keys held elsewhere. Errors: EINVALID when revoked.json is damaged;
// the context's error when ctx is done.
func (p *PKI) CheckNotRevoked(ctx context.Context, chain []*x509.Certificate) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(chain) == 0 || chain[0] == nil || !p.Issued(chain[0]) {
		return nil
	}
	return p.notRevoked(&chungthuc.SigningKey{Chain: chain}, fmt.Sprintf("%q", chain[0].Subject.CommonName))
}

// officerSubject is the DER subject of officer o of unit: C=VN, O, title, CN.
func officerSubject(o *chungthuc.Officer, unit *chungthuc.Unit) ([]byte, error) {
	if o == nil || unit == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no officer or no unit")
	}
	if o.ID <= 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "officer has no ID; create it in the register first")
	}
	if o.UnitID != 0 && unit.ID != 0 && o.UnitID != unit.ID {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "officer %d belongs to unit %d, not %d", o.ID, o.UnitID, unit.ID)
	}
	name, err := cleanName("officer name", o.Name)
	if err != nil {
		return nil, err
	}
	unitName, err := cleanName("unit name", unit.Name)
	if err != nil {
		return nil, err
	}
	attrs := []nameAttr{
		{oid: oidCountry, value: "VN", printable: true},
		{oid: oidOrganization, value: unitName},
	}
	if o.Title != "" {
		title, err := cleanName("officer title", o.Title)
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, nameAttr{oid: OIDTitle, value: title})
	}
	attrs = append(attrs, nameAttr{oid: oidCommonName, value: name})
	return marshalName(attrs...)
}

// sealSubject is the DER subject of unit's seal: C=VN, O, serialNumber = code, CN.
func sealSubject(unit *chungthuc.Unit) ([]byte, error) {
	if unit == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no unit")
	}
	if err := chungthuc.CheckUnitCode(unit.Code); err != nil {
		return nil, err
	}
	name, err := cleanName("unit name", unit.Name)
	if err != nil {
		return nil, err
	}
	return marshalName(
		nameAttr{oid: oidCountry, value: "VN", printable: true},
		nameAttr{oid: oidOrganization, value: name},
		nameAttr{oid: oidSerialNumber, value: unit.Code, printable: true},
		nameAttr{oid: oidCommonName, value: name},
	)
}

// checkSigningKey accepts RSA keys of 2048–8192 bits and ECDSA keys on P-256, P-384, P-521.
func checkSigningKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < 2048 || n > 8192 {
			return chungthuc.Errorf(chungthuc.EINVALID, "an RSA key of %d bits (2048 to 8192 accepted)", n)
		}
		return nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return chungthuc.Errorf(chungthuc.EINVALID, "an EC key on %s (P-256, P-384 or P-521 accepted)", k.Curve.Params().Name)
	}
	return chungthuc.Errorf(chungthuc.EINVALID, "a %T key (RSA or ECDSA accepted)", pub)
}
