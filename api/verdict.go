package api

import (
	"fmt"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/verify"
)

// verdict is the one plain sentence a public page or a verification report opens with,
// and its class ("issued": good news, "revoked": anything else, for the colours).
type verdict struct {
	Class, Text, Detail string
}

// reportVerdict reads a verification report as a person would want it: revoked first (a
// revoked copy never opens with "valid"), then a file changed after signing, then valid,
// then not in the register, then the engine's own summary.
func reportVerdict(rep *verify.Report, lang string) verdict {
	t := messages[lang]
	en := lang == "en"
	switch {
	case rep.Register != nil && rep.Register.Status == "revoked":
		return verdict{"revoked", revokedSentence(lang, rep.Register.RevokedAt, rep.Register.RevokeReason), ""}
	case rep.SubIndication == verify.SubModifiedAfterSigning || rep.SubIndication == verify.SubHashFailure:
		return verdict{"revoked", t["VerdictAltered"], pick(en, rep.SummaryVI, rep.SummaryEN)}
	case rep.Valid:
		return verdict{"issued", t["VerdictValid"], ""}
	case rep.Register != nil && rep.Register.Status == "not_registered":
		return verdict{"revoked", t["VerdictUnknown"], pick(en, rep.SummaryVI, rep.SummaryEN)}
	}
	return verdict{"revoked", t["VerdictInvalid"], pick(en, rep.SummaryVI, rep.SummaryEN)}
}

// entryVerdict is the verdict of a copy found by its link.
func entryVerdict(c *chungthuc.Certification, lang string) verdict {
	if c.Status == chungthuc.StatusRevoked {
		return verdict{"revoked", revokedSentence(lang, c.RevokedAt, c.RevokeReason), ""}
	}
	return verdict{"issued", messages[lang]["VerdictValid"], ""}
}

// revokedSentence is "Bản sao đã bị thu hồi ngày … (lý do: …)" (or its English).
func revokedSentence(lang string, at *time.Time, reason string) string {
	when := ""
	if at != nil && !at.IsZero() {
		when = at.In(chungthuc.Vietnam).Format("02/01/2006")
	}
	if lang == "en" {
		s := "This copy was revoked"
		if when != "" {
			s += " on " + when
		}
		if reason != "" {
			s += fmt.Sprintf(" (reason: %s)", reason)
		}
		return s
	}
	s := "Bản sao đã bị thu hồi"
	if when != "" {
		s += " ngày " + when
	}
	if reason != "" {
		s += fmt.Sprintf(" (lý do: %s)", reason)
	}
	return s
}

func pick(en bool, vi, eng string) string {
	if en {
		return eng
	}
	return vi
}

// indicationHelp explains the ETSI indications and sub-indications a report shows, so the
// public never meets a bare TOTAL_PASSED: Vietnamese and English.
var indicationHelp = map[string][2]string{
	verify.TotalPassed:              {"chữ ký hợp lệ: nguyên vẹn, đúng người ký, chuỗi chứng thư tin cậy", "signature valid: intact, by its signer, trusted certificate chain"},
	verify.TotalFailed:              {"chữ ký không hợp lệ", "signature invalid"},
	verify.Indeterminate:            {"chưa kết luận được", "could not be decided"},
	verify.SubFormatFailure:         {"cấu trúc chữ ký hoặc tệp không đúng chuẩn", "the signature or file is malformed"},
	verify.SubHashFailure:           {"nội dung đã bị thay đổi sau khi ký", "the content changed after signing"},
	verify.SubSigCryptoFailure:      {"chữ ký số không khớp với khóa của người ký", "the signature does not match the signer's key"},
	verify.SubRevoked:               {"chứng thư số của người ký đã bị thu hồi", "the signer's certificate was revoked"},
	verify.SubExpired:               {"chứng thư số đã hết hạn khi ký", "the certificate had expired"},
	verify.SubNotYetValid:           {"chứng thư số chưa có hiệu lực khi ký", "the certificate was not yet valid"},
	verify.SubSigConstraintsFailure: {"chữ ký không đáp ứng yêu cầu", "the signature does not meet the constraints"},
	verify.SubCryptoConstraints:     {"thuật toán mật mã quá yếu", "the cryptographic algorithm is too weak"},
	verify.SubNoCertificateChain:    {"không tìm thấy chuỗi chứng thư tới nơi tin cậy", "no certificate chain to a trusted root"},
	verify.SubChainGeneralFailure:   {"chuỗi chứng thư không hợp lệ", "the certificate chain is invalid"},
	verify.SubNoSigningCertificate:  {"thiếu chứng thư số của người ký", "the signer's certificate is missing"},
	verify.SubOutOfBoundsNoPOE:      {"không chứng minh được thời điểm ký trong hạn chứng thư", "no proof the signature was made while the certificate was valid"},
	verify.SubTryLater:              {"chưa tra được tình trạng thu hồi; hãy thử lại sau", "revocation status not available yet; try later"},
	verify.SubRevokedNoPOE:          {"chứng thư bị thu hồi, không chứng minh được chữ ký có trước đó", "certificate revoked, no proof the signature came before"},
	verify.SubTimestampOrder:        {"thứ tự dấu thời gian không đúng", "the time-stamps are out of order"},
	verify.SubModifiedAfterSigning:  {"tệp đã bị sửa đổi sau khi ký", "the file was changed after signing"},
	verify.SubNoSignature:           {"tệp không có chữ ký số", "the file has no digital signature"},
}

// explainIndication gives "CODE — explanation" in the reader's language.
func explainIndication(lang, code string) string {
	h, ok := indicationHelp[code]
	if !ok {
		return code
	}
	return code + " — " + pick(lang == "en", h[0], h[1])
}
