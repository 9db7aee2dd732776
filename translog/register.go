package translog

import (
	"context"
	"time"

	"github.com/chungthuc/chungthuc"
)

// Counter is one row of the register's number counters: the last number allocated to a
// unit in a year.
type Counter struct {
	UnitID     int64
	Year       int
	LastNumber int64
}

// VersionRecord is one later version of a certified copy (archive renewal).
type VersionRecord struct {
	CertificationID int64
	Seq             int
	SHA256          string
	ObjectKey       string
	CreatedAt       time.Time
}

// Register is what VerifyRegister reads: the log and the rows it must agree with.
// Implemented by storage/sqlite and storage/postgres.
type Register interface {
	chungthuc.RegisterLog
	Units(ctx context.Context) ([]*chungthuc.Unit, error)
	Books(ctx context.Context, unitID int64, year int) ([]*chungthuc.Book, error)
	// ForEachCertification calls fn for every entry, in ID order, in one snapshot.
	ForEachCertification(ctx context.Context, fn func(*chungthuc.Certification) error) error
	// Versions lists every later version of every copy.
	Versions(ctx context.Context) ([]VersionRecord, error)
	// Counters lists the number counters.
	Counters(ctx context.Context) ([]Counter, error)
	// AuditHashes returns the stored hash of each audit entry that exists among ids.
	AuditHashes(ctx context.Context, ids []int64) (map[int64]string, error)
	// VerifyChain is chungthuc.AuditLog's.
	VerifyChain(ctx context.Context) (firstBroken int64, checked int64, err error)
}

// Restorer is what Reconcile writes through. Implemented by storage/sqlite and
// storage/postgres.
type Restorer interface {
	Register
	// ReplayLeaf applies one leaf read from the object store to the register, in one
	// transaction with an audit entry: it re-creates or completes the row the leaf describes
	// (from the opening when it matches the leaf's commitments; otherwise with placeholders
	// marked "restored from the log"), advances the number counter past its number, and
	// appends the leaf, byte for byte, at index idx — which must be the log's size
	// (ECONFLICT otherwise, and when the register contradicts the leaf).
	ReplayLeaf(ctx context.Context, idx int64, data, private []byte) (*ReplayResult, error)
	// AppendReconciled appends the leaf recording that [from, to) were replayed.
	AppendReconciled(ctx context.Context, from, to int64, note string) error
	// RegisterCopy records a signed copy found in the object store with neither a row nor
	// a leaf, as Issued with the number, book, date and officer printed in it, and appends
	// its issued leaf. ECONFLICT when the unit's year already has that number.
	RegisterCopy(ctx context.Context, c *chungthuc.Certification, note string) error
	// CloseGaps records as Void (with their leaves) the numbers below a unit's highest
	// number of a year that have no entry, and steps the number counters up to the highest
	// numbers; it returns the numbers voided. Run after replays and RegisterCopy.
	CloseGaps(ctx context.Context, note string) ([]string, error)
	// ExplainObject records an operator's note for an object no row or leaf accounts for
	// (it then counts as referenced). ECONFLICT when the object already has a note.
	ExplainObject(ctx context.Context, key, note, actor string) error
	// ObjectNotes returns the notes recorded for objects, by key.
	ObjectNotes(ctx context.Context) (map[string]string, error)
}

// ReplayResult says what ReplayLeaf did besides appending the leaf.
type ReplayResult struct {
	Event string `json:"event"`
	// Row names the register entry or book the leaf described ("HB 2026 no. 47"), empty
	// for a reconciled leaf.
	Row string `json:"row,omitempty"`
	// Created is true when the row was re-created (false when an existing row was
	// completed or updated).
	Created bool `json:"created"`
	// Placeholders is set when the opening did not match the leaf (or was missing): the
	// private fields were replaced by "restored from the log" placeholders and the access
	// code must be reissued.
	Placeholders bool `json:"placeholders"`
	// Notes lists what else had to be re-created (a unit, an officer).
	Notes []string `json:"notes,omitempty"`
}

// Restored placeholders written when a leaf's opening is missing or does not match.
const (
	RestoredText       = "(khôi phục từ nhật ký công khai / restored from the public log)"
	RestoredAccessCode = "restored from the log; access code must be reissued"
)
