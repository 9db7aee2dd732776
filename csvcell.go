package chungthuc

import "strings"

// CSVCell neutralises one text cell of a CSV export against formula injection: spreadsheet
// software runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula
// (OWASP "CSV injection"), so such a cell gets a leading apostrophe. Every CSV the service
// writes (statistics, the register book) passes its text cells through it.
func CSVCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
