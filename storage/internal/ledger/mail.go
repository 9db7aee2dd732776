package ledger

import (
	"strings"
	"unicode/utf8"

	"github.com/chungthuc/chungthuc"
)

// CheckMail checks a mail request given to Reserve: an address of at most 254 bytes without
// line breaks and an access code. The full check (net/mail, one address) is the caller's
// (notify.ValidAddress); this only keeps malformed rows out of the register.
func CheckMail(m *chungthuc.MailRequest) error {
	if m == nil {
		return nil
	}
	if m.To == "" || len(m.To) > 254 || strings.ContainsAny(m.To, "\r\n") || !strings.Contains(m.To, "@") || m.AccessCode == "" {
		return chungthuc.Errorf(chungthuc.EINVALID, "the e-mail address is not valid")
	}
	return nil
}

// MailHint masks an address for the officer: the first character of the local part and the
// domain ("n…@example.vn"), so the officer can tell which address was used without the
// register keeping the address once the message is settled.
func MailHint(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "…"
	}
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "…@" + domain
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
