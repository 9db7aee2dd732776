package chungthuc

import (
	"strings"
	"testing"
)

func TestValidatePrintedText(t *testing.T) {
	ok := map[string]string{
		"  Phó Chủ tịch ":                 "Phó Chủ tịch",
		"Pho\u0301 Chu\u0309 ti\u0323ch":  "Phó Chủ tịch", // NFD in, NFC out
		"Ủy ban nhân dân phường Hòa Bình": "Ủy ban nhân dân phường Hòa Bình",
	}
	for in, want := range ok {
		got, err := ValidatePrintedText("officer title", in, 80)
		if err != nil || got != want {
			t.Errorf("%q: got %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{"", "   ", "KT. CHỦ TỊCH\nSố chứng thực 999", "a\rb", "a\u2028b", "\u202eabc", "a\u2066b\u2069",
		"a\u200bb", "a\ufeffb", "a\u200fb", "a\x00b", "a\tb", "a\x1bb", "\xff", "a\ufffdb", strings.Repeat("x", 81)}
	for _, in := range bad {
		if _, err := ValidatePrintedText("officer title", in, 80); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), "officer title") {
			t.Errorf("%q: got %v, want EINVALID naming the field", in, err)
		}
	}
	if _, err := ValidatePrintedText("x", strings.Repeat("ệ", 80), 80); err != nil {
		t.Errorf("80 Vietnamese letters (runes, not bytes) should pass: %v", err)
	}
}
