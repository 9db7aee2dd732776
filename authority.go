package chungthuc

import (
	"strings"
	"time"
)

// DefaultPosition is the position line printed for an authority when the officer record
// names none: "CHỦ TỊCH" for the chairman, "PHÓ CHỦ TỊCH" for a vice-chairman.
func DefaultPosition(a Authority) string {
	switch a {
	case AuthorityChairman:
		return "CHỦ TỊCH"
	case AuthorityViceChairman:
		return "PHÓ CHỦ TỊCH"
	}
	return ""
}

// ValidAuthority reports whether a is one of the authorities (empty is not).
func ValidAuthority(a Authority) bool {
	return a == AuthorityChairman || a == AuthorityViceChairman || a == AuthorityAuthorised
}

// TitleLines returns the 1–3 lines printed above the signer's signature, one level per line
// in Vietnamese practice, for an officer of the given authority signing under position (the
// officer's title, e.g. "PHÓ CHỦ TỊCH" or "CÔNG CHỨC TƯ PHÁP - HỘ TỊCH"):
//
//	chairman       TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH
//	vice_chairman  TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH
//	authorised     TUQ. CHỦ TỊCH / position
//
// A record without an authority (from before it was kept) prints position split at " / ".
func TitleLines(a Authority, position string) []string {
	position = strings.TrimSpace(position)
	if position == "" {
		position = DefaultPosition(a)
	}
	switch a {
	case AuthorityChairman:
		return []string{"TM. ỦY BAN NHÂN DÂN", position}
	case AuthorityViceChairman:
		return []string{"TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", position}
	case AuthorityAuthorised:
		return []string{"TUQ. CHỦ TỊCH", position}
	}
	var lines []string
	for _, l := range strings.Split(position, "/") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// AllowedTitles is every title o may sign under: its Title first, then Titles.
func (o *Officer) AllowedTitles() []string {
	out := []string{}
	if t := strings.TrimSpace(o.Title); t != "" || ValidAuthority(o.Authority) {
		if t == "" {
			t = DefaultPosition(o.Authority)
		}
		if t != "" {
			out = append(out, t)
		}
	}
	for _, t := range o.Titles {
		if t = strings.TrimSpace(t); t != "" && !contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// CheckAuthority refuses (EFORBIDDEN) an officer who may not sign certifications at t: an
// authorised official without a recorded decision, or outside the decision's validity
// period (days in Vietnam time, both ends included).
func (o *Officer) CheckAuthority(t time.Time) error {
	if o.Authority != AuthorityAuthorised {
		return nil
	}
	if strings.TrimSpace(o.DecisionNo) == "" || o.DecisionDate == nil {
		return Errorf(EFORBIDDEN, "officer %d is recorded as authorised but the authorising decision (number and date) is not recorded", o.ID)
	}
	day := func(x time.Time) string { return x.In(Vietnam).Format("2006-01-02") }
	if o.ValidFrom != nil && day(t) < day(*o.ValidFrom) {
		return Errorf(EFORBIDDEN, "the authorisation of officer %d (decision %s) is valid from %s, not yet on %s", o.ID, o.DecisionNo, day(*o.ValidFrom), day(t))
	}
	if o.ValidUntil != nil && day(t) > day(*o.ValidUntil) {
		return Errorf(EFORBIDDEN, "the authorisation of officer %d (decision %s) expired on %s", o.ID, o.DecisionNo, day(*o.ValidUntil))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
