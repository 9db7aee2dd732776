package verify

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/chungthuc/chungthuc"
)

// Defaults for the limits in Options.
const (
	DefaultMaxSize       = 64 << 20
	DefaultMaxObjects    = 500_000
	DefaultMaxStreamSize = 8 << 20
	DefaultMaxDecoded    = 32 << 20
)

// Options configure one verification. The zero value verifies offline against no trust
// anchor at all (every signature is then at best INDETERMINATE).
type Options struct {
	// Roots are the trust anchors. Signatures whose chain does not reach one of them are
	// INDETERMINATE (NO_CERTIFICATE_CHAIN_FOUND).
	Roots *x509.CertPool
	// UseSystemRoots adds the operating system's pool to Roots. Off by default: a copy is
	// certified by the State's CAs, not by any web CA.
	UseSystemRoots bool
	// Now is the validation time (default time.Now).
	Now func() time.Time

	// MaxSize is the largest file accepted (default DefaultMaxSize); larger → ETOOLARGE.
	MaxSize int64
	// MaxObjects bounds the objects of a revision and the entries of an xref section.
	MaxObjects int
	// MaxStreamSize bounds the decoded size of one stream (decompression bombs; default
	// DefaultMaxStreamSize, 8 MiB).
	MaxStreamSize int64
	// MaxDecoded bounds the decoded bytes of all streams of one verification together —
	// object streams, xref streams, content streams (default DefaultMaxDecoded, 32 MiB,
	// and at least MaxStreamSize): with the file itself, what one request may hold.
	MaxDecoded int64

	// Lookup, when set, finds the register entry of a file by its hex SHA-256. It returns
	// a *chungthuc.Error with code ENOTFOUND when the hash is not registered.
	Lookup func(ctx context.Context, sha256hex string) (*RegisterMatch, error)

	// Revocation, when set, is asked for the status of certificates the file carries no
	// current revocation data for. It is the only way the verifier goes online: the service
	// passes its own source (the development PKI answers in-process; certs.RevocationFetcher
	// fetches with the one address guard). Its OCSP responses and CRLs are checked exactly
	// like embedded ones. Nil: offline.
	Revocation chungthuc.RevocationSource

	// SoftFailRevocation turns "revocation status unknown" for a certificate that names
	// OCSP or CRL locations from INDETERMINATE (TRY_LATER) into a warning.
	SoftFailRevocation bool
}

// RegisterMatch is a register entry found by hash, as the caller's register reports it.
type RegisterMatch struct {
	Unit         string // name of the certifying unit
	Number       int64
	Book         string // book code, e.g. "01/2026-SCTĐT/BS"
	CertifiedAt  time.Time
	Status       chungthuc.Status
	RevokeReason string
	RevokedAt    *time.Time
	// Log, when set, says that the entry's issuing leaf is in a signed checkpoint of the
	// register's public transparency log (the caller checked the inclusion proof).
	Log *LogInclusion
}

// LogInclusion is where a register entry stands in the public transparency log: the index
// of the leaf that issued it and the signed checkpoint whose inclusion proof checked.
type LogInclusion struct {
	Index          int64     `json:"index"`
	CheckpointSize int64     `json:"checkpoint_size"`
	CheckpointTime time.Time `json:"checkpoint_time"`
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxObjects <= 0 {
		o.MaxObjects = DefaultMaxObjects
	}
	if o.MaxStreamSize <= 0 {
		o.MaxStreamSize = DefaultMaxStreamSize
	}
	if o.MaxDecoded <= 0 {
		o.MaxDecoded = max(DefaultMaxDecoded, o.MaxStreamSize)
	}
}

// RegisterEntries is what LookupIn needs of a register (any chungthuc.Register is one).
type RegisterEntries interface {
	CertificationBySHA256(ctx context.Context, sha256 string) (*chungthuc.Certification, error)
	UnitByID(ctx context.Context, id int64) (*chungthuc.Unit, error)
}

var _ RegisterEntries = chungthuc.Register(nil)

// LookupIn adapts a register to Options.Lookup: the entry whose copy (or a later version of
// it) has the hash, with its unit's name. Errors: the register's (ENOTFOUND when the hash is
// not registered).
func LookupIn(reg RegisterEntries) func(ctx context.Context, sha256hex string) (*RegisterMatch, error) {
	return func(ctx context.Context, sum string) (*RegisterMatch, error) {
		c, err := reg.CertificationBySHA256(ctx, sum)
		if err != nil {
			return nil, err
		}
		u, err := reg.UnitByID(ctx, c.UnitID)
		if err != nil {
			return nil, err
		}
		return &RegisterMatch{
			Unit: u.Name, Number: c.Number, Book: c.BookCode, CertifiedAt: c.CertifiedAt,
			Status: c.Status, RevokeReason: c.RevokeReason, RevokedAt: c.RevokedAt,
		}, nil
	}
}
