package chungthuc

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ValidatePrintedText checks one value that is printed under a signature (officer name and
// title, unit and body names, place, province, document title, requester, refusal text) and
// returns it NFC-normalised with surrounding spaces removed. It refuses, with an EINVALID
// error naming field: an empty value, invalid UTF-8, more than max characters (runes, after
// normalisation; max <= 0 means no bound), line breaks and every other control character,
// and every format character (Unicode category Cf), which includes the bidirectional
// overrides and isolates (U+202A–U+202E, U+2066–U+2069), the directional marks and the
// zero-width characters (U+200B–U+200D, U+2060, U+FEFF). Such characters make a signed
// page read differently from what the register stores, so they are never printed.
func ValidatePrintedText(field, s string, max int) (string, error) {
	if !utf8.ValidString(s) {
		return "", Errorf(EINVALID, "%s is not valid UTF-8 text", field)
	}
	s = norm.NFC.String(strings.TrimSpace(s))
	if s == "" {
		return "", Errorf(EINVALID, "%s is required", field)
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\v' || r == '\f' || r == '\u0085':
			return "", Errorf(EINVALID, "%s must be a single line", field)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return "", Errorf(EINVALID, "%s contains an invisible or control character (%s), which cannot be printed on a certified copy", field, fmt.Sprintf("U+%04X", r))
		case r == unicode.ReplacementChar:
			return "", Errorf(EINVALID, "%s contains a replacement character (U+FFFD): the text was damaged before it arrived", field)
		}
	}
	if n := utf8.RuneCountInString(s); max > 0 && n > max {
		return "", Errorf(EINVALID, "%s is %d characters long; at most %d are allowed", field, n, max)
	}
	return s, nil
}
