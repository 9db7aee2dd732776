package ledger

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/chungthuc/chungthuc"
)

// Webhook event types (notify.Event*).
const (
	EventIssued  = "certification.issued"
	EventRevoked = "certification.revoked"
	EventRefused = "certification.refused"
	EventTest    = "webhook.test" // sent on request to one endpoint by its administrator
)

// WebhookEvent returns a new event id and the event's JSON body. It carries what an
// integration needs to match its own file — entry id, unit, number, year, status, hash,
// revocation reason — and no personal data (no requester, no title, no token).
func WebhookEvent(typ string, at time.Time, subject map[string]any) (id string, body []byte) {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	id = hex.EncodeToString(b)
	body, err := json.Marshal(map[string]any{"id": id, "type": typ, "occurred_at": FormatTime(at), "data": subject})
	if err != nil {
		panic("ledger: webhook body: " + err.Error()) // maps of strings and numbers always marshal
	}
	return id, body
}

// CertificationEvent is the subject of an issued or revoked event.
func CertificationEvent(c *chungthuc.Certification, status chungthuc.Status, reason string, revokedAt *time.Time) map[string]any {
	m := map[string]any{"certification_id": c.ID, "unit_id": c.UnitID, "number": c.Number, "year": c.Year, "status": string(status), "sha256": c.SHA256}
	if reason != "" {
		m["reason"] = reason
	}
	if revokedAt != nil {
		m["revoked_at"] = FormatTime(*revokedAt)
	}
	return m
}

// RefusalEvent is the subject of a refused event.
func RefusalEvent(r *chungthuc.Refusal) map[string]any {
	return map[string]any{"refusal_id": r.ID, "unit_id": r.UnitID, "reason": string(r.Reason)}
}

// TransitionEvent names the webhook event of a status change: issued and revoked are
// reported, a void is not (no copy was handed out); "" for none.
func TransitionEvent(to chungthuc.Status) string {
	switch to {
	case chungthuc.StatusIssued:
		return EventIssued
	case chungthuc.StatusRevoked:
		return EventRevoked
	}
	return ""
}

// WebhookStatesQuery counts each endpoint's deliveries by state with the newest error; it is
// the same SQL in both dialects (no parameters).
const WebhookStatesQuery = `SELECT d.endpoint_id,
	SUM(CASE WHEN d.delivered_at IS NULL AND d.gave_up_at IS NULL THEN 1 ELSE 0 END),
	SUM(CASE WHEN d.gave_up_at IS NOT NULL THEN 1 ELSE 0 END),
	SUM(CASE WHEN d.delivered_at IS NOT NULL THEN 1 ELSE 0 END),
	COALESCE((SELECT x.last_error FROM webhook_deliveries x WHERE x.endpoint_id = d.endpoint_id AND x.last_error IS NOT NULL
		ORDER BY x.id DESC LIMIT 1), '')
	FROM webhook_deliveries d GROUP BY d.endpoint_id ORDER BY d.endpoint_id`
