// Package deadline computes when a one-stop request for a certified copy is due and whether
// it was returned on time: Decree 23/2015/NĐ-CP art. 21 — a request received before 15:00 is
// returned the same working day, one received after 15:00 the next working day — over a
// working-day calendar of weekends and Vietnamese public holidays (an embedded table for
// 2025–2030, holidays.txt, replaceable by a file of the same format).
//
// It imports nothing of the project; the register stores the times it computes and the
// statistics count them.
package deadline

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Vietnam is the time zone of the deadline rule (UTC+7, no daylight saving).
var Vietnam = time.FixedZone("ICT", 7*3600)

// Cutoff is the hour of the day (Vietnam time) after which a request is due the next working
// day (art. 21: "sau 15 giờ").
const Cutoff = 15

//go:embed holidays.txt
var defaultTable []byte

// Holiday is one listed day of the calendar.
type Holiday struct {
	Date    time.Time // midnight, Vietnam time
	Name    string
	Working bool // a Saturday or Sunday worked to make up for a bridge day
}

// Calendar knows which days are working days. The zero value is not usable; use Default,
// Load or Parse.
type Calendar struct {
	days  map[civil]Holiday
	first int // first and last year the table covers
	last  int
}

type civil struct {
	y int
	m time.Month
	d int
}

func dayOf(t time.Time) civil {
	y, m, d := t.In(Vietnam).Date()
	return civil{y, m, d}
}

// Default returns the embedded calendar (holidays.txt).
func Default() *Calendar {
	c, err := Parse(bytes.NewReader(defaultTable))
	if err != nil {
		panic("deadline: embedded holidays.txt: " + err.Error())
	}
	return c
}

// Load returns the calendar read from the file at path, or the embedded one when path is "".
// The file replaces the embedded table whole; errors name the file and line.
func Load(path string) (*Calendar, error) {
	if path == "" {
		return Default(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("holiday calendar: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	c, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("holiday calendar %s: %w", path, err)
	}
	return c, nil
}

// Parse reads a calendar in the format of holidays.txt: "YYYY-MM-DD name" for a day off on
// a weekday, "+YYYY-MM-DD name" for a worked weekend day; "#" starts a comment. A day off
// listed on a weekend, a worked day on a weekday, a day listed twice or a line without a name
// is an error with its line number.
func Parse(r io.Reader) (*Calendar, error) {
	c := &Calendar{days: map[civil]Holiday{}}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		working := strings.HasPrefix(line, "+")
		line = strings.TrimPrefix(line, "+")
		date, name, _ := strings.Cut(line, " ")
		name = strings.TrimSpace(name)
		d, err := time.ParseInLocation("2006-01-02", date, Vietnam)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q is not a date YYYY-MM-DD", n, date)
		}
		if name == "" {
			return nil, fmt.Errorf("line %d: %s has no name", n, date)
		}
		weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
		switch {
		case working && !weekend:
			return nil, fmt.Errorf("line %d: %s is a %s, already a working day", n, date, d.Weekday())
		case !working && weekend:
			return nil, fmt.Errorf("line %d: %s is a %s, already a day off (list its compensatory day instead)", n, date, d.Weekday())
		}
		k := dayOf(d)
		if _, dup := c.days[k]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice", n, date)
		}
		c.days[k] = Holiday{Date: d, Name: name, Working: working}
		if c.first == 0 || d.Year() < c.first {
			c.first = d.Year()
		}
		if d.Year() > c.last {
			c.last = d.Year()
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(c.days) == 0 {
		return nil, fmt.Errorf("no days listed")
	}
	return c, nil
}

// Years returns the first and last year the table lists days for. Outside them only
// weekends are known.
func (c *Calendar) Years() (first, last int) { return c.first, c.last }

// Holidays returns the listed days of year y in date order.
func (c *Calendar) Holidays(y int) []Holiday {
	var out []Holiday
	for d := time.Date(y, 1, 1, 0, 0, 0, 0, Vietnam); d.Year() == y; d = d.AddDate(0, 0, 1) {
		if h, ok := c.days[dayOf(d)]; ok {
			out = append(out, h)
		}
	}
	return out
}

// WorkingDay reports whether the day containing t (Vietnam time) is a working day.
func (c *Calendar) WorkingDay(t time.Time) bool {
	if h, ok := c.days[dayOf(t)]; ok {
		return h.Working
	}
	wd := t.In(Vietnam).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// startOfDay returns midnight (Vietnam time) of the day containing t.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.In(Vietnam).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, Vietnam)
}

// nextWorkingDay returns midnight of the first working day on or after day.
func (c *Calendar) nextWorkingDay(day time.Time) time.Time {
	for i := 0; i < 366 && !c.WorkingDay(day); i++ {
		day = day.AddDate(0, 0, 1)
	}
	return day
}

// DueAt returns the end of the day by which a request received at received must be returned
// (the first instant after that day, midnight Vietnam time; a return strictly before it is
// on time). Art. 21: received on a working day up to 15:00:00 → that day; after 15:00, or on
// a day off → the next working day (a request handed over on a Saturday is due on Monday —
// or the next working day after a holiday).
func (c *Calendar) DueAt(received time.Time) time.Time {
	day := startOfDay(received)
	local := received.In(Vietnam)
	afterCutoff := local.Sub(day) > Cutoff*time.Hour
	if !c.WorkingDay(day) || afterCutoff {
		day = day.AddDate(0, 0, 1)
	}
	return c.nextWorkingDay(day).AddDate(0, 0, 1)
}

// DueDate returns the due day itself (midnight Vietnam time), for display.
func DueDate(due time.Time) time.Time { return startOfDay(due.Add(-time.Nanosecond)) }

// State is where a request stands against its deadline.
type State string

// States of a request against its deadline.
const (
	OnTime  State = "on_time" // returned before the end of its due day
	Late    State = "late"    // returned after its due day
	Pending State = "pending" // not yet returned, still within its due day
	Overdue State = "overdue" // not yet returned, its due day is over
)

// Classify returns the state of a request due at due (from DueAt) that was returned at
// returned (zero: not yet), as seen at now.
func Classify(due, returned, now time.Time) State {
	switch {
	case !returned.IsZero() && returned.Before(due):
		return OnTime
	case !returned.IsZero():
		return Late
	case now.Before(due):
		return Pending
	default:
		return Overdue
	}
}

// DueToday reports whether a request due at due falls due on the day containing now
// (Vietnam time) — what the workspace highlights.
func DueToday(due, now time.Time) bool {
	return DueDate(due).Equal(startOfDay(now))
}
