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
	Code  string // short, unique, upper-case ASCII, e.g. "PL"
	Name  string // full name, e.g. "Phường Phương Lâm" (NFC)
	Place string // the place name (địa danh) printed before the date, e.g. "Phương Lâm"
	// SealImage is the PNG of the unit's red seal shown on the seal signature; empty means
	// the drawn default.
	SealImage []byte
	CreatedAt time.Time
}

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
	CertPEM   []byte
	CreatedAt time.Time
}

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
	FeeVND int64 // fee charged, per Fee

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

// Refusal records a refused request.
type Refusal struct {
	ID        int64
	UnitID    int64
	OfficerID int64
	Reason    RefusalReason
	Note      string
	Title     string
	Requester string
	CreatedAt time.Time
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
