// Package registertest is the conformance suite of chungthuc.Register and chungthuc.AuditLog:
// every implementation (storage/sqlite, storage/postgres) runs the same tests, so they can
// stand in for each other.
//
// An implementation's test calls Run with a function that returns a fresh, empty, migrated
// register. If the register also implements RawSQL (usually from an export_test.go file, so
// production builds do not have it), the suite checks the permanent-record rule and that
// tampering with audit rows is detected.
package registertest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testscan"
)

// RawSQL is the test hook a register may offer to run SQL behind its back.
type RawSQL interface {
	// ExecSQL runs one statement as the application's database user would, with every
	// constraint and trigger in force.
	ExecSQL(ctx context.Context, query string) error
	// Tamper runs one statement with the permanent-record triggers bypassed, as an insider
	// with the database owner's rights could.
	Tamper(ctx context.Context, query string) error
}

// Run runs the conformance suite. open returns a fresh, empty, migrated register; the suite
// closes it.
func Run(t *testing.T, open func(t *testing.T) chungthuc.Register) {
	fresh := func(t *testing.T) chungthuc.Register {
		t.Helper()
		r := open(t)
		t.Cleanup(func() { _ = r.Close() })
		return r
	}
	t.Run("Units", func(t *testing.T) { testUnits(t, fresh(t)) })
	t.Run("Officers", func(t *testing.T) { testOfficers(t, fresh(t)) })
	t.Run("Reserve", func(t *testing.T) { testReserve(t, fresh(t)) })
	t.Run("Transitions", func(t *testing.T) { testTransitions(t, fresh(t)) })
	t.Run("Lookups", func(t *testing.T) { testLookups(t, fresh(t)) })
	t.Run("Versions", func(t *testing.T) { testVersions(t, fresh(t)) })
	t.Run("YearBoundary", func(t *testing.T) { testYearBoundary(t, fresh(t)) })
	t.Run("Books", func(t *testing.T) { testBooks(t, fresh(t)) })
	t.Run("ConcurrentReserve", func(t *testing.T) { testConcurrentReserve(t, fresh(t)) })
	t.Run("Listing", func(t *testing.T) { testListing(t, fresh(t)) })
	t.Run("Pending", func(t *testing.T) { testPending(t, fresh(t)) })
	t.Run("Refusals", func(t *testing.T) { testRefusals(t, fresh(t)) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, fresh(t)) })
	t.Run("PermanentRecord", func(t *testing.T) { testPermanentRecord(t, fresh(t)) })
	t.Run("TamperUpdate", func(t *testing.T) { testTamperUpdate(t, fresh(t)) })
	t.Run("TamperDelete", func(t *testing.T) { testTamperDelete(t, fresh(t)) })
	t.Run("IdempotencyKeys", func(t *testing.T) { testIdempotencyKeys(t, fresh(t)) })
	t.Run("StoredCopies", func(t *testing.T) { testStoredCopies(t, fresh(t)) })
	t.Run("Findings", func(t *testing.T) { testFindings(t, fresh(t)) })
	t.Run("RefusedEdits", func(t *testing.T) { testRefusedEdits(t, fresh(t)) })
	t.Run("AccessCodes", func(t *testing.T) { testAccessCodes(t, fresh(t)) })
	t.Run("UnitProfile", func(t *testing.T) { testUnitProfile(t, fresh(t)) })
	t.Run("OfficerAuthority", func(t *testing.T) { testOfficerAuthority(t, fresh(t)) })
	t.Run("Copies", func(t *testing.T) { testCopies(t, fresh(t)) })
	t.Run("RefusalSlips", func(t *testing.T) { testRefusalSlips(t, fresh(t)) })
	t.Run("BookSigning", func(t *testing.T) { testBookSigning(t, fresh(t)) })
	t.Run("Webhooks", func(t *testing.T) { testWebhooks(t, fresh(t)) })
	t.Run("SignatureWaits", func(t *testing.T) { testSignatureWaits(t, fresh(t)) })
	t.Run("UnitExternalSigning", func(t *testing.T) { testUnitExternalSigning(t, fresh(t)) })
}

var ctx = context.Background()

// code fails the test unless err carries the wanted error code.
func code(t *testing.T, what string, err error, want string) {
	t.Helper()
	if got := chungthuc.ErrorCode(err); got != want {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func newUnit(t *testing.T, r chungthuc.Register, code string) *chungthuc.Unit {
	t.Helper()
	u := &chungthuc.Unit{Code: code, Name: "Phường " + code, Place: "Hòa Bình"}
	must(t, "CreateUnit", r.CreateUnit(ctx, u))
	return u
}

func newOfficer(t *testing.T, r chungthuc.Register, unitID int64) *chungthuc.Officer {
	t.Helper()
	o := &chungthuc.Officer{UnitID: unitID, Name: "Nguyễn Thị Hằng", Title: "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH",
		Role: chungthuc.RoleOfficer, Active: true}
	must(t, "CreateOfficer", r.CreateOfficer(ctx, o))
	return o
}

// Token returns a fresh verification token (128 random bits, base64url).
func Token() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SHA returns the hex SHA-256 of s.
func SHA(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// vn is a wall-clock time in Vietnam.
func vn(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, chungthuc.Vietnam)
}

func entry(u *chungthuc.Unit, o *chungthuc.Officer, at time.Time) *chungthuc.Certification {
	return &chungthuc.Certification{UnitID: u.ID, OfficerID: o.ID, Token: Token(), AccessCodeHash: "argon2id$test",
		Title: "Giấy khai sinh", Issuer: "UBND xã Tân Lập", Requester: "Trần Văn Bình", Pages: 3,
		FeeVND: chungthuc.Fee(3), CertifiedAt: at}
}

func reserve(t *testing.T, r chungthuc.Register, c *chungthuc.Certification) *chungthuc.Certification {
	t.Helper()
	must(t, "Reserve", r.Reserve(ctx, c))
	return c
}

func issue(t *testing.T, r chungthuc.Register, c *chungthuc.Certification) {
	t.Helper()
	must(t, "Seal", r.Seal(ctx, c.ID, SHA(c.Token), "copies/"+SHA(c.Token)+".pdf", []string{"scans/" + c.Token}))
	must(t, "Issue", r.Issue(ctx, c.ID, "", ""))
}

func audit(t *testing.T, r chungthuc.Register) chungthuc.AuditLog {
	t.Helper()
	a, ok := r.(chungthuc.AuditLog)
	if !ok {
		t.Fatalf("%T does not implement chungthuc.AuditLog", r)
	}
	return a
}

// entries returns the number of audit entries, failing if the chain is broken.
func entries(t *testing.T, r chungthuc.Register) int64 {
	t.Helper()
	broken, n, err := audit(t, r).VerifyChain(ctx)
	must(t, "VerifyChain", err)
	if broken != 0 {
		t.Fatalf("audit chain broken at entry %d", broken)
	}
	return n
}

// sameCert compares two entries field by field, times by instant.
func sameCert(t *testing.T, got, want *chungthuc.Certification) {
	t.Helper()
	norm := func(c *chungthuc.Certification) (chungthuc.Certification, []string) {
		x := *c
		times := []string{x.CertifiedAt.UTC().String(), x.CreatedAt.UTC().String(), "<nil>"}
		if x.RevokedAt != nil {
			times[2] = x.RevokedAt.UTC().String()
		}
		x.CertifiedAt, x.CreatedAt, x.RevokedAt = time.Time{}, time.Time{}, nil
		if x.ScanKeys == nil {
			x.ScanKeys = []string{}
		}
		return x, times
	}
	g, gt := norm(got)
	w, wt := norm(want)
	if !reflect.DeepEqual(g, w) || !reflect.DeepEqual(gt, wt) {
		t.Fatalf("certification differs:\n got %+v %v\nwant %+v %v", g, gt, w, wt)
	}
}

func testUnits(t *testing.T, r chungthuc.Register) {
	u := &chungthuc.Unit{Code: "hb", Name: "Phường Hòa Bình", Place: "Hòa Bình", SealImage: testscan.SealPNG(64)}
	must(t, "CreateUnit", r.CreateUnit(ctx, u))
	if u.ID == 0 || u.CreatedAt.IsZero() || u.Code != "HB" {
		t.Fatalf("CreateUnit left %+v", u)
	}
	got, err := r.UnitByCode(ctx, "Hb")
	must(t, "UnitByCode", err)
	if got.ID != u.ID || got.Name != u.Name || got.Place != u.Place || string(got.SealImage) != string(u.SealImage) ||
		!got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("UnitByCode = %+v, want %+v", got, u)
	}
	got, err = r.UnitByID(ctx, u.ID)
	must(t, "UnitByID", err)
	if got.Code != "HB" {
		t.Fatalf("UnitByID = %+v", got)
	}
	code(t, "duplicate code", r.CreateUnit(ctx, &chungthuc.Unit{Code: "HB", Name: "x", Place: "y"}), chungthuc.ECONFLICT)
	code(t, "bad code", r.CreateUnit(ctx, &chungthuc.Unit{Code: "P L", Name: "x", Place: "y"}), chungthuc.EINVALID)
	code(t, "no name", r.CreateUnit(ctx, &chungthuc.Unit{Code: "QQ", Place: "y"}), chungthuc.EINVALID)
	_, err = r.UnitByCode(ctx, "NONE")
	code(t, "UnitByCode unknown", err, chungthuc.ENOTFOUND)
	_, err = r.UnitByID(ctx, u.ID+1000)
	code(t, "UnitByID unknown", err, chungthuc.ENOTFOUND)
	newUnit(t, r, "TL")
	us, err := r.Units(ctx)
	must(t, "Units", err)
	if len(us) != 2 || us[0].Code != "HB" || us[1].Code != "TL" {
		t.Fatalf("Units = %v", us)
	}
}

// testCert returns a self-signed certificate in PEM.
func testCert(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, "key", err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Nguyễn Thị Hằng"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	must(t, "certificate", err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func testOfficers(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	if o.ID == 0 || o.CreatedAt.IsZero() {
		t.Fatalf("CreateOfficer left %+v", o)
	}
	got, err := r.OfficerByID(ctx, o.ID)
	must(t, "OfficerByID", err)
	if got.UnitID != u.ID || got.Name != o.Name || got.Title != o.Title || got.Role != o.Role || !got.Active ||
		len(got.CertPEM) != 0 || !got.CreatedAt.Equal(o.CreatedAt) {
		t.Fatalf("OfficerByID = %+v, want %+v", got, o)
	}
	pemBytes := testCert(t)
	must(t, "SetOfficerCert", r.SetOfficerCert(ctx, o.ID, pemBytes))
	got, err = r.OfficerByID(ctx, o.ID)
	must(t, "OfficerByID", err)
	if string(got.CertPEM) != string(pemBytes) {
		t.Fatal("SetOfficerCert did not store the certificate")
	}
	code(t, "SetOfficerCert garbage", r.SetOfficerCert(ctx, o.ID, []byte("not a certificate")), chungthuc.EINVALID)
	code(t, "SetOfficerCert unknown", r.SetOfficerCert(ctx, o.ID+1000, pemBytes), chungthuc.ENOTFOUND)
	_, err = r.OfficerByID(ctx, o.ID+1000)
	code(t, "OfficerByID unknown", err, chungthuc.ENOTFOUND)
	code(t, "officer of unknown unit", r.CreateOfficer(ctx, &chungthuc.Officer{UnitID: u.ID + 1000, Name: "A"}), chungthuc.ENOTFOUND)
	code(t, "officer without unit", r.CreateOfficer(ctx, &chungthuc.Officer{Name: "A", Role: chungthuc.RoleClerk}), chungthuc.EINVALID)
	code(t, "unknown role", r.CreateOfficer(ctx, &chungthuc.Officer{UnitID: u.ID, Name: "A", Role: "boss"}), chungthuc.EINVALID)
	admin := &chungthuc.Officer{Name: "Lê Văn Quản", Role: chungthuc.RoleSystemAdmin, Active: true}
	must(t, "system administrator without unit", r.CreateOfficer(ctx, admin))
	got, err = r.OfficerByID(ctx, admin.ID)
	must(t, "OfficerByID admin", err)
	if got.UnitID != 0 || got.Role != chungthuc.RoleSystemAdmin {
		t.Fatalf("admin = %+v", got)
	}
}

func testReserve(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	at := vn(2026, 3, 10, 9, 30)
	c := entry(u, o, at)
	c.ScanKeys = []string{"scans/a.jpg", "scans/b.jpg"}
	reserve(t, r, c)
	if c.ID == 0 || c.Number != 1 || c.Year != 2026 || c.BookID == 0 || c.BookCode != "01/2026-SCTĐT/BS" ||
		c.Status != chungthuc.StatusPending || c.CreatedAt.IsZero() || !c.CertifiedAt.Equal(at) {
		t.Fatalf("Reserve left %+v", c)
	}
	if c.OfficerName != o.Name || c.OfficerTitle != o.Title {
		t.Fatalf("Reserve did not fill the officer's name and title: %q %q", c.OfficerName, c.OfficerTitle)
	}
	got, err := r.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	sameCert(t, got, c)

	c2 := reserve(t, r, entry(u, o, at.Add(time.Hour)))
	if c2.Number != 2 || c2.BookID != c.BookID {
		t.Fatalf("second entry: number %d book %d", c2.Number, c2.BookID)
	}
	c3 := entry(u, o, at)
	c3.OfficerTitle = "CHỦ TỊCH"
	reserve(t, r, c3)
	if c3.OfficerTitle != "CHỦ TỊCH" {
		t.Fatalf("Reserve replaced a given title: %q", c3.OfficerTitle)
	}

	dup := entry(u, o, at)
	dup.Token = c.Token
	code(t, "duplicate token", r.Reserve(ctx, dup), chungthuc.ECONFLICT)
	bad := entry(u, o, at)
	bad.Token = "short"
	code(t, "short token", r.Reserve(ctx, bad), chungthuc.EINVALID)
	bad = entry(u, o, at)
	bad.Title = " "
	code(t, "no title", r.Reserve(ctx, bad), chungthuc.EINVALID)
	bad = entry(u, o, at)
	bad.UnitID = u.ID + 1000
	code(t, "unknown unit", r.Reserve(ctx, bad), chungthuc.ENOTFOUND)
	bad = entry(u, o, at)
	bad.OfficerID = o.ID + 1000
	code(t, "unknown officer", r.Reserve(ctx, bad), chungthuc.ENOTFOUND)
	other := newUnit(t, r, "TL")
	bad = entry(other, o, at)
	code(t, "officer of another unit", r.Reserve(ctx, bad), chungthuc.EINVALID)

	// Failed reservations used no number.
	c4 := reserve(t, r, entry(u, o, at))
	if c4.Number != 4 {
		t.Fatalf("after failed reservations the next number is %d, want 4", c4.Number)
	}
	// Numbering is per unit.
	o2 := newOfficer(t, r, other.ID)
	if c := reserve(t, r, entry(other, o2, at)); c.Number != 1 || c.BookCode != "01/2026-SCTĐT/BS" {
		t.Fatalf("other unit: number %d book %s", c.Number, c.BookCode)
	}
	// A zero CertifiedAt means now.
	now := reserve(t, r, entry(u, o, time.Time{}))
	if now.CertifiedAt.IsZero() || now.Year != now.CertifiedAt.In(chungthuc.Vietnam).Year() {
		t.Fatalf("zero CertifiedAt: %v year %d", now.CertifiedAt, now.Year)
	}
}

func testTransitions(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	at := vn(2026, 5, 4, 8, 0)
	c := reserve(t, r, entry(u, o, at))

	code(t, "Issue unsealed", r.Issue(ctx, c.ID, "", ""), chungthuc.ECONFLICT)
	code(t, "Revoke pending", r.Revoke(ctx, c.ID, "sai", time.Time{}), chungthuc.ECONFLICT)
	code(t, "Seal bad hash", r.Seal(ctx, c.ID, "abc", "k", nil), chungthuc.EINVALID)
	code(t, "Seal no key", r.Seal(ctx, c.ID, SHA("x"), "", nil), chungthuc.EINVALID)
	code(t, "Seal unknown", r.Seal(ctx, c.ID+1000, SHA("x"), "k", nil), chungthuc.ENOTFOUND)
	must(t, "Seal", r.Seal(ctx, c.ID, SHA("first"), "copies/first.pdf", nil))
	// Sealing again while Pending replaces the hash (a retried signing).
	must(t, "Seal again", r.Seal(ctx, c.ID, SHA("second"), "copies/second.pdf", []string{"scans/1.jpg"}))
	got, err := r.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	if got.SHA256 != SHA("second") || got.ObjectKey != "copies/second.pdf" || !reflect.DeepEqual(got.ScanKeys, []string{"scans/1.jpg"}) {
		t.Fatalf("after Seal: %+v", got)
	}
	must(t, "Seal keeps scans", r.Seal(ctx, c.ID, SHA("second"), "copies/second.pdf", nil))
	if got, _ := r.CertificationByID(ctx, c.ID); !reflect.DeepEqual(got.ScanKeys, []string{"scans/1.jpg"}) {
		t.Fatalf("Seal with nil scan keys dropped them: %v", got.ScanKeys)
	}
	must(t, "Issue", r.Issue(ctx, c.ID, "v-1", "etag-1"))
	got, err = r.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	if got.Status != chungthuc.StatusIssued || got.ObjectVersion != "v-1" || got.ObjectETag != "etag-1" {
		t.Fatalf("after Issue: status %s, version %q, etag %q", got.Status, got.ObjectVersion, got.ObjectETag)
	}
	// Issue of an issued entry is a retry: success, nothing changes.
	must(t, "Issue twice", r.Issue(ctx, c.ID, "v-2", "etag-2"))
	if again, _ := r.CertificationByID(ctx, c.ID); again.ObjectVersion != "v-1" || again.ObjectETag != "etag-1" {
		t.Fatalf("a second Issue changed the recorded version: %q %q", again.ObjectVersion, again.ObjectETag)
	}
	code(t, "Void issued", r.Void(ctx, c.ID, "lỗi"), chungthuc.ECONFLICT)
	code(t, "Seal issued", r.Seal(ctx, c.ID, SHA("third"), "copies/third.pdf", nil), chungthuc.ECONFLICT)
	code(t, "Revoke without reason", r.Revoke(ctx, c.ID, "  ", time.Time{}), chungthuc.EINVALID)
	revokedAt := vn(2026, 6, 1, 10, 0)
	must(t, "Revoke", r.Revoke(ctx, c.ID, "Bản chính giả mạo", revokedAt))
	got, err = r.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	if got.Status != chungthuc.StatusRevoked || got.RevokeReason != "Bản chính giả mạo" || got.RevokedAt == nil ||
		!got.RevokedAt.Equal(revokedAt) {
		t.Fatalf("after Revoke: %+v", got)
	}
	code(t, "Revoke twice", r.Revoke(ctx, c.ID, "again", time.Time{}), chungthuc.ECONFLICT)
	code(t, "Issue revoked", r.Issue(ctx, c.ID, "", ""), chungthuc.ECONFLICT)

	v := reserve(t, r, entry(u, o, at))
	code(t, "Void without reason", r.Void(ctx, v.ID, ""), chungthuc.EINVALID)
	must(t, "Void", r.Void(ctx, v.ID, "Ký số thất bại"))
	got, err = r.CertificationByID(ctx, v.ID)
	must(t, "CertificationByID", err)
	if got.Status != chungthuc.StatusVoid || got.VoidReason != "Ký số thất bại" || got.Number != 2 {
		t.Fatalf("after Void: %+v", got)
	}
	code(t, "Void twice", r.Void(ctx, v.ID, "x"), chungthuc.ECONFLICT)
	code(t, "Issue void", r.Issue(ctx, v.ID, "", ""), chungthuc.ECONFLICT)
	code(t, "Revoke void", r.Revoke(ctx, v.ID, "x", time.Time{}), chungthuc.ECONFLICT)
	code(t, "Seal void", r.Seal(ctx, v.ID, SHA("v"), "k", nil), chungthuc.ECONFLICT)
	code(t, "Issue unknown", r.Issue(ctx, v.ID+1000, "", ""), chungthuc.ENOTFOUND)
	code(t, "Void unknown", r.Void(ctx, v.ID+1000, "x"), chungthuc.ENOTFOUND)
	code(t, "Revoke unknown", r.Revoke(ctx, v.ID+1000, "x", time.Time{}), chungthuc.ENOTFOUND)
	// The void number stays used.
	if n := reserve(t, r, entry(u, o, at)).Number; n != 3 {
		t.Fatalf("after a void entry the next number is %d, want 3", n)
	}
	// Revoke with zero time uses now.
	w := reserve(t, r, entry(u, o, at))
	issue(t, r, w)
	must(t, "Revoke now", r.Revoke(ctx, w.ID, "x", time.Time{}))
	if got, _ := r.CertificationByID(ctx, w.ID); got.RevokedAt == nil || got.RevokedAt.IsZero() {
		t.Fatalf("Revoke with zero time: %+v", got.RevokedAt)
	}
	// Two entries cannot share a signed copy.
	x := reserve(t, r, entry(u, o, at))
	code(t, "Seal with another entry's hash", r.Seal(ctx, x.ID, SHA(w.Token), "copies/dup.pdf", nil), chungthuc.ECONFLICT)
}

func testLookups(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	c := reserve(t, r, entry(u, o, vn(2026, 1, 5, 14, 0)))
	issue(t, r, c)
	want, err := r.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	if want.Status != chungthuc.StatusIssued || want.SHA256 != SHA(c.Token) || len(want.ScanKeys) != 1 {
		t.Fatalf("issued entry: %+v", want)
	}
	got, err := r.CertificationByToken(ctx, c.Token)
	must(t, "CertificationByToken", err)
	sameCert(t, got, want)
	got, err = r.CertificationBySHA256(ctx, SHA(c.Token))
	must(t, "CertificationBySHA256", err)
	sameCert(t, got, want)
	got, err = r.CertificationBySHA256(ctx, strings.ToUpper(want.SHA256))
	must(t, "CertificationBySHA256 upper case", err)
	sameCert(t, got, want)

	_, err = r.CertificationByID(ctx, c.ID+1000)
	code(t, "CertificationByID unknown", err, chungthuc.ENOTFOUND)
	_, err = r.CertificationByToken(ctx, Token())
	code(t, "CertificationByToken unknown", err, chungthuc.ENOTFOUND)
	_, err = r.CertificationByToken(ctx, "")
	code(t, "CertificationByToken empty", err, chungthuc.ENOTFOUND)
	_, err = r.CertificationBySHA256(ctx, SHA("nothing"))
	code(t, "CertificationBySHA256 unknown", err, chungthuc.ENOTFOUND)
	_, err = r.CertificationBySHA256(ctx, "xyz")
	code(t, "CertificationBySHA256 malformed", err, chungthuc.EINVALID)
	// A pending entry has no hash to be found by.
	p := reserve(t, r, entry(u, o, vn(2026, 1, 5, 15, 0)))
	if p.SHA256 != "" {
		t.Fatal("pending entry has a hash")
	}
}

func testYearBoundary(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	// 23:59 on 31 December in Vietnam is 16:59 UTC: still the old year.
	for i := 1; i <= 3; i++ {
		c := reserve(t, r, entry(u, o, time.Date(2026, 12, 31, 16, 59, i, 0, time.UTC)))
		if c.Year != 2026 || c.Number != int64(i) || c.BookCode != "01/2026-SCTĐT/BS" {
			t.Fatalf("31 Dec entry %d: year %d number %d book %s", i, c.Year, c.Number, c.BookCode)
		}
	}
	// 00:00 on 1 January in Vietnam is 17:00 UTC on 31 December: the new year, from 1, book 01.
	c := reserve(t, r, entry(u, o, time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)))
	if c.Year != 2027 || c.Number != 1 || c.BookCode != "01/2027-SCTĐT/BS" {
		t.Fatalf("1 Jan entry: year %d number %d book %s", c.Year, c.Number, c.BookCode)
	}
	// A late entry certified on 31 December still goes to the old year's count.
	late := reserve(t, r, entry(u, o, vn(2026, 12, 31, 16, 0)))
	if late.Year != 2026 || late.Number != 4 {
		t.Fatalf("late 2026 entry: year %d number %d", late.Year, late.Number)
	}
	bs, err := r.Books(ctx, u.ID, 0)
	must(t, "Books", err)
	if len(bs) != 2 || bs[0].Year != 2026 || bs[0].LastNumber != 4 || bs[1].Year != 2027 || bs[1].FirstNumber != 1 || bs[1].LastNumber != 1 {
		t.Fatalf("Books = %s", books(bs))
	}
}

func books(bs []*chungthuc.Book) string {
	s := ""
	for _, b := range bs {
		s += fmt.Sprintf("\n  %s first %d last %d closed %v count %d", b.Code, b.FirstNumber, b.LastNumber, b.ClosedAt != nil, b.ClosingCount)
	}
	return s
}

func testBooks(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	var cs []*chungthuc.Certification
	for i := range 4 {
		cs = append(cs, reserve(t, r, entry(u, o, vn(2026, 2, 1+i, 9, 0))))
	}
	issue(t, r, cs[0])
	issue(t, r, cs[1])
	must(t, "Revoke", r.Revoke(ctx, cs[1].ID, "x", time.Time{}))
	must(t, "Void", r.Void(ctx, cs[2].ID, "x"))
	// cs[3] stays pending. Issued + revoked = 2.

	mid := vn(2026, 6, 15, 8, 0)
	b2, err := r.OpenBook(ctx, u.ID, 2026, mid)
	must(t, "OpenBook", err)
	if b2.Seq != 2 || b2.Code != "02/2026-SCTĐT/BS" || b2.FirstNumber != 5 || b2.LastNumber != 4 || b2.ClosedAt != nil ||
		!b2.OpenedAt.Equal(mid) || b2.UnitID != u.ID || b2.Year != 2026 {
		t.Fatalf("OpenBook = %+v", b2)
	}
	c := reserve(t, r, entry(u, o, vn(2026, 6, 16, 9, 0)))
	if c.Number != 5 || c.BookID != b2.ID || c.BookCode != b2.Code {
		t.Fatalf("entry after a mid-year book: number %d book %s", c.Number, c.BookCode)
	}
	bs, err := r.Books(ctx, u.ID, 2026)
	must(t, "Books", err)
	if len(bs) != 2 {
		t.Fatalf("Books = %s", books(bs))
	}
	b1 := bs[0]
	if b1.Seq != 1 || b1.FirstNumber != 1 || b1.LastNumber != 4 || b1.ClosedAt == nil || !b1.ClosedAt.Equal(mid) || b1.ClosingCount != 2 {
		t.Fatalf("first book after OpenBook: %+v", b1)
	}
	if bs[1].ID != b2.ID || bs[1].LastNumber != 5 || bs[1].ClosedAt != nil {
		t.Fatalf("second book: %+v", bs[1])
	}

	issue(t, r, c)
	end := vn(2026, 12, 31, 17, 0)
	closed, err := r.CloseBook(ctx, b2.ID, end)
	must(t, "CloseBook", err)
	if closed.ClosedAt == nil || !closed.ClosedAt.Equal(end) || closed.ClosingCount != 3 || closed.LastNumber != 5 {
		t.Fatalf("CloseBook = %+v", closed)
	}
	_, err = r.CloseBook(ctx, b2.ID, end)
	code(t, "CloseBook twice", err, chungthuc.ECONFLICT)
	_, err = r.CloseBook(ctx, b2.ID+1000, end)
	code(t, "CloseBook unknown", err, chungthuc.ENOTFOUND)

	// A late entry of a closed year opens the next book and continues the count.
	late := reserve(t, r, entry(u, o, vn(2026, 12, 31, 18, 0)))
	if late.Number != 6 || late.BookCode != "03/2026-SCTĐT/BS" {
		t.Fatalf("entry after closing: number %d book %s", late.Number, late.BookCode)
	}
	// Opening a book of a year with no entries starts at 1; the year's first entry lands in it.
	b27, err := r.OpenBook(ctx, u.ID, 2027, time.Time{})
	must(t, "OpenBook 2027", err)
	if b27.Code != "01/2027-SCTĐT/BS" || b27.FirstNumber != 1 || b27.OpenedAt.IsZero() {
		t.Fatalf("OpenBook 2027 = %+v", b27)
	}
	if c := reserve(t, r, entry(u, o, vn(2027, 1, 2, 8, 0))); c.BookID != b27.ID || c.Number != 1 {
		t.Fatalf("first 2027 entry: book %s number %d", c.BookCode, c.Number)
	}

	all, err := r.Books(ctx, u.ID, 0)
	must(t, "Books all", err)
	if len(all) != 4 || all[0].Code != "01/2026-SCTĐT/BS" || all[3].Code != "01/2027-SCTĐT/BS" {
		t.Fatalf("Books all = %s", books(all))
	}
	_, err = r.Books(ctx, u.ID+1000, 0)
	code(t, "Books unknown unit", err, chungthuc.ENOTFOUND)
	_, err = r.OpenBook(ctx, u.ID+1000, 2026, time.Time{})
	code(t, "OpenBook unknown unit", err, chungthuc.ENOTFOUND)
	_, err = r.OpenBook(ctx, u.ID, 26, time.Time{})
	code(t, "OpenBook bad year", err, chungthuc.EINVALID)
	other := newUnit(t, r, "TL")
	if bs, err := r.Books(ctx, other.ID, 0); err != nil || len(bs) != 0 {
		t.Fatalf("Books of a new unit = %v, %v", bs, err)
	}
}

func testConcurrentReserve(t *testing.T, r chungthuc.Register) {
	a := newUnit(t, r, "HB")
	b := newUnit(t, r, "TL")
	oa, ob := newOfficer(t, r, a.ID), newOfficer(t, r, b.ID)
	before := entries(t, r)
	const n, m = 50, 20
	at := vn(2026, 8, 19, 7, 30)
	numbers := make(chan int64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n+m)
	for range n {
		wg.Go(func() {
			c := entry(a, oa, at)
			if err := r.Reserve(ctx, c); err != nil {
				errs <- err
				return
			}
			numbers <- c.Number
		})
	}
	for range m {
		wg.Go(func() {
			if err := r.Reserve(ctx, entry(b, ob, at)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(numbers)
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Reserve: %v", err)
	}
	var got []int
	for x := range numbers {
		got = append(got, int(x))
	}
	sort.Ints(got)
	for i, x := range got {
		if x != i+1 {
			t.Fatalf("numbers are not exactly 1..%d: %v", n, got)
		}
	}
	if len(got) != n {
		t.Fatalf("%d numbers, want %d", len(got), n)
	}
	for _, u := range []*chungthuc.Unit{a, b} {
		bs, err := r.Books(ctx, u.ID, 2026)
		must(t, "Books", err)
		want := map[int64]int64{a.ID: n, b.ID: m}[u.ID]
		if len(bs) != 1 || bs[0].LastNumber != want {
			t.Fatalf("books of %s: %s", u.Code, books(bs))
		}
		_, total, err := r.Certifications(ctx, chungthuc.CertificationFilter{UnitID: u.ID})
		must(t, "Certifications", err)
		if int64(total) != want {
			t.Fatalf("%s has %d entries, want %d", u.Code, total, want)
		}
	}
	// One audit entry per reservation plus one book.open per unit, on one unbroken chain.
	if got := entries(t, r) - before; got != n+m+2 {
		t.Fatalf("%d audit entries were appended, want %d", got, n+m+2)
	}
}

func testListing(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	other := newUnit(t, r, "TL")
	oo := newOfficer(t, r, other.ID)
	titles := []string{"Giấy khai sinh", "Bằng tốt nghiệp THPT", "Sổ hộ khẩu", "Giấy chứng nhận quyền sử dụng đất"}
	requesters := []string{"Nguyễn Văn An", "Trần Thị Bích", "Lê Đức Thọ", "Phạm 50%_Giang"}
	var cs []*chungthuc.Certification
	for i := range 30 {
		c := entry(u, o, vn(2026, 1, 1+i, 9, 0))
		c.Title, c.Requester = titles[i%4], requesters[i%4]
		c.Issuer = "Trường THPT số " + strconv.Itoa(i)
		cs = append(cs, reserve(t, r, c))
	}
	for i := range 5 {
		reserve(t, r, entry(other, oo, vn(2026, 1, 1+i, 9, 0)))
	}
	for i, c := range cs {
		switch i % 3 {
		case 0:
			issue(t, r, c)
		case 1:
			must(t, "Void", r.Void(ctx, c.ID, "x"))
		}
	}
	last := reserve(t, r, entry(u, o, vn(2027, 1, 3, 9, 0)))

	list := func(f chungthuc.CertificationFilter) ([]int64, int) {
		t.Helper()
		cs, total, err := r.Certifications(ctx, f)
		must(t, "Certifications", err)
		var ns []int64
		for _, c := range cs {
			if f.UnitID != 0 && c.UnitID != f.UnitID {
				t.Fatalf("entry of unit %d listed for unit %d", c.UnitID, f.UnitID)
			}
			ns = append(ns, c.Number)
		}
		return ns, total
	}
	ns, total := list(chungthuc.CertificationFilter{UnitID: u.ID})
	if total != 31 || len(ns) != 31 || ns[0] != 1 || ns[1] != 30 || ns[30] != 1 {
		t.Fatalf("all of unit: %v (%d)", ns, total)
	}
	ns, total = list(chungthuc.CertificationFilter{UnitID: u.ID, Year: 2026, Limit: 10, Offset: 10})
	if total != 30 || !reflect.DeepEqual(ns, []int64{20, 19, 18, 17, 16, 15, 14, 13, 12, 11}) {
		t.Fatalf("page 2: %v (%d)", ns, total)
	}
	ns, total = list(chungthuc.CertificationFilter{UnitID: u.ID, Year: 2026, Limit: 10, Offset: 40})
	if total != 30 || len(ns) != 0 {
		t.Fatalf("past the end: %v (%d)", ns, total)
	}
	ns, total = list(chungthuc.CertificationFilter{UnitID: u.ID, Year: 2026, Number: 7})
	if total != 1 || !reflect.DeepEqual(ns, []int64{7}) {
		t.Fatalf("number 7: %v (%d)", ns, total)
	}
	ns, total = list(chungthuc.CertificationFilter{UnitID: u.ID, Status: chungthuc.StatusIssued})
	if total != 10 || ns[0] != 28 {
		t.Fatalf("issued: %v (%d)", ns, total)
	}
	if _, total = list(chungthuc.CertificationFilter{UnitID: u.ID, Status: chungthuc.StatusPending}); total != 11 {
		t.Fatalf("pending: %d", total)
	}
	// Case and Vietnamese marks are ignored; every one of the three fields is searched.
	for q, want := range map[string]int{
		"khai sinh": 8, "KHAI SINH": 8, "Giấy": 15, "giay": 15, "NGUYỄN": 8, "nguyen van an": 8,
		"đức thọ": 7, "duc tho": 7, "số 2": 11, "thpt": 30, "50%_g": 7, "50%": 7, "%": 7, "_": 7, "xyz": 0,
	} {
		if _, total := list(chungthuc.CertificationFilter{UnitID: u.ID, Year: 2026, Query: q}); total != want {
			t.Errorf("query %q: %d entries, want %d", q, total, want)
		}
	}
	ns, total = list(chungthuc.CertificationFilter{UnitID: u.ID, Query: "khai sinh", Status: chungthuc.StatusIssued, Year: 2026})
	if total != 3 || !reflect.DeepEqual(ns, []int64{25, 13, 1}) {
		t.Fatalf("issued birth certificates: %v (%d)", ns, total)
	}
	ns, total = list(chungthuc.CertificationFilter{UnitID: u.ID, From: vn(2026, 1, 10, 0, 0), To: vn(2026, 1, 13, 0, 0)})
	if total != 3 || !reflect.DeepEqual(ns, []int64{12, 11, 10}) {
		t.Fatalf("from/to: %v (%d)", ns, total)
	}
	if _, total = list(chungthuc.CertificationFilter{UnitID: other.ID}); total != 5 {
		t.Fatalf("other unit: %d", total)
	}
	if _, total = list(chungthuc.CertificationFilter{}); total != 36 {
		t.Fatalf("every unit: %d", total)
	}
	if ns, _ = list(chungthuc.CertificationFilter{UnitID: u.ID}); len(ns) == 0 || ns[0] != last.Number {
		t.Fatal("the newest year is not listed first")
	}
	if ns, _ = list(chungthuc.CertificationFilter{UnitID: u.ID, Limit: 5}); len(ns) != 5 {
		t.Fatalf("limit 5: %d", len(ns))
	}
	_, _, err := r.Certifications(ctx, chungthuc.CertificationFilter{UnitID: u.ID, Status: "lost"})
	code(t, "unknown status", err, chungthuc.EINVALID)
	cs2, total, err := r.Certifications(ctx, chungthuc.CertificationFilter{UnitID: u.ID + 1000})
	must(t, "unknown unit", err)
	if total != 0 || len(cs2) != 0 || cs2 == nil {
		t.Fatalf("unknown unit: %v (%d)", cs2, total)
	}
}

func testPending(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	a := reserve(t, r, entry(u, o, vn(2026, 4, 1, 9, 0)))
	b := reserve(t, r, entry(u, o, vn(2026, 4, 1, 9, 5)))
	c := reserve(t, r, entry(u, o, vn(2026, 4, 1, 9, 10)))
	issue(t, r, b)
	ps, err := r.Pending(ctx, time.Now().Add(time.Hour))
	must(t, "Pending", err)
	if len(ps) != 2 || ps[0].ID != a.ID || ps[1].ID != c.ID {
		t.Fatalf("Pending = %v", ps)
	}
	ps, err = r.Pending(ctx, a.CreatedAt)
	must(t, "Pending before the first", err)
	if len(ps) != 0 || ps == nil {
		t.Fatalf("Pending before the first = %v", ps)
	}
}

func testRefusals(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	before := entries(t, r)
	f := &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID, Reason: chungthuc.RefuseClassified,
		Note: "Đóng dấu MẬT", Title: "Quyết định", Requester: "Hoàng Văn Em"}
	must(t, "CreateRefusal", r.CreateRefusal(ctx, f))
	if f.ID == 0 || f.CreatedAt.IsZero() {
		t.Fatalf("CreateRefusal left %+v", f)
	}
	if entries(t, r) != before+1 {
		t.Fatal("a refusal was not audited")
	}
	code(t, "unknown reason", r.CreateRefusal(ctx, &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID, Reason: "ugly"}), chungthuc.EINVALID)
	code(t, "unknown officer", r.CreateRefusal(ctx, &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID + 1000,
		Reason: chungthuc.RefuseDamaged}), chungthuc.ENOTFOUND)
	code(t, "unknown unit", r.CreateRefusal(ctx, &chungthuc.Refusal{UnitID: u.ID + 1000, OfficerID: o.ID,
		Reason: chungthuc.RefuseDamaged}), chungthuc.ENOTFOUND)
}

func testAudit(t *testing.T, r chungthuc.Register) {
	a := audit(t, r)
	if n := entries(t, r); n != 0 {
		t.Fatalf("a fresh register has %d audit entries", n)
	}
	e := &chungthuc.AuditEntry{Action: "login", Actor: "officer:1", Detail: `{"ip":"10.0.0.1"}`}
	must(t, "Append", a.Append(ctx, e))
	if e.ID == 0 || e.At.IsZero() || e.PrevHash != "" || len(e.Hash) != 64 {
		t.Fatalf("first entry: %+v", e)
	}
	at := time.Date(2026, 3, 1, 2, 3, 4, 5678, time.UTC)
	e2 := &chungthuc.AuditEntry{At: at, Action: "download", UnitID: 0, Actor: "token:3", Subject: "certification:9"}
	must(t, "Append", a.Append(ctx, e2))
	if e2.PrevHash != e.Hash || e2.ID <= e.ID || !e2.At.Equal(at.Truncate(time.Microsecond)) || e2.Detail != "{}" {
		t.Fatalf("second entry: %+v", e2)
	}
	code(t, "Append without action", a.Append(ctx, &chungthuc.AuditEntry{Actor: "x"}), chungthuc.EINVALID)
	code(t, "Append bad detail", a.Append(ctx, &chungthuc.AuditEntry{Action: "x", Actor: "y", Detail: "nope"}), chungthuc.EINVALID)
	if n := entries(t, r); n != 2 {
		t.Fatalf("%d entries after two appends", n)
	}

	// Every state change appends exactly its own entries; failed changes append none.
	step := func(what string, want int64, f func() error) {
		t.Helper()
		before := entries(t, r)
		err := f()
		if want > 0 {
			must(t, what, err)
		} else if err == nil {
			t.Fatalf("%s succeeded", what)
		}
		if got := entries(t, r) - before; got != want {
			t.Fatalf("%s appended %d audit entries, want %d", what, got, want)
		}
	}
	u := &chungthuc.Unit{Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	step("CreateUnit", 1, func() error { return r.CreateUnit(ctx, u) })
	o := &chungthuc.Officer{UnitID: u.ID, Name: "Võ Thị Mai", Active: true}
	step("CreateOfficer", 1, func() error { return r.CreateOfficer(ctx, o) })
	step("SetOfficerCert", 1, func() error { return r.SetOfficerCert(ctx, o.ID, testCert(t)) })
	c := entry(u, o, vn(2026, 7, 1, 9, 0))
	step("first Reserve (opens book 01)", 2, func() error { return r.Reserve(ctx, c) })
	c2 := entry(u, o, vn(2026, 7, 1, 9, 0))
	step("Reserve", 1, func() error { return r.Reserve(ctx, c2) })
	step("failed Issue", 0, func() error { return r.Issue(ctx, c.ID, "", "") })
	step("Seal", 1, func() error { return r.Seal(ctx, c.ID, SHA("a"), "copies/a.pdf", nil) })
	step("Issue", 1, func() error { return r.Issue(ctx, c.ID, "v", "e") })
	before := entries(t, r)
	must(t, "Issue again", r.Issue(ctx, c.ID, "v", "e"))
	if n := entries(t, r) - before; n != 0 {
		t.Fatalf("a retried Issue appended %d audit entries, want none", n)
	}
	step("Revoke", 1, func() error { return r.Revoke(ctx, c.ID, "x", time.Time{}) })
	step("Void", 1, func() error { return r.Void(ctx, c2.ID, "x") })
	step("failed Void", 0, func() error { return r.Void(ctx, c2.ID, "x") })
	var b *chungthuc.Book
	step("OpenBook (closes book 01)", 2, func() (err error) { b, err = r.OpenBook(ctx, u.ID, 2026, time.Time{}); return err })
	step("CloseBook", 1, func() error { _, err := r.CloseBook(ctx, b.ID, time.Time{}); return err })
	step("CreateRefusal", 1, func() error {
		return r.CreateRefusal(ctx, &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID, Reason: chungthuc.RefuseAltered})
	})
	step("failed CreateUnit", 0, func() error { return r.CreateUnit(ctx, &chungthuc.Unit{Code: "HB", Name: "x", Place: "y"}) })

	// Concurrent appends stay on one chain.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := a.Append(ctx, &chungthuc.AuditEntry{Action: "key.use", Actor: "officer:" + strconv.Itoa(i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	entries(t, r)
}

func raw(t *testing.T, r chungthuc.Register) RawSQL {
	t.Helper()
	x, ok := r.(RawSQL)
	if !ok {
		t.Skipf("%T offers no RawSQL test hook", r)
	}
	return x
}

func testPermanentRecord(t *testing.T, r chungthuc.Register) {
	x := raw(t, r)
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	c := reserve(t, r, entry(u, o, vn(2026, 9, 2, 9, 0)))
	issue(t, r, c)
	id := strconv.FormatInt(c.ID, 10)
	for _, q := range []string{
		"UPDATE audit_log SET detail = '{}' WHERE id = 1",
		"DELETE FROM audit_log WHERE id = 1",
		"DELETE FROM certifications WHERE id = " + id,
		"DELETE FROM books WHERE unit_id = " + strconv.FormatInt(u.ID, 10),
		"UPDATE certifications SET number = 99 WHERE id = " + id,
		"UPDATE certifications SET sha256 = '" + SHA("forged") + "' WHERE id = " + id,
		"UPDATE certifications SET status = 'pending' WHERE id = " + id,
		"UPDATE certifications SET certified_at = created_at WHERE id = " + id,
	} {
		if err := x.ExecSQL(ctx, q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	// What the workflow does is still allowed (a revocation with its audit entry).
	must(t, "Revoke", r.Revoke(ctx, c.ID, "x", time.Time{}))
	entries(t, r)
}

func testTamperUpdate(t *testing.T, r chungthuc.Register) {
	x := raw(t, r)
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	for i := range 3 {
		issue(t, r, reserve(t, r, entry(u, o, vn(2026, 9, 2+i, 9, 0))))
	}
	n := entries(t, r)
	if n < 8 {
		t.Fatalf("only %d audit entries", n)
	}
	must(t, "Tamper", x.Tamper(ctx, `UPDATE audit_log SET detail = '{"number":1}' WHERE id = 5`))
	broken, checked, err := audit(t, r).VerifyChain(ctx)
	must(t, "VerifyChain", err)
	if broken != 5 || checked != 5 {
		t.Fatalf("after editing entry 5: first broken %d, checked %d", broken, checked)
	}
}

func testTamperDelete(t *testing.T, r chungthuc.Register) {
	x := raw(t, r)
	a := audit(t, r)
	for i := range 6 {
		must(t, "Append", a.Append(ctx, &chungthuc.AuditEntry{Action: "login", Actor: "officer:" + strconv.Itoa(i)}))
	}
	must(t, "Tamper", x.Tamper(ctx, `DELETE FROM audit_log WHERE id = 3`))
	broken, _, err := a.VerifyChain(ctx)
	must(t, "VerifyChain", err)
	if broken != 4 {
		t.Fatalf("after deleting entry 3: first broken %d, want 4", broken)
	}
}

// testVersions: a renewed version of a copy is found by its own hash; versions need a stored
// copy, hashes stay unique across copies and versions, and each addition is audited.
func testVersions(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	c := reserve(t, r, entry(u, o, vn(2026, 1, 5, 14, 0)))
	code(t, "AddVersion of a pending entry", r.AddVersion(ctx, c.ID, SHA("v1"), "renewals/x/v1.pdf"), chungthuc.ECONFLICT)
	issue(t, r, c)
	code(t, "AddVersion unknown entry", r.AddVersion(ctx, c.ID+1000, SHA("v1"), "renewals/x/v1.pdf"), chungthuc.ENOTFOUND)
	code(t, "AddVersion malformed hash", r.AddVersion(ctx, c.ID, "xyz", "renewals/x/v1.pdf"), chungthuc.EINVALID)
	code(t, "AddVersion without a key", r.AddVersion(ctx, c.ID, SHA("v1"), " "), chungthuc.EINVALID)
	code(t, "AddVersion with the copy's own hash", r.AddVersion(ctx, c.ID, SHA(c.Token), "renewals/x/v0.pdf"), chungthuc.ECONFLICT)
	var before int64
	if a, ok := r.(chungthuc.AuditLog); ok {
		_, before, _ = a.VerifyChain(ctx)
	}
	must(t, "AddVersion", r.AddVersion(ctx, c.ID, strings.ToUpper(SHA("v1")), "renewals/x/v1.pdf"))
	must(t, "AddVersion second", r.AddVersion(ctx, c.ID, SHA("v2"), "renewals/x/v2.pdf"))
	code(t, "AddVersion twice", r.AddVersion(ctx, c.ID, SHA("v2"), "renewals/x/v2b.pdf"), chungthuc.ECONFLICT)
	for _, v := range []string{"v1", "v2"} {
		got, err := r.CertificationBySHA256(ctx, SHA(v))
		must(t, "CertificationBySHA256 of a version", err)
		if got.ID != c.ID || got.SHA256 != SHA(c.Token) {
			t.Fatalf("version %s found %+v", v, got)
		}
	}
	// A revoked entry can still be renewed (it stays stored and visible as revoked).
	must(t, "Revoke", r.Revoke(ctx, c.ID, "sai sót", time.Time{}))
	must(t, "AddVersion of a revoked entry", r.AddVersion(ctx, c.ID, SHA("v3"), "renewals/x/v3.pdf"))
	if a, ok := r.(chungthuc.AuditLog); ok {
		broken, after, err := a.VerifyChain(ctx)
		must(t, "VerifyChain", err)
		if broken != 0 || after != before+4 {
			t.Fatalf("audit after versions: broken %d, %d entries (was %d, want +4: three versions and a revocation)", broken, after, before)
		}
	}
	_, err := r.CertificationBySHA256(ctx, SHA("nothing"))
	code(t, "CertificationBySHA256 unknown", err, chungthuc.ENOTFOUND)
}
