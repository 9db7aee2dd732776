package chungthuc

import "testing"

// TestCSVCell: cells a spreadsheet would run as a formula are neutralised.
func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"Phường Hòa Bình":   "Phường Hòa Bình",
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+1+1":              "'+1+1",
		"-2":                "'-2",
		"@SUM(A1)":          "'@SUM(A1)",
		"\tx":               "'\tx",
		"\rx":               "'\rx",
		"":                  "",
	} {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}
