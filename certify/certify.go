// Package certify is the certification workflow: certify a copy (allocate a number, make the
// signed copy, store it, issue it), refuse a request, revoke a copy, and repair what a crash
// left half-done. It talks to the rest only through small interfaces: Register and Objects
// (defined here, met by any chungthuc.Register and chungthuc.ObjectStore) and the root
// package's KeyStore and CopyMaker.
//
// The order of steps is what keeps the register gapless and honest: the number is reserved
// (intent recorded, Pending) only after the scans were accepted; the copy's hash and object
// key are recorded (Seal) before the object is written; the entry becomes Issued only when
// the object is stored. Any failure after the reservation voids the entry with its reason,
// and Repair finishes or voids entries a killed process left Pending.
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

// Register is what the workflow needs of the register: the ledger of entries and the
// lookups around it. Any chungthuc.Register is one.
type Register interface {
	chungthuc.Ledger
	UnitByCode(ctx context.Context, code string) (*chungthuc.Unit, error)
	OfficerByID(ctx context.Context, id int64) (*chungthuc.Officer, error)
	CertificationByID(ctx context.Context, id int64) (*chungthuc.Certification, error)
	Pending(ctx context.Context, before time.Time) ([]*chungthuc.Certification, error)
}

// Objects is what the workflow needs of the object store: writing copies and scans, and
// checking they are there. Any chungthuc.ObjectStore is one.
type Objects interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, sha256 string) error
	Stat(ctx context.Context, key string) (*chungthuc.ObjectInfo, error)
}

var (
	_ Register = chungthuc.Register(nil)
	_ Objects  = chungthuc.ObjectStore(nil)
)

// Service runs the workflow. All fields are required except Logger.
type Service struct {
	Register Register
	Objects  Objects
	Keys     chungthuc.KeyStore
	Maker    chungthuc.CopyMaker
	Now      chungthuc.Clock
	BaseURL  string // e.g. "https://chungthuc.example.vn"; the link is BaseURL + "/v/" + token
	Logger   *slog.Logger
}

// Input is one request to certify.
type Input struct {
	UnitCode  string
	OfficerID int64
	Title     string // the officer's title on this copy; empty = the officer's default
	DocTitle  string // what the original is
	Issuer    string
	Requester string
	Scans     []chungthuc.Scan
	KeepScans bool // store the original scans too (default true via the CLI and API)
}

// UntitledDocument is recorded as the document's title when the request names none.
const UntitledDocument = "Giấy tờ (chưa ghi tên)"

// Output is a certified, stored, issued copy.
type Output struct {
	Certification *chungthuc.Certification
	PDF           []byte
	AccessCode    string // shown once to the citizen; only its hash is stored
	VerifyURL     string
	Dropped       []string
}

// Certify makes, stores and issues a certified copy. Errors: ENOTFOUND (unit or officer),
// EFORBIDDEN (officer of another unit, or inactive), intake and signing errors (nothing is
// recorded when the scans are refused), EUNAVAILABLE (register or store down; the entry is
// voided with the reason when its number was already reserved).
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
	if strings.TrimSpace(in.DocTitle) == "" {
		in.DocTitle = UntitledDocument
	}
	title := strings.TrimSpace(norm.NFC.String(in.Title))
	if title == "" {
		title = officer.Title
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
	req := chungthuc.CopyRequest{
		Scans: in.Scans, Place: unit.Place, UnitName: unit.Name,
		OfficerName: officer.Name, OfficerTitle: title, DocTitle: in.DocTitle,
		Officer: okey, Seal: skey, SealImage: unit.SealImage,
		Allocate: func(ctx context.Context, pages int) (*chungthuc.Allocation, error) {
			entry = &chungthuc.Certification{
				UnitID: unit.ID, Token: token, AccessCodeHash: HashAccessCode(token, code),
				Title: norm.NFC.String(in.DocTitle), Issuer: norm.NFC.String(in.Issuer), Requester: norm.NFC.String(in.Requester),
				OfficerID: officer.ID, OfficerName: officer.Name, OfficerTitle: title,
				Pages: pages, FeeVND: chungthuc.Fee(pages), CertifiedAt: s.Now().In(chungthuc.Vietnam),
			}
			if err := s.Register.Reserve(ctx, entry); err != nil {
				entry = nil
				return nil, err
			}
			return &chungthuc.Allocation{Number: entry.Number, BookCode: entry.BookCode, CertifiedAt: entry.CertifiedAt, VerifyURL: s.VerifyURL(token)}, nil
		},
	}
	cp, err := s.Maker.MakeCopy(ctx, req)
	if err != nil {
		if entry != nil {
			s.void(entry, "signing failed: "+chungthuc.ErrorMessage(err))
		}
		return nil, err
	}
	copyKey := "copies/" + cp.SHA256 + ".pdf"
	var scanKeys []string
	type object struct {
		key, sum string
		data     []byte
	}
	objects := []object{{copyKey, cp.SHA256, cp.PDF}}
	if in.KeepScans {
		for _, sc := range in.Scans {
			h := sha256hex(sc.Data)
			k := "scans/" + h + extOf(sc.Name)
			scanKeys = append(scanKeys, k)
			objects = append(objects, object{k, h, sc.Data})
		}
	}
	// Record where the copy goes before writing it, so a crash in between is repairable.
	if err := s.Register.Seal(ctx, entry.ID, cp.SHA256, copyKey, scanKeys); err != nil {
		s.void(entry, "register unavailable while recording the copy: "+chungthuc.ErrorMessage(err))
		return nil, err
	}
	for _, o := range objects {
		if err := s.Objects.Put(ctx, o.key, bytes.NewReader(o.data), int64(len(o.data)), o.sum); err != nil {
			s.void(entry, "object store failed: "+chungthuc.ErrorMessage(err))
			return nil, err
		}
	}
	if err := s.Register.Issue(ctx, entry.ID); err != nil {
		// The object is stored and the entry sealed: Repair will issue it.
		s.log().Error("issue failed; entry left for repair", "certification", entry.ID, "err", err)
		return nil, err
	}
	final, err := s.Register.CertificationByID(ctx, entry.ID)
	if err != nil {
		return nil, err
	}
	return &Output{Certification: final, PDF: cp.PDF, AccessCode: code, VerifyURL: s.VerifyURL(token), Dropped: cp.Dropped}, nil
}

// VerifyURL is the public verification link of a token.
func (s *Service) VerifyURL(token string) string {
	return strings.TrimRight(s.BaseURL, "/") + "/v/" + token
}

// void marks an entry Void with a reason, on a fresh context so a cancelled request still
// leaves an honest register; if that fails too, Repair will find the entry Pending.
func (s *Service) void(c *chungthuc.Certification, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Register.Void(ctx, c.ID, reason); err != nil {
		s.log().Error("void failed; entry left for repair", "certification", c.ID, "err", err)
	}
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

// RepairReport says what Repair did.
type RepairReport struct {
	Issued []int64 // Pending entries whose object was found stored: issued
	Voided []int64 // Pending entries without a stored object: voided
}

// Repair finishes entries left Pending for longer than grace by a crash: an entry whose
// signed copy is stored (hash and key recorded, object present with that hash) is issued;
// any other is voided with the reason, so its number stays accounted for.
func (s *Service) Repair(ctx context.Context, grace time.Duration) (*RepairReport, error) {
	pending, err := s.Register.Pending(ctx, s.Now().Add(-grace))
	if err != nil {
		return nil, err
	}
	rep := &RepairReport{}
	for _, c := range pending {
		if c.ObjectKey != "" && c.SHA256 != "" {
			info, err := s.Objects.Stat(ctx, c.ObjectKey)
			if err == nil && (info.SHA256 == "" || info.SHA256 == c.SHA256) && s.scansStored(ctx, c) {
				if err := s.Register.Issue(ctx, c.ID); err != nil {
					return rep, err
				}
				rep.Issued = append(rep.Issued, c.ID)
				continue
			} else if err != nil && chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
				return rep, err
			}
		}
		if err := s.Register.Void(ctx, c.ID, "interrupted before the copy was stored (repaired by fsck)"); err != nil {
			return rep, err
		}
		rep.Voided = append(rep.Voided, c.ID)
	}
	return rep, nil
}

func (s *Service) scansStored(ctx context.Context, c *chungthuc.Certification) bool {
	for _, k := range c.ScanKeys {
		if _, err := s.Objects.Stat(ctx, k); err != nil {
			return false
		}
	}
	return true
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
