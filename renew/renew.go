package renew

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
)

// Prefix is where renewed versions live in the object store.
const Prefix = "renewals/"

// MaxObject bounds a stored copy read for renewal (256 MiB).
const MaxObject = 256 << 20

// Register is what renewal needs of the register: the entries to look at and a place to
// record each new version. Any chungthuc.Register is one.
type Register interface {
	Units(ctx context.Context) ([]*chungthuc.Unit, error)
	Certifications(ctx context.Context, f chungthuc.CertificationFilter) ([]*chungthuc.Certification, int, error)
	AddVersion(ctx context.Context, id int64, sha256, objectKey string) error
}

// Objects is what renewal needs of the object store. Any chungthuc.ObjectStore is one.
type Objects interface {
	Get(ctx context.Context, key, version string) (io.ReadCloser, *chungthuc.ObjectInfo, error)
	List(ctx context.Context, prefix string, fn func(chungthuc.ObjectInfo) error) error
	Put(ctx context.Context, key string, r io.Reader, size int64, sha256 string) (*chungthuc.ObjectInfo, error)
}

// Auditor records each renewal. Any chungthuc.AuditLog is one.
type Auditor interface {
	Append(ctx context.Context, e *chungthuc.AuditEntry) error
}

// Inspector tells when a copy's newest document time-stamp stops being verifiable, judged
// at at: has is false when the copy has none.
type Inspector interface {
	DocumentTimestampExpiry(ctx context.Context, pdf []byte, at time.Time) (expires time.Time, has bool, err error)
}

// Stamper adds a document time-stamp (and the validation data of everything before it) to
// a PDF as an incremental update: the result must start with pdf.
type Stamper interface {
	AddDocumentTimestamp(ctx context.Context, pdf []byte) ([]byte, error)
}

var (
	_ Register = chungthuc.Register(nil)
	_ Objects  = chungthuc.ObjectStore(nil)
	_ Auditor  = chungthuc.AuditLog(nil)
)

// Service renews archived copies. Register, Objects, Audit and Inspector are required;
// Stamper may be nil (no time-stamping authority: only dry runs work).
type Service struct {
	Register  Register
	Objects   Objects
	Audit     Auditor
	Inspector Inspector
	Stamper   Stamper
	Now       chungthuc.Clock // default time.Now
	Logger    *slog.Logger    // default slog.Default()
}

// Item is one copy looked at.
type Item struct {
	ID        int64     `json:"id"`
	Unit      string    `json:"unit"`
	Number    int64     `json:"number"`
	Year      int       `json:"year"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`               // why it is due
	Expires   time.Time `json:"expires,omitzero"`     // of the newest document time-stamp; zero when none
	OldSHA256 string    `json:"old_sha256"`           // the version renewed
	NewSHA256 string    `json:"new_sha256,omitempty"` // the new version (not in a dry run)
	NewKey    string    `json:"new_key,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// Report is the outcome of Run: how many copies were checked, due, renewed and failed,
// and an Item for every copy that was due.
type Report struct {
	Checked int    `json:"checked"`
	Due     int    `json:"due"`
	Renewed int    `json:"renewed"`
	Failed  int    `json:"failed"`
	DryRun  bool   `json:"dry_run"`
	Items   []Item `json:"items"`
}

// Due renews every stored copy (Issued or Revoked) whose newest document time-stamp is
// missing or certified by a TSA certificate expiring within before, and returns how many
// were renewed. For the periodic job of the service. A copy that fails is logged and
// skipped; the error returned is EUNAVAILABLE naming the first failure (with the count of
// those that succeeded), or that of Run.
func (s *Service) Due(ctx context.Context, before time.Duration) (int, error) {
	rep, err := s.Run(ctx, before, false)
	if err != nil {
		return 0, err
	}
	for _, it := range rep.Items {
		if it.Error != "" {
			return rep.Renewed, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "renewal of certification %d failed: %s (%d renewed)", it.ID, it.Error, rep.Renewed)
		}
	}
	return rep.Renewed, nil
}

// Run finds the copies due (see Due) and, unless dryRun, renews them. A copy that fails
// is reported in its Item and counted in Failed; the others go on.
//
// Errors: ECONFLICT when not dryRun and there is no Stamper; the register's errors when
// listing; the context's error (with the report so far).
func (s *Service) Run(ctx context.Context, before time.Duration, dryRun bool) (*Report, error) {
	if s.Stamper == nil && !dryRun {
		return nil, chungthuc.Errorf(chungthuc.ECONFLICT, "renewal needs a time-stamping authority: set CHUNGTHUC_TSA_URL")
	}
	units, err := s.Register.Units(ctx)
	if err != nil {
		return nil, err
	}
	rep := &Report{DryRun: dryRun, Items: []Item{}}
	now := s.now()
	for _, u := range units {
		for _, st := range []chungthuc.Status{chungthuc.StatusIssued, chungthuc.StatusRevoked} {
			list, err := s.entries(ctx, u.ID, st)
			if err != nil {
				return nil, err
			}
			for _, c := range list {
				if err := ctx.Err(); err != nil {
					return rep, err
				}
				rep.Checked++
				it, due := s.one(ctx, u, c, now, before, dryRun)
				if !due {
					continue
				}
				rep.Due++
				switch {
				case it.Error != "":
					rep.Failed++
					s.log().Warn("archive renewal failed", "certification", c.ID, "err", it.Error)
				case !dryRun:
					rep.Renewed++
				}
				rep.Items = append(rep.Items, it)
			}
		}
	}
	return rep, nil
}

// entries lists every entry of a unit with status st, page by page.
func (s *Service) entries(ctx context.Context, unitID int64, st chungthuc.Status) ([]*chungthuc.Certification, error) {
	var list []*chungthuc.Certification
	for off := 0; ; {
		cs, total, err := s.Register.Certifications(ctx, chungthuc.CertificationFilter{UnitID: unitID, Status: st, Offset: off, Limit: 500})
		if err != nil {
			return nil, err
		}
		list = append(list, cs...)
		off += len(cs)
		if len(cs) == 0 || off >= total {
			return list, nil
		}
	}
}

// one checks one copy and renews it when due (and not dryRun): read the newest version,
// ask when its document time-stamp expires, add a new one, store it, register it, audit it.
func (s *Service) one(ctx context.Context, u *chungthuc.Unit, c *chungthuc.Certification, now time.Time, before time.Duration, dryRun bool) (Item, bool) {
	it := Item{ID: c.ID, Unit: u.Code, Number: c.Number, Year: c.Year, Status: string(c.Status)}
	fail := func(err error) (Item, bool) {
		it.Error = chungthuc.ErrorMessage(err)
		return it, true
	}
	cur, err := s.latestVersion(ctx, c)
	if err != nil {
		return fail(err)
	}
	it.OldSHA256 = sha256hex(cur)
	expires, has, err := s.Inspector.DocumentTimestampExpiry(ctx, cur, now)
	if err != nil {
		return fail(err)
	}
	switch {
	case !has:
		it.Reason = "no document time-stamp"
	case expires.Sub(now) <= before:
		it.Expires = expires
		it.Reason = fmt.Sprintf("document time-stamp certificate expires %s", expires.Format(time.RFC3339))
	default:
		return it, false
	}
	if dryRun {
		return it, true
	}
	out, err := s.Stamper.AddDocumentTimestamp(ctx, cur)
	if err != nil {
		return fail(err)
	}
	if !bytes.HasPrefix(out, cur) {
		return fail(chungthuc.Errorf(chungthuc.EINTERNAL, "renewal rewrote earlier bytes; not stored"))
	}
	it.NewSHA256 = sha256hex(out)
	it.NewKey = Prefix + c.SHA256 + "/" + it.NewSHA256 + ".pdf"
	if _, err := s.Objects.Put(ctx, it.NewKey, bytes.NewReader(out), int64(len(out)), it.NewSHA256); err != nil {
		return fail(err)
	}
	// Register the version, so that the renewed file is recognised by its hash (an
	// interrupted renewal leaves a stored but unregistered object; the next run finds it by
	// listing and registers its successor).
	if err := s.Register.AddVersion(ctx, c.ID, it.NewSHA256, it.NewKey); err != nil {
		return fail(err)
	}
	detail, err := json.Marshal(map[string]any{
		"old_sha256": it.OldSHA256, "new_sha256": it.NewSHA256, "registered_sha256": c.SHA256,
		"object_key": it.NewKey, "previous_expiry": it.Expires,
	})
	if err != nil {
		return fail(err)
	}
	if err := s.Audit.Append(ctx, &chungthuc.AuditEntry{
		Action: "archive.renew", UnitID: c.UnitID, Actor: "system",
		Subject: "certification:" + strconv.FormatInt(c.ID, 10), Detail: string(detail),
	}); err != nil {
		// The new version is stored and found again by listing; only the record is missing.
		return fail(err)
	}
	return it, true
}

// latestVersion returns the newest stored version of c's copy: the longest object under
// renewals/{sha}/ whose content matches its name and extends the registered copy, else the
// registered copy itself (whose hash is checked against the register).
func (s *Service) latestVersion(ctx context.Context, c *chungthuc.Certification) ([]byte, error) {
	if c.ObjectKey == "" || c.SHA256 == "" {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "certification %d has no stored copy", c.ID)
	}
	orig, err := s.read(ctx, c.ObjectKey, c.ObjectVersion)
	if err != nil {
		return nil, err
	}
	if sha256hex(orig) != c.SHA256 {
		return nil, chungthuc.Errorf(chungthuc.ECONFLICT, "the stored copy of certification %d does not match the register's hash", c.ID)
	}
	var versions []chungthuc.ObjectInfo
	err = s.Objects.List(ctx, Prefix+c.SHA256+"/", func(o chungthuc.ObjectInfo) error {
		versions = append(versions, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i].Size > versions[j].Size })
	for _, v := range versions {
		b, err := s.read(ctx, v.Key, "")
		if err != nil {
			return nil, err
		}
		want := strings.TrimSuffix(v.Key[strings.LastIndexByte(v.Key, '/')+1:], ".pdf")
		if sha256hex(b) == want && bytes.HasPrefix(b, orig) {
			return b, nil
		}
		s.log().Warn("ignoring a renewed version that does not extend the registered copy", "key", v.Key)
	}
	return orig, nil
}

// read reads a whole object (the given version; "" for the current one) of at most
// MaxObject bytes.
func (s *Service) read(ctx context.Context, key, version string) ([]byte, error) {
	rc, _, err := s.Objects.Get(ctx, key, version)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxObject+1))
	if err != nil {
		return nil, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "cannot read %s", key)
	}
	if len(b) > MaxObject {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%s is larger than %d bytes", key, MaxObject)
	}
	return b, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
