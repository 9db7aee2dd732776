package chungthuc

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Intake and deadlines (Decree 23/2015 art. 21, package deadline) and the citizen's rating
// of the service: what the one-stop office reports (on-time rate, satisfaction).

// ReturnedAt is when the request behind c was returned to the citizen: its certification
// time once the copy was issued (also when later revoked); nil while pending or when void.
func (c *Certification) ReturnedAt() *time.Time {
	if c.Status != StatusIssued && c.Status != StatusRevoked {
		return nil
	}
	t := c.CertifiedAt
	return &t
}

// Satisfaction is a citizen's rating of the service.
type Satisfaction string

// Ratings.
const (
	Satisfied    Satisfaction = "satisfied"
	Neutral      Satisfaction = "neutral"
	NotSatisfied Satisfaction = "not_satisfied"
)

// Satisfactions lists the ratings in display order.
var Satisfactions = []Satisfaction{Satisfied, Neutral, NotSatisfied}

// MaxRatingComment bounds a rating's optional comment (characters).
const MaxRatingComment = 1000

// ActionRate is the audit action of a citizen's rating.
const ActionRate = "satisfaction.rate"

// Rating is one citizen's rating of the service that certified a copy: one per
// certification, never shown publicly per entry.
type Rating struct {
	CertificationID int64
	UnitID          int64 // set by the register from the certification
	Value           Satisfaction
	Comment         string // optional, NFC, at most MaxRatingComment characters, printable
	CreatedAt       time.Time
}

// CheckRating normalises r's comment (NFC, lines trimmed, blank lines dropped, "\r\n" as
// "\n") and refuses (EINVALID) an unknown value or a comment that is too long or holds
// control or invisible characters (ValidatePrintedText's rules, line by line).
func CheckRating(r *Rating) error {
	if !slices.Contains(Satisfactions, r.Value) {
		return Errorf(EINVALID, "unknown rating %q", r.Value)
	}
	var lines []string
	for _, line := range strings.Split(strings.ReplaceAll(r.Comment, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		l, err := ValidatePrintedText("comment", line, MaxRatingComment)
		if err != nil {
			return err
		}
		lines = append(lines, l)
	}
	r.Comment = strings.Join(lines, "\n")
	if n := utf8.RuneCountInString(r.Comment); n > MaxRatingComment {
		return Errorf(EINVALID, "the comment is %d characters long; at most %d are allowed", n, MaxRatingComment)
	}
	return nil
}

// Statistics are a unit's figures for a period [From, To): what the ward's report counts.
// Certifications, copies, pages and fees count entries certified in the period (issued or
// later revoked); refusals those recorded in it; the deadline figures count the requests
// (certifications that were not voided, and refusals) received in the period; ratings those
// given in it.
type Statistics struct {
	Certifications int64 // register entries issued (numbers)
	Copies         int64 // copies made under them (an entry may cover several)
	Revoked        int64 // of those, revoked since
	Pages          int64 // pages of the originals certified
	Fees           int64 // VND
	Refusals       int64
	RefusalReasons map[RefusalReason]int64

	Received int64 // requests received in the period (with a recorded intake time)
	OnTime   int64 // returned before the end of their due day
	Late     int64 // returned after it
	Overdue  int64 // not returned and past their due day (as of the query's now)
	Pending  int64 // not returned, still within their due day

	Ratings map[Satisfaction]int64
}

// Add adds o's counts to s (the all-units total).
func (s *Statistics) Add(o *Statistics) {
	s.Certifications += o.Certifications
	s.Copies += o.Copies
	s.Revoked += o.Revoked
	s.Pages += o.Pages
	s.Fees += o.Fees
	s.Refusals += o.Refusals
	s.Received += o.Received
	s.OnTime += o.OnTime
	s.Late += o.Late
	s.Overdue += o.Overdue
	s.Pending += o.Pending
	if s.RefusalReasons == nil {
		s.RefusalReasons = map[RefusalReason]int64{}
	}
	for k, v := range o.RefusalReasons {
		s.RefusalReasons[k] += v
	}
	if s.Ratings == nil {
		s.Ratings = map[Satisfaction]int64{}
	}
	for k, v := range o.Ratings {
		s.Ratings[k] += v
	}
}

// Returned is the number of requests received in the period that were returned.
func (s *Statistics) Returned() int64 { return s.OnTime + s.Late }

// OnTimeRate is the share of returned requests returned on time, in percent; ok is false
// when none was returned.
func (s *Statistics) OnTimeRate() (pct float64, ok bool) {
	if s.Returned() == 0 {
		return 0, false
	}
	return 100 * float64(s.OnTime) / float64(s.Returned()), true
}

// Rated is the number of ratings given in the period.
func (s *Statistics) Rated() int64 {
	var n int64
	for _, v := range s.Ratings {
		n += v
	}
	return n
}

// SatisfactionRate is the share of ratings that are "satisfied", in percent (the ward
// report's "mức độ hài lòng"); ok is false when nobody rated.
func (s *Statistics) SatisfactionRate() (pct float64, ok bool) {
	if s.Rated() == 0 {
		return 0, false
	}
	return 100 * float64(s.Ratings[Satisfied]) / float64(s.Rated()), true
}

// Reports are the register's figures and the citizens' ratings. Both register back ends
// implement it.
type Reports interface {
	// Rate records r, the one rating of an issued certification, with its audit entry
	// (ActionRate, actor, the entry's number and year — never the comment) in the same
	// transaction; it sets UnitID and CreatedAt. EINVALID (CheckRating), ENOTFOUND for an
	// unknown certification, ECONFLICT when it is not issued or was already rated.
	Rate(ctx context.Context, r *Rating, actor string) error
	// Rated reports whether certification id has been rated.
	Rated(ctx context.Context, id int64) (bool, error)
	// Statistics returns unit unitID's figures for [from, to), with overdue and pending as
	// of now.
	Statistics(ctx context.Context, unitID int64, from, to, now time.Time) (*Statistics, error)
}
