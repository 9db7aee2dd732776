package cms

import (
	"fmt"

	"github.com/chungthuc/chungthuc"
)

// Reason classifies a failure, so a verifier can map it to an ETSI sub-indication.
type Reason string

// Reasons. Each has a sentinel error below for errors.Is.
const (
	ReasonMalformed          Reason = "malformed"             // not valid BER/DER or not a well-formed SignedData
	ReasonTooLarge           Reason = "too_large"             // input above MaxDERSize or a count limit
	ReasonUnsupported        Reason = "unsupported"           // a structure or signing option this package does not handle
	ReasonUnsupportedAlg     Reason = "unsupported_algorithm" // a digest, signature or key algorithm this package cannot verify
	ReasonWeakAlgorithm      Reason = "weak_algorithm"        // SHA-1, MD5, RSA below 2048 bits, ECDSA below 256 bits
	ReasonSignerNotFound     Reason = "signer_not_found"      // no certificate matches the signer identifier
	ReasonSigningCertificate Reason = "signing_certificate"   // signing-certificate(-v2) attribute does not match the signer certificate
	ReasonDigestMismatch     Reason = "digest_mismatch"       // message-digest differs from the content digest
	ReasonBadSignature       Reason = "bad_signature"         // the signature value does not verify
	ReasonInvalidOptions     Reason = "invalid_options"       // SignOptions unusable (no key, no chain, key does not match certificate)
	ReasonSignerFailed       Reason = "signer_failed"         // the crypto.Signer returned an error or a wrong signature
)

// Sentinel errors, one per Reason. Compare with errors.Is: every error returned by this
// package matches exactly one of them.
var (
	ErrMalformed          = &Error{Reason: ReasonMalformed}
	ErrTooLarge           = &Error{Reason: ReasonTooLarge}
	ErrUnsupported        = &Error{Reason: ReasonUnsupported}
	ErrUnsupportedAlg     = &Error{Reason: ReasonUnsupportedAlg}
	ErrWeakAlgorithm      = &Error{Reason: ReasonWeakAlgorithm}
	ErrSignerNotFound     = &Error{Reason: ReasonSignerNotFound}
	ErrSigningCertificate = &Error{Reason: ReasonSigningCertificate}
	ErrDigestMismatch     = &Error{Reason: ReasonDigestMismatch}
	ErrBadSignature       = &Error{Reason: ReasonBadSignature}
	ErrInvalidOptions     = &Error{Reason: ReasonInvalidOptions}
	ErrSignerFailed       = &Error{Reason: ReasonSignerFailed}
)

// Error is a CMS failure: a Reason and a detail message. Err, if set, is the underlying
// cause (for example the error of a crypto.Signer) and is reachable with errors.Unwrap.
type Error struct {
	Reason Reason
	Detail string
	Err    error
}

// Error implements the error interface.
func (e *Error) Error() string {
	s := "cms: " + string(e.Reason)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is the sentinel of the same Reason.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Detail == "" && t.Err == nil && t.Reason == e.Reason
}

// Unwrap returns the cause (if any) and a *chungthuc.Error with the code matching the
// Reason, so the HTTP and CLI layers can map a CMS failure without knowing this package.
func (e *Error) Unwrap() []error {
	errs := []error{}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	// A cause that already carries a domain code (an unavailable HSM) keeps it first.
	return append(errs, &chungthuc.Error{Code: e.Code(), Message: e.message()})
}

// Code returns the chungthuc error code for the Reason.
func (e *Error) Code() string {
	switch e.Reason {
	case ReasonTooLarge:
		return chungthuc.ETOOLARGE
	case ReasonUnsupported, ReasonUnsupportedAlg, ReasonWeakAlgorithm:
		return chungthuc.EUNSUPPORTED
	case ReasonSignerFailed:
		return chungthuc.EINTERNAL
	default:
		return chungthuc.EINVALID
	}
}

func (e *Error) message() string {
	switch e.Reason {
	case ReasonMalformed:
		return "The signature is malformed."
	case ReasonTooLarge:
		return "The signature is too large."
	case ReasonUnsupported:
		return "The signature uses an unsupported structure."
	case ReasonUnsupportedAlg:
		return "The signature uses an algorithm this service cannot verify."
	case ReasonWeakAlgorithm:
		return "The signature uses a weak algorithm."
	case ReasonSignerNotFound:
		return "The signer's certificate is missing from the signature."
	case ReasonSigningCertificate:
		return "The signature names a different signing certificate."
	case ReasonDigestMismatch:
		return "The signed content has been changed."
	case ReasonBadSignature:
		return "The signature value is invalid."
	case ReasonInvalidOptions:
		return "The signing key or certificate is unusable: " + e.Detail + "."
	default:
		return "The signature could not be created."
	}
}

func errorf(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}

func malformed(format string, args ...any) *Error {
	return errorf(ReasonMalformed, format, args...)
}
