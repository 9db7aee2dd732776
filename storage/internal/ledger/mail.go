package ledger

import (
	"strings"
	"unicode/utf8"

	"github.com/chungthuc/chungthuc"
)

// CheckMail checks a mail request given to Reserve: an address of at most 254 bytes without
// line breaks, and a code (optional) without them. The full check (net/mail, one address) is the caller's
// (notify.ValidAddress); this only keeps malformed rows out of the register.
func CheckMail(m *chungthuc.MailRequest) error {
	if m == nil {
		return nil
	}
	if m.To == "" || len(m.To) > 254 || strings.ContainsAny(m.To, "\r\n") || !strings.Contains(m.To, "@") || strings.ContainsAny(m.AccessCode, "\r\n") {
		return chungthuc.Errorf(chungthuc.EINVALID, "the e-mail address is not valid")
	}
	return nil
}

// MailFailure returns the reason kept for a failed attempt (MailReason) and the audit
// detail of the attempt ("final" when given up).
func MailFailure(reason string, final bool) (string, map[string]any) {
	reason = MailReason(reason)
	detail := map[string]any{"reason": reason}
	if final {
		detail["final"] = true
	}
	return reason, detail
}

// MailReason bounds a delivery error kept in the register to 500 bytes of valid UTF-8.
func MailReason(s string) string {
	if len(s) <= 500 {
		return s
	}
	s = s[:500]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
