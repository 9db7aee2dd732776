package chungthuc

import (
	"context"
	"crypto"
	"crypto/x509"
	"io"
	"time"
)

// Clock tells the time; tests fix it.
type Clock func() time.Time

// CertificationFilter selects entries of a unit's register for listing.
type CertificationFilter struct {
	UnitID int64 // required: every query is scoped by unit (0 only for system administrators)
	Year   int   // 0 = any
	Number int64 // 0 = any
	Status Status
	Query  string // substring of title, issuer or requester
	From   time.Time
	To     time.Time
	Offset int
	Limit  int // default 50, max 500
}

// Register is the certification register: units, officers, books, entries, refusals.
// Implementations: storage/sqlite (embedded default) and storage/postgres (production);
// both pass the same conformance suite (storage/registertest). It is the sum of five role
// interfaces, so that each user can ask for only the part it needs: Directory (units and
// officers), Ledger (the writes of the certification workflow), Entries (reading entries),
// Books and Integrity (fsck's findings about stored objects).
//
// Every method returns *Error with ENOTFOUND when a looked-up thing does not exist (never a
// nil result with a nil error), ECONFLICT when state forbids the change, EUNAVAILABLE when the
// database cannot be reached.
type Register interface {
	Directory
	Ledger
	Entries
	Books
	Integrity
	AccessCodes
	Reports
	SignatureWaits
	Close() error
}

// ActionAwaitSignature is the audit action of an entry starting or advancing a wait for a
// signature made outside the service (detail: step, expires_at, number, year).
const ActionAwaitSignature = "certify.await"

// SignatureWaits keeps the waits of entries signed outside the service (see SignatureWait).
// A wait moves officer_signature → seal → closed (or officer_signature → closed); the
// register closes it, and drops its state, in the same transaction as its entry leaves
// Pending (Issue, Void), and refuses to issue an entry still waiting for the officer. Waits
// are never deleted.
type SignatureWaits interface {
	// AwaitSignature records that Pending entry w.CertificationID waits for w.Step until
	// w.ExpiresAt, with w.State (required). StepOfficerSignature starts a wait (ECONFLICT
	// when the entry already has one or is not Pending); StepSeal advances a wait at the
	// officer step (ECONFLICT otherwise) and replaces its state and deadline. It sets
	// UnitID and UpdatedAt, and appends an audit entry (ActionAwaitSignature, actor) in
	// the same transaction. EINVALID for another step, an empty state or actor; ENOTFOUND
	// for an unknown entry.
	AwaitSignature(ctx context.Context, w *SignatureWait, actor string) error
	// SignatureWait returns entry id's wait (closed ones too); ENOTFOUND when it never had one.
	SignatureWait(ctx context.Context, id int64) (*SignatureWait, error)
	// SignatureWaits lists open waits: of one unit (unitID > 0) or all, at one step (""
	// = both), soonest deadline first, at most limit (1 to 1000), without their state
	// (SignatureWait has it: a state holds the prepared file, megabytes).
	SignatureWaits(ctx context.Context, unitID int64, step SignatureStep, limit int) ([]*SignatureWait, error)
	// ExpiredWaits lists open waits whose deadline is at or before now, soonest first, at
	// most limit (1 to 1000), without their state.
	ExpiredWaits(ctx context.Context, now time.Time, limit int) ([]*SignatureWait, error)
}

// ActionAccessCodeReissue is the audit action of a reissued access code.
const ActionAccessCodeReissue = "access_code.reissue"

// AccessCodes keeps the access codes reissued for issued copies. An entry's own
// AccessCodeHash never changes (the public log commits to it); a reissue is a new record
// that voids every code before it.
type AccessCodes interface {
	// ReissueAccessCode makes codeHash the code in force of issued entry id, with an audit
	// entry (action "access_code.reissue", actor, the entry's number and year — never the
	// hash) in the same transaction. ENOTFOUND; ECONFLICT when the entry is not issued;
	// EINVALID for an empty hash or actor.
	ReissueAccessCode(ctx context.Context, id int64, codeHash, actor string) error
	// AccessCodeHash returns the hash of the code in force for entry c: the newest reissue's,
	// else c.AccessCodeHash.
	AccessCodeHash(ctx context.Context, c *Certification) (string, error)
}

// Directory is the register's list of certifying units and their officers.
type Directory interface {
	CreateUnit(ctx context.Context, u *Unit) error // sets ID, CreatedAt
	UnitByCode(ctx context.Context, code string) (*Unit, error)
	UnitByID(ctx context.Context, id int64) (*Unit, error)
	Units(ctx context.Context) ([]*Unit, error)

	CreateOfficer(ctx context.Context, o *Officer) error // sets ID, CreatedAt
	OfficerByID(ctx context.Context, id int64) (*Officer, error)
	SetOfficerCert(ctx context.Context, id int64, certPEM []byte) error
	// SetUnitExternalSigning records the certificate of the unit's seal applied outside the
	// service (PEM, leaf first; empty removes it) and whether API requests that do not
	// choose sign externally by default; audited ("unit.external_signing"). EINVALID when
	// certPEM holds no X.509 certificate, ENOTFOUND for an unknown unit.
	SetUnitExternalSigning(ctx context.Context, id int64, sealCertPEM []byte, byDefault bool) error

	// UpdateUnit records a unit's profile (name, place, body, province, seal image and size,
	// allowed titles); UpdateOfficer an officer's (name, titles, role, active, authority and
	// its decision, signature image). Both validate every printed field (EINVALID) and are
	// audited.
	UpdateUnit(ctx context.Context, u *Unit) error
	UpdateOfficer(ctx context.Context, o *Officer) error
}

// Ledger records the life of register entries: reservation, sealing, issue, void,
// revocation, later versions and refusals. Each change is audit-logged in the same
// transaction.
type Ledger interface {
	// Reserve allocates the next number of c.UnitID for the calendar year of c.CertifiedAt
	// (in Vietnam time) and records c as Pending in the open book of that year (opening
	// book 01 if none is open). It sets ID, Number, Year, BookID, BookCode, Status and
	// CreatedAt. Concurrent calls never share or skip a number.
	Reserve(ctx context.Context, c *Certification) error
	// Seal records the hash and object key of a Pending entry's signed copy before the object
	// is written (so a crash between the two can be repaired by fsck).
	Seal(ctx context.Context, id int64, sha256, objectKey string, scanKeys []string) error
	// Issue turns a sealed Pending entry whose object is stored into Issued, recording the
	// object's version and ETag as the store reported them at Put (either may be empty), so
	// that reads fetch exactly that version. Issue of an entry already Issued succeeds and
	// changes nothing (a retried request); a Void or Revoked entry is ECONFLICT.
	Issue(ctx context.Context, id int64, version, etag string) error
	// Void turns a Pending entry into Void with a reason; its number stays used. ECONFLICT
	// when the entry is no longer Pending.
	Void(ctx context.Context, id int64, reason string) error
	// Revoke turns an Issued entry into Revoked with a reason and time.
	Revoke(ctx context.Context, id int64, reason string, at time.Time) error
	// AddVersion records a later version of an Issued or Revoked entry's copy (archive
	// renewal: the same file with validation data and a new document time-stamp appended),
	// stored under objectKey. EINVALID for a malformed hash or key, ENOTFOUND for an unknown
	// entry, ECONFLICT when the entry has no stored copy or the hash is already registered.
	AddVersion(ctx context.Context, id int64, sha256, objectKey string) error

	// CreateRefusal records a refusal and numbers its slip (Year, Number: per unit and year).
	CreateRefusal(ctx context.Context, r *Refusal) error
	RefusalByID(ctx context.Context, id int64) (*Refusal, error)
	// Refusals lists a unit's refusals recorded in [from, to) (zero = open end), oldest first.
	Refusals(ctx context.Context, unitID int64, from, to time.Time) ([]*Refusal, error)
}

// Entries reads register entries.
type Entries interface {
	CertificationByID(ctx context.Context, id int64) (*Certification, error)
	CertificationByToken(ctx context.Context, token string) (*Certification, error)
	// CertificationBySHA256 finds the entry whose signed copy — or a later version of it
	// recorded with AddVersion — has this hex SHA-256.
	CertificationBySHA256(ctx context.Context, sha256 string) (*Certification, error)
	// Certifications lists entries matching f, newest number first, and the total count.
	Certifications(ctx context.Context, f CertificationFilter) ([]*Certification, int, error)
	// Pending lists entries still Pending that were created before the given time, except
	// those with an open SignatureWait (they wait legitimately until their deadline).
	Pending(ctx context.Context, before time.Time) ([]*Certification, error)
	// CertificationByIdempotencyKey finds the entry a request with this Idempotency-Key
	// created in the unit; ENOTFOUND if none.
	CertificationByIdempotencyKey(ctx context.Context, unitID int64, key string) (*Certification, error)
	// StoredCopies lists entries that have a stored copy to keep (Issued or Revoked) with an
	// ID above afterID, in ID order, at most limit (1 to 1000): the walk of fsck --deep.
	StoredCopies(ctx context.Context, afterID int64, limit int) ([]*Certification, error)
	// ObjectReferenced reports whether any entry refers to the object key: as its signed
	// copy, one of its scans, or a later version of its copy — or an operator explained it
	// (`chungthuc reconcile --explain`), which accounts for it as well.
	ObjectReferenced(ctx context.Context, key string) (bool, error)
}

// Integrity keeps the findings of fsck about stored objects (missing, corrupt, orphaned).
type Integrity interface {
	// ReportFinding records a problem with a stored object (or refreshes LastSeen and Detail
	// of the open finding of that key), with an audit entry when the finding is new or its
	// kind changed. EINVALID for an unknown kind or an empty key.
	ReportFinding(ctx context.Context, f *Finding) error
	// ClearFinding closes the open finding of key (the object checked out fine again, or the
	// orphan was registered); no finding is not an error. Audited when one was open.
	ClearFinding(ctx context.Context, key string) error
	// Findings lists open findings, newest first; a non-empty key restricts the list to that
	// object.
	Findings(ctx context.Context, key string) ([]*Finding, error)
}

// Books manages a unit's register books.
type Books interface {
	// Books lists a unit's books of a year (0 = all years), oldest first.
	Books(ctx context.Context, unitID int64, year int) ([]*Book, error)
	// OpenBook closes the unit's open book of the year (if any) and opens the next one;
	// numbering continues.
	OpenBook(ctx context.Context, unitID int64, year int, at time.Time) (*Book, error)
	// CloseBook closes a book, writing the count of the year's certifications so far.
	CloseBook(ctx context.Context, bookID int64, at time.Time) (*Book, error)
	// BookByID returns a book with its signed closing PDF (ENOTFOUND if none).
	BookByID(ctx context.Context, id int64) (*Book, error)
	// SignBookClosing records, once, the officer who signed a closed book's closing page and
	// the signed PDF (ECONFLICT when the book is open or already signed).
	SignBookClosing(ctx context.Context, bookID, officerID int64, pdf []byte) error
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key     string
	Size    int64
	SHA256  string    // hex; empty when the store does not know it
	ModTime time.Time // when the object was written; zero when unknown
	// Version names this write of the object so that it can be read back even after the key
	// was written again: the S3 version ID in a versioned bucket; a stamp of the file for
	// storage/fs (which keeps one version: a different stamp means the file was replaced).
	// Empty when the store has no versions.
	Version string
	ETag    string // the store's entity tag; empty when it has none
}

// ObjectStore keeps immutable objects (signed copies, original scans). Objects are written
// once and named by content hash; Put of an existing key with the same content succeeds.
// Nothing in the service ever deletes or overwrites an object: an object nobody expects is
// evidence, reported by fsck and kept. Implementations: storage/fs (embedded default) and
// storage/s3; both pass storage/objecttest.
type ObjectStore interface {
	// Put stores size bytes from r under key and verifies they hash to sha256 (hex);
	// a mismatch stores nothing and returns EINVALID. It returns what the store recorded,
	// Version and ETag included (of the existing object when the same content was there).
	Put(ctx context.Context, key string, r io.Reader, size int64, sha256 string) (*ObjectInfo, error)
	// Get streams version of an object (the current one when version is empty); ENOTFOUND
	// if absent. The caller closes the reader and must not trust the bytes before it has
	// compared them with the hash it expects.
	Get(ctx context.Context, key, version string) (io.ReadCloser, *ObjectInfo, error)
	// Stat describes the current version of an object; ENOTFOUND if absent (also when the
	// newest version of a versioned bucket is a delete marker).
	Stat(ctx context.Context, key string) (*ObjectInfo, error)
	// List calls fn for every object whose key starts with prefix.
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error
	// Probe checks that the store accepts writes now, leaving nothing behind (no object, no
	// version, nothing under retention). EUNAVAILABLE when it does not.
	Probe(ctx context.Context) error
}

// Finding kinds: what fsck, the periodic check or a download found wrong with a stored object.
const (
	// FindingOrphan: an object under copies/, scans/ or renewals/ that no entry refers to
	// (a row deleted behind the service's back, or a register restored from an older backup).
	FindingOrphan = "orphan"
	// FindingMissing: an entry's stored copy (its recorded version) cannot be found.
	FindingMissing = "missing"
	// FindingDamaged: the bytes stored for an entry do not hash to the register's SHA-256.
	FindingDamaged = "damaged"
	// FindingOverwritten: a newer version was written over an entry's recorded version, which
	// is still intact (a versioned bucket: downloads keep serving the recorded version).
	FindingOverwritten = "overwritten"
	// FindingDeleted: the object was deleted (a delete marker is its newest version) while
	// the recorded version is still intact in the bucket's history.
	FindingDeleted = "deleted"
)

// Finding is a problem found with a stored object, kept open in the register until the
// object checks out fine again. It is for the system administrator: the workspace shows
// open findings, fsck prints them and exits non-zero, /metrics counts them.
type Finding struct {
	Key             string    // the object key
	Kind            string    // FindingOrphan, FindingMissing, …
	CertificationID int64     // the entry concerned; 0 for orphans
	Detail          string    // what was seen, in plain words (Vietnamese)
	FirstSeen       time.Time // set by the register
	LastSeen        time.Time // set by the register
}

// SigningKey is a private key usable only through crypto.Signer, with its certificate chain
// (leaf first, root last or omitted).
type SigningKey struct {
	Signer crypto.Signer
	Chain  []*x509.Certificate
}

// KeyStore hands out the keys that sign copies: an officer's personal key and a unit's seal.
// Implementations: certs (PEM/PKCS#12 files, the development PKI, PKCS#11 tokens).
type KeyStore interface {
	OfficerKey(ctx context.Context, o *Officer) (*SigningKey, error)
	SealKey(ctx context.Context, u *Unit) (*SigningKey, error)
}

// AuditEntry is one record of the append-only audit log. Each entry's Hash is the SHA-256
// of its canonical form including PrevHash, the Hash of the entry before it, so that any
// edit, deletion or reordering breaks the chain at that entry.
type AuditEntry struct {
	ID       int64
	At       time.Time
	Action   string // fixed vocabulary: "certify.reserve", "certify.issue", "certify.void", "revoke", "refuse", "download", "login", "login.failed", "key.use", "book.open", "book.close", …
	UnitID   int64  // 0 for system-wide actions
	Actor    string // who: "officer:12", "token:3", "system", "cli"
	Subject  string // what: "certification:881", "book:4", …
	Detail   string // JSON object with action-specific fields; never secrets
	PrevHash string // hex
	Hash     string // hex
}

// AuditLog is the hash-chained, append-only audit log. The Register implementations also
// implement it on the same database, and append their own state changes (reserve, issue,
// void, revoke, book open/close, refusal) in the same transaction as the change.
type AuditLog interface {
	// Append sets ID, At (if zero), PrevHash and Hash and stores the entry.
	Append(ctx context.Context, e *AuditEntry) error
	// VerifyChain checks the whole chain; it returns the ID of the first broken entry
	// (0 when the chain is intact) and the number of entries checked.
	VerifyChain(ctx context.Context) (firstBroken int64, checked int64, err error)
}

// Scan is one file of a citizen's original as uploaded (JPEG, PNG or PDF).
type Scan struct {
	Name string
	Data []byte
}

// Allocation is what the register assigns to a copy once its scans are known to be good.
type Allocation struct {
	Number      int64
	BookCode    string
	CertifiedAt time.Time
	VerifyURL   string
}

// CopyRequest asks a CopyMaker for one certified copy.
type CopyRequest struct {
	Scans        []Scan
	Place        string // địa danh
	UnitName     string
	OfficerName  string
	OfficerTitle string
	DocTitle     string
	Officer      *SigningKey
	Seal         *SigningKey
	SealImage    []byte // PNG; nil = the default drawn seal
	// The fields below are printed under the signatures (Decree 30/2020 Appendix I, issue #11).
	// Each printed string has passed ValidatePrintedText; the signer refuses any that has not.
	UnitBody   string   // the issuing body, e.g. "Ủy ban nhân dân phường Hòa Bình"; "" = UnitName
	Province   string   // e.g. "tỉnh Phú Thọ"; "" = not printed
	TitleLines []string // the signer's 1–3 title lines from the officer record ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"); nil = OfficerTitle
	SealSizeMM float64  // the registered seal's true diameter/width in mm; 0 = the signer's default
	SealDemo   bool     // the seal is the drawn demonstration seal and must be marked as such
	// SignatureImage is the officer's handwritten signature (PNG, blue ink, transparent
	// background) shown between the title and the name; nil = no image.
	SignatureImage []byte
	// ConfirmLowResolution is the officer's confirmation of a scan-quality warning (effective
	// resolution between the refusal and the warning threshold); refusals cannot be confirmed.
	ConfirmLowResolution bool
	// Allocate is called once, after the scans were accepted and before anything is
	// stamped or signed, to obtain the number (so that bad input never uses a number).
	Allocate func(ctx context.Context, originalPages int) (*Allocation, error)
}

// Copy is a certified copy.
type Copy struct {
	PDF           []byte
	SHA256        string
	Pages         int      // pages of the copy
	OriginalPages int      // pages of the original (the fee counts these)
	Dropped       []string // what intake removed from PDF scans, for the officer
	// ScanScale is the smallest scale (≤ 1) at which a scan page was drawn so that the
	// footer never covers it (also in the PDF's document information, /ScanScale).
	ScanScale float64
}

// CopyMaker turns scans into a stamped, doubly signed copy (implemented by signer).
type CopyMaker interface {
	MakeCopy(ctx context.Context, req CopyRequest) (*Copy, error)
}

// Account is a login of a person (officer, clerk, unit or system administrator). Officers
// who certify are linked to their Officer record.
type Account struct {
	ID           int64
	UnitID       int64 // 0 for system administrators
	OfficerID    int64 // 0 when the account is not a certifying officer
	Username     string
	PasswordHash string // argon2id, PHC string format
	Role         Role
	FailedLogins int
	LockedUntil  time.Time // zero when not locked
	Disabled     bool
	CreatedAt    time.Time
	// MustChangePassword is set for generated passwords: the account's browser sessions can
	// only change the password or log out until it is changed. API tokens are not affected.
	MustChangePassword bool
	// TOTPSince is when the account's second factor (RFC 6238 time-based one-time codes) was
	// enabled; zero when it has none. The secret itself is read only with Accounts.TOTPOf.
	TOTPSince time.Time
}

// TOTP is an account's second-factor state. Secret is the confirmed base32 secret ("" when
// the second factor is off); Pending is a generated secret shown for enrolment and not yet
// confirmed by a code ("" when none); LastStep is the RFC 6238 time step (Unix time / 30 s)
// of the last code accepted, and a code is accepted only for a later step, so no code is
// used twice.
type TOTP struct {
	Secret    string
	Pending   string
	EnabledAt time.Time
	LastStep  int64
}

// PendingLogin is a login whose password was right and whose second factor is awaited: it
// lives in the register (so any instance behind a load balancer can finish it), is found by
// the hash of its cookie value, expires soon and is deleted when used.
type PendingLogin struct {
	TokenHash string
	AccountID int64
	Next      string // where to go after the login (already checked by the caller)
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LoginFailures is the count of failed logins under one throttling key and the time of the
// last one.
type LoginFailures struct {
	Count int
	Last  time.Time
}

// Session is a browser login session; only the hash of its cookie value is stored.
type Session struct {
	TokenHash string
	AccountID int64
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APIToken authorises integrations (the one-stop-shop software) to act as an officer of a
// unit; only the hash of the token is stored.
type APIToken struct {
	ID        int64
	UnitID    int64
	OfficerID int64
	Name      string
	TokenHash string
	CreatedAt time.Time
	RevokedAt time.Time // zero while valid
}

// Accounts stores logins, sessions and API tokens. The Register implementations also
// implement it on the same database. Not-found lookups return ENOTFOUND; a duplicate
// username returns ECONFLICT.
type Accounts interface {
	CreateAccount(ctx context.Context, a *Account) error
	AccountByUsername(ctx context.Context, username string) (*Account, error)
	AccountByID(ctx context.Context, id int64) (*Account, error)
	// SetLoginState records the outcome of a login attempt: failed count and lock-out.
	SetLoginState(ctx context.Context, id int64, failed int, lockedUntil time.Time) error
	// LoginFailed counts one failed login under each key in one atomic statement per key
	// (parallel failures all count): a count whose last failure is older than window
	// starts again at 1. It returns the new counts, in the order of keys.
	LoginFailed(ctx context.Context, keys []string, now time.Time, window time.Duration) ([]LoginFailures, error)
	// LoginFailures returns the counts of keys (zero for a key without failures), in order.
	LoginFailures(ctx context.Context, keys []string) ([]LoginFailures, error)
	// ForgetLoginFailures deletes the counts of keys (after a successful login).
	ForgetLoginFailures(ctx context.Context, keys []string) error
	// SetPassword replaces the password hash and sets whether it must be changed at the next
	// login (true for generated passwords).
	SetPassword(ctx context.Context, id int64, hash string, mustChange bool) error
	// ListAccounts lists the accounts of a unit (every account, system administrators included,
	// when unitID is 0), by id.
	ListAccounts(ctx context.Context, unitID int64) ([]*Account, error)
	// SetAccountDisabled disables or enables an account. Disabling ends its sessions and
	// revokes the active API tokens of its officer (if any), in the same transaction;
	// enabling restores neither. ENOTFOUND when the account does not exist.
	SetAccountDisabled(ctx context.Context, id int64, disabled bool) error
	// DeleteSessions ends every session of the account except the one whose hash is except
	// ("" ends all) and returns how many ended.
	DeleteSessions(ctx context.Context, accountID int64, except string) (int, error)

	CreateSession(ctx context.Context, s *Session) error
	SessionByHash(ctx context.Context, hash string) (*Session, error)
	DeleteSession(ctx context.Context, hash string) error
	// DeleteExpiredSessions removes the sessions and the pending logins that expire at or
	// before now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) error

	// TOTPOf returns the account's second-factor state (a zero TOTP when it has none);
	// ENOTFOUND when the account does not exist.
	TOTPOf(ctx context.Context, id int64) (*TOTP, error)
	// SetTOTPPending stores secret as the account's enrolment in progress, replacing any
	// other; ECONFLICT when a second factor is already enabled, ENOTFOUND when the account
	// does not exist, EINVALID for a malformed secret.
	SetTOTPPending(ctx context.Context, id int64, secret string) error
	// EnableTOTP makes the pending secret the account's second factor, with step (the step
	// of the code that confirmed it) as its last accepted step, in one conditional update:
	// ECONFLICT when secret is not the pending one or a second factor is already enabled.
	// Audited without the secret.
	EnableTOTP(ctx context.Context, id int64, secret string, step int64, at time.Time) error
	// UseTOTPStep records that a code of step was accepted, as one compare-and-set (only
	// when step is later than the last accepted one): of parallel uses of one code, one
	// succeeds. ECONFLICT when step is not later or the account has no second factor.
	UseTOTPStep(ctx context.Context, id int64, step int64) error
	// DisableTOTP removes the account's second factor and any pending enrolment and reports
	// whether one was enabled (then audited). ENOTFOUND when the account does not exist.
	DisableTOTP(ctx context.Context, id int64) (bool, error)

	// CreatePendingLogin stores p (CreatedAt now when zero); EINVALID for a malformed one,
	// ENOTFOUND when the account does not exist.
	CreatePendingLogin(ctx context.Context, p *PendingLogin) error
	// PendingLoginByHash returns the pending login whose cookie hashes to hash, expired or
	// not (the caller compares ExpiresAt with its clock); ENOTFOUND if none.
	PendingLoginByHash(ctx context.Context, hash string) (*PendingLogin, error)
	// DeletePendingLogin deletes it; ENOTFOUND if none. A login is finished only by the
	// caller whose delete succeeded, so a pending login is used once.
	DeletePendingLogin(ctx context.Context, hash string) error

	CreateAPIToken(ctx context.Context, t *APIToken) error
	APITokenByHash(ctx context.Context, hash string) (*APIToken, error)
	RevokeAPIToken(ctx context.Context, id int64, at time.Time) error
	// ListAPITokens lists the API tokens of a unit (every unit's when unitID is 0), by id,
	// revoked ones included.
	ListAPITokens(ctx context.Context, unitID int64) ([]*APIToken, error)
}

// Timestamper obtains RFC 3161 time-stamp tokens (certs.TSAClient over HTTP; the development
// TSA in-process). Timestamp returns the DER TimeStampToken over digest, computed with h.
type Timestamper interface {
	Timestamp(ctx context.Context, digest []byte, h crypto.Hash) ([]byte, error)
}

// RevocationData is what a relying party needs to check a chain's status at signing time,
// embedded in a copy's DSS (PAdES B-LT): DER OCSP responses and CRLs.
type RevocationData struct {
	OCSP [][]byte
	CRLs [][]byte
}

// RevocationSource gathers revocation data for a certificate chain (leaf first). The
// development PKI answers in-process; production fetches from the OCSP/CRL addresses in the
// certificates. A chain with no revocation information yields empty data, not an error.
type RevocationSource interface {
	Revocation(ctx context.Context, chain []*x509.Certificate) (*RevocationData, error)
}

// PAdESLevel is the PAdES baseline level of certified copies.
type PAdESLevel string

// PAdES baseline levels (ETSI EN 319 142-1).
const (
	PAdESB   PAdESLevel = "B-B"   // signatures only
	PAdEST   PAdESLevel = "B-T"   // + signature time-stamps
	PAdESLT  PAdESLevel = "B-LT"  // + DSS with certificates and revocation data
	PAdESLTA PAdESLevel = "B-LTA" // + a document time-stamp over all of it
)

// LogLeaf is one leaf of the register's transparency log, as the register stores it.
type LogLeaf struct {
	Index int64  // position in the log, from 0
	Data  []byte // the leaf exactly as hashed into the tree (translog's canonical encoding)
	// Private is what the public leaf only commits to (the token, the access-code hash, the
	// document's title, issuer and requester, the object keys), kept so that the object
	// store's checkpoint bundles can rebuild a lost register row. It is never published.
	Private []byte
}

// LogHooks connect a register's transparency log to the process that publishes its signed
// checkpoints (translog.Log).
type LogHooks struct {
	// Guard is called inside every transaction that reserves a number or appends leaves,
	// with a function that reads the log's size in that transaction (the guard calls it
	// after noting the newest checkpoint it knows, so that a snapshot older than that
	// checkpoint cannot pass for a register that is behind) and one that computes the
	// register's tree hash at a size up to it. An error (the register is behind the newest
	// checkpoint in the object store, or disagrees with it) refuses the change: nothing is
	// committed.
	Guard func(size func() (int64, error), treeHash func(size int64) ([32]byte, error)) error
	// Appended is called after the commit of a transaction that appended leaves, with those
	// leaves; it returns once a checkpoint covering them is stored (or, when the store keeps
	// failing, after logging why: the leaves are committed and the next checkpoint will
	// cover them).
	Appended func(ctx context.Context, leaves []LogLeaf)
}

// RegisterLog is the register's side of its public transparency log (translog): the leaves
// and the stored hashes of the Merkle tree, written in the same transaction as the register
// change each leaf records (issued, void, revoked, version, book closed). Implemented by
// storage/sqlite and storage/postgres.
type RegisterLog interface {
	// LogSize returns the number of leaves.
	LogSize(ctx context.Context) (int64, error)
	// LogHashes returns the stored hashes at these indexes (the numbering of
	// golang.org/x/mod/sumdb/tlog.StoredHashIndex); ENOTFOUND when one is missing.
	LogHashes(ctx context.Context, indexes []int64) ([][32]byte, error)
	// LogLeaves returns the leaves with from ≤ index < to, in order.
	LogLeaves(ctx context.Context, from, to int64) ([]LogLeaf, error)
	// LogLeavesOf returns the leaves recording events of one certification, in order.
	LogLeavesOf(ctx context.Context, certificationID int64) ([]LogLeaf, error)
	// SetLogHooks installs the hooks (call before concurrent use).
	SetLogHooks(h LogHooks)
}
