// Package certify is the certification workflow: certify a copy (allocate a number, make the
// signed copy, store it, issue it), refuse a request, revoke a copy, read a stored copy back
// checked against the register, and repair and check what a crash or someone with access
// to the store left behind. It talks to the rest only through small interfaces: Register
// and Objects (defined here, met by any chungthuc.Register and chungthuc.ObjectStore) and
// the root package's KeyStore and CopyMaker.
//
// The order of steps is what keeps the register gapless and honest: no number is reserved
// while the object store is known to be down; the number is reserved (intent recorded,
// Pending) only after the scans were accepted; the copy's hash and object key are recorded
// (Seal) before the object is written; the entry becomes Issued only by the request that
// made it, when the object is stored. Any failure after the reservation voids the entry
// with a reason an auditor can read (retried in the background while the register is
// down), and a Pending entry whose request was lost (a killed process) is voided by Repair
// after a grace period — repair never issues, so a client that was answered with an error
// never finds its entry issued later. A request carrying an idempotency key gets the first
// outcome again when it is retried.
package certify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/deadline"
)

// Register is what the workflow needs of the register: the ledger of entries, reading
// entries, fsck's findings, and the unit and officer a request names. Any
// chungthuc.Register is one; the books are not the workflow's business.
type Register interface {
	chungthuc.Ledger
	chungthuc.Entries
	chungthuc.Integrity
	chungthuc.AccessCodes
	chungthuc.Reports
	chungthuc.SignatureWaits
	UnitByCode(ctx context.Context, code string) (*chungthuc.Unit, error)
	UnitByID(ctx context.Context, id int64) (*chungthuc.Unit, error)
	OfficerByID(ctx context.Context, id int64) (*chungthuc.Officer, error)
}

// Objects is what the workflow needs of the object store: writing copies and scans,
// reading them back, and walking them (fsck). Any chungthuc.ObjectStore is one.
type Objects interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, sha256 string) (*chungthuc.ObjectInfo, error)
	Get(ctx context.Context, key, version string) (io.ReadCloser, *chungthuc.ObjectInfo, error)
	Stat(ctx context.Context, key string) (*chungthuc.ObjectInfo, error)
	List(ctx context.Context, prefix string, fn func(chungthuc.ObjectInfo) error) error
}

var (
	_ Register = chungthuc.Register(nil)
	_ Objects  = chungthuc.ObjectStore(nil)
)

// Service runs the workflow. Register, Objects, Keys, Maker, Now and BaseURL are required.
// A Service that certified must be closed (Close) to stop its background retries.
type Service struct {
	Register Register
	Objects  Objects
	Keys     chungthuc.KeyStore
	Maker    chungthuc.CopyMaker
	Now      chungthuc.Clock
	BaseURL  string // e.g. "https://chungthuc.example.vn"; the link is BaseURL + "/v/" + token
	Logger   *slog.Logger
	// StoreReady, when set, is asked before a number is reserved: an error (EUNAVAILABLE)
	// refuses the request without using a number (storage/guard.Store.Ready knows when the
	// store is down without asking it every time).
	StoreReady func(ctx context.Context) error
	// MaxCopySize bounds a stored copy read back (ReadCopy, Check); 0 means 256 MiB.
	MaxCopySize int64
	// External is the two-step signer for copies signed outside the service (Signing
	// "external"; nil = not offered: EUNSUPPORTED). See external.go.
	External ExternalSigner
	// SignatureTimeout is how long an entry waits for each external signature (the
	// officer's, then the seal); 0 means DefaultSignatureTimeout.
	SignatureTimeout time.Duration
	// CertificateChain completes a registered certificate given alone (officer cert, unit
	// cert) with its chain up to the trust anchor, for embedding; nil = the leaf alone.
	CertificateChain func(leaf *x509.Certificate) ([]*x509.Certificate, error)
	// Calendar is the working-day calendar of the deadline rule (Decree 23/2015 art. 21);
	// nil means the embedded table (deadline.Default).
	Calendar *deadline.Calendar
	// Mail says e-mail to citizens is configured (a worker sends the register's outbox);
	// without it a request with Email is refused.
	Mail bool
	// MailWithoutCode leaves the access code out of the e-mail (it says the code is on the
	// receipt); the default sends it — see notify.CertifiedMail for why.
	MailWithoutCode bool
	// RetryVoid is the first wait before a failed void is retried in the background,
	// doubling up to a minute; 0 means one second.
	RetryVoid time.Duration

	bg        background
	health    health
	scanCache scanCache // stored scans of entries waiting for a signature (waitstate.go)
}

// Input is one request to certify.
type Input struct {
	UnitCode  string
	OfficerID int64
	// Title is the title the officer signs under on this copy: one of the titles an
	// administrator recorded for the officer (Officer.AllowedTitles); empty = the officer's
	// Title. Never free text: any other value is refused.
	Title     string
	DocTitle  string // what the original is (required)
	Issuer    string
	Requester string // the citizen who asked (required)
	// Copies is how many copies are made from the original at once, under one number; the
	// fee is charged per copy. 0 means 1.
	Copies int
	// ConfirmLowResolution is the officer's confirmation of a scan-quality warning.
	ConfirmLowResolution bool
	Scans                []chungthuc.Scan
	// ReceivedAt is when the request was received: the officer opened the case (the
	// certify form was shown) or the one-stop software handed it over; zero means now. Its
	// due time follows from the deadline rule (Service.Calendar).
	ReceivedAt time.Time
	KeepScans  bool // store the original scans too (default true via the CLI and API)
	// Signing chooses who holds the keys: SigningServer (the key store's keys, one step),
	// SigningExternal (the officer's own device, then the clerk's seal: Certify returns
	// with Output.Awaiting, see external.go), or "" for the unit's default
	// (Unit.ExternalSigning).
	Signing string
	// Email, when set, is the citizen's address: the message with the verification link (and
	// the access code unless Service.MailWithoutCode) is queued with the entry and sent once
	// the copy is issued (chungthuc.Mails). EINVALID when it is not one plain address, or
	// when the service has no e-mail (Service.Mail false), before a number is used.
	Email string
	// IdempotencyKey, when set, makes the request safe to retry: the entry it creates keeps
	// the key (unique per unit) and the request's fingerprint, and a later request with the
	// same key gets the first outcome instead of a new number (see Certify).
	IdempotencyKey string
}

// Output is a certified, stored, issued copy.
type Output struct {
	Certification *chungthuc.Certification
	PDF           []byte
	AccessCode    string // shown once to the citizen; only its hash is stored
	VerifyURL     string
	Dropped       []string
	// Replayed is true when this is the outcome of an earlier request with the same
	// idempotency key: the entry only — PDF and AccessCode are empty (the code is shown once).
	Replayed bool
	// Awaiting is set when the copy is signed outside the service: the entry is reserved
	// and waits for the officer's signature (Awaiting.ToSign); PDF is empty and AccessCode
	// is given when the copy is issued (CompleteSignature).
	Awaiting *Awaiting
}

// Certify makes, stores and issues a certified copy. Errors: EINVALID (a document, requester
// or title that cannot be printed — see CheckInput and SignerTitle — or copies out of range),
// ENOTFOUND (unit or officer), EFORBIDDEN (officer of another unit, inactive, or outside the
// validity of the authorising decision), ECONFLICT (a unit other than the demo unit without
// a registered seal image, or a unit or officer record that cannot be printed), all before
// a number is used; intake and signing errors (nothing is
// recorded when the scans are refused), EUNAVAILABLE (register or store down: no number is
// reserved while the store is known down; an entry whose number was already reserved is
// voided with the reason).
//
// With in.IdempotencyKey set, a request whose key already created an entry in the unit
// gets that entry's outcome: the issued (or since revoked) entry as an Output with
// Replayed set; an *Outcome error (ECONFLICT) with the void entry and its reason, or with
// the Pending entry while the first request is still running; ErrKeyReused (EINVALID) when
// the key came with a different request. A request that failed before a number was reserved
// left nothing under its key: a retry runs anew.
func (s *Service) Certify(ctx context.Context, in Input) (*Output, error) {
	rq, out, err := s.begin(ctx, &in)
	if rq == nil {
		return out, err
	}
	if rq.external {
		return s.startExternal(ctx, in, rq)
	}
	unit, officer := rq.unit, rq.officer
	okey, err := s.Keys.OfficerKey(ctx, officer)
	if err != nil {
		return nil, err
	}
	skey, err := s.Keys.SealKey(ctx, unit)
	if err != nil {
		return nil, err
	}
	req, err := rq.copyRequest(s, in)
	if err != nil {
		return nil, err
	}
	req.Officer, req.Seal = okey, skey
	cp, err := s.Maker.MakeCopy(ctx, req)
	if err != nil {
		return rq.failed(ctx, s, in, err)
	}
	var scans []object
	if in.KeepScans {
		scans = scanObjects(in.Scans)
	}
	return s.store(ctx, rq.entry, cp, scans, rq.code)
}

// request is a checked request to certify, from begin to the stored copy.
type request struct {
	unit        *chungthuc.Unit
	officer     *chungthuc.Officer
	lines       []string
	printed     string
	fingerprint string
	external    bool
	token, code string
	entry       *chungthuc.Certification // set by Allocate
	reserveErr  error
	// scanKeys, when set, are recorded with the entry when it is reserved (external
	// signing stores the scans at once: fsck must not take them for orphans).
	scanKeys []string
}

// resolve checks a request against the register before anything is made: the unit and the
// officer exist, the officer belongs to the unit and is active within the validity of the
// authorising decision, the signing mode is offered, the input is printable (CheckInput,
// which normalises in), e-mail is configured when an address is given, the title is one on
// record, and the unit and officer records can be printed.
func (s *Service) resolve(ctx context.Context, in *Input) (*request, error) {
	unit, err := s.Register.UnitByCode(ctx, in.UnitCode)
	if err != nil {
		return nil, err
	}
	officer, err := s.Register.OfficerByID(ctx, in.OfficerID)
	if err != nil {
		return nil, err
	}
	if officer.UnitID != unit.ID {
		return nil, chungthuc.Errorf(chungthuc.EFORBIDDEN, "officer %d does not belong to unit %s", officer.ID, unit.Code)
	}
	if !officer.Active {
		return nil, chungthuc.Errorf(chungthuc.EFORBIDDEN, "officer %d is not active", officer.ID)
	}
	external, err := signingMode(in.Signing, unit)
	if err != nil {
		return nil, err
	}
	if external {
		in.Signing = SigningExternal
	} else {
		in.Signing = SigningServer
	}
	if err := CheckInput(in); err != nil {
		return nil, err
	}
	if in.Email != "" && !s.Mail {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "Hệ thống chưa được cấu hình gửi thư điện tử: hãy để trống ô địa chỉ thư. (This service does not send e-mail (CHUNGTHUC_SMTP_URL is not set): leave the e-mail address empty.)")
	}
	if err := officer.CheckAuthority(s.Now()); err != nil {
		return nil, err
	}
	title, err := SignerTitle(officer, in.Title)
	if err != nil {
		return nil, err
	}
	lines := chungthuc.TitleLines(officer.Authority, title)
	if err := checkRecords(unit, officer, lines); err != nil {
		return nil, err
	}
	return &request{unit: unit, officer: officer, lines: lines, printed: strings.Join(lines, " / "), external: external}, nil
}

// begin checks a request (everything before a number is used: resolve) and answers a
// retried one. A nil request means the answer is (out, err).
func (s *Service) begin(ctx context.Context, in *Input) (*request, *Output, error) {
	rq, err := s.resolve(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	unit, officer := rq.unit, rq.officer
	if in.IdempotencyKey != "" {
		if err := checkIdempotencyKey(in.IdempotencyKey); err != nil {
			return nil, nil, err
		}
		rq.fingerprint = requestFingerprint(officer.ID, rq.printed, *in)
		if out, err, found := s.prior(ctx, unit.ID, in.IdempotencyKey, rq.fingerprint); found {
			return nil, out, err
		}
	}
	// No number while the store is known to be down: the request would only burn it.
	if s.StoreReady != nil {
		if err := s.StoreReady(ctx); err != nil {
			return nil, nil, err
		}
	}
	if rq.token, err = randomToken(20); err != nil { // 160 bits
		return nil, nil, err
	}
	if rq.code, err = accessCode(); err != nil {
		return nil, nil, err
	}
	return rq, nil, nil
}

// copyRequest is the signer's request for rq (keys not set), whose Allocate reserves the
// number.
func (rq *request) copyRequest(s *Service, in Input) (chungthuc.CopyRequest, error) {
	unit, officer := rq.unit, rq.officer
	return chungthuc.CopyRequest{
		Scans: in.Scans, Place: unit.Place, UnitName: unit.Name,
		OfficerName: officer.Name, OfficerTitle: rq.printed, DocTitle: in.DocTitle,
		SealImage: unit.SealImage,
		UnitBody:  unit.Body, Province: unit.Province, TitleLines: rq.lines, SealSizeMM: unit.SealMM,
		SealDemo: len(unit.SealImage) == 0, SignatureImage: officer.SignatureImage,
		ConfirmLowResolution: in.ConfirmLowResolution,
		Allocate: func(ctx context.Context, pages int) (*chungthuc.Allocation, error) {
			entry := &chungthuc.Certification{
				UnitID: unit.ID, Token: rq.token, AccessCodeHash: HashAccessCode(rq.token, rq.code),
				Title: in.DocTitle, Issuer: in.Issuer, Requester: in.Requester,
				OfficerID: officer.ID, OfficerName: officer.Name, OfficerTitle: rq.printed,
				Pages: pages, Copies: in.Copies, FeeVND: chungthuc.FeeFor(pages, in.Copies), CertifiedAt: s.Now().In(chungthuc.Vietnam),
				IdempotencyKey: in.IdempotencyKey, RequestHash: rq.fingerprint, ScanKeys: rq.scanKeys,
			}
			if in.Email != "" {
				entry.Mail = &chungthuc.MailRequest{To: in.Email}
				if !s.MailWithoutCode {
					entry.Mail.AccessCode = rq.code
				}
			}
			entry.ReceivedAt, entry.DueAt = s.intake(in.ReceivedAt)
			if err := s.Register.Reserve(ctx, entry); err != nil {
				rq.reserveErr = err
				return nil, err
			}
			rq.entry = entry
			return &chungthuc.Allocation{Number: entry.Number, BookCode: entry.BookCode, CertifiedAt: entry.CertifiedAt, VerifyURL: s.VerifyURL(rq.token)}, nil
		},
	}, nil
}

// failed voids rq's entry after a failed signing step (when a number was reserved) and
// answers a concurrent retry with the first request's outcome.
func (rq *request) failed(ctx context.Context, s *Service, in Input, err error) (*Output, error) {
	if rq.entry != nil {
		s.void(rq.entry, voidReason(stepSign, err))
	} else if rq.reserveErr != nil && in.IdempotencyKey != "" && chungthuc.ErrorCode(rq.reserveErr) == chungthuc.ECONFLICT {
		// Another request with this key reserved first (a concurrent retry).
		if out, perr, found := s.prior(context.WithoutCancel(ctx), rq.unit.ID, in.IdempotencyKey, rq.fingerprint); found {
			return out, perr
		}
	}
	return nil, err
}

// object is a file to put in the object store under its content's hash.
type object struct {
	key, sum string
	data     []byte
	step     string
}

// scanObjects are the original scans as stored objects.
func scanObjects(scans []chungthuc.Scan) []object {
	var out []object
	for _, sc := range scans {
		h := sha256hex(sc.Data)
		out = append(out, object{"scans/" + h + extOf(sc.Name), h, sc.Data, stepStoreScan})
	}
	return out
}

// store records the finished copy cp of reserved entry (its hash and key before the
// object is written, so a crash in between leaves a trace), writes it and the scans, and
// issues the entry; any failure voids it. code is the citizen's access code, returned once.
func (s *Service) store(ctx context.Context, entry *chungthuc.Certification, cp *chungthuc.Copy, scans []object, code string) (*Output, error) {
	copyKey := "copies/" + cp.SHA256 + ".pdf"
	scanKeys := make([]string, 0, len(scans))
	for _, o := range scans {
		scanKeys = append(scanKeys, o.key)
	}
	if len(scanKeys) == 0 {
		scanKeys = nil
	}
	objects := append([]object{{copyKey, cp.SHA256, cp.PDF, stepStoreCopy}}, scans...)
	if err := s.Register.Seal(ctx, entry.ID, cp.SHA256, copyKey, scanKeys); err != nil {
		s.void(entry, voidReason(stepSeal, err))
		return nil, err
	}
	var stored *chungthuc.ObjectInfo
	for i, o := range objects {
		if o.data == nil && i > 0 {
			continue // stored earlier (external signing stores the scans when it starts)
		}
		info, err := s.Objects.Put(ctx, o.key, bytes.NewReader(o.data), int64(len(o.data)), o.sum)
		if err != nil {
			reason := voidReason(o.step, err)
			s.log().Error("storing an object failed", "certification", entry.ID, "number", entry.Number, "key", o.key, "err", err)
			s.void(entry, reason)
			// The store's message names keys and endpoints: the caller gets the plain words,
			// the store's error stays the cause (logged with the request id, errors.Is).
			return nil, chungthuc.Wrap(err, chungthuc.ErrorCode(err), "%s", reason)
		}
		if i == 0 {
			stored = info
		}
	}
	if err := s.Register.Issue(ctx, entry.ID, stored.Version, stored.ETag); err != nil {
		// The answer may have been lost after the change was made: look before voiding.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		now, lerr := s.Register.CertificationByID(lctx, entry.ID)
		cancel()
		switch {
		case lerr == nil && now.Status == chungthuc.StatusIssued:
			// It was issued: carry on.
		case lerr == nil && now.Status == chungthuc.StatusVoid:
			// Repair voided it meanwhile (fsck with a short grace): this request failed.
			return nil, voidOutcome(now)
		default:
			s.void(entry, voidReason(stepIssue, err))
			return nil, err
		}
	}
	final, err := s.Register.CertificationByID(ctx, entry.ID)
	if err != nil {
		// The copy is issued; only this read failed. Answer with what is known.
		final = entry
		final.Status, final.SHA256, final.ObjectKey, final.ScanKeys = chungthuc.StatusIssued, cp.SHA256, copyKey, scanKeys
		final.ObjectVersion, final.ObjectETag = stored.Version, stored.ETag
	}
	return &Output{Certification: final, PDF: cp.PDF, AccessCode: code, VerifyURL: s.VerifyURL(entry.Token), Dropped: cp.Dropped}, nil
}

// Previewer is a copy maker that can also stamp a preview (signer.Signer).
type Previewer interface {
	Preview(ctx context.Context, in chungthuc.CopyRequest, bookCode, verifyURL string, at time.Time) (*chungthuc.Copy, error)
}

// Preview returns the copy in would make, stamped as it will be signed but without a
// number, without any signature and marked "BẢN XEM TRƯỚC – CHƯA KÝ" on every page, so
// the officer confirms what will be signed. It checks in exactly as Certify does (the same
// errors before a number) and then reserves nothing, uses no key and writes nothing: the
// register and the store are untouched. EUNSUPPORTED when the copy maker cannot preview.
func (s *Service) Preview(ctx context.Context, in Input) (*chungthuc.Copy, error) {
	rq, err := s.resolve(ctx, &in)
	if err != nil {
		return nil, err
	}
	p, ok := s.Maker.(Previewer)
	if !ok {
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "this copy maker cannot make a preview")
	}
	req, err := rq.copyRequest(s, in)
	if err != nil {
		return nil, err
	}
	req.Allocate = nil
	return p.Preview(ctx, req, "…", s.VerifyURL("…"), s.Now().In(chungthuc.Vietnam))
}

// VerifyURL is the public verification link of a token.
func (s *Service) VerifyURL(token string) string {
	return strings.TrimRight(s.BaseURL, "/") + "/v/" + token
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}

// Revoke revokes an issued copy of the officer's unit with a reason.
// Errors: ENOTFOUND (no such entry in the unit), EINVALID (empty reason), ECONFLICT (not issued).
func (s *Service) Revoke(ctx context.Context, unitID, id int64, reason string) (*chungthuc.Certification, error) {
	reason = strings.TrimSpace(norm.NFC.String(reason))
	if reason == "" {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "a reason is required to revoke a copy")
	}
	c, err := s.Register.CertificationByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.UnitID != unitID {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "certification %d not found", id)
	}
	if err := s.Register.Revoke(ctx, id, reason, s.Now()); err != nil {
		return nil, err
	}
	return s.Register.CertificationByID(ctx, id)
}

// ReissueAccessCode gives issued copy id of the unit a new access code, which voids every
// code before it (the register keeps its hash, with an audit entry naming actor in the same
// transaction). It returns the new code — shown once — and the entry.
// Errors: ENOTFOUND (no such entry in the unit), ECONFLICT (not issued).
func (s *Service) ReissueAccessCode(ctx context.Context, unitID, id int64, actor string) (string, *chungthuc.Certification, error) {
	c, err := s.Register.CertificationByID(ctx, id)
	if err != nil {
		return "", nil, err
	}
	if c.UnitID != unitID {
		return "", nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "certification %d not found", id)
	}
	code, err := accessCode()
	if err != nil {
		return "", nil, err
	}
	if err := s.Register.ReissueAccessCode(ctx, id, HashAccessCode(c.Token, code), actor); err != nil {
		return "", nil, err
	}
	return code, c, nil
}

// Refuse records a refused request with a reason code from chungthuc.RefusalReasons.
func (s *Service) Refuse(ctx context.Context, r *chungthuc.Refusal) error {
	if !chungthuc.ValidRefusalReason(r.Reason) {
		return chungthuc.Errorf(chungthuc.EINVALID, "unknown refusal reason %q", r.Reason)
	}
	r.Note = norm.NFC.String(r.Note)
	r.Title = norm.NFC.String(r.Title)
	r.Requester = norm.NFC.String(r.Requester)
	var received time.Time
	if r.ReceivedAt != nil {
		received = *r.ReceivedAt
	}
	r.ReceivedAt, r.DueAt = s.intake(received)
	return s.Register.CreateRefusal(ctx, r)
}

// Rate records a citizen's rating of the service for an issued certification
// (chungthuc.Reports.Rate): once per certification, audited.
func (s *Service) Rate(ctx context.Context, r *chungthuc.Rating, actor string) error {
	return s.Register.Rate(ctx, r, actor)
}

// intake returns a request's received time (now when zero) and its due time under the
// deadline rule.
func (s *Service) intake(received time.Time) (*time.Time, *time.Time) {
	if received.IsZero() {
		received = s.Now()
	}
	cal := s.Calendar
	if cal == nil {
		cal = defaultCalendar()
	}
	due := cal.DueAt(received)
	return &received, &due
}

// defaultCalendar is the embedded holiday table, parsed once.
var defaultCalendar = sync.OnceValue(deadline.Default)

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// accessCodeAlphabet has no look-alike characters (no 0/O, 1/I/L).
const accessCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// accessCode returns a 10-character code (≈ 49 bits) the citizen types to download.
func accessCode() (string, error) {
	out := make([]byte, 0, 10)
	buf := make([]byte, 16)
	for len(out) < 10 {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, c := range buf {
			// Rejection sampling: 248 = 8·31, so every letter is equally likely.
			if c < 248 && len(out) < 10 {
				out = append(out, accessCodeAlphabet[int(c)%len(accessCodeAlphabet)])
			}
		}
	}
	return string(out), nil
}

// HashAccessCode is the stored form of an access code: SHA-256 over the token and the code
// (normalised to upper case without spaces or dashes), hex.
func HashAccessCode(token, code string) string {
	code = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(code))
	sum := sha256.Sum256([]byte(token + "\x00" + code))
	return hex.EncodeToString(sum[:])
}

func extOf(name string) string {
	e := strings.ToLower(path.Ext(name))
	switch e {
	case ".jpg", ".jpeg", ".png", ".pdf":
		return e
	}
	return ".bin"
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
