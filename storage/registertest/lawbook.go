package registertest

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testscan"
)

// Printed values that must never be stored: a line break, a bidi override, a zero-width
// space, and a value over every bound.
var unprintable = []string{"Phường Hòa Bình\nSố chứng thực 999", "Phường \u202eHòa Bình", "Hòa\u200bBình", strings.Repeat("x", 600)}

func testUnitProfile(t *testing.T, r chungthuc.Register) {
	seal := testscan.SealPNG(120)
	u := &chungthuc.Unit{Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình", Body: "Ủy ban nhân dân phường Hòa Bình",
		Province: "tỉnh Phú Thọ", SealImage: seal, SealMM: 36, Demo: true, Titles: []string{"PHÓ CHỦ TỊCH", "CHỦ TỊCH"}}
	must(t, "CreateUnit", r.CreateUnit(ctx, u))
	got, err := r.UnitByID(ctx, u.ID)
	must(t, "UnitByID", err)
	if got.Body != u.Body || got.Province != u.Province || got.SealMM != 36 || !got.Demo || string(got.SealImage) != string(seal) ||
		!reflect.DeepEqual(got.Titles, u.Titles) {
		t.Fatalf("UnitByID = %+v", got)
	}
	// Update: profile changes; code and demo mark stay.
	got.Province, got.SealMM, got.Demo, got.Code = "tỉnh Hòa Bình", 40, false, "XX"
	must(t, "UpdateUnit", r.UpdateUnit(ctx, got))
	again, err := r.UnitByID(ctx, u.ID)
	must(t, "UnitByID", err)
	if again.Province != "tỉnh Hòa Bình" || again.SealMM != 40 || !again.Demo || again.Code != "HB" {
		t.Fatalf("after UpdateUnit: %+v", again)
	}
	for _, bad := range unprintable {
		for _, field := range []func(*chungthuc.Unit){
			func(x *chungthuc.Unit) { x.Name = bad }, func(x *chungthuc.Unit) { x.Place = bad },
			func(x *chungthuc.Unit) { x.Body = bad }, func(x *chungthuc.Unit) { x.Province = bad },
			func(x *chungthuc.Unit) { x.Titles = []string{bad} },
		} {
			x := *again
			field(&x)
			code(t, "UpdateUnit with "+bad[:min(len(bad), 20)], r.UpdateUnit(ctx, &x), chungthuc.EINVALID)
			x.ID, x.Code = 0, "Q1"
			code(t, "CreateUnit with "+bad[:min(len(bad), 20)], r.CreateUnit(ctx, &x), chungthuc.EINVALID)
		}
	}
	for what, img := range map[string][]byte{"not a PNG": []byte("GIF89a"), "opaque": testscan.PNG(testscan.Page(1, 20), 20)} {
		x := *again
		x.SealImage = img
		code(t, "seal "+what, r.UpdateUnit(ctx, &x), chungthuc.EINVALID)
	}
	x := *again
	x.SealMM = 200
	code(t, "seal 200 mm", r.UpdateUnit(ctx, &x), chungthuc.EINVALID)
	x = *again
	x.ID = again.ID + 1000
	code(t, "UpdateUnit unknown", r.UpdateUnit(ctx, &x), chungthuc.ENOTFOUND)
}

func testOfficerAuthority(t *testing.T, r chungthuc.Register) {
	u := &chungthuc.Unit{Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình", Titles: []string{"PHÓ CHỦ TỊCH", "CHỦ TỊCH", "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH"}}
	must(t, "CreateUnit", r.CreateUnit(ctx, u))
	decided := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	from, until := decided, decided.AddDate(1, 0, 0)
	sig := testscan.SignaturePNG(200, 80)
	o := &chungthuc.Officer{UnitID: u.ID, Name: "Lê Thị Hoa", Title: "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH", Role: chungthuc.RoleOfficer, Active: true,
		Authority: chungthuc.AuthorityAuthorised, DecisionNo: "12/QĐ-UBND", DecisionDate: &decided, ValidFrom: &from, ValidUntil: &until,
		SignatureImage: sig}
	must(t, "CreateOfficer", r.CreateOfficer(ctx, o))
	got, err := r.OfficerByID(ctx, o.ID)
	must(t, "OfficerByID", err)
	if got.Authority != chungthuc.AuthorityAuthorised || got.DecisionNo != "12/QĐ-UBND" || got.DecisionDate == nil ||
		!got.DecisionDate.Equal(decided) || !got.ValidUntil.Equal(until) || string(got.SignatureImage) != string(sig) {
		t.Fatalf("OfficerByID = %+v", got)
	}
	got.Authority, got.Title, got.Titles = chungthuc.AuthorityViceChairman, "PHÓ CHỦ TỊCH", []string{"CHỦ TỊCH"}
	must(t, "UpdateOfficer", r.UpdateOfficer(ctx, got))
	again, err := r.OfficerByID(ctx, o.ID)
	must(t, "OfficerByID", err)
	if again.Authority != chungthuc.AuthorityViceChairman || !reflect.DeepEqual(again.AllowedTitles(), []string{"PHÓ CHỦ TỊCH", "CHỦ TỊCH"}) ||
		again.UnitID != u.ID {
		t.Fatalf("after UpdateOfficer: %+v", again)
	}
	x := *again
	x.Title = "GIÁM ĐỐC"
	code(t, "title off the unit's list", r.UpdateOfficer(ctx, &x), chungthuc.EINVALID)
	x = *again
	x.Authority, x.DecisionNo, x.DecisionDate = chungthuc.AuthorityAuthorised, "", nil
	code(t, "authorised without decision", r.UpdateOfficer(ctx, &x), chungthuc.EINVALID)
	x = *again
	x.Authority = "mayor"
	code(t, "unknown authority", r.UpdateOfficer(ctx, &x), chungthuc.EINVALID)
	x = *again
	x.ValidFrom, x.ValidUntil = &until, &from
	code(t, "validity ends before it begins", r.UpdateOfficer(ctx, &x), chungthuc.EINVALID)
	for _, bad := range unprintable {
		for _, field := range []func(*chungthuc.Officer){
			func(x *chungthuc.Officer) { x.Name = bad }, func(x *chungthuc.Officer) { x.Title = bad },
			func(x *chungthuc.Officer) { x.Titles = []string{bad} },
		} {
			x := *again
			field(&x)
			code(t, "UpdateOfficer with "+bad[:min(len(bad), 20)], r.UpdateOfficer(ctx, &x), chungthuc.EINVALID)
			x.ID = 0
			code(t, "CreateOfficer with "+bad[:min(len(bad), 20)], r.CreateOfficer(ctx, &x), chungthuc.EINVALID)
		}
	}
	x = *again
	x.SignatureImage = testscan.PNG(testscan.Page(1, 20), 20)
	code(t, "opaque signature", r.UpdateOfficer(ctx, &x), chungthuc.EINVALID)
}

func testCopies(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	c := entry(u, o, vn(2026, 3, 2, 9, 0))
	c.Copies, c.FeeVND = 3, chungthuc.FeeFor(3, 3)
	reserve(t, r, c)
	got, err := r.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	if got.Copies != 3 || got.FeeVND != 15000 {
		t.Fatalf("copies %d fee %d, want 3 and 15000", got.Copies, got.FeeVND)
	}
	one := reserve(t, r, entry(u, o, vn(2026, 3, 2, 9, 5)))
	if got, _ := r.CertificationByID(ctx, one.ID); got.Copies != 1 {
		t.Fatalf("an entry without copies recorded %d copies", got.Copies)
	}
	bad := entry(u, o, vn(2026, 3, 2, 9, 6))
	bad.Copies = chungthuc.MaxCopies + 1
	code(t, "too many copies", r.Reserve(ctx, bad), chungthuc.EINVALID)
	if raw, ok := r.(RawSQL); ok {
		if err := raw.ExecSQL(ctx, "UPDATE certifications SET copies = 1 WHERE copies = 3"); err == nil {
			t.Fatal("the copies of an entry were changed")
		}
	}
}

func testRefusalSlips(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	other := newUnit(t, r, "TL")
	o2 := newOfficer(t, r, other.ID)
	var ids []int64
	for i, reason := range []chungthuc.RefusalReason{chungthuc.RefuseDamaged, chungthuc.RefuseOther, chungthuc.RefuseAltered} {
		f := &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID, Reason: reason, Note: "Bản chính là bản photocopy", Title: "Bằng tốt nghiệp", Requester: "Hoàng Văn Em"}
		must(t, "CreateRefusal", r.CreateRefusal(ctx, f))
		if f.Number != int64(i+1) || f.Year != f.CreatedAt.In(chungthuc.Vietnam).Year() {
			t.Fatalf("refusal %d numbered %d/%d", i, f.Number, f.Year)
		}
		ids = append(ids, f.ID)
	}
	f := &chungthuc.Refusal{UnitID: other.ID, OfficerID: o2.ID, Reason: chungthuc.RefuseDamaged}
	must(t, "CreateRefusal other unit", r.CreateRefusal(ctx, f))
	if f.Number != 1 {
		t.Fatalf("another unit's first refusal is number %d", f.Number)
	}
	got, err := r.RefusalByID(ctx, ids[1])
	must(t, "RefusalByID", err)
	if got.Reason != chungthuc.RefuseOther || got.Note != "Bản chính là bản photocopy" || got.Number != 2 || got.Requester != "Hoàng Văn Em" {
		t.Fatalf("RefusalByID = %+v", got)
	}
	_, err = r.RefusalByID(ctx, ids[2]+1000)
	code(t, "RefusalByID unknown", err, chungthuc.ENOTFOUND)
	list, err := r.Refusals(ctx, u.ID, time.Time{}, time.Time{})
	must(t, "Refusals", err)
	if len(list) != 3 || list[0].ID != ids[0] || list[2].ID != ids[2] {
		t.Fatalf("Refusals = %v", list)
	}
	list, err = r.Refusals(ctx, u.ID, time.Now().Add(time.Hour), time.Time{})
	must(t, "Refusals later", err)
	if len(list) != 0 {
		t.Fatalf("Refusals from an hour ahead = %d", len(list))
	}
	code(t, "other without text", r.CreateRefusal(ctx, &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID, Reason: chungthuc.RefuseOther}), chungthuc.EINVALID)
	for _, bad := range unprintable {
		code(t, "other with "+bad[:min(len(bad), 20)], r.CreateRefusal(ctx, &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID,
			Reason: chungthuc.RefuseOther, Note: bad}), chungthuc.EINVALID)
		code(t, "requester "+bad[:min(len(bad), 20)], r.CreateRefusal(ctx, &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID,
			Reason: chungthuc.RefuseDamaged, Requester: bad}), chungthuc.EINVALID)
	}
	if raw, ok := r.(RawSQL); ok {
		if err := raw.ExecSQL(ctx, "UPDATE refusals SET reason = 'damaged'"); err == nil {
			t.Fatal("a refusal was changed")
		}
	}
}

func testBookSigning(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	c := reserve(t, r, entry(u, o, vn(2026, 12, 30, 9, 0)))
	issue(t, r, c)
	code(t, "sign an open book", r.SignBookClosing(ctx, c.BookID, o.ID, []byte("%PDF-1.7")), chungthuc.ECONFLICT)
	b, err := r.CloseBook(ctx, c.BookID, vn(2026, 12, 31, 17, 0))
	must(t, "CloseBook", err)
	code(t, "sign without a PDF", r.SignBookClosing(ctx, b.ID, o.ID, nil), chungthuc.EINVALID)
	code(t, "sign by an unknown officer", r.SignBookClosing(ctx, b.ID, o.ID+1000, []byte("%PDF-1.7")), chungthuc.ENOTFOUND)
	must(t, "SignBookClosing", r.SignBookClosing(ctx, b.ID, o.ID, []byte("%PDF-1.7 signed")))
	got, err := r.BookByID(ctx, b.ID)
	must(t, "BookByID", err)
	if got.ClosedBy != o.ID || string(got.ClosingPDF) != "%PDF-1.7 signed" || got.ClosingCount != 1 {
		t.Fatalf("BookByID = %+v", got)
	}
	code(t, "sign twice", r.SignBookClosing(ctx, b.ID, o.ID, []byte("%PDF-1.7 again")), chungthuc.ECONFLICT)
	_, err = r.BookByID(ctx, b.ID+1000)
	code(t, "BookByID unknown", err, chungthuc.ENOTFOUND)
	if raw, ok := r.(RawSQL); ok {
		if err := raw.ExecSQL(ctx, "UPDATE books SET closing_pdf = x'00'"); err == nil {
			t.Fatal("a signed closing was replaced")
		}
	}
}
