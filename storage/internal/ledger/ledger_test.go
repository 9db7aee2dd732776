package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

func TestFold(t *testing.T) {
	nfd := "Nguye\u0302\u0303n" // NFD "Nguyễn"
	for in, want := range map[string]string{
		"Nguyễn Văn Đức":       "nguyen van duc",
		"GIẤY KHAI SINH":       "giay khai sinh",
		nfd:                    "nguyen",
		"Phường Hòa Bình":      "phuong hoa binh",
		"đăng ký kết hôn":      "dang ky ket hon",
		"Bằng tốt nghiệp THPT": "bang tot nghiep thpt",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
	if got := LikeContains(`50%_a\`); got != `%50\%\_a\\%` {
		t.Errorf("LikeContains = %q", got)
	}
}

func TestHash(t *testing.T) {
	e := &chungthuc.AuditEntry{ID: 1, At: time.Date(2026, 1, 2, 3, 4, 5, 6789, time.UTC), Action: "login",
		Actor: "officer:1", Subject: "", Detail: "{}"}
	h1 := Hash(e)
	if len(h1) != 64 {
		t.Fatalf("hash %q", h1)
	}
	// Nanoseconds below the stored precision do not change the hash.
	e2 := *e
	e2.At = e.At.Add(100)
	if Hash(&e2) != h1 {
		t.Fatal("hash depends on sub-microsecond time")
	}
	// Moving bytes from one field to the next changes it (length prefixes).
	e3 := *e
	e3.Actor, e3.Subject = "officer:", "1"
	if Hash(&e3) == h1 {
		t.Fatal("field boundaries are ambiguous")
	}
	for _, f := range []func(*chungthuc.AuditEntry){
		func(x *chungthuc.AuditEntry) { x.ID = 2 },
		func(x *chungthuc.AuditEntry) { x.PrevHash = strings.Repeat("0", 64) },
		func(x *chungthuc.AuditEntry) { x.UnitID = 1 },
		func(x *chungthuc.AuditEntry) { x.Detail = `{"a":1}` },
	} {
		x := *e
		f(&x)
		if Hash(&x) == h1 {
			t.Errorf("a field change kept the hash: %+v", x)
		}
	}
}

func TestPrepare(t *testing.T) {
	if err := PrepareAudit(&chungthuc.AuditEntry{Action: "x", Actor: "y", Detail: "[1]"}, time.Now()); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("array detail: %v", err)
	}
	u := &chungthuc.Unit{Code: " hb ", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	if err := PrepareUnit(u); err != nil || u.Code != "HB" {
		t.Errorf("PrepareUnit = %v, code %q", err, u.Code)
	}
	if err := PrepareUnit(&chungthuc.Unit{Code: "P L", Name: "x", Place: "y"}); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("bad code: %v", err)
	}
	c := &chungthuc.Certification{UnitID: 1, OfficerID: 1, Token: "short", Title: "x"}
	if err := PrepareReservation(c, time.Now()); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("short token: %v", err)
	}
	f, err := Filter(chungthuc.CertificationFilter{Limit: 9999, Offset: -3})
	if err != nil || f.Limit != 500 || f.Offset != 0 {
		t.Errorf("Filter = %+v, %v", f, err)
	}
	if _, err := Filter(chungthuc.CertificationFilter{Status: "lost"}); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("bad status: %v", err)
	}
	if err := Transition(1, chungthuc.StatusVoid, chungthuc.StatusIssued); chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		t.Errorf("void→issued: %v", err)
	}
	if YearOf(time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC)) != 2027 {
		t.Error("YearOf ignores Vietnam time")
	}
}
