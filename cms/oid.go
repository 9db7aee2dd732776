package cms

import (
	"crypto"
	_ "crypto/sha3" // registers crypto.SHA3_* for crypto.Hash.New
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
	oidSHA3_224            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 7}
	oidSHA3_256            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 8}
	oidSHA3_384            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 9}
	oidSHA3_512            = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 10}
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
	oidEd448               = asn1.ObjectIdentifier{1, 3, 101, 113}
	oidDSA                 = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	oidDSAWithSHA1         = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 3}
	oidDSAWithSHA256       = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 2}
	// NIST signature algorithms with SHA-3 (CSOR): ECDSA and RSASSA-PKCS1-v1_5.
	oidECDSAWithSHA3_224 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 9}
	oidECDSAWithSHA3_256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 10}
	oidECDSAWithSHA3_384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 11}
	oidECDSAWithSHA3_512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 12}
	oidRSAWithSHA3_224   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 13}
	oidRSAWithSHA3_256   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 14}
	oidRSAWithSHA3_384   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 15}
	oidRSAWithSHA3_512   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 16}
)

// Named elliptic curves crypto/x509 does not parse, by name, so a report can say which
// curve it cannot verify.
var unsupportedCurves = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, "brainpoolP256r1"},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 9}, "brainpoolP320r1"},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, "brainpoolP384r1"},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 13}, "brainpoolP512r1"},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 10}, "secp256k1"},
}

// Curves crypto/x509 parses (P-224, P-256, P-384, P-521).
var supportedCurves = []asn1.ObjectIdentifier{
	{1, 3, 132, 0, 33}, {1, 2, 840, 10045, 3, 1, 7}, {1, 3, 132, 0, 34}, {1, 3, 132, 0, 35},
}

var digestOIDs = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
	name string
}{
	{oidSHA256, crypto.SHA256, "SHA-256"},
	{oidSHA384, crypto.SHA384, "SHA-384"},
	{oidSHA512, crypto.SHA512, "SHA-512"},
	{oidSHA224, crypto.SHA224, "SHA-224"},
	{oidSHA3_256, crypto.SHA3_256, "SHA3-256"},
	{oidSHA3_384, crypto.SHA3_384, "SHA3-384"},
	{oidSHA3_512, crypto.SHA3_512, "SHA3-512"},
	{oidSHA3_224, crypto.SHA3_224, "SHA3-224"},
	{oidSHA1, crypto.SHA1, "SHA-1"},
	{oidMD5, crypto.MD5, "MD5"},
}

// HashForOID returns the hash a digest algorithm OID names (SHA-1, SHA-2, SHA-3, MD5), or
// 0 when the OID is not one of them.
func HashForOID(oid asn1.ObjectIdentifier) crypto.Hash { return hashForOID(oid) }

// OIDForHash returns the digest algorithm OID of h, or nil for a hash HashForOID does not
// know.
func OIDForHash(h crypto.Hash) asn1.ObjectIdentifier { return oidForHash(h) }

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
	kindDSA   // recognised, not verified (crypto/dsa is deprecated)
	kindEd448 // recognised, not verified (not in the standard library)
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
	{oidRSAWithSHA3_256, kindRSA, crypto.SHA3_256, "id-rsassa-pkcs1-v1_5-with-sha3-256"},
	{oidRSAWithSHA3_384, kindRSA, crypto.SHA3_384, "id-rsassa-pkcs1-v1_5-with-sha3-384"},
	{oidRSAWithSHA3_512, kindRSA, crypto.SHA3_512, "id-rsassa-pkcs1-v1_5-with-sha3-512"},
	{oidRSAWithSHA3_224, kindRSA, crypto.SHA3_224, "id-rsassa-pkcs1-v1_5-with-sha3-224"},
	{oidECDSAWithSHA3_256, kindECDSA, crypto.SHA3_256, "id-ecdsa-with-sha3-256"},
	{oidECDSAWithSHA3_384, kindECDSA, crypto.SHA3_384, "id-ecdsa-with-sha3-384"},
	{oidECDSAWithSHA3_512, kindECDSA, crypto.SHA3_512, "id-ecdsa-with-sha3-512"},
	{oidECDSAWithSHA3_224, kindECDSA, crypto.SHA3_224, "id-ecdsa-with-sha3-224"},
	{oidEd25519, kindEd25519, 0, "Ed25519"},
	{oidEd448, kindEd448, 0, "Ed448"},
	{oidDSA, kindDSA, 0, "dsa"},
	{oidDSAWithSHA1, kindDSA, crypto.SHA1, "dsa-with-sha1"},
	{oidDSAWithSHA256, kindDSA, crypto.SHA256, "dsa-with-sha256"},
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
