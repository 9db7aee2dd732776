package signer

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

// Statement is the certification statement (lời chứng) printed on a copy, per the form for a
// copy certified from an original (Decree 23/2015/NĐ-CP as amended by Decree 280/2025/NĐ-CP,
// whose annex now holds the forms; the template is reproduced in domain.md):
//
//	Chứng thực bản sao đúng với bản chính.
//	Số chứng thực {số}, quyển số {quyển}
//	Ngày {dd} tháng {mm} năm {yyyy}
//	NGƯỜI THỰC HIỆN CHỨNG THỰC
//	{title, one level per line}
//	{signature}
//	{full name}
//
// The copy form has no place-name line (unlike the signature-certification form): the place
// is the unit's and is printed with the agency's signature.
type Statement struct {
	Number     int64     // the register number (số chứng thực)
	BookCode   string    // the book (quyển số), e.g. "01/2026-SCTĐT/BS"
	Place      string    // the place name (địa danh); recorded in the signatures, not printed in the statement
	Date       time.Time // the certification date; printed in Vietnam time
	Title      string    // the officer's title as one string, used when TitleLines is empty
	TitleLines []string  // the title, one level per line ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"); at most 3
	Name       string    // the officer's full name
	// Signed reports that the officer's signature image is shown: then no placeholder
	// text is printed between the title and the name.
	Signed bool
	// Preview prints the statement of a preview (Signer.Preview): no number yet (Number is
	// 0 and printed as the placeholder previewNumber).
	Preview bool
}

// previewNumber stands for the number in a preview: it is allocated only when signing.
const previewNumber = "…"

// number is the register number as printed.
func (s Statement) number() string {
	if s.Preview && s.Number == 0 {
		return previewNumber
	}
	return fmt.Sprint(s.Number)
}

// unsignedMark is printed where the signature image goes when the officer has none.
const unsignedMark = "(chữ ký số)"

// Validate reports a missing field as an EINVALID error.
func (s Statement) Validate() error {
	switch {
	case s.Number <= 0 && !(s.Preview && s.Number == 0):
		return chungthuc.Errorf(chungthuc.EINVALID, "the certification number is missing")
	case strings.TrimSpace(s.BookCode) == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "the book code is missing")
	case s.Date.IsZero():
		return chungthuc.Errorf(chungthuc.EINVALID, "the certification date is missing")
	}
	if _, err := chungthuc.ValidatePrintedText("the book code", s.BookCode, maxPrinted); err != nil {
		return err
	}
	return s.validateSigner()
}

// maxPrinted bounds every printed field (characters); the layout wraps anything up to it.
const maxPrinted = 200

// validateSigner checks the fields that come from the unit and the officer: present and
// printable (chungthuc.ValidatePrintedText), 1–3 title lines.
func (s Statement) validateSigner() error {
	switch {
	case strings.TrimSpace(s.Place) == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "the place name is missing")
	case strings.TrimSpace(s.Name) == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "the officer's name is missing")
	case len(s.TitleLines) > 3:
		return chungthuc.Errorf(chungthuc.EINVALID, "the officer's title has %d lines; at most 3 are printed", len(s.TitleLines))
	case len(s.TitleLines) == 0 && strings.TrimSpace(s.Title) == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "the officer's title is missing")
	}
	if _, err := chungthuc.ValidatePrintedText("the place name", s.Place, maxPrinted); err != nil {
		return err
	}
	if _, err := chungthuc.ValidatePrintedText("the officer's name", s.Name, maxPrinted); err != nil {
		return err
	}
	for _, l := range s.titleLines() {
		if _, err := chungthuc.ValidatePrintedText("the officer's title", l, maxPrinted); err != nil {
			return err
		}
	}
	return nil
}

func (s Statement) titleLines() []string {
	if len(s.TitleLines) > 0 {
		return s.TitleLines
	}
	return []string{s.Title}
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

// Lines returns the statement's lines exactly as printed (before wrapping), NFC-normalised:
// the statement, the number and book, the date, the heading, each title line, the
// placeholder "(chữ ký số)" only when no signature image is shown, and the name.
func (s Statement) Lines() []string {
	date := VietnameseDate(s.Date)
	lines := []string{
		"Chứng thực bản sao đúng với bản chính.",
		fmt.Sprintf("Số chứng thực %s, quyển số %s", s.number(), strings.TrimSpace(s.BookCode)),
		strings.ToUpper(date[:1]) + date[1:],
		"NGƯỜI THỰC HIỆN CHỨNG THỰC",
	}
	for _, l := range s.titleLines() {
		lines = append(lines, strings.TrimSpace(l))
	}
	if !s.Signed {
		lines = append(lines, unsignedMark)
	}
	lines = append(lines, strings.TrimSpace(s.Name))
	for i := range lines {
		lines[i] = norm.NFC.String(lines[i])
	}
	return lines
}

// Footer returns the footer of page x of y.
func (s Statement) Footer(x, y int) string {
	return norm.NFC.String(fmt.Sprintf("Số chứng thực %s · Quyển số %s · Trang %d/%d", s.number(), s.BookCode, x, y))
}
