package chungthuc

import (
	"strings"
	"testing"
	"time"
)

func TestCheckRating(t *testing.T) {
	r := &Rating{Value: Satisfied, Comment: "  Nhanh,\r\n\r\n  go\u0323n  \n"} // "gọn" decomposed
	if err := CheckRating(r); err != nil {
		t.Fatal(err)
	}
	if r.Comment != "Nhanh,\ngọn" {
		t.Errorf("normalised comment %q", r.Comment)
	}
	for _, bad := range []*Rating{
		{Value: "great"},
		{Value: ""},
		{Value: Neutral, Comment: "a\x07b"},
		{Value: Neutral, Comment: "a\u200bb"},
		{Value: Neutral, Comment: strings.Repeat("ấ", MaxRatingComment+1)},
		{Value: Neutral, Comment: strings.Repeat("a\n", MaxRatingComment)},
	} {
		if err := CheckRating(bad); ErrorCode(err) != EINVALID {
			t.Errorf("CheckRating(%q, %d chars): %v", bad.Value, len(bad.Comment), err)
		}
	}
}

func TestStatisticsRates(t *testing.T) {
	var s Statistics
	if _, ok := s.OnTimeRate(); ok {
		t.Error("on-time rate of nothing returned")
	}
	if _, ok := s.SatisfactionRate(); ok {
		t.Error("satisfaction of nobody rating")
	}
	s.Add(&Statistics{OnTime: 8, Late: 3, Overdue: 1, Ratings: map[Satisfaction]int64{Satisfied: 5, Neutral: 1, NotSatisfied: 1}})
	s.Add(&Statistics{OnTime: 1, Ratings: map[Satisfaction]int64{Satisfied: 1}})
	if p, ok := s.OnTimeRate(); !ok || p != 75 {
		t.Errorf("on-time rate %v (9 of 12 returned)", p)
	}
	if p, ok := s.SatisfactionRate(); !ok || p != 75 {
		t.Errorf("satisfaction %v (6 of 8)", p)
	}
	c := &Certification{Status: StatusPending, CertifiedAt: time.Now()}
	if c.ReturnedAt() != nil {
		t.Error("a pending entry was returned")
	}
	c.Status = StatusRevoked
	if rt := c.ReturnedAt(); rt == nil || !rt.Equal(c.CertifiedAt) {
		t.Error("a revoked entry was returned when it was certified")
	}
}
