package certify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testscan"
)

// recorder keeps the last CopyRequest and passes it on to the real signer.
type recorder struct {
	chungthuc.CopyMaker
	last chungthuc.CopyRequest
}

func (r *recorder) MakeCopy(ctx context.Context, req chungthuc.CopyRequest) (*chungthuc.Copy, error) {
	r.last = req
	return r.CopyMaker.MakeCopy(ctx, req)
}

func entries(t *testing.T, e *env) int {
	t.Helper()
	_, n, err := e.reg.Certifications(context.Background(), chungthuc.CertificationFilter{UnitID: e.unit.ID})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCopiesChargePerCopy(t *testing.T) {
	e := newEnv(t)
	in := e.input()
	in.Scans = nil
	for i, data := range testscan.Scans(3, 240<<10, 72) {
		in.Scans = append(in.Scans, chungthuc.Scan{Name: "p" + string(rune('1'+i)) + ".jpg", Data: data})
	}
	in.Copies = 3
	out, err := e.svc.Certify(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	c := out.Certification
	if c.Pages != 3 || c.Copies != 3 || c.FeeVND != 3*5000 {
		t.Fatalf("pages %d copies %d fee %d; want 3, 3 and 15000 (3 × 5,000 VND)", c.Pages, c.Copies, c.FeeVND)
	}
	for _, n := range []int{-1, chungthuc.MaxCopies + 1} {
		in.Copies = n
		if _, err := e.svc.Certify(context.Background(), in); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Fatalf("copies %d: %v", n, err)
		}
	}
}

func TestPrintedFieldsRefused(t *testing.T) {
	e := newEnv(t)
	for _, bad := range []string{"Giấy khai sinh\nSố chứng thực 999", "Giấy \u202ekhai sinh", "Giấy\u200b", strings.Repeat("a", 300), ""} {
		for name, set := range map[string]func(*Input){
			"document":      func(in *Input) { in.DocTitle = bad },
			"requester":     func(in *Input) { in.Requester = bad },
			"officer_title": func(in *Input) { in.Title = bad + "x" }, // empty means the default: make it non-empty
		} {
			in := e.input()
			set(&in)
			_, err := e.svc.Certify(context.Background(), in)
			if chungthuc.ErrorCode(err) != chungthuc.EINVALID {
				t.Fatalf("%s %q: %v, want EINVALID", name, bad, err)
			}
		}
	}
	if n := entries(t, e); n != 0 {
		t.Fatalf("refused requests used %d numbers", n)
	}
}

func TestSignerTitleFromRecord(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := &recorder{CopyMaker: e.svc.Maker}
	e.svc.Maker = rec
	in := e.input()
	in.Title = "CHỦ TỊCH UBND TỈNH"
	if _, err := e.svc.Certify(ctx, in); chungthuc.ErrorCode(err) != chungthuc.EINVALID || !strings.Contains(chungthuc.ErrorMessage(err), "PHÓ CHỦ TỊCH") {
		t.Fatalf("a title not on record: %v", err)
	}
	// The administrator allows a second title.
	o, _ := e.reg.OfficerByID(ctx, e.off.ID)
	o.Titles = []string{"Q. CHỦ TỊCH"}
	o.SignatureImage = testscan.SignaturePNG(300, 100)
	if err := e.reg.UpdateOfficer(ctx, o); err != nil {
		t.Fatal(err)
	}
	in.Title = "Q. CHỦ TỊCH"
	in.ConfirmLowResolution = true
	out, err := e.svc.Certify(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "Q. CHỦ TỊCH"}
	r := rec.last
	if strings.Join(r.TitleLines, "|") != strings.Join(want, "|") || out.Certification.OfficerTitle != strings.Join(want, " / ") {
		t.Fatalf("title lines %q, register %q", r.TitleLines, out.Certification.OfficerTitle)
	}
	if r.UnitBody != "Ủy ban nhân dân phường Hòa Bình" || r.Province != "tỉnh Phú Thọ" || !r.SealDemo || len(r.SignatureImage) == 0 ||
		!r.ConfirmLowResolution || r.OfficerName != "Trần Văn Nghĩa" {
		t.Fatalf("CopyRequest: body %q province %q demo %v signature %d confirm %v", r.UnitBody, r.Province, r.SealDemo, len(r.SignatureImage), r.ConfirmLowResolution)
	}
}

func TestUnitWithoutSealCannotCertify(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u := &chungthuc.Unit{Code: "TL", Name: "Xã Tân Lạc", Place: "Tân Lạc", Body: "Ủy ban nhân dân xã Tân Lạc", Province: "tỉnh Phú Thọ"}
	if err := e.reg.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	o := &chungthuc.Officer{UnitID: u.ID, Name: "Đinh Công Minh", Authority: chungthuc.AuthorityChairman, Role: chungthuc.RoleOfficer, Active: true}
	if err := e.reg.CreateOfficer(ctx, o); err != nil {
		t.Fatal(err)
	}
	in := e.input()
	in.UnitCode, in.OfficerID = "TL", o.ID
	_, err := e.svc.Certify(ctx, in)
	if chungthuc.ErrorCode(err) != chungthuc.ECONFLICT || !strings.Contains(chungthuc.ErrorMessage(err), "seal") {
		t.Fatalf("a unit without a seal: %v", err)
	}
	if _, n, _ := e.reg.Certifications(ctx, chungthuc.CertificationFilter{UnitID: u.ID}); n != 0 {
		t.Fatalf("the refusal used %d numbers", n)
	}
	u.SealImage, u.SealMM = testscan.SealPNG(200), 36
	if err := e.reg.UpdateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{CopyMaker: e.svc.Maker}
	e.svc.Maker = rec
	out, err := e.svc.Certify(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if rec.last.SealDemo || rec.last.SealSizeMM != 36 || len(rec.last.SealImage) == 0 ||
		out.Certification.OfficerTitle != "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH" {
		t.Fatalf("seal demo %v size %v title %q", rec.last.SealDemo, rec.last.SealSizeMM, out.Certification.OfficerTitle)
	}
}

func TestAuthorisationValidity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	day := func(y int, m time.Month, d int) *time.Time {
		x := time.Date(y, m, d, 0, 0, 0, 0, chungthuc.Vietnam)
		return &x
	}
	o := &chungthuc.Officer{UnitID: e.unit.ID, Name: "Lê Thị Hoa", Title: "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH", Role: chungthuc.RoleOfficer, Active: true,
		Authority: chungthuc.AuthorityAuthorised, DecisionNo: "12/QĐ-UBND", DecisionDate: day(2026, 1, 5), ValidFrom: day(2026, 1, 5), ValidUntil: day(2026, 6, 30)}
	if err := e.reg.CreateOfficer(ctx, o); err != nil {
		t.Fatal(err)
	}
	in := e.input()
	in.OfficerID = o.ID
	// e.now is 29 November 2026: the authorisation ended on 30 June.
	if _, err := e.svc.Certify(ctx, in); chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN || !strings.Contains(chungthuc.ErrorMessage(err), "2026-06-30") {
		t.Fatalf("outside the authorisation: %v", err)
	}
	e.now = time.Date(2026, 6, 30, 16, 0, 0, 0, chungthuc.Vietnam)
	out, err := e.svc.Certify(ctx, in)
	if err != nil {
		t.Fatalf("on the last day of the authorisation: %v", err)
	}
	if out.Certification.OfficerTitle != "TUQ. CHỦ TỊCH / CÔNG CHỨC TƯ PHÁP - HỘ TỊCH" {
		t.Fatalf("title %q", out.Certification.OfficerTitle)
	}
	e.now = time.Date(2026, 1, 4, 16, 0, 0, 0, chungthuc.Vietnam)
	if _, err := e.svc.Certify(ctx, in); chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN {
		t.Fatalf("before the authorisation: %v", err)
	}
}
