package translog

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chungthuc/chungthuc"
)

// LeafVersion tags the leaf encoding; a different encoding gets a different tag.
const LeafVersion = "chungthuc/leaf/1"

// Events recorded as leaves.
const (
	EventIssued     = "issued"      // a copy was issued (its number is used by a valid copy)
	EventVoid       = "void"        // a reserved number was voided (the numbering stays gapless)
	EventRevoked    = "revoked"     // an issued copy was revoked
	EventVersion    = "version"     // archive renewal added a version of an issued copy
	EventBookClosed = "book_closed" // a register book was closed
	// EventReconciled records that `chungthuc reconcile` replayed the leaves
	// [RestoredFrom, RestoredTo) from the object store into a register restored from an
	// older backup: the audit entries those leaves anchor were lost with the backup.
	EventReconciled = "reconciled"
)

// TimeLayout is how times are written in leaves: UTC with exactly six fractional digits
// (the precision both registers keep).
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// FormatTime writes t in TimeLayout.
func FormatTime(t time.Time) string { return t.UTC().Truncate(time.Microsecond).Format(TimeLayout) }

// ParseTime reads a time written by FormatTime.
func ParseTime(s string) (time.Time, error) { return time.Parse(TimeLayout, s) }

// AuditAnchor names the audit entry written in the same transaction as a leaf: rewriting
// the hash-chained audit log (and rehashing the chain after the edit) then contradicts the
// log.
type AuditAnchor struct {
	ID   int64  `json:"id"`
	Hash string `json:"hash"`
}

// Commitments are the private fields of an entry, each committed as
// SHA-256("chungthuc/private/1" ‖ token ‖ field name ‖ value) with every part
// length-prefixed (see Commit): whoever holds the token (the citizen, the register) can
// check a value; nobody else can test guesses.
type Commitments struct {
	AccessCodeHash string `json:"access_code_hash"`
	Title          string `json:"title"`
	Issuer         string `json:"issuer"`
	Requester      string `json:"requester"`
}

// Leaf is one event of the register. Which fields are set depends on Event; empty fields
// are omitted from the encoding.
type Leaf struct {
	V      string `json:"v"`     // LeafVersion
	Event  string `json:"event"` // one of the Event constants
	Time   string `json:"time"`  // when the event was recorded (TimeLayout)
	Unit   string `json:"unit"`  // the unit's code
	Year   int    `json:"year,omitempty"`
	Number int64  `json:"number,omitempty"`
	Book   string `json:"book,omitempty"` // book code

	// Certification events (issued, void, revoked, version): the entry as it stands.
	CertifiedAt  string       `json:"certified_at,omitempty"`
	TokenSHA256  string       `json:"token_sha256,omitempty"` // hex SHA-256 of the verification token
	CopySHA256   string       `json:"copy_sha256,omitempty"`  // the signed copy ("" when a void entry had none)
	OfficerID    int64        `json:"officer_id,omitempty"`
	OfficerName  string       `json:"officer_name,omitempty"`
	OfficerTitle string       `json:"officer_title,omitempty"`
	Pages        int          `json:"pages,omitempty"`
	FeeVND       int64        `json:"fee_vnd,omitempty"`
	Copies       int          `json:"copies,omitempty"`     // copies under this number; omitted when 1 (leaves from before it was kept)
	Reason       string       `json:"reason,omitempty"`     // void or revocation reason
	RevokedAt    string       `json:"revoked_at,omitempty"` // revoked
	Version      string       `json:"version_sha256,omitempty"`
	Private      *Commitments `json:"private,omitempty"`

	// book_closed.
	FirstNumber  int64  `json:"first_number,omitempty"`
	LastNumber   int64  `json:"last_number,omitempty"`
	ClosingCount int64  `json:"closing_count,omitempty"`
	ClosedAt     string `json:"closed_at,omitempty"`

	// reconciled.
	RestoredFrom int64  `json:"restored_from,omitempty"`
	RestoredTo   int64  `json:"restored_to,omitempty"`
	Note         string `json:"note,omitempty"`

	Audit AuditAnchor `json:"audit"`
}

// Opening is what the register keeps next to a leaf and the object store's bundles carry
// (never published): the values the leaf's Commitments hide, and where the entry's objects
// are, so that a lost row can be rebuilt exactly.
type Opening struct {
	Token          string   `json:"token"`
	AccessCodeHash string   `json:"access_code_hash"`
	Title          string   `json:"title"`
	Issuer         string   `json:"issuer"`
	Requester      string   `json:"requester"`
	ObjectKey      string   `json:"object_key,omitempty"` // the copy (or, for a version, the version's object)
	ScanKeys       []string `json:"scan_keys,omitempty"`
}

// Encode returns the canonical encoding of l: JSON with the fields in declaration order, no
// HTML escaping, no insignificant white space. Encode(Parse(b)) == b for every b Parse
// accepts.
func (l *Leaf) Encode() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// ParseLeaf decodes a leaf and checks that it is canonical (re-encoding gives the same
// bytes), of this version and of a known event. EINVALID otherwise.
func ParseLeaf(data []byte) (*Leaf, error) {
	var l Leaf
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "malformed log leaf: %v", err)
	}
	if l.V != LeafVersion {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "log leaf of unknown version %q", l.V)
	}
	switch l.Event {
	case EventIssued, EventVoid, EventRevoked, EventVersion, EventBookClosed, EventReconciled:
	default:
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "log leaf of unknown event %q", l.Event)
	}
	again, err := l.Encode()
	if err != nil || !bytes.Equal(again, data) {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "log leaf is not in canonical form")
	}
	return &l, nil
}

// ParseOpening decodes the private part kept next to a leaf (EINVALID when malformed).
func ParseOpening(data []byte) (*Opening, error) {
	var o Opening
	if len(data) == 0 {
		return &o, nil
	}
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "malformed leaf opening: %v", err)
	}
	return &o, nil
}

// Encode returns the opening's JSON.
func (o *Opening) Encode() []byte {
	b, _ := json.Marshal(o) // strings only: cannot fail
	return b
}

// Commit returns the commitment to one private field of the entry with this token.
func Commit(token, field, value string) string {
	h := sha256.New()
	for _, s := range []string{"chungthuc/private/1", token, field, value} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Commitments returns the commitments to o's private fields.
func (o *Opening) Commitments() *Commitments {
	return &Commitments{
		AccessCodeHash: Commit(o.Token, "access_code_hash", o.AccessCodeHash),
		Title:          Commit(o.Token, "title", o.Title),
		Issuer:         Commit(o.Token, "issuer", o.Issuer),
		Requester:      Commit(o.Token, "requester", o.Requester),
	}
}

// TokenHash is the hex SHA-256 of a verification token, as leaves carry it.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Anchor returns the anchor of an audit entry (its ID and Hash must be set).
func Anchor(e *chungthuc.AuditEntry) AuditAnchor { return AuditAnchor{ID: e.ID, Hash: e.Hash} }

// CertificationLeaf builds the leaf of a certification event (issued, void, revoked) and
// its opening. c is the entry as it stands after the event; at is when the event is
// recorded; audit is the entry's audit record of the same transaction. EINVALID for an
// unknown event or an entry without an audit anchor.
func CertificationLeaf(event, unitCode string, c *chungthuc.Certification, at time.Time, audit *chungthuc.AuditEntry) (data, private []byte, err error) {
	switch event {
	case EventIssued, EventVoid, EventRevoked:
	default:
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "%q is not a certification event", event)
	}
	o := &Opening{Token: c.Token, AccessCodeHash: c.AccessCodeHash, Title: c.Title, Issuer: c.Issuer,
		Requester: c.Requester, ObjectKey: c.ObjectKey, ScanKeys: c.ScanKeys}
	l := entryLeaf(event, unitCode, c, at, audit)
	l.Private = o.Commitments()
	switch event {
	case EventVoid:
		l.Reason = c.VoidReason
	case EventRevoked:
		l.Reason = c.RevokeReason
		if c.RevokedAt != nil {
			l.RevokedAt = FormatTime(*c.RevokedAt)
		}
	}
	return encode(l, o)
}

// VersionLeaf builds the leaf recording that archive renewal stored a new version (hex
// SHA-256 sha, object key key) of entry c's copy.
func VersionLeaf(unitCode string, c *chungthuc.Certification, sha, key string, at time.Time, audit *chungthuc.AuditEntry) (data, private []byte, err error) {
	l := entryLeaf(EventVersion, unitCode, c, at, audit)
	l.Version = sha
	return encode(l, &Opening{ObjectKey: key})
}

func entryLeaf(event, unitCode string, c *chungthuc.Certification, at time.Time, audit *chungthuc.AuditEntry) *Leaf {
	return &Leaf{
		V: LeafVersion, Event: event, Time: FormatTime(at), Unit: unitCode, Year: c.Year, Number: c.Number,
		Book: c.BookCode, CertifiedAt: FormatTime(c.CertifiedAt), TokenSHA256: TokenHash(c.Token),
		CopySHA256: c.SHA256, OfficerID: c.OfficerID, OfficerName: c.OfficerName, OfficerTitle: c.OfficerTitle,
		Pages: c.Pages, FeeVND: c.FeeVND, Copies: leafCopies(c.Copies), Audit: Anchor(audit),
	}
}

// leafCopies is the copies a leaf records: 0 (omitted) for one copy, so that leaves of
// single copies encode as they did before copies were kept.
func leafCopies(n int) int {
	if n <= 1 {
		return 0
	}
	return n
}

// BookLeaf builds the leaf recording that book b (closed, ClosedAt set) was closed.
func BookLeaf(unitCode string, b *chungthuc.Book, at time.Time, audit *chungthuc.AuditEntry) (data, private []byte, err error) {
	if b.ClosedAt == nil {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "book %s is not closed", b.Code)
	}
	l := &Leaf{V: LeafVersion, Event: EventBookClosed, Time: FormatTime(at), Unit: unitCode, Year: b.Year, Book: b.Code,
		FirstNumber: b.FirstNumber, LastNumber: b.LastNumber, ClosingCount: b.ClosingCount,
		ClosedAt: FormatTime(*b.ClosedAt), Audit: Anchor(audit)}
	return encode(l, nil)
}

// ReconciledLeaf builds the leaf recording that leaves [from, to) were replayed from the
// object store into a restored register.
func ReconciledLeaf(from, to int64, note string, at time.Time, audit *chungthuc.AuditEntry) (data, private []byte, err error) {
	l := &Leaf{V: LeafVersion, Event: EventReconciled, Time: FormatTime(at), Unit: "-",
		RestoredFrom: from, RestoredTo: to, Note: note, Audit: Anchor(audit)}
	return encode(l, nil)
}

func encode(l *Leaf, o *Opening) ([]byte, []byte, error) {
	if l.Audit.ID <= 0 || l.Audit.Hash == "" {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "a log leaf needs the audit entry of its transaction")
	}
	data, err := l.Encode()
	if err != nil {
		return nil, nil, fmt.Errorf("translog: encode leaf: %w", err)
	}
	var private []byte
	if o != nil {
		private = o.Encode()
	}
	return data, private, nil
}
