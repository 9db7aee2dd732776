// Package cms builds and parses CMS SignedData (RFC 5652) as used inside PDF signatures.
//
// Building follows the PAdES baseline B-B profile (ETSI EN 319 142-1, which points to the
// CAdES rules of ETSI EN 319 122-1): a detached signature whose signed attributes are
// exactly content-type (id-data), message-digest and signing-certificate-v2, DER-sorted,
// with no signing-time attribute (PAdES puts the claimed signing time in the signature
// dictionary's /M entry instead). The private key is used only through crypto.Signer and
// exactly once per signature, so a PKCS#11 token or an HSM works and is not asked twice;
// MaxSize predicts the size of the result without touching the key, so the PDF placeholder
// can be reserved first.
//
// Parsing is written for hostile input: DER only, a size cap (MaxDERSize), bounded counts
// of certificates, signers and attributes, no recursion beyond the fixed CMS structure, and
// no panics. Trailing zero bytes (the padding of a PDF /Contents placeholder) are accepted
// and reported; any other trailing byte is refused.
//
// Every error this package returns wraps an *Error whose Reason tells a verifier which
// sub-indication to report (errors.Is(err, ErrDigestMismatch) and so on), and which also
// unwraps to a *chungthuc.Error carrying a user-facing code.
package cms
