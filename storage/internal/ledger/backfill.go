package ledger

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/translog"
)

// ActionLogBackfill records that a register with entries and no log (one migrated from
// before the log existed) had its log built from its audit log.
const ActionLogBackfill = "log.backfill"

// BackfillActions are the audit actions whose events become leaves, in audit-log order.
var BackfillActions = []string{ActionIssue, ActionVoid, ActionRevoke, ActionAddVersion, ActionBookClose}

// BackfillLeaf is one leaf rebuilt from an audit entry of a register migrated from before
// the log existed.
type BackfillLeaf struct {
	Event          string
	CertID, BookID int64
	Data, Private  []byte
}

// SubjectID reads the ID of "kind:ID" (0 when the subject is of another kind).
func SubjectID(subject, kind string) int64 {
	s, ok := strings.CutPrefix(subject, kind+":")
	if !ok {
		return 0
	}
	id, _ := strconv.ParseInt(s, 10, 64)
	return id
}

// Backfill rebuilds the leaf of audit entry e (one of BackfillActions) from the entry c it
// names as it stands now (certification events and versions) or from the entry's detail
// (book closings), anchored to e and dated e.At. ok is false when e yields no leaf (its
// detail is unreadable).
func Backfill(e *chungthuc.AuditEntry, c *chungthuc.Certification, unitCode string) (l BackfillLeaf, ok bool, err error) {
	switch e.Action {
	case ActionIssue, ActionVoid, ActionRevoke:
		if c == nil {
			return l, false, nil
		}
		after := *c
		event := translog.EventIssued
		switch e.Action {
		case ActionIssue:
			after.Status, after.RevokeReason, after.RevokedAt = chungthuc.StatusIssued, "", nil
		case ActionVoid:
			event = translog.EventVoid
		case ActionRevoke:
			event = translog.EventRevoked
		}
		l.Event, l.CertID = event, c.ID
		l.Data, l.Private, err = translog.CertificationLeaf(event, unitCode, &after, e.At, e)
		return l, err == nil, err
	case ActionAddVersion:
		var d struct {
			SHA256    string `json:"sha256"`
			ObjectKey string `json:"object_key"`
		}
		if c == nil || json.Unmarshal([]byte(e.Detail), &d) != nil || d.SHA256 == "" {
			return l, false, nil
		}
		l.Event, l.CertID = translog.EventVersion, c.ID
		l.Data, l.Private, err = translog.VersionLeaf(unitCode, c, d.SHA256, d.ObjectKey, e.At, e)
		return l, err == nil, err
	case ActionBookClose:
		var d struct {
			Code         string `json:"code"`
			FirstNumber  int64  `json:"first_number"`
			LastNumber   int64  `json:"last_number"`
			ClosingCount int64  `json:"closing_count"`
			ClosedAt     string `json:"closed_at"`
		}
		if json.Unmarshal([]byte(e.Detail), &d) != nil || d.Code == "" {
			return l, false, nil
		}
		at, err := ParseTime(d.ClosedAt)
		if err != nil {
			return l, false, nil
		}
		year := 0
		if _, rest, ok := strings.Cut(d.Code, "/"); ok && len(rest) >= 4 {
			year, _ = strconv.Atoi(rest[:4])
		}
		b := &chungthuc.Book{ID: SubjectID(e.Subject, "book"), UnitID: e.UnitID, Year: year, Code: d.Code,
			FirstNumber: d.FirstNumber, LastNumber: d.LastNumber, ClosingCount: d.ClosingCount, ClosedAt: &at}
		l.Event, l.BookID = translog.EventBookClosed, b.ID
		l.Data, l.Private, err = translog.BookLeaf(unitCode, b, e.At, e)
		return l, err == nil, err
	}
	return l, false, nil
}
