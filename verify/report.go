package verify

import (
	"crypto/x509"
	"encoding/hex"
	"time"
)

// ReportVersion names the JSON report format described in REPORT.md. It changes when a
// field is removed or changes meaning; added fields keep the version.
const ReportVersion = "chungthuc-verify/2"

// Indications (ETSI EN 319 102-1 §5.1.3).
const (
	TotalPassed   = "TOTAL_PASSED"
	TotalFailed   = "TOTAL_FAILED"
	Indeterminate = "INDETERMINATE"
)

// Sub-indications used by the engine. Most are ETSI EN 319 102-1 names; the last two are
// extensions documented in REPORT.md.
const (
	SubFormatFailure         = "FORMAT_FAILURE"
	SubHashFailure           = "HASH_FAILURE"
	SubSigCryptoFailure      = "SIG_CRYPTO_FAILURE"
	SubRevoked               = "REVOKED"
	SubExpired               = "EXPIRED"
	SubNotYetValid           = "NOT_YET_VALID"
	SubSigConstraintsFailure = "SIG_CONSTRAINTS_FAILURE"
	SubCryptoConstraints     = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
	SubNoCertificateChain    = "NO_CERTIFICATE_CHAIN_FOUND"
	SubChainGeneralFailure   = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
	SubNoSigningCertificate  = "NO_SIGNING_CERTIFICATE_FOUND"
	SubOutOfBoundsNoPOE      = "OUT_OF_BOUNDS_NO_POE"
	SubTryLater              = "TRY_LATER"
	SubRevokedNoPOE          = "REVOKED_NO_POE"
	SubTimestampOrder        = "TIMESTAMP_ORDER_FAILURE"
	// SubModifiedAfterSigning: the signature is intact over its revision, but a later
	// revision changes what the document shows (or breaks DocMDP). Indication TOTAL_FAILED.
	SubModifiedAfterSigning = "MODIFIED_AFTER_SIGNING"
	// SubNoSignature: the file has no signature at all. Indication INDETERMINATE.
	SubNoSignature = "NO_SIGNATURE"
)

// Check statuses.
const (
	CheckPassed  = "passed"
	CheckFailed  = "failed"
	CheckWarning = "warning"
	CheckUnknown = "unknown" // could not be decided (e.g. revocation status unreachable)
	CheckSkipped = "skipped" // not applicable or not requested
)

// Report is the verdict on one file. Its JSON form is documented in REPORT.md.
type Report struct {
	Version string `json:"version"`
	// Valid is the one-bit answer: true only if there is at least one signature, every
	// signature is TOTAL_PASSED (intact, unmodified afterwards, trusted chain), the last
	// signature covers the whole file (or only allowed validation data follows it), and,
	// when a register lookup was given, the file's hash is a non-revoked register entry.
	Valid         bool   `json:"valid"`
	Indication    string `json:"indication"`
	SubIndication string `json:"sub_indication,omitempty"`
	SummaryVI     string `json:"summary_vi"`
	SummaryEN     string `json:"summary_en"`

	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	CheckedAt time.Time `json:"checked_at"`
	// Revisions counts the incremental revisions (one per %%EOF that ends a readable
	// revision).
	Revisions int `json:"revisions"`

	Signatures []SignatureReport `json:"signatures"`
	Register   *RegisterReport   `json:"register,omitempty"`
	// Checks are the document-level checks, in the order performed.
	Checks []Check `json:"checks"`
}

// Check is one thing the engine checked and what it found.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// SignatureReport is the verdict on one signature (or document timestamp).
type SignatureReport struct {
	Index         int    `json:"index"` // 1-based, in the order of the bytes they sign
	Field         string `json:"field,omitempty"`
	Kind          string `json:"kind"` // "certification", "approval" or "document_timestamp"
	SubFilter     string `json:"sub_filter,omitempty"`
	Indication    string `json:"indication"`
	SubIndication string `json:"sub_indication,omitempty"`
	SummaryVI     string `json:"summary_vi"`
	SummaryEN     string `json:"summary_en"`

	Signer *CertInfo  `json:"signer,omitempty"`
	Chain  []CertInfo `json:"chain,omitempty"` // leaf first, trust anchor last
	// Trusted is true when the chain reaches a configured trust anchor.
	Trusted bool `json:"trusted"`

	// ClaimedSigningTime is the signer's own claim (/M, or the CMS signingTime attribute);
	// it proves nothing.
	ClaimedSigningTime *time.Time `json:"claimed_signing_time,omitempty"`
	// BestSignatureTime is the earliest time a trusted time-stamp proves the signature
	// (or document time-stamp) existed; POESource names that time-stamp:
	// "signature_timestamp" or "document_timestamp:<index>". Absent without proof.
	BestSignatureTime *time.Time `json:"best_signature_time,omitempty"`
	POESource         string     `json:"poe_source,omitempty"`
	// ValidationTime is the time the chain was validated at: the best signature time
	// when there is one (and it is not in the future), else the validation time; for a
	// document time-stamp, the time proven by the next one, else the validation time.
	ValidationTime     *time.Time       `json:"validation_time,omitempty"`
	Timestamp          *TimestampInfo   `json:"timestamp,omitempty"`
	Name               string           `json:"name,omitempty"`
	Reason             string           `json:"reason,omitempty"`
	Location           string           `json:"location,omitempty"`
	DigestAlgorithm    string           `json:"digest_algorithm,omitempty"`
	SignatureAlgorithm string           `json:"signature_algorithm,omitempty"`
	ByteRange          []int64          `json:"byte_range,omitempty"`
	Integrity          string           `json:"integrity"` // "intact", "broken" or "unchecked"
	Revision           int              `json:"revision,omitempty"`
	SignedBytes        int64            `json:"signed_bytes"`
	CoversWholeFile    bool             `json:"covers_whole_file"`
	DocMDP             *DocMDPInfo      `json:"docmdp,omitempty"`
	Revocation         []RevocationInfo `json:"revocation,omitempty"`
	// ModifiedAfterSigning is true when a later revision changes what the document shows.
	ModifiedAfterSigning bool `json:"modified_after_signing"`
	// ChangesAfter lists every object changed by later revisions, allowed or not.
	ChangesAfter []Change `json:"changes_after,omitempty"`
	Checks       []Check  `json:"checks"`
}

// CertInfo describes a certificate.
type CertInfo struct {
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer"`
	Serial       string    `json:"serial"` // hexadecimal
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	SHA256       string    `json:"sha256"`
	KeyAlgorithm string    `json:"key_algorithm"`
	KeyBits      int       `json:"key_bits,omitempty"`
}

// TimestampInfo describes a signature timestamp or a document timestamp token.
type TimestampInfo struct {
	Time    time.Time `json:"time"`
	TSA     *CertInfo `json:"tsa,omitempty"`
	Valid   bool      `json:"valid"`   // imprint matches and the token's signature verifies
	Trusted bool      `json:"trusted"` // the TSA chains to a trust anchor at ValidatedAt, not revoked then
	// ValidatedAt is when the TSA's chain was checked: the time proven by a later
	// document time-stamp (ProvenBy, its index), else the validation time.
	ValidatedAt *time.Time `json:"validated_at,omitempty"`
	ProvenBy    int        `json:"proven_by,omitempty"`
	Problem     string     `json:"problem,omitempty"`
}

// DocMDPInfo describes the permissions of a certification signature.
type DocMDPInfo struct {
	P        int  `json:"p"` // 1 no changes, 2 forms and signing, 3 also annotations
	Violated bool `json:"violated"`
}

// RevocationInfo is the revocation status of one certificate of a chain.
type RevocationInfo struct {
	Subject   string     `json:"subject"`
	Status    string     `json:"status"` // "good", "revoked", "unknown", "not_applicable"
	Source    string     `json:"source,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Reason    int        `json:"reason,omitempty"` // CRL reason code (RFC 5280 5.3.1) of a revocation
	// CheckedAt is the time the status was needed for (best signature time or
	// validation time); ThisUpdate and NextUpdate are those of the answer used.
	CheckedAt  *time.Time `json:"checked_at,omitempty"`
	ThisUpdate *time.Time `json:"this_update,omitempty"`
	NextUpdate *time.Time `json:"next_update,omitempty"`
	Detail     string     `json:"detail,omitempty"`
}

// Change is one object changed after a signature.
type Change struct {
	Object   int    `json:"object"`
	Category string `json:"category"` // signature, dss, metadata, page, content, annotation, form, font, image, catalog, structure, other
	Allowed  bool   `json:"allowed"`
	Detail   string `json:"detail,omitempty"`
}

// RegisterReport is the result of the register check.
type RegisterReport struct {
	// Status: "certified", "revoked", "not_registered", "not_issued" (pending or void
	// entry) or "unavailable" (the lookup failed).
	Status       string     `json:"status"`
	Unit         string     `json:"unit,omitempty"`
	Number       int64      `json:"number,omitempty"`
	Book         string     `json:"book,omitempty"`
	CertifiedAt  *time.Time `json:"certified_at,omitempty"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
	// Log is set when the entry is in a signed checkpoint of the public log (the message
	// then says "in the public log at index i, checkpoint of …").
	Log       *LogInclusion `json:"log,omitempty"`
	MessageVI string        `json:"message_vi"`
	MessageEN string        `json:"message_en"`
}

func certInfo(c *x509.Certificate) *CertInfo {
	if c == nil {
		return nil
	}
	ci := &CertInfo{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		NotBefore: c.NotBefore.UTC(),
		NotAfter:  c.NotAfter.UTC(),
		SHA256:    hex.EncodeToString(sha256Sum(c.Raw)),
	}
	if c.SerialNumber != nil {
		ci.Serial = c.SerialNumber.Text(16)
	}
	ci.KeyAlgorithm, ci.KeyBits = keyInfo(c)
	return ci
}
