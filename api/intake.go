package api

import (
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/deadline"
)

// Intake and deadlines in the workspace and the API (Decree 23/2015 art. 21): a request's
// received time comes from the form (the hidden field received_at, written when the officer
// opened the case) or from the one-stop software (the API field received_at); the
// certification workflow computes its due time.

// receivedField is the form and API field of a request's received time.
const receivedField = "received_at"

// receivedNow is the value of the hidden field written when a form is shown.
func receivedNow(now time.Time) string { return now.In(chungthuc.Vietnam).Format(time.RFC3339) }

// parseReceived reads a received time (RFC 3339); "" is the zero time (the workflow takes
// now). EINVALID for anything else; a time in the future is refused by the register.
func parseReceived(v string) (time.Time, error) {
	v = trim(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, bi(chungthuc.EINVALID, "Thời điểm tiếp nhận (received_at) phải theo dạng RFC 3339, ví dụ 2026-12-04T09:30:00+07:00.",
			"The received time (received_at) must be RFC 3339, e.g. 2026-12-04T09:30:00+07:00.")
	}
	return t, nil
}

// rfc3339 formats an optional time in Vietnam time (nil stays nil, JSON null).
func rfc3339(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.In(chungthuc.Vietnam).Format(time.RFC3339)
}

// deadlineState is where entry c stands against its deadline at now ("" when its intake was
// not recorded, or it is void).
func deadlineState(c *chungthuc.Certification, now time.Time) deadline.State {
	if c.DueAt == nil || c.Status == chungthuc.StatusVoid {
		return ""
	}
	var returned time.Time
	if rt := c.ReturnedAt(); rt != nil {
		returned = *rt
	}
	return deadline.Classify(*c.DueAt, returned, now)
}

// intakeJSON adds received_at, due_at, returned_at and on_time (true/false once returned,
// null before or without a recorded intake) to an entry's JSON.
func intakeJSON(m map[string]any, c *chungthuc.Certification, now time.Time) {
	m["received_at"], m["due_at"], m["returned_at"] = rfc3339(c.ReceivedAt), rfc3339(c.DueAt), rfc3339(c.ReturnedAt())
	switch deadlineState(c, now) {
	case deadline.OnTime:
		m["on_time"] = true
	case deadline.Late:
		m["on_time"] = false
	default:
		m["on_time"] = nil
	}
}
