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
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"path"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

// Register is what the workflow needs of the register: the ledger of entries, reading
// entries, fsck's findings, and the unit and officer a request names. Any
// chungthuc.Register is one; the books are not the workflow's business.
type Register interface {
	chungthuc.Ledger
	chungthuc.Entries
	chungthuc.Integrity
	chungthuc.AccessCodes
	UnitByCode(ctx context.Context, code string) (*chungthuc.Unit, error)
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
	// RetryVoid is the first wait before a failed void is retried in the background,
	// doubling up to a minute; 0 means one second.
	RetryVoid time.Duration

	bg     background
	health health
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
	KeepScans            bool // store the original scans too (default true via the CLI and API)
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
	if err := CheckInput(&in); err != nil {
		return nil, err
	}
	if err := officer.CheckAuthority(s.Now()); err != nil {
		return nil, err
	}
	title, err := SignerTitle(officer, in.Title)
	if err != nil {
		return nil, err
	}
	lines := chungthuc.TitleLines(officer.Authority, title)
	printed := strings.Join(lines, " / ")
	if err := checkRecords(unit, officer, lines); err != nil {
		return nil, err
	}
	var fingerprint string
	if in.IdempotencyKey != "" {
		if err := checkIdempotencyKey(in.IdempotencyKey); err != nil {
			return nil, err
		}
		fingerprint = requestFingerprint(officer.ID, printed, in)
		if out, err, found := s.prior(ctx, unit.ID, in.IdempotencyKey, fingerprint); found {
			return out, err
		}
	}
	// No number while the store is known to be down: the request would only burn it.
	if s.StoreReady != nil {
		if err := s.StoreReady(ctx); err != nil {
			return nil, err
		}
	}
	okey, err := s.Keys.OfficerKey(ctx, officer)
	if err != nil {
		return nil, err
	}
	skey, err := s.Keys.SealKey(ctx, unit)
	if err != nil {
		return nil, err
	}
	token, err := randomToken(20) // 160 bits
	if err != nil {
		return nil, err
	}
	code, err := accessCode()
	if err != nil {
		return nil, err
	}
	var entry *chungthuc.Certification
	var reserveErr error
	req := chungthuc.CopyRequest{
		Scans: in.Scans, Place: unit.Place, UnitName: unit.Name,
		OfficerName: officer.Name, OfficerTitle: printed, DocTitle: in.DocTitle,
		Officer: okey, Seal: skey, SealImage: unit.SealImage,
		UnitBody: unit.Body, Province: unit.Province, TitleLines: lines, SealSizeMM: unit.SealMM,
		SealDemo: len(unit.SealImage) == 0, SignatureImage: officer.SignatureImage,
		ConfirmLowResolution: in.ConfirmLowResolution,
		Allocate: func(ctx context.Context, pages int) (*chungthuc.Allocation, error) {
			entry = &chungthuc.Certification{
				UnitID: unit.ID, Token: token, AccessCodeHash: HashAccessCode(token, code),
				Title: in.DocTitle, Issuer: in.Issuer, Requester: in.Requester,
				OfficerID: officer.ID, OfficerName: officer.Name, OfficerTitle: printed,
				Pages: pages, Copies: in.Copies, FeeVND: chungthuc.FeeFor(pages, in.Copies), CertifiedAt: s.Now().In(chungthuc.Vietnam),
				IdempotencyKey: in.IdempotencyKey, RequestHash: fingerprint,
			}
			if err := s.Register.Reserve(ctx, entry); err != nil {
				entry, reserveErr = nil, err
				return nil, err
			}
			return &chungthuc.Allocation{Number: entry.Number, BookCode: entry.BookCode, CertifiedAt: entry.CertifiedAt, VerifyURL: s.VerifyURL(token)}, nil
		},
	}
	cp, err := s.Maker.MakeCopy(ctx, req)
	if err != nil {
		if entry != nil {
			s.void(entry, voidReason(stepSign, err))
		} else if reserveErr != nil && in.IdempotencyKey != "" && chungthuc.ErrorCode(reserveErr) == chungthuc.ECONFLICT {
			// Another request with this key reserved first (a concurrent retry).
			if out, perr, found := s.prior(context.WithoutCancel(ctx), unit.ID, in.IdempotencyKey, fingerprint); found {
				return out, perr
			}
		}
		return nil, err
	}
	copyKey := "copies/" + cp.SHA256 + ".pdf"
	var scanKeys []string
	type object struct {
		key, sum string
		data     []byte
		step     string
	}
	objects := []object{{copyKey, cp.SHA256, cp.PDF, stepStoreCopy}}
	if in.KeepScans {
		for _, sc := range in.Scans {
			h := sha256hex(sc.Data)
			k := "scans/" + h + extOf(sc.Name)
			scanKeys = append(scanKeys, k)
			objects = append(objects, object{k, h, sc.Data, stepStoreScan})
		}
	}
	// Record where the copy goes before writing it, so a crash in between leaves a trace.
	if err := s.Register.Seal(ctx, entry.ID, cp.SHA256, copyKey, scanKeys); err != nil {
		s.void(entry, voidReason(stepSeal, err))
		return nil, err
	}
	var stored *chungthuc.ObjectInfo
	for i, o := range objects {
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
	return &Output{Certification: final, PDF: cp.PDF, AccessCode: code, VerifyURL: s.VerifyURL(token), Dropped: cp.Dropped}, nil
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
	return s.Register.CreateRefusal(ctx, r)
}

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
