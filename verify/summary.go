package verify

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/chungthuc/chungthuc"
	"golang.org/x/text/unicode/norm"
)

// phrases for a signature's outcome: English, Vietnamese.
func outcomePhrase(ind, sub string) (en, vi string) {
	switch ind {
	case TotalPassed:
		return "valid: intact, not modified since signing, trusted signer",
			"hợp lệ: toàn vẹn, không bị sửa đổi sau khi ký, người ký được tin cậy"
	}
	switch sub {
	case SubModifiedAfterSigning:
		return "the document was modified after this signature",
			"tài liệu đã bị sửa đổi sau khi ký"
	case SubHashFailure:
		return "the signed content was altered",
			"nội dung đã ký bị thay đổi"
	case SubSigCryptoFailure:
		return "the signature value is false (forged or corrupted)",
			"giá trị chữ ký không đúng (giả mạo hoặc hỏng)"
	case SubFormatFailure:
		return "the signature is malformed or does not cover what it should",
			"chữ ký sai cấu trúc hoặc không bao trùm đúng phần tài liệu"
	case SubRevoked, SubRevokedNoPOE:
		return "the signer's certificate is revoked",
			"chứng thư số của người ký đã bị thu hồi"
	case SubNoCertificateChain:
		return "the signer's certificate is not issued by a trusted authority",
			"chứng thư số của người ký không do tổ chức tin cậy cấp"
	case SubOutOfBoundsNoPOE, SubExpired:
		return "the signer's certificate has expired and no trusted timestamp proves the signature older",
			"chứng thư số đã hết hạn và không có dấu thời gian tin cậy chứng minh thời điểm ký"
	case SubNotYetValid:
		return "the signer's certificate is not yet valid",
			"chứng thư số chưa có hiệu lực"
	case SubCryptoConstraints:
		return "a weak algorithm, or one this service cannot verify, was used (rejected)",
			"sử dụng thuật toán yếu hoặc thuật toán mà hệ thống không kiểm tra được (bị từ chối)"
	case SubTryLater:
		return "the revocation status of the certificate could not be checked",
			"chưa kiểm tra được tình trạng thu hồi của chứng thư số"
	case SubNoSigningCertificate:
		return "the certificate of the signer or of the time-stamping authority is missing or does not match",
			"thiếu chứng thư số của người ký hoặc của tổ chức cấp dấu thời gian, hoặc chứng thư số không khớp"
	case SubTimestampOrder:
		return "the signing time is inconsistent with the timestamp",
			"thời điểm ký mâu thuẫn với dấu thời gian"
	}
	return "the signature could not be validated", "không xác thực được chữ ký"
}

// signaturePhrase is outcomePhrase with the wording of a document time-stamp when s is one.
func signaturePhrase(s *SignatureReport) (en, vi string) {
	if s.Kind == "document_timestamp" {
		switch {
		case s.Indication == TotalPassed:
			return "valid: intact, trusted time-stamping authority", "hợp lệ: toàn vẹn, tổ chức cấp dấu thời gian được tin cậy"
		case s.SubIndication == SubOutOfBoundsNoPOE:
			return "the time-stamping authority's certificate has expired and no later document timestamp renews it",
				"chứng thư số của tổ chức cấp dấu thời gian đã hết hạn và không có dấu thời gian tài liệu mới hơn gia hạn"
		}
	}
	return outcomePhrase(s.Indication, s.SubIndication)
}

// summarize writes the per-signature summaries.
func (s *sigState) summarize() {
	who := "unknown signer"
	whoVI := "người ký không xác định"
	if s.rep.Signer != nil {
		who = commonName(s.rep.Signer.Subject)
		whoVI = who
	}
	en, vi := outcomePhrase(s.rep.Indication, s.rep.SubIndication)
	kindEN, kindVI := "Signature", "Chữ ký"
	if s.rep.Kind == "document_timestamp" {
		kindEN, kindVI = "Document timestamp", "Dấu thời gian tài liệu"
		en, vi = signaturePhrase(s.rep)
	}
	if s.rep.Indication == TotalPassed && commentsAfter(s.rep) {
		en += "; " + commentsNoteEN
		vi += "; " + commentsNoteVI
	}
	s.rep.SummaryEN = fmt.Sprintf("%s %d (%s): %s.", kindEN, s.rep.Index, who, en)
	s.rep.SummaryVI = norm.NFC.String(fmt.Sprintf("%s %d (%s): %s.", kindVI, s.rep.Index, whoVI, vi))
}

// The note for comments added after signing where DocMDP P=3 allows them (diff.go).
const (
	commentsNoteEN = "comments were added after signing, which the certification (DocMDP P=3) allows; they are not part of what was signed"
	commentsNoteVI = "sau khi ký có thêm ghi chú, điều mà chữ ký chứng nhận (DocMDP P=3) cho phép; ghi chú không thuộc nội dung đã ký"
)

// commentsAfter reports whether s lists allowed comment changes after it.
func commentsAfter(s *SignatureReport) bool {
	for _, c := range s.ChangesAfter {
		if c.Allowed && c.Category == "annotation" {
			return true
		}
	}
	return false
}

func commonName(dn string) string {
	for _, part := range strings.Split(dn, ",") {
		if v, ok := strings.CutPrefix(part, "CN="); ok {
			return v
		}
	}
	return dn
}

// summarize writes the document-level summaries.
func summarize(r *Report) (vi, en string) {
	var bvi, ben strings.Builder
	n := len(r.Signatures)
	switch {
	case n == 0 && r.Indication == TotalFailed:
		ben.WriteString("Not valid: the file is damaged or its structure was tampered with; no signature could be checked.")
		bvi.WriteString("Không hợp lệ: tệp bị hỏng hoặc cấu trúc bị can thiệp; không kiểm tra được chữ ký nào.")
	case n == 0:
		ben.WriteString("Not valid: the file has no digital signature.")
		bvi.WriteString("Không hợp lệ: tệp không có chữ ký số.")
	case r.Indication == TotalPassed && allTrusted(r) && slices.ContainsFunc(r.Signatures, func(s SignatureReport) bool { return commentsAfter(&s) }):
		fmt.Fprintf(&ben, "Valid: %d signature(s), all intact and trusted; %s.", n, commentsNoteEN)
		fmt.Fprintf(&bvi, "Hợp lệ: %d chữ ký, tất cả toàn vẹn và tin cậy; %s.", n, commentsNoteVI)
	case r.Indication == TotalPassed && allTrusted(r):
		fmt.Fprintf(&ben, "Valid: %d signature(s), all intact and trusted; nothing was changed after signing.", n)
		fmt.Fprintf(&bvi, "Hợp lệ: %d chữ ký, tất cả toàn vẹn và tin cậy; tài liệu không bị sửa đổi sau khi ký.", n)
	default:
		en, vi := "the file was changed after the last signature", "tệp đã bị thay đổi sau chữ ký cuối cùng"
		if s := primary(r); s != nil {
			en, vi = signaturePhrase(s)
			en = fmt.Sprintf("signature %d: %s", s.Index, en)
			vi = fmt.Sprintf("chữ ký %d: %s", s.Index, vi)
		}
		if r.Indication == TotalFailed {
			fmt.Fprintf(&ben, "Not valid: %s.", en)
			fmt.Fprintf(&bvi, "Không hợp lệ: %s.", vi)
		} else {
			fmt.Fprintf(&ben, "Not confirmed: %s.", en)
			fmt.Fprintf(&bvi, "Chưa xác nhận được: %s.", vi)
		}
	}
	if g := r.Register; g != nil {
		ben.WriteString(" " + g.MessageEN)
		bvi.WriteString(" " + g.MessageVI)
	}
	return norm.NFC.String(bvi.String()), ben.String()
}

// primary picks the signature that explains the verdict: the first one that failed for
// its own reasons (not merely because a later one was added or broken), else the last
// one reporting a modification.
func primary(r *Report) *SignatureReport {
	var best *SignatureReport
	for i := range r.Signatures {
		s := &r.Signatures[i]
		if s.Indication == TotalPassed {
			continue
		}
		if best == nil || severity(s.Indication) > severity(best.Indication) {
			best = s
			continue
		}
		if severity(s.Indication) == severity(best.Indication) && best.SubIndication == SubModifiedAfterSigning {
			best = s
		}
	}
	return best
}

func allTrusted(r *Report) bool {
	for _, s := range r.Signatures {
		if !s.Trusted {
			return false
		}
	}
	return true
}

func dateVN(t time.Time) string { return t.In(chungthuc.Vietnam).Format("02/01/2006") }

// lookup consults the register by the file's hash.
func (e *engine) lookup() *RegisterReport {
	m, err := e.opt.Lookup(e.ctx, e.rep.SHA256)
	if err != nil {
		if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
			return &RegisterReport{Status: "not_registered",
				MessageEN: "This exact file is not in the certification register: it is not a copy certified by us.",
				MessageVI: "Tệp này không có trong sổ chứng thực: đây không phải bản sao do chúng tôi chứng thực."}
		}
		return &RegisterReport{Status: "unavailable",
			MessageEN: "The certification register could not be consulted; try again later.",
			MessageVI: "Không tra cứu được sổ chứng thực; vui lòng thử lại sau."}
	}
	if m == nil {
		return &RegisterReport{Status: "unavailable", MessageEN: "The register gave no answer.", MessageVI: "Sổ chứng thực không trả lời."}
	}
	rr := &RegisterReport{Unit: m.Unit, Number: m.Number, Book: m.Book}
	at := m.CertifiedAt.UTC()
	rr.CertifiedAt = &at
	switch m.Status {
	case chungthuc.StatusIssued:
		rr.Status = "certified"
		rr.MessageEN = fmt.Sprintf("Certified by %s on %s, number %d.", m.Unit, dateVN(m.CertifiedAt), m.Number)
		rr.MessageVI = fmt.Sprintf("Được chứng thực bởi %s ngày %s, số %d.", m.Unit, dateVN(m.CertifiedAt), m.Number)
	case chungthuc.StatusRevoked:
		rr.Status = "revoked"
		rr.RevokeReason = m.RevokeReason
		when := ""
		if m.RevokedAt != nil {
			t := m.RevokedAt.UTC()
			rr.RevokedAt = &t
			when = dateVN(t)
		}
		rr.MessageEN = fmt.Sprintf("REVOKED on %s (reason: %s); it was certified by %s, number %d.", when, m.RevokeReason, m.Unit, m.Number)
		rr.MessageVI = fmt.Sprintf("ĐÃ BỊ THU HỒI ngày %s (lý do: %s); bản sao do %s chứng thực, số %d.", when, m.RevokeReason, m.Unit, m.Number)
	default:
		rr.Status = "not_issued"
		rr.MessageEN = fmt.Sprintf("The register entry number %d of %s was never issued (%s).", m.Number, m.Unit, m.Status)
		rr.MessageVI = fmt.Sprintf("Số %d của %s chưa từng được cấp (%s).", m.Number, m.Unit, m.Status)
	}
	if m.Log != nil && rr.Status != "not_issued" {
		rr.Log = m.Log
		vi, en := LogMessages(m.Log)
		rr.MessageVI += " " + vi
		rr.MessageEN += " " + en
	}
	rr.MessageVI = norm.NFC.String(rr.MessageVI)
	return rr
}

func utf16Decode(u []uint16) []rune { return utf16.Decode(u) }

// parseDate parses a PDF date "D:YYYYMMDDHHmmSSOHH'mm'" (every part after the year optional).
func parseDate(s string) (time.Time, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "D:")
	if len(s) < 4 {
		return time.Time{}, errors.New("short date")
	}
	num := func(i, n, def int) int {
		if len(s) < i+n {
			return def
		}
		v, err := strconv.Atoi(s[i : i+n])
		if err != nil {
			return def
		}
		return v
	}
	year := num(0, 4, -1)
	if year < 0 {
		return time.Time{}, errors.New("bad year")
	}
	t := time.Date(year, time.Month(num(4, 2, 1)), num(6, 2, 1), num(8, 2, 0), num(10, 2, 0), num(12, 2, 0), 0, time.UTC)
	if len(s) > 14 {
		switch s[14] {
		case '+', '-':
			off := num(15, 2, 0)*3600 + num(18, 2, 0)*60
			if s[14] == '+' {
				off = -off
			}
			t = t.Add(time.Duration(off) * time.Second)
		}
	}
	return t, nil
}

// LogMessages says, in Vietnamese and English, where an entry is in the public log: "In the
// public log at index i, checkpoint of {time}" (Vietnam time).
func LogMessages(l *LogInclusion) (vi, en string) {
	at := l.CheckpointTime.In(chungthuc.Vietnam)
	vi = norm.NFC.String(fmt.Sprintf("Có trong nhật ký công khai tại chỉ mục %d, điểm kiểm tra lúc %s ngày %s.", l.Index, at.Format("15:04:05"), at.Format("02/01/2006")))
	en = fmt.Sprintf("In the public log at index %d, checkpoint of %s.", l.Index, at.Format("2006-01-02 15:04:05 -07:00"))
	return vi, en
}
