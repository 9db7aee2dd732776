package deadline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, Vietnam)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) time.Time { return at(s + " 00:00:00") }

func TestLunarAlgorithmKnownDates(t *testing.T) {
	// Published dates the algorithm must reproduce before it may judge the table:
	// Tết 2024 was 10/02/2024, Tết 2025 29/01/2025, Giỗ Tổ 2024 18/04/2024, 2025 07/04/2025.
	for _, c := range []struct {
		d, m, y int
		want    string
	}{{1, 1, 2024, "2024-02-10"}, {1, 1, 2025, "2025-01-29"}, {10, 3, 2024, "2024-04-18"}, {10, 3, 2025, "2025-04-07"}} {
		if got := lunarToSolar(c.d, c.m, c.y).Format("2006-01-02"); got != c.want {
			t.Errorf("lunar %d/%d/%d = %s, want %s", c.d, c.m, c.y, got, c.want)
		}
	}
}

// TestTableLunarHolidays checks the embedded table against the lunar calendar computed
// independently: for each year, lunar new year's day and Hùng Kings' day are days off — or,
// falling on a weekend, the next working day is a compensatory day off of the same name.
func TestTableLunarHolidays(t *testing.T) {
	c := Default()
	first, last := c.Years()
	if first != 2025 || last != 2030 {
		t.Fatalf("table covers %d–%d, want 2025–2030", first, last)
	}
	for y := 2025; y <= 2030; y++ {
		for _, h := range []struct {
			d, m int
			name string
		}{{1, 1, "Tết Nguyên đán"}, {10, 3, "Giỗ Tổ Hùng Vương"}} {
			sol := lunarToSolar(h.d, h.m, y)
			date := time.Date(sol.Year(), sol.Month(), sol.Day(), 0, 0, 0, 0, Vietnam)
			if wd := date.Weekday(); wd == time.Saturday || wd == time.Sunday {
				next := date
				for !c.WorkingDay(next) || next.Equal(date) {
					next = next.AddDate(0, 0, 1)
					if !c.WorkingDay(next) && next.Weekday() != time.Saturday && next.Weekday() != time.Sunday {
						break // a listed day off after the weekend
					}
				}
				hol := c.days[dayOf(next)]
				if hol.Working || !strings.Contains(hol.Name, h.name) {
					t.Errorf("%d: %s falls on %s %s; no compensatory day after it (found %q on %s)", y, h.name, date.Weekday(), date.Format("2006-01-02"), hol.Name, next.Format("2006-01-02"))
				}
				continue
			}
			hol, ok := c.days[dayOf(date)]
			if !ok || hol.Working || hol.Name != h.name {
				t.Errorf("%d: lunar %d/%d is %s; table has %q there", y, h.d, h.m, date.Format("2006-01-02"), hol.Name)
			}
		}
	}
}

// TestTableElevenDays: Labour Code art. 112 gives 11 public holidays a year, each on a
// weekend compensated; so every year has 11 weekdays off net of worked weekend days.
func TestTableElevenDays(t *testing.T) {
	c := Default()
	for y := 2025; y <= 2030; y++ {
		net := 0
		for _, h := range c.Holidays(y) {
			if h.Working {
				net--
			} else {
				net++
			}
		}
		if net != 11 {
			t.Errorf("%d: %d days off net, want 11", y, net)
		}
	}
}

func TestDueAt(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		received, due string // due: the due day
	}{
		{"2026-03-02 09:00:00", "2026-03-02"}, // Monday morning: same day
		{"2026-03-02 15:00:00", "2026-03-02"}, // at 15:00 sharp: not "after 15:00"
		{"2026-03-02 15:00:01", "2026-03-03"}, // after 15:00: next working day
		{"2026-03-06 16:00:00", "2026-03-09"}, // Friday afternoon: Monday
		{"2026-03-07 10:00:00", "2026-03-09"}, // Saturday (handed over online): Monday
		{"2026-02-13 15:30:00", "2026-02-23"}, // Friday before Tết: after Tết and the weekend
		{"2026-02-18 08:00:00", "2026-02-23"}, // during Tết
		{"2025-04-25 16:00:00", "2025-04-26"}, // Friday afternoon, Saturday 26/4/2025 worked
		{"2025-04-29 16:00:00", "2025-05-05"}, // before 30/4–2/5 and the weekend
		{"2026-04-24 15:30:00", "2026-04-28"}, // Friday; Monday 27/4 is the Hùng Kings' compensatory day
		{"2031-01-01 10:00:00", "2031-01-01"}, // beyond the table: weekends only
	} {
		got := c.DueAt(at(tc.received))
		if d := DueDate(got).Format("2006-01-02"); d != tc.due {
			t.Errorf("received %s: due %s, want %s", tc.received, d, tc.due)
		}
		if want := day(tc.due).AddDate(0, 0, 1); !got.Equal(want) {
			t.Errorf("received %s: DueAt %s, want the end of %s", tc.received, got, tc.due)
		}
	}
	// The time zone of the input does not matter: 08:30 UTC is 15:30 in Vietnam.
	utc := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
	if d := DueDate(c.DueAt(utc)).Format("2006-01-02"); d != "2026-03-03" {
		t.Errorf("08:30 UTC: due %s, want 2026-03-03", d)
	}
}

func TestClassify(t *testing.T) {
	due := Default().DueAt(at("2026-03-02 09:00:00")) // due end of 2026-03-02
	for _, tc := range []struct {
		returned, now string
		want          State
	}{
		{"2026-03-02 16:59:00", "2026-03-10 00:00:00", OnTime},
		{"2026-03-02 23:59:59", "2026-03-10 00:00:00", OnTime},
		{"2026-03-03 00:00:00", "2026-03-10 00:00:00", Late},
		{"", "2026-03-02 23:00:00", Pending},
		{"", "2026-03-03 00:00:00", Overdue},
	} {
		var ret time.Time
		if tc.returned != "" {
			ret = at(tc.returned)
		}
		if got := Classify(due, ret, at(tc.now)); got != tc.want {
			t.Errorf("returned %q now %s: %s, want %s", tc.returned, tc.now, got, tc.want)
		}
	}
	if !DueToday(due, at("2026-03-02 23:59:00")) || DueToday(due, at("2026-03-03 00:00:00")) || DueToday(due, at("2026-03-01 12:00:00")) {
		t.Error("DueToday wrong around the due day")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2026-13-01 X", "line 1: \"2026-13-01\" is not a date"},
		{"# c\n2026-03-02", "line 2: 2026-03-02 has no name"},
		{"2026-03-07 Sat", "line 1: 2026-03-07 is a Saturday, already a day off"},
		{"+2026-03-02 Mon", "line 1: 2026-03-02 is a Monday, already a working day"},
		{"2026-03-02 A\n2026-03-02 B", "line 2: 2026-03-02 listed twice"},
		{"# only comments\n", "no days listed"},
	} {
		_, err := Parse(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestLoadOverride(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "h.txt")
	// An override that moves a day: Tuesday 2026-03-03 off, Saturday 2026-03-07 worked.
	if err := os.WriteFile(p, []byte("2026-03-03 Nghỉ thử\n+2026-03-07 Làm bù\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if d := DueDate(c.DueAt(at("2026-03-02 16:00:00"))).Format("2006-01-02"); d != "2026-03-04" {
		t.Errorf("with override: due %s, want 2026-03-04", d)
	}
	if !c.WorkingDay(day("2026-03-07")) || c.WorkingDay(day("2026-03-03")) {
		t.Error("override not applied")
	}
	// It replaces the table: Tết 2026 is no longer known.
	if !c.WorkingDay(day("2026-02-17")) {
		t.Error("override should replace the embedded table")
	}
	if _, err := Load(filepath.Join(dir, "missing.txt")); err == nil || !strings.Contains(err.Error(), "holiday calendar") {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(p, []byte("bad line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad file: %v", err)
	}
	if c, err := Load(""); err != nil || c == nil {
		t.Errorf("Load(\"\"): %v", err)
	}
}
