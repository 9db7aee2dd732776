// Package cms builds and parses CMS SignedData (RFC 5652) as used inside PDF signatures
// and RFC 3161 time-stamp tokens; package tsp adds the time-stamp protocol on top. It is
// the one CMS implementation of the service: the signer, the verifier, the TSA client and
// the development TSA all use it, so a token one accepts is a token the others accept.
//
// Building follows the PAdES baseline B-B profile (ETSI EN 319 142-1, which points to the
// CAdES rules of ETSI EN 319 122-1): a detached signature whose signed attributes are
// exactly content-type (id-data), message-digest and signing-certificate-v2, DER-sorted,
// with no signing-time attribute (PAdES puts the claimed signing time in the signature
// dictionary's /M entry instead). SignEncapsulated makes the same signature over content
// carried inside (a TSTInfo for a time-stamp token). The private key is used only through
// crypto.Signer and exactly once per signature, so a PKCS#11 token or an HSM works and is
// not asked twice. PrepareSignedAttributes and AssembleDetached split SignDetached for a
// key that is elsewhere (a token, a remote-signing service): the attributes and their
// digest go out, the signature value comes back and is verified before anything is built;
// SignDetached is the same two halves around one Sign. MaxSizeWithExtra predicts the size
// of the result without touching the key, so the PDF placeholder can be reserved first.
//
// Parsing is written for hostile input: a size cap (MaxDERSize), bounded counts of
// certificates, signers and attributes, no recursion beyond the fixed CMS structure, and
// no panics. DER is read directly; BER (indefinite lengths, constructed OCTET STRINGs, as
// BouncyCastle and OpenSSL's streaming mode write) is normalised to DER lengths first,
// under bounds of its own (ber.go). The signature over signed attributes is checked over
// the bytes the signer signed: the received ones when they arrived with DER lengths, their
// DER encoding when they arrived in BER (SignerInfo.RawSignedAttrs). Trailing zero bytes
// (the padding of a PDF /Contents placeholder) are accepted and reported; any other
// trailing byte is refused.
//
// Every error this package returns wraps an *Error whose Reason tells a verifier which
// sub-indication to report (errors.Is(err, ErrDigestMismatch) and so on), and which also
// unwraps to a *chungthuc.Error carrying a user-facing code. ErrUnsupportedAlg (an
// algorithm this package cannot verify) is kept apart from ErrMalformed (an encoding that
// is wrong), so a verifier can say "cannot tell" rather than "broken".
package cms
