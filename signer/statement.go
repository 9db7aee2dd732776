package signer

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

// Statement is the certification statement (lời chứng) printed on a copy, per the template in
// domain.md (Decree 23/2015 as amended; Circular 01/2020/TT-BTP).
type Statement struct {
	Number   int64     // the register number (số chứng thực)
	BookCode string    // the book (quyển số), e.g. "01/2026-SCTĐT/BS"
	Place    string    // the place name (địa danh)
	Date     time.Time // the certification date; printed in Vietnam time
	Title    string    // the officer's title as printed, e.g. "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"
	Name     string    // the officer's full name
}

// Validate reports a missing field as an EINVALID error.
func (s Statement) Validate() error {
	switch {
	case s.Number <= 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "the certification number is missing")
	case strings.TrimSpace(s.BookCode) == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "the book code is missing")
	case s.Date.IsZero():
		return chungthuc.Errorf(chungthuc.EINVALID, "the certification date is missing")
	}
	return s.validateSigner()
}

// validateSigner checks the fields that come from the unit and the officer.
func (s Statement) validateSigner() error {
	switch {
	case strings.TrimSpace(s.Place) == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "the place name is missing")
	case strings.TrimSpace(s.Title) == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "the officer's title is missing")
	case strings.TrimSpace(s.Name) == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "the officer's name is missing")
	}
	return nil
}

// VietnameseDate formats t (in Vietnam time) as "ngày dd tháng m năm yyyy" following Decree
// 30/2020 appendix I: a day below 10 and the months 1 and 2 get a leading zero.
func VietnameseDate(t time.Time) string {
	t = t.In(chungthuc.Vietnam)
	month := fmt.Sprint(int(t.Month()))
	if t.Month() <= 2 {
		month = fmt.Sprintf("%02d", int(t.Month()))
	}
	return fmt.Sprintf("ngày %02d tháng %s năm %d", t.Day(), month, t.Year())
}

// Lines returns the statement's lines exactly as printed, NFC-normalised.
func (s Statement) Lines() []string {
	lines := []string{
		"Chứng thực bản sao đúng với bản chính.",
		fmt.Sprintf("Số chứng thực %d, quyển số %s", s.Number, s.BookCode),
		fmt.Sprintf("%s, %s", strings.TrimSpace(s.Place), VietnameseDate(s.Date)),
		"NGƯỜI THỰC HIỆN CHỨNG THỰC",
		strings.TrimSpace(s.Title),
		"(chữ ký số)",
		strings.TrimSpace(s.Name),
	}
	for i := range lines {
		lines[i] = norm.NFC.String(lines[i])
	}
	return lines
}

// Footer returns the footer of page x of y.
func (s Statement) Footer(x, y int) string {
	return norm.NFC.String(fmt.Sprintf("Số chứng thực %d · Quyển số %s · Trang %d/%d", s.Number, s.BookCode, x, y))
}
