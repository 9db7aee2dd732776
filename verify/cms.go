package verify

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/digitorus/pkcs7"
)

// This file is the one place where CMS is parsed and verified. It uses
// github.com/digitorus/pkcs7 until the project's own cms package lands; the rest of the
// engine sees only cmsOutcome.

// CMS failure kinds.
const (
	cmsMalformed      = "malformed"
	cmsSignerNotFound = "signer_not_found"
	cmsDigest         = "digest_mismatch"
	cmsSignature      = "bad_signature"
	cmsUnsupported    = "unsupported"
)

var (
	oidSigningCertV2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSigningCertV1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidSigningTime     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidTimestampToken  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidAdbeRevocation  = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 8}
	oidContentTypeAttr = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
)

// cmsOutcome is what the CMS step tells the engine about one signature.
type cmsOutcome struct {
	signer      *x509.Certificate
	certs       []*x509.Certificate
	hash        crypto.Hash
	sigAlg      string
	signingTime time.Time
	sigValue    []byte
	tsToken     []byte
	crls        [][]byte // DER CRLs from the CMS and the Adobe revocation attribute
	ocsps       [][]byte // DER OCSP responses from the Adobe revocation attribute
	// signingCert: 0 no ESS signing-certificate attribute, 1 present and matching the
	// signer, -1 present and not matching.
	signingCert int
	weak        []string // weak algorithms found
	err         error
	kind        string
}

var hashByOID = []struct {
	oid asn1.ObjectIdentifier
	h   crypto.Hash
}{
	{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, crypto.SHA1},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, crypto.SHA256},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, crypto.SHA384},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, crypto.SHA512},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}, crypto.SHA224},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}, crypto.MD5},
}

func hashFor(oid asn1.ObjectIdentifier) crypto.Hash {
	for _, x := range hashByOID {
		if x.oid.Equal(oid) {
			return x.h
		}
	}
	return 0
}

// checkCMS parses a detached (or, for adbe.pkcs7.sha1, enveloping) CMS signature and
// verifies it over the signed bytes, whose digest digest computes.
func checkCMS(der []byte, subFilter string, digest func(crypto.Hash) []byte, signed func() []byte) *cmsOutcome {
	out := &cmsOutcome{}
	fail := func(kind, format string, args ...any) *cmsOutcome {
		out.kind, out.err = kind, fmt.Errorf(format, args...)
		return out
	}
	p7, err := safeParse(der)
	if err != nil {
		return fail(cmsMalformed, "the CMS signature cannot be parsed: %v", err)
	}
	out.certs = p7.Certificates
	for _, c := range p7.CRLs {
		if b, err := asn1.Marshal(c); err == nil {
			out.crls = append(out.crls, b)
		}
	}
	if len(p7.Signers) != 1 {
		return fail(cmsMalformed, "the CMS signature has %d signers, not 1", len(p7.Signers))
	}
	si := p7.Signers[0]
	out.sigValue = si.EncryptedDigest
	out.hash = hashFor(si.DigestAlgorithm.Algorithm)
	if out.hash == 0 || !out.hash.Available() {
		return fail(cmsUnsupported, "unknown digest algorithm %v", si.DigestAlgorithm.Algorithm)
	}
	out.signer = p7.GetOnlySigner()
	if out.signer == nil {
		return fail(cmsSignerNotFound, "the signer's certificate is not in the signature")
	}
	out.sigAlg = sigAlgName(out.signer, out.hash)
	if out.hash == crypto.SHA1 || out.hash == crypto.MD5 {
		out.weak = append(out.weak, "digest "+out.hash.String())
	}
	if w := weakKey(out.signer); w != "" {
		out.weak = append(out.weak, w)
	}
	for _, a := range si.AuthenticatedAttributes {
		switch {
		case a.Type.Equal(oidSigningTime):
			var t time.Time
			if _, err := asn1.Unmarshal(a.Value.Bytes, &t); err == nil {
				out.signingTime = t
			}
		case a.Type.Equal(oidSigningCertV2):
			out.signingCert = essMatches(a.Value.Bytes, out.signer, true)
		case a.Type.Equal(oidSigningCertV1):
			if out.signingCert == 0 {
				out.signingCert = essMatches(a.Value.Bytes, out.signer, false)
			}
		case a.Type.Equal(oidAdbeRevocation):
			var ra struct {
				CRL   []asn1.RawValue `asn1:"explicit,optional,tag:0"`
				OCSP  []asn1.RawValue `asn1:"explicit,optional,tag:1"`
				Other asn1.RawValue   `asn1:"explicit,optional,tag:2"`
			}
			if _, err := asn1.Unmarshal(a.Value.Bytes, &ra); err == nil {
				for _, c := range ra.CRL {
					out.crls = append(out.crls, c.FullBytes)
				}
				for _, o := range ra.OCSP {
					out.ocsps = append(out.ocsps, o.FullBytes)
				}
			}
		}
	}
	for _, a := range si.UnauthenticatedAttributes {
		if a.Type.Equal(oidTimestampToken) {
			var tok asn1.RawValue
			if _, err := asn1.Unmarshal(a.Value.Bytes, &tok); err == nil {
				out.tsToken = tok.FullBytes
			}
		}
	}
	if len(si.AuthenticatedAttributes) == 0 {
		return fail(cmsMalformed, "the CMS signature has no signed attributes")
	}

	if subFilter == "adbe.pkcs7.sha1" {
		// The signed content is the SHA-1 of the byte range, encapsulated.
		if !bytes.Equal(p7.Content, digest(crypto.SHA1)) {
			return fail(cmsDigest, "the encapsulated SHA-1 does not match the signed bytes")
		}
		out.weak = append(out.weak, "adbe.pkcs7.sha1 (SHA-1 document digest)")
	} else {
		if len(p7.Content) != 0 {
			return fail(cmsMalformed, "a detached signature carries encapsulated content")
		}
		p7.Content = signed()
	}
	if err := safeVerify(p7); err != nil {
		var dm *pkcs7.MessageDigestMismatchError
		switch {
		case errors.As(err, &dm):
			return fail(cmsDigest, "the message digest does not match the signed bytes: the document was changed")
		case strings.Contains(err.Error(), "signing time"):
			// pkcs7 refuses a signingTime outside the certificate validity; the engine
			// judges times itself, so retry without the attribute's influence.
			return fail(cmsSignature, "%v", err)
		default:
			return fail(cmsSignature, "the signature value does not verify: %v", err)
		}
	}
	return out
}

func safeParse(der []byte) (p *pkcs7.PKCS7, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("malformed CMS (%v)", r)
		}
	}()
	return pkcs7.Parse(der)
}

func safeVerify(p *pkcs7.PKCS7) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed CMS (%v)", r)
		}
	}()
	return p.Verify()
}

// essMatches checks an ESS signing-certificate(-v2) attribute value against the signer.
func essMatches(b []byte, signer *x509.Certificate, v2 bool) int {
	type essCertID struct {
		HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"`
		CertHash      []byte
		IssuerSerial  asn1.RawValue `asn1:"optional"`
	}
	type essCertIDv1 struct {
		CertHash     []byte
		IssuerSerial asn1.RawValue `asn1:"optional"`
	}
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(b, &seq); err != nil {
		return -1
	}
	var certs asn1.RawValue
	if _, err := asn1.Unmarshal(seq.Bytes, &certs); err != nil {
		return -1
	}
	rest := certs.Bytes
	if len(rest) == 0 {
		return -1
	}
	var first asn1.RawValue
	if _, err := asn1.Unmarshal(rest, &first); err != nil {
		return -1
	}
	var h crypto.Hash
	var want []byte
	if v2 {
		var id essCertID
		if _, err := asn1.Unmarshal(first.FullBytes, &id); err != nil {
			return -1
		}
		h = crypto.SHA256
		if len(id.HashAlgorithm.Algorithm) > 0 {
			h = hashFor(id.HashAlgorithm.Algorithm)
		}
		want = id.CertHash
	} else {
		var id essCertIDv1
		if _, err := asn1.Unmarshal(first.FullBytes, &id); err != nil {
			return -1
		}
		h, want = crypto.SHA1, id.CertHash
	}
	if h == 0 || !h.Available() {
		return -1
	}
	hh := h.New()
	hh.Write(signer.Raw)
	if bytes.Equal(hh.Sum(nil), want) {
		return 1
	}
	return -1
}

func keyInfo(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	}
	return c.PublicKeyAlgorithm.String(), 0
}

// weakKey names a key too weak to accept (RSA < 2048, ECDSA < 256), or "".
func weakKey(c *x509.Certificate) string {
	alg, bits := keyInfo(c)
	switch {
	case alg == "RSA" && bits < 2048:
		return fmt.Sprintf("RSA key of %d bits", bits)
	case alg == "ECDSA" && bits < 256:
		return fmt.Sprintf("ECDSA key of %d bits", bits)
	}
	return ""
}

func sigAlgName(c *x509.Certificate, h crypto.Hash) string {
	alg, _ := keyInfo(c)
	return alg + "-" + h.String()
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}
