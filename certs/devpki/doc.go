// Package devpki is the development certification authority of the embedded default —
// never for real certification: a root CA on disk, one electronic-seal certificate per
// unit and one personal certificate per officer (PKI implements chungthuc.KeyStore), their
// revocation (revoked.json, OCSP responses and CRLs, chungthuc.RevocationSource in
// process), and a time-stamping authority (in process and as an RFC 3161 handler).
// PKI.Handler serves the root, the CRL, OCSP and the TSA under /pki/.
//
// The service opens it only when no key configuration is given, or when the key
// configuration asks for it as a fallback (cmd/chungthuc keys.go); otherwise nothing of it
// exists on disk or on the network.
//
// It is a leaf package (it imports the domain and cms/tsp, not certs), so that production
// key code never depends on it and certs' tests can use it as a fixture.
//
// Names in certificates are Vietnamese: every DirectoryString attribute it writes is an
// NFC-normalised UTF8String, so "Trần Văn Nghĩa" or "Lê Thị Ĩ" read back byte for byte.
//
// Failures a user or operator can act on are *chungthuc.Error: EINVALID for malformed or
// mismatched files and bad names or unit codes, ENOTFOUND for missing files, EUNAVAILABLE
// when a key cannot sign. Messages name files and certificate subjects, never key material.
package devpki
