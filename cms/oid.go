package cms

import (
	"crypto"
	"encoding/asn1"
)

// Object identifiers used by this package.
var (
	OIDData                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDAttrContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDAttrMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDAttrSigningTime     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDAttrSigningCert     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	OIDAttrSigningCertV2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	OIDAttrTimeStampToken  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	OIDAttrAdobeRevocation = asn1.ObjectIdentifier{1, 2, 840, 113583, 1, 1, 8}
	oidMD5                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	oidSHA1                = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidRSAEncryption       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidMD5WithRSA          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}
	oidSHA1WithRSA         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidRSAPSS              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidSHA256WithRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidSHA224WithRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}
	oidMGF1                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidECPublicKey         = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA1       = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSAWithSHA224     = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}
	oidECDSAWithSHA256     = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384     = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512     = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519             = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidDSA                 = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	oidDSAWithSHA1         = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 3}
)

var digestOIDs = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
	name string
}{
	{oidSHA256, crypto.SHA256, "SHA-256"},
	{oidSHA384, crypto.SHA384, "SHA-384"},
	{oidSHA512, crypto.SHA512, "SHA-512"},
	{oidSHA224, crypto.SHA224, "SHA-224"},
	{oidSHA1, crypto.SHA1, "SHA-1"},
	{oidMD5, crypto.MD5, "MD5"},
}

// hashForOID returns the hash of a digest algorithm OID, 0 if unknown.
func hashForOID(oid asn1.ObjectIdentifier) crypto.Hash {
	for _, d := range digestOIDs {
		if d.oid.Equal(oid) {
			return d.hash
		}
	}
	return 0
}

func oidForHash(h crypto.Hash) asn1.ObjectIdentifier {
	for _, d := range digestOIDs {
		if d.hash == h {
			return d.oid
		}
	}
	return nil
}

// keyKind is the public-key family a signature algorithm needs.
type keyKind int

const (
	kindUnknown keyKind = iota
	kindRSA             // RSASSA-PKCS1-v1_5
	kindRSAPSS          // RSASSA-PSS, parameters in the AlgorithmIdentifier
	kindECDSA
	kindEd25519
	kindDSA
)

// sigAlgs lists the signature algorithm OIDs this package recognises. hash is the hash the
// OID fixes (0: taken from the digestAlgorithm field).
var sigAlgs = []struct {
	oid  asn1.ObjectIdentifier
	kind keyKind
	hash crypto.Hash
	name string
}{
	{oidSHA256WithRSA, kindRSA, crypto.SHA256, "sha256WithRSAEncryption"},
	{oidSHA384WithRSA, kindRSA, crypto.SHA384, "sha384WithRSAEncryption"},
	{oidSHA512WithRSA, kindRSA, crypto.SHA512, "sha512WithRSAEncryption"},
	{oidSHA224WithRSA, kindRSA, crypto.SHA224, "sha224WithRSAEncryption"},
	{oidSHA1WithRSA, kindRSA, crypto.SHA1, "sha1WithRSAEncryption"},
	{oidMD5WithRSA, kindRSA, crypto.MD5, "md5WithRSAEncryption"},
	{oidRSAEncryption, kindRSA, 0, "rsaEncryption"},
	{oidRSAPSS, kindRSAPSS, 0, "RSASSA-PSS"},
	{oidECDSAWithSHA256, kindECDSA, crypto.SHA256, "ecdsa-with-SHA256"},
	{oidECDSAWithSHA384, kindECDSA, crypto.SHA384, "ecdsa-with-SHA384"},
	{oidECDSAWithSHA512, kindECDSA, crypto.SHA512, "ecdsa-with-SHA512"},
	{oidECDSAWithSHA224, kindECDSA, crypto.SHA224, "ecdsa-with-SHA224"},
	{oidECDSAWithSHA1, kindECDSA, crypto.SHA1, "ecdsa-with-SHA1"},
	{oidECPublicKey, kindECDSA, 0, "ecPublicKey"},
	{oidEd25519, kindEd25519, 0, "Ed25519"},
	{oidDSA, kindDSA, 0, "dsa"},
	{oidDSAWithSHA1, kindDSA, crypto.SHA1, "dsa-with-sha1"},
}

func lookupSigAlg(oid asn1.ObjectIdentifier) (kind keyKind, hash crypto.Hash, name string) {
	for _, a := range sigAlgs {
		if a.oid.Equal(oid) {
			return a.kind, a.hash, a.name
		}
	}
	return kindUnknown, 0, oid.String()
}

// weakHash reports whether h is too weak for a signature (collisions are practical).
func weakHash(h crypto.Hash) bool { return h == crypto.MD5 || h == crypto.SHA1 }
