package chungthuc

import (
	"fmt"
	"regexp"
	"time"
)

// Vietnam is the time zone every legal date is written in (UTC+07:00, no daylight saving).
var Vietnam = time.FixedZone("ICT", 7*3600)

// Unit is a certifying unit: a ward/commune People's Committee or a one-stop shop.
type Unit struct {
	ID    int64
	Code  string // short, unique, upper-case ASCII, e.g. "HB"
	Name  string // full name, e.g. "Phường Hòa Bình" (NFC)
	Place string // the place name (địa danh) printed before the date, e.g. "Hòa Bình"
	// SealImage is the PNG of the unit's red seal shown on the seal signature; empty means
	// the drawn default, which only a Demo unit may certify with.
	SealImage []byte
	// Body is the issuing body as printed under the seal's signature (Decree 30/2020
	// Appendix I), e.g. "Ủy ban nhân dân phường Hòa Bình"; empty = Name.
	Body string
	// Province is the province the body belongs to, e.g. "tỉnh Phú Thọ"; empty = not printed.
	Province string
	// SealMM is the registered seal's true diameter in millimetres (0 = not recorded).
	SealMM float64
	// Demo marks the demonstration unit: its drawn seal is marked as a demo on every copy,
	// and it may certify without a registered seal image.
	Demo bool
	// Titles, when not empty, is the unit's list of the titles its officers may carry:
	// an officer's title outside it is refused when the officer is recorded.
	Titles []string
	// SealCertPEM is the certificate of the unit's seal when the records clerk applies it
	// with the unit's own device (issue 14; PEM, leaf first); nil = the key store's seal.
	SealCertPEM []byte
	// ExternalSigning makes signing outside the service (the officer's device, then the
	// clerk's seal) the default of API requests that do not choose.
	ExternalSigning bool
	CreatedAt       time.Time
}

// Printed bounds (in characters) of the unit and officer fields that are printed on a
// certified copy, the register book or a refusal slip (ValidatePrintedText).
const (
	MaxNameLen     = 120 // names of people, units and bodies
	MaxTitleLen    = 80  // one title line
	MaxPlaceLen    = 80  // place and province
	MaxDocumentLen = 200 // the name of the original
	MaxNoteLen     = 500 // a refusal's "other" ground and notes
)

// MaxCopies is the most copies one certification (one number) may cover.
const MaxCopies = 100

// MaxSealImage and MaxSignatureImage bound the PNGs of a unit's seal and an officer's
// handwritten signature (bytes); their pixel sizes are bounded by MaxImageSide.
const (
	MaxSealImage      = 512 << 10
	MaxSignatureImage = 256 << 10
	MaxImageSide      = 2000
)

// Role is what an account may do within its unit.
type Role string

// Roles.
const (
	RoleOfficer     Role = "officer"      // certifies copies (người thực hiện chứng thực)
	RoleClerk       Role = "clerk"        // records clerk (văn thư): applies the seal, issues
	RoleUnitAdmin   Role = "unit_admin"   // opens/closes books, manages officers and keys
	RoleSystemAdmin Role = "system_admin" // every unit (a city's administrator)
)

// Officer is a person who certifies copies for a unit.
type Officer struct {
	ID     int64
	UnitID int64
	Name   string // full name (Họ và tên), NFC
	Title  string // default title printed, e.g. "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"
	Role   Role
	Active bool
	// CertPEM is the officer's signing certificate (PEM); the key is held by a KeyStore.
	CertPEM []byte
	// Titles are further titles an administrator allowed this officer to sign under (chosen
	// per certification with --signer-title / officer_title); Title is always allowed.
	Titles []string
	// Authority is the officer's power to certify (Decree 23/2015 as amended by Decree
	// 280/2025): chairman, vice-chairman, or an official the committee authorised, whose
	// decision (number, date, validity) is recorded; empty for records from before it was
	// kept (the Title's " / "-separated levels are printed as they are).
	Authority    Authority
	DecisionNo   string     // the authorising decision's number (Authorised only)
	DecisionDate *time.Time // its date
	ValidFrom    *time.Time // the authority's validity period; nil = open
	ValidUntil   *time.Time
	// SignatureImage is the officer's handwritten signature (PNG, blue ink, transparent
	// background), shown between the title and the name; nil = none recorded.
	SignatureImage []byte
	CreatedAt      time.Time
}

// Authority is what empowers an officer to sign certifications.
type Authority string

// Authorities.
const (
	AuthorityChairman     Authority = "chairman"      // Chủ tịch UBND
	AuthorityViceChairman Authority = "vice_chairman" // Phó Chủ tịch UBND (signs KT. CHỦ TỊCH)
	AuthorityAuthorised   Authority = "authorised"    // an official authorised by the committee (TUQ. CHỦ TỊCH)
)

// Book is a certification register book (sổ chứng thực) of a unit for one calendar year.
// Numbers run per unit and year across books: a book opened mid-year continues the count.
type Book struct {
	ID          int64
	UnitID      int64
	Year        int
	Seq         int    // 1, 2, … within the unit and year
	Code        string // e.g. "01/2026-SCTĐT/BS"
	FirstNumber int64  // the first number recorded in this book
	LastNumber  int64  // the last number recorded so far (FirstNumber-1 when empty)
	OpenedAt    time.Time
	ClosedAt    *time.Time
	// ClosingCount is the count of the year's certifications written when the book is
	// closed at year end (0 while open).
	ClosingCount int64
	// ClosedBy is the officer who signed the closing page (0 while not signed) and
	// ClosingPDF the signed book with its closing page (PAdES), kept with the book.
	ClosedBy   int64
	ClosingPDF []byte
}

// BookCode formats the code of the seq-th electronic copy book of a year.
func BookCode(seq, year int) string { return fmt.Sprintf("%02d/%d-SCTĐT/BS", seq, year) }

// unitCodeRE is what a unit code may be: it names a directory and a PrintableString in
// certificates.
var unitCodeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,31}$`)

// CheckUnitCode refuses unit codes that cannot name a directory or a PrintableString:
// EINVALID unless 1-32 ASCII letters, digits or '-' (not first).
func CheckUnitCode(code string) error {
	if !unitCodeRE.MatchString(code) {
		return Errorf(EINVALID, "unit code %q must be 1-32 ASCII letters, digits or '-'", code)
	}
	return nil
}

// Status is the state of a register entry.
type Status string

// Statuses. An entry is created Pending when its number is allocated (intent recorded before
// signing); it becomes Issued when the signed copy is stored, or Void when anything fails
// (the number stays used, with the reason, so the register has no gaps). Issued entries can
// be Revoked; nothing is ever deleted.
const (
	StatusPending Status = "pending"
	StatusIssued  Status = "issued"
	StatusVoid    Status = "void"
	StatusRevoked Status = "revoked"
)

// Certification is one entry of the register: one number, one certified electronic copy.
type Certification struct {
	ID       int64
	UnitID   int64
	BookID   int64
	BookCode string
	Year     int
	Number   int64 // gapless per unit and calendar year, from 1
	// Token is the unguessable verification token (≥128 bits, URL-safe) of the public link.
	Token string
	// AccessCodeHash is the hash of the citizen's access code (the code itself is shown once).
	AccessCodeHash string

	Title     string // the document certified, e.g. "Giấy khai sinh"
	Issuer    string // who issued the original
	Requester string // the citizen who asked

	OfficerID    int64
	OfficerName  string
	OfficerTitle string // title printed on this copy

	Pages  int   // pages of the certified copy's original
	Copies int   // copies made from the original at once under this one number (≥ 1)
	FeeVND int64 // fee charged: Fee(Pages) × Copies

	SHA256    string   // hex SHA-256 of the signed PDF (set before the object is stored)
	ObjectKey string   // key of the signed PDF in the object store
	ScanKeys  []string // keys of the original scans in the object store
	// ObjectVersion and ObjectETag are what the store reported when the copy was written
	// (recorded at Issue): reads fetch that version and check it against SHA256.
	ObjectVersion string
	ObjectETag    string

	// IdempotencyKey is the client's Idempotency-Key of the request that created the entry
	// (unique per unit; empty when none was sent) and RequestHash the fingerprint of that
	// request, so a retry gets the first outcome and a reused key with another request is
	// refused.
	IdempotencyKey string
	RequestHash    string

	Status       Status
	VoidReason   string
	RevokeReason string
	RevokedAt    *time.Time

	CertifiedAt time.Time // the legal date/time of certification
	CreatedAt   time.Time
}

// RefusalReason is a reason code for refusing to certify (Decree 23/2015 art. 22).
type RefusalReason string

// Refusal reasons.
const (
	RefuseAltered      RefusalReason = "altered"       // erased, altered, content added or removed
	RefuseDamaged      RefusalReason = "damaged"       // damaged so content cannot be determined
	RefuseClassified   RefusalReason = "classified"    // marked "MẬT" or "không được sao chụp"
	RefuseUnlawful     RefusalReason = "unlawful"      // unlawful content
	RefuseNotLegalised RefusalReason = "not_legalised" // foreign document not legalised
	RefuseSelfMade     RefusalReason = "self_made"     // self-made paper without confirmation
	RefuseOther        RefusalReason = "other"         // another ground, stated in the note
)

// RefusalReasons lists every refusal reason with its Vietnamese label, in display order.
var RefusalReasons = []struct {
	Code  RefusalReason
	Label string
}{
	{RefuseAltered, "Bản chính bị tẩy xóa, sửa chữa, thêm, bớt nội dung không hợp lệ"},
	{RefuseDamaged, "Bản chính bị hư hỏng, cũ nát, không xác định được nội dung"},
	{RefuseClassified, "Bản chính đóng dấu mật hoặc ghi rõ không được sao chụp"},
	{RefuseUnlawful, "Bản chính có nội dung trái pháp luật, đạo đức xã hội"},
	{RefuseNotLegalised, "Giấy tờ nước ngoài chưa được hợp pháp hóa lãnh sự"},
	{RefuseSelfMade, "Giấy tờ do cá nhân tự lập không có xác nhận của cơ quan có thẩm quyền"},
	{RefuseOther, "Lý do khác"},
}

// RefusalLabel is the Vietnamese label of a reason ("" for an unknown one).
func RefusalLabel(r RefusalReason) string {
	for _, x := range RefusalReasons {
		if x.Code == r {
			return x.Label
		}
	}
	return ""
}

// ValidRefusalReason reports whether r is one of RefusalReasons.
func ValidRefusalReason(r RefusalReason) bool {
	for _, x := range RefusalReasons {
		if x.Code == r {
			return true
		}
	}
	return false
}

// Refusal records a refused request. Year and Number (set by the register) number the
// refusal slips of a unit per calendar year, from 1.
type Refusal struct {
	ID        int64
	UnitID    int64
	OfficerID int64
	Year      int
	Number    int64
	Reason    RefusalReason
	Note      string // required for RefuseOther: the ground as printed on the slip
	Title     string
	Requester string
	CreatedAt time.Time
}

// FeeFor returns the fee of one certification: Fee(pages) for each of copies copies (a
// number covers every copy made from one original at one time; the fee is per copy).
func FeeFor(pages, copies int) int64 {
	if copies < 1 {
		copies = 1
	}
	return Fee(pages) * int64(copies)
}

// Fee returns the certification fee in VND for a copy whose original has pages pages
// (Circular 226/2016/TT-BTC): 2,000 per page for pages 1–2, 1,000 per page from page 3,
// at most 200,000 per copy. Zero or negative pages cost nothing.
func Fee(pages int) int64 {
	if pages <= 0 {
		return 0
	}
	fee := int64(2000 * min(pages, 2))
	if pages > 2 {
		fee += int64(1000 * (pages - 2))
	}
	return min(fee, 200000)
}

// SignatureStep is what a certification signed outside the service (issue 14: the officer's
// own device, the clerk applying the unit's seal with the unit's device) waits for.
type SignatureStep string

// Signature steps: the officer's signature, then the unit's seal; a wait is Closed when
// its entry left Pending (issued, or void with a reason).
const (
	StepOfficerSignature SignatureStep = "officer_signature"
	StepSeal             SignatureStep = "seal"
	StepClosed           SignatureStep = "closed"
)

// SignatureWait is the register's record of a Pending entry waiting for a signature made
// outside the service. The entry keeps its number while it waits; a wait past ExpiresAt is
// voided with a reason by the expiry sweep (certify.Service.ExpireWaits).
type SignatureWait struct {
	CertificationID int64
	UnitID          int64
	Step            SignatureStep
	ExpiresAt       time.Time
	// State is the workflow's state between the steps, opaque to the register (the
	// certify package's JSON: the prepared file and what the next step needs). It holds
	// no private key; nil once the wait is closed.
	State     []byte
	UpdatedAt time.Time
}
