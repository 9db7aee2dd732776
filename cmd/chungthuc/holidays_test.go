package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// TestHolidaysFile: CHUNGTHUC_HOLIDAYS_FILE replaces the built-in calendar of the deadline
// rule; a bad file stops start-up naming its line; a missing file too.
func TestHolidaysFile(t *testing.T) {
	dir := t.TempDir()
	env := func(file string) func(string) string {
		return func(k string) string {
			return map[string]string{"CHUNGTHUC_DATA": dir, "CHUNGTHUC_HOLIDAYS_FILE": file}[k]
		}
	}
	good := filepath.Join(dir, "holidays.txt")
	// Tuesday 9 June 2026 made a day off (say, a provincial decision), nothing else.
	if err := os.WriteFile(good, []byte("# test\n2026-06-09 Nghỉ theo quyết định\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(env(good))
	if err != nil {
		t.Fatal(err)
	}
	tue := time.Date(2026, 6, 9, 10, 0, 0, 0, chungthuc.Vietnam)
	if cfg.Calendar.WorkingDay(tue) {
		t.Error("the file's day off is a working day")
	}
	// The file replaces the table: 2 September 2026 (built-in National day) is now a working day.
	if !cfg.Calendar.WorkingDay(time.Date(2026, 9, 2, 10, 0, 0, 0, chungthuc.Vietnam)) {
		t.Error("the built-in table still applies with a file")
	}
	// Without the variable: the built-in table.
	cfg, err = LoadConfig(env(""))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Calendar.WorkingDay(time.Date(2026, 9, 2, 10, 0, 0, 0, chungthuc.Vietnam)) {
		t.Error("the built-in table does not know National day 2026")
	}
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("# ok\n2026-06-09 Nghỉ\n2026-13-01 Không có tháng 13\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(env(bad)); err == nil || !strings.Contains(err.Error(), "CHUNGTHUC_HOLIDAYS_FILE") || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bad file: %v", err)
	}
	if _, err := LoadConfig(env(filepath.Join(dir, "missing.txt"))); err == nil || !strings.Contains(err.Error(), "CHUNGTHUC_HOLIDAYS_FILE") {
		t.Errorf("missing file: %v", err)
	}
	// serve refuses to start with the bad file.
	var out, errOut strings.Builder
	if code := Main(t.Context(), []string{"serve"}, strings.NewReader(""), &out, &errOut, env(bad)); code == 0 || !strings.Contains(errOut.String(), "line 3") {
		t.Errorf("serve with a bad holiday file: exit %d, %q", code, errOut.String())
	}
}
