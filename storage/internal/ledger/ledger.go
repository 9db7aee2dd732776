// Package ledger holds what the two register implementations (storage/sqlite and
// storage/postgres) share so that they behave alike: validation and normalisation of what is
// written, the search key, the canonical hash of audit entries, the allowed status
// transitions, the audit vocabulary and the time precision.
package ledger

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

// TimeLayout is how times are written where the database has no time type (SQLite) and in the
// canonical form of audit entries: UTC with exactly six fractional digits, so that text order
// is time order.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Micro returns t in UTC truncated to the microsecond, the precision both databases keep, so
// that what a caller holds after a write equals what it reads back.
func Micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// FormatTime writes t in TimeLayout.
func FormatTime(t time.Time) string { return Micro(t).Format(TimeLayout) }

// ParseTime reads a time written by FormatTime.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("ledger: bad stored time %q: %w", s, err)
	}
	return t, nil
}

// YearOf is the calendar year of t in Vietnam, the year a certification is numbered in.
func YearOf(t time.Time) int { return t.In(chungthuc.Vietnam).Year() }

// Audit actions written by the registers themselves.
const (
	ActionUnitCreate    = "unit.create"
	ActionOfficerCreate = "officer.create"
	ActionOfficerCert   = "officer.cert"
	ActionUnitExternal  = "unit.external_signing"
	ActionUnitUpdate    = "unit.update"
	ActionOfficerUpdate = "officer.update"
	ActionBookSign      = "book.sign"
	ActionReserve       = "certify.reserve"
	ActionSeal          = "certify.seal"
	ActionAddVersion    = "archive.version"
	ActionIssue         = "certify.issue"
	ActionVoid          = "certify.void"
	ActionRevoke        = "revoke"
	ActionRefuse        = "refuse"
	ActionBookOpen      = "book.open"
	ActionBookClose     = "book.close"
)

// ActorSystem is the actor of register changes whose caller is not known to the register.
const ActorSystem = "system"

// Officer returns the actor name of an officer, "officer:12".
func Officer(id int64) string { return "officer:" + strconv.FormatInt(id, 10) }

// Subject returns "kind:id", e.g. "certification:881".
func Subject(kind string, id int64) string { return kind + ":" + strconv.FormatInt(id, 10) }

// Detail encodes key/value pairs as a JSON object (keys sorted). It never fails: values are
// plain strings and numbers.
func Detail(kv map[string]any) string {
	b, err := json.Marshal(kv)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// Hash returns the hex SHA-256 of the canonical form of e: the ASCII tag
// "chungthuc.audit.v1" followed by eight fields, each written as its length in bytes (8-byte
// big-endian) and then its bytes: ID (decimal), At (TimeLayout, UTC, microseconds), Action,
// UnitID (decimal), Actor, Subject, Detail, PrevHash. The length prefixes make the encoding
// unambiguous; PrevHash chains the entry to the one before it; the first entry has an empty
// PrevHash.
func Hash(e *chungthuc.AuditEntry) string {
	h := sha256.New()
	h.Write([]byte("chungthuc.audit.v1"))
	var n [8]byte
	for _, f := range []string{
		strconv.FormatInt(e.ID, 10), FormatTime(e.At), e.Action, strconv.FormatInt(e.UnitID, 10),
		e.Actor, e.Subject, e.Detail, e.PrevHash,
	} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// PrepareAudit checks an entry given to AuditLog.Append and fills its defaults: At (now when
// zero, truncated to microseconds), Detail ("{}" when empty). Action and Actor are required
// and Detail must be a JSON object (EINVALID otherwise).
func PrepareAudit(e *chungthuc.AuditEntry, now time.Time) error {
	if e == nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "audit entry missing")
	}
	if strings.TrimSpace(e.Action) == "" || strings.TrimSpace(e.Actor) == "" {
		return chungthuc.Errorf(chungthuc.EINVALID, "an audit entry needs an action and an actor")
	}
	if e.Detail == "" {
		e.Detail = "{}"
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(e.Detail), &obj); err != nil || obj == nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "the detail of an audit entry must be a JSON object")
	}
	if e.At.IsZero() {
		e.At = now
	}
	e.At = Micro(e.At)
	e.Action, e.Actor, e.Subject = nfc(e.Action), nfc(e.Actor), nfc(e.Subject)
	return nil
}

// Fold returns the search key of a text: NFC-independent, lower-case, without Vietnamese
// tone and vowel marks, with đ written d ("Nguyễn Văn Đức" → "nguyen van duc"). Searching
// folds the query the same way, so "nguyen", "NGUYỄN" and "Nguyễn" all find "Nguyễn".
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// SearchKey is the stored search text of an entry: its folded title, issuer and requester.
func SearchKey(c *chungthuc.Certification) string {
	return Fold(c.Title) + "\n" + Fold(c.Issuer) + "\n" + Fold(c.Requester)
}

// LikeContains returns a LIKE pattern (escape character '\') matching search keys that contain
// the folded query.
func LikeContains(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(Fold(q)) + "%"
}

func nfc(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }

var unitCode = regexp.MustCompile(`^[A-Z0-9_-]{1,16}$`)

// UnitCode normalises a unit code for storage and lookup (trimmed, upper-case).
func UnitCode(code string) string { return strings.ToUpper(strings.TrimSpace(code)) }

// PrepareUnit checks and normalises a unit before it is created or updated: Code upper-case
// ASCII letters, digits, '-' or '_' (1–16); Name and Place required and, like Body, Province
// and each of Titles, printable text (chungthuc.ValidatePrintedText: one line, bounded, no
// control or invisible characters, NFC); SealImage, when set, a PNG with transparency
// (chungthuc.CheckSealImage); SealMM from 0 to 80. EINVALID otherwise.
func PrepareUnit(u *chungthuc.Unit) error {
	if u == nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "unit missing")
	}
	u.Code = UnitCode(u.Code)
	if !unitCode.MatchString(u.Code) {
		return chungthuc.Errorf(chungthuc.EINVALID, "a unit code is 1 to 16 upper-case letters, digits, '-' or '_', not %q", u.Code)
	}
	if strings.TrimSpace(u.Name) == "" || strings.TrimSpace(u.Place) == "" {
		return chungthuc.Errorf(chungthuc.EINVALID, "a unit needs a name and a place name")
	}
	var err error
	if err = setText(&u.Name, chungthuc.ValidatePrintedText, "the unit's name", chungthuc.MaxNameLen); err != nil {
		return err
	}
	if err = setText(&u.Place, chungthuc.ValidatePrintedText, "the place name", chungthuc.MaxPlaceLen); err != nil {
		return err
	}
	if err = setText(&u.Body, optionalText, "the body's name", chungthuc.MaxNameLen); err != nil {
		return err
	}
	if err = setText(&u.Province, optionalText, "the province", chungthuc.MaxPlaceLen); err != nil {
		return err
	}
	if err = setList(&u.Titles, u.Titles); err != nil {
		return err
	}
	if len(u.SealImage) > 0 {
		if err := chungthuc.CheckSealImage(u.SealImage); err != nil {
			return err
		}
	}
	if u.SealMM < 0 || u.SealMM > 80 || u.SealMM != u.SealMM {
		return chungthuc.Errorf(chungthuc.EINVALID, "the seal's size is 0 to 80 mm, not %v", u.SealMM)
	}
	return nil
}

// UnitDetail is the audit detail of a unit's profile: its printed fields and the SHA-256
// of its seal image (never the image).
func UnitDetail(u *chungthuc.Unit) map[string]any {
	return map[string]any{"code": u.Code, "name": u.Name, "place": u.Place, "body": u.Body, "province": u.Province,
		"seal_mm": u.SealMM, "seal_sha256": imageHash(u.SealImage), "titles": u.Titles}
}

// OfficerDetail is the audit detail of an officer's record: name, titles, authority and the
// SHA-256 of the signature image (never the image).
func OfficerDetail(o *chungthuc.Officer) map[string]any {
	d := map[string]any{"name": o.Name, "title": o.Title, "titles": o.Titles, "role": o.Role, "active": o.Active,
		"authority": o.Authority, "decision_no": o.DecisionNo, "signature_sha256": imageHash(o.SignatureImage)}
	for k, t := range map[string]*time.Time{"decision_date": o.DecisionDate, "valid_from": o.ValidFrom, "valid_until": o.ValidUntil} {
		if t != nil {
			d[k] = FormatTime(*t)
		}
	}
	return d
}

func imageHash(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CheckBookSigning refuses (ECONFLICT) to record a closing signature on a book that is still
// open or whose closing was already signed.
func CheckBookSigning(b *chungthuc.Book) error {
	switch {
	case b.ClosedAt == nil:
		return chungthuc.Errorf(chungthuc.ECONFLICT, "book %s is open: close it before its closing page is signed", b.Code)
	case b.ClosedBy != 0:
		return chungthuc.Errorf(chungthuc.ECONFLICT, "the closing page of book %s was already signed by officer %d", b.Code, b.ClosedBy)
	}
	return nil
}

// BookSignDetail is the audit detail of a signed closing: the book and the PDF's SHA-256.
func BookSignDetail(b *chungthuc.Book, pdf []byte) map[string]any {
	return map[string]any{"code": b.Code, "closing_count": b.ClosingCount, "pdf_sha256": imageHash(pdf)}
}

// setText stores check(field, *dst, max) in *dst when it passes, and leaves *dst alone when
// it does not (a refused value never half-changes what the caller holds).
func setText(dst *string, check func(string, string, int) (string, error), field string, max int) error {
	v, err := check(field, *dst, max)
	if err == nil {
		*dst = v
	}
	return err
}

// setList is setText for a list of titles.
func setList(dst *[]string, l []string) error {
	v, err := titleList(l)
	if err == nil {
		*dst = v
	}
	return err
}

// optionalText is ValidatePrintedText for a field that may be empty.
func optionalText(field, s string, max int) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	return chungthuc.ValidatePrintedText(field, s, max)
}

// titleList validates each title of a list (printable, one line, at most MaxTitleLen) and
// drops duplicates; an empty list is [] (never nil).
func titleList(ts []string) ([]string, error) {
	out := []string{}
	for _, t := range ts {
		v, err := chungthuc.ValidatePrintedText("a title", t, chungthuc.MaxTitleLen)
		if err != nil {
			return nil, err
		}
		dup := false
		for _, x := range out {
			dup = dup || x == v
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out, nil
}

// CheckOfficerTitles refuses (EINVALID) an officer whose titles are not all on its unit's
// list of allowed titles, when the unit keeps one.
func CheckOfficerTitles(o *chungthuc.Officer, u *chungthuc.Unit) error {
	if len(u.Titles) == 0 {
		return nil
	}
	for _, t := range o.AllowedTitles() {
		ok := false
		for _, x := range u.Titles {
			ok = ok || x == t
		}
		if !ok {
			return chungthuc.Errorf(chungthuc.EINVALID, "the title %q is not on the list of titles of unit %s", t, u.Code)
		}
	}
	return nil
}

// PrepareOfficer checks and normalises an officer before it is created or updated: Name
// required; Name, Title and Titles printable text (chungthuc.ValidatePrintedText); Role one of
// the four roles (empty means RoleOfficer); UnitID required except for system
// administrators; Authority empty or known, and for an authorised official the decision's
// number (printable) and date, with ValidFrom not after ValidUntil; SignatureImage, when
// set, a PNG with transparency. EINVALID otherwise.
func PrepareOfficer(o *chungthuc.Officer) error {
	if o == nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "officer missing")
	}
	if o.Role == "" {
		o.Role = chungthuc.RoleOfficer
	}
	switch o.Role {
	case chungthuc.RoleOfficer, chungthuc.RoleClerk, chungthuc.RoleUnitAdmin, chungthuc.RoleSystemAdmin:
	default:
		return chungthuc.Errorf(chungthuc.EINVALID, "unknown role %q", o.Role)
	}
	if strings.TrimSpace(o.Name) == "" {
		return chungthuc.Errorf(chungthuc.EINVALID, "an officer needs a name")
	}
	var err error
	if err = setText(&o.Name, chungthuc.ValidatePrintedText, "the officer's name", chungthuc.MaxNameLen); err != nil {
		return err
	}
	if err = setText(&o.Title, optionalText, "the officer's title", 3*chungthuc.MaxTitleLen); err != nil {
		return err
	}
	if err = setList(&o.Titles, o.Titles); err != nil {
		return err
	}
	if o.UnitID <= 0 && o.Role != chungthuc.RoleSystemAdmin {
		return chungthuc.Errorf(chungthuc.EINVALID, "an officer other than a system administrator needs a unit")
	}
	if o.Authority != "" && !chungthuc.ValidAuthority(o.Authority) {
		return chungthuc.Errorf(chungthuc.EINVALID, "unknown authority %q (chairman, vice_chairman or authorised)", o.Authority)
	}
	if err = setText(&o.DecisionNo, optionalText, "the decision's number", chungthuc.MaxPlaceLen); err != nil {
		return err
	}
	if o.Authority == chungthuc.AuthorityAuthorised && (o.DecisionNo == "" || o.DecisionDate == nil) {
		return chungthuc.Errorf(chungthuc.EINVALID, "an authorised official needs the authorising decision's number and date")
	}
	if o.ValidFrom != nil && o.ValidUntil != nil && o.ValidUntil.Before(*o.ValidFrom) {
		return chungthuc.Errorf(chungthuc.EINVALID, "the authorisation ends before it begins")
	}
	for _, t := range []**time.Time{&o.DecisionDate, &o.ValidFrom, &o.ValidUntil} {
		if *t != nil {
			m := Micro(**t)
			*t = &m
		}
	}
	if len(o.SignatureImage) > 0 {
		if err := chungthuc.CheckSignatureImage(o.SignatureImage); err != nil {
			return err
		}
	}
	return nil
}

var urlSafe = regexp.MustCompile(`^[A-Za-z0-9_-]{22,128}$`)

// PrepareReservation checks and normalises an entry given to Reserve: UnitID, OfficerID and
// Title required; Token URL-safe and at least 22 characters (128 bits in base64url); Pages and
// FeeVND not negative; CertifiedAt now when zero. It sets CreatedAt to now, Status to Pending,
// clears the fields only Seal, Void and Revoke may set, and NFC-normalises the text. EINVALID
// otherwise.
func PrepareReservation(c *chungthuc.Certification, now time.Time) error {
	if c == nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "certification missing")
	}
	c.Title, c.Issuer, c.Requester = nfc(c.Title), nfc(c.Issuer), nfc(c.Requester)
	c.OfficerName, c.OfficerTitle = nfc(c.OfficerName), nfc(c.OfficerTitle)
	switch {
	case c.UnitID <= 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "a certification needs a unit")
	case c.OfficerID <= 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "a certification needs an officer")
	case !urlSafe.MatchString(c.Token):
		return chungthuc.Errorf(chungthuc.EINVALID, "a verification token is 22 to 128 URL-safe characters")
	case c.Title == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "a certification needs the title of the document")
	case c.Pages < 0 || c.FeeVND < 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "pages and fee cannot be negative")
	case c.Copies < 0 || c.Copies > chungthuc.MaxCopies:
		return chungthuc.Errorf(chungthuc.EINVALID, "copies must be 1 to %d", chungthuc.MaxCopies)
	}
	if c.Copies == 0 {
		c.Copies = 1
	}
	if err := checkKeys(c.ScanKeys); err != nil {
		return err
	}
	if err := CheckIdempotencyKey(c.IdempotencyKey); err != nil {
		return err
	}
	if c.IdempotencyKey == "" {
		c.RequestHash = ""
	}
	if c.ScanKeys == nil {
		c.ScanKeys = []string{}
	}
	if c.CertifiedAt.IsZero() {
		c.CertifiedAt = now
	}
	c.CertifiedAt = Micro(c.CertifiedAt)
	c.CreatedAt = Micro(now)
	c.Status = chungthuc.StatusPending
	c.SHA256, c.ObjectKey, c.VoidReason, c.RevokeReason, c.RevokedAt = "", "", "", "", nil
	c.ObjectVersion, c.ObjectETag = "", ""
	return nil
}

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 200

// CheckIdempotencyKey accepts an empty key or 1 to MaxIdempotencyKey printable ASCII
// characters (EINVALID otherwise).
func CheckIdempotencyKey(key string) error {
	if len(key) > MaxIdempotencyKey {
		return chungthuc.Errorf(chungthuc.EINVALID, "an idempotency key is at most %d characters", MaxIdempotencyKey)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return chungthuc.Errorf(chungthuc.EINVALID, "an idempotency key is printable ASCII without spaces")
		}
	}
	return nil
}

// KeyTaken is the error of a reservation whose idempotency key another entry of the unit
// already has (ECONFLICT).
func KeyTaken() error {
	return chungthuc.Errorf(chungthuc.ECONFLICT, "a certification was already created with this idempotency key")
}

// FindingKinds are the kinds of object findings, as the schema's CHECK lists them.
var FindingKinds = []string{chungthuc.FindingOrphan, chungthuc.FindingMissing, chungthuc.FindingDamaged,
	chungthuc.FindingOverwritten, chungthuc.FindingDeleted}

// Audit actions of findings.
const (
	ActionFinding      = "object.finding"
	ActionFindingClear = "object.finding.clear"
)

// PrepareFinding checks and normalises a finding given to ReportFinding: Key and a known
// Kind required; Detail NFC and at most 2000 characters. EINVALID otherwise.
func PrepareFinding(f *chungthuc.Finding) error {
	if f == nil || strings.TrimSpace(f.Key) == "" {
		return chungthuc.Errorf(chungthuc.EINVALID, "a finding needs the key of the object")
	}
	known := false
	for _, k := range FindingKinds {
		known = known || k == f.Kind
	}
	if !known {
		return chungthuc.Errorf(chungthuc.EINVALID, "unknown kind of finding %q", f.Kind)
	}
	f.Detail = nfc(f.Detail)
	if r := []rune(f.Detail); len(r) > 2000 {
		f.Detail = string(r[:2000])
	}
	return nil
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CheckSHA256 reports whether s is a lower-case hex SHA-256 (EINVALID otherwise).
func CheckSHA256(s string) error {
	if !hexSHA256.MatchString(s) {
		return chungthuc.Errorf(chungthuc.EINVALID, "a SHA-256 is 64 lower-case hex digits")
	}
	return nil
}

// CheckSeal checks the arguments of Seal (EINVALID when malformed).
func CheckSeal(sha, objectKey string, scanKeys []string) error {
	if err := CheckSHA256(sha); err != nil {
		return err
	}
	if strings.TrimSpace(objectKey) == "" {
		return chungthuc.Errorf(chungthuc.EINVALID, "a sealed entry needs the object key of its signed copy")
	}
	return checkKeys(scanKeys)
}

func checkKeys(keys []string) error {
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			return chungthuc.Errorf(chungthuc.EINVALID, "an object key cannot be empty")
		}
	}
	return nil
}

// Reason checks and normalises a void or revocation reason (required, EINVALID otherwise).
func Reason(reason string) (string, error) {
	r := nfc(reason)
	if r == "" {
		return "", chungthuc.Errorf(chungthuc.EINVALID, "a reason is required")
	}
	return r, nil
}

// PrepareRefusal checks and normalises a refusal: UnitID, OfficerID and a known Reason
// required, a Note for RefuseOther; Note, Title and Requester printable text (they are printed
// on the slip); CreatedAt set to now and Year to its year in Vietnam. EINVALID otherwise.
func PrepareRefusal(r *chungthuc.Refusal, now time.Time) error {
	if r == nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "refusal missing")
	}
	switch {
	case r.UnitID <= 0 || r.OfficerID <= 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "a refusal needs a unit and an officer")
	case !chungthuc.ValidRefusalReason(r.Reason):
		return chungthuc.Errorf(chungthuc.EINVALID, "unknown refusal reason %q", r.Reason)
	case r.Reason == chungthuc.RefuseOther && strings.TrimSpace(r.Note) == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "a refusal for another reason needs the reason written out")
	}
	// Every field is printed on the refusal slip.
	var err error
	if err = setText(&r.Note, optionalText, "the refusal's note", chungthuc.MaxNoteLen); err != nil {
		return err
	}
	if err = setText(&r.Title, optionalText, "the document", chungthuc.MaxDocumentLen); err != nil {
		return err
	}
	if err = setText(&r.Requester, optionalText, "the requester", chungthuc.MaxNameLen); err != nil {
		return err
	}
	r.CreatedAt = Micro(now)
	r.Year = YearOf(r.CreatedAt)
	return nil
}

// CheckYear checks that a book year is plausible (EINVALID otherwise).
func CheckYear(year int) error {
	if year < 2000 || year > 9999 {
		return chungthuc.Errorf(chungthuc.EINVALID, "year %d is out of range", year)
	}
	return nil
}

// Filter returns f with its paging normalised: Limit 50 when not positive, at most 500;
// Offset not negative. A negative Number or Year is EINVALID, and so is an unknown Status.
func Filter(f chungthuc.CertificationFilter) (chungthuc.CertificationFilter, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	f.Offset = max(f.Offset, 0)
	if f.Number < 0 || f.Year < 0 || f.UnitID < 0 {
		return f, chungthuc.Errorf(chungthuc.EINVALID, "unit, year and number cannot be negative")
	}
	switch f.Status {
	case "", chungthuc.StatusPending, chungthuc.StatusIssued, chungthuc.StatusVoid, chungthuc.StatusRevoked:
	default:
		return f, chungthuc.Errorf(chungthuc.EINVALID, "unknown status %q", f.Status)
	}
	f.Query = strings.TrimSpace(f.Query)
	return f, nil
}

// Transition returns nil when an entry may go from status from to status to, and ECONFLICT
// otherwise: Issue and Void only from Pending, Revoke only from Issued.
func Transition(id int64, from, to chungthuc.Status) error {
	ok := (from == chungthuc.StatusPending && (to == chungthuc.StatusIssued || to == chungthuc.StatusVoid)) ||
		(from == chungthuc.StatusIssued && to == chungthuc.StatusRevoked)
	if ok {
		return nil
	}
	return chungthuc.Errorf(chungthuc.ECONFLICT, "certification %d is %s and cannot become %s", id, from, to)
}

// CertFingerprint returns the hex SHA-256 of the first certificate in certPEM, for the audit
// log; EINVALID when certPEM holds no parsable X.509 certificate.
func CertFingerprint(certPEM []byte) (string, error) {
	for rest := certPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return "", chungthuc.Errorf(chungthuc.EINVALID, "no PEM certificate found")
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return "", chungthuc.Errorf(chungthuc.EINVALID, "the certificate cannot be parsed")
		}
		sum := sha256.Sum256(b.Bytes)
		return hex.EncodeToString(sum[:]), nil
	}
}
