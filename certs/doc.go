// Package certs is production key material: it turns keys into the two things the signing
// code may hold, a crypto.Signer and its certificate chain (chungthuc.SigningKey), and
// never hands out key bytes. The development CA (root, seals, officer certificates, its
// OCSP responder, CRL and TSA) is the separate package certs/devpki, which this package
// does not import.
//
// Sources of keys:
//   - LoadPEM and LoadPKCS12: keys and chains from files, checked against their
//     certificates (CheckKeyMatchesCert) before use;
//   - OpenPKCS11: a key on a PKCS#11 token;
//   - a key configuration (ReadKeyConfig, KeyConfig.Open) maps units and officers to such
//     files and tokens, with an optional fallback store (the development PKI, when the
//     configuration asks for it).
//
// Services: TSAClient asks an RFC 3161 time-stamping authority; RevocationFetcher fetches
// OCSP responses and CRLs.
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
// Failures a user or operator can act on are *chungthuc.Error: EINVALID for malformed or
// mismatched material, ENOTFOUND for missing files or keys, EUNAUTHORIZED for a wrong
// password, EUNSUPPORTED for formats this package refuses, EUNAVAILABLE when a key cannot
// sign. Messages name files and certificate subjects, never key material or passwords.
package certs
