// Package certs turns key material into the two things the signing code may hold: a
// crypto.Signer and its certificate chain (chungthuc.SigningKey). It never hands out key
// bytes.
//
// Sources of keys:
//   - DevPKI: a development PKI on disk (root CA, one electronic-seal certificate per unit,
//     one personal certificate per officer) that the embedded default creates on first
//     start. It implements chungthuc.KeyStore.
//   - LoadPEM and LoadPKCS12: production keys and chains from files, checked against their
//     certificates (CheckKeyMatchesCert) before use; a key configuration (ReadKeyConfig,
//     KeyConfig.Open) maps units and officers to such files and to PKCS#11 tokens.
//   - PKCS#11 tokens, OCSP/CRL fetching and the timestamp client live in their own files of
//     this package.
//
// Trust: TrustPool builds the service's one trust pool at start-up from the configured
// trust anchors (LoadTrustAnchors: a PEM bundle or a directory), the development root when
// the development PKI is in use, and the roots of the configured keys' chains; the same
// pool serves verification, archive renewal and revocation fetching. The service never
// trusts "any CA".
//
// Revocation data: RevocationRouter answers for the development PKI's certificates
// in-process and fetches the others' OCSP responses and CRLs with RevocationFetcher, whose
// connections pass the one address guard (PublicAddress, checked at dial time) — the
// addresses come from certificates, so they are not trusted.
//
// Names in certificates are Vietnamese: every DirectoryString attribute this package writes
// is an NFC-normalised UTF8String, so "Trần Văn Nghĩa" or "Lê Thị Ĩ" read back byte for byte.
//
// Failures a user or operator can act on are *chungthuc.Error: EINVALID for malformed or
// mismatched material, ENOTFOUND for missing files or keys, EUNAUTHORIZED for a wrong
// password, EUNSUPPORTED for formats this package refuses, EUNAVAILABLE when a key cannot
// sign. Messages name files and certificate subjects, never key material or passwords.
package certs
