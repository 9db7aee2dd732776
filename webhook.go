package chungthuc

import (
	"context"
	"time"
)

// WebhookEndpoint is a receiver of register events, registered by the system administrator.
type WebhookEndpoint struct {
	ID        int64
	URL       string
	Secret    []byte // HMAC-SHA256 key, at least 16 bytes; never shown after creation
	CreatedAt time.Time
}

// WebhookDelivery is one event to deliver to one endpoint. The event's body is written in
// the same transaction as the register change it reports and never rebuilt.
type WebhookDelivery struct {
	ID       int64
	EventID  string // unique per event; the receiver deduplicates by it
	Type     string // certification.issued, certification.revoked, certification.refused
	Body     []byte // JSON
	Attempts int    // failed attempts so far
	Endpoint WebhookEndpoint
}

// WebhookState is the delivery state of one endpoint, for its administrator.
type WebhookState struct {
	EndpointID int64
	Pending    int    // not yet delivered, still retried
	Failed     int    // given up
	Delivered  int    // received by the endpoint
	LastError  string // of the newest delivery that failed at least once ("" when none)
}

// Webhooks is the register's outbox of events for integrations. Issue, Revoke and
// CreateRefusal write an event (and one delivery per endpoint) in their own transaction.
// Claims are leases: a claimed delivery is not handed out again until leaseUntil, so a
// process that dies leaves its deliveries to be claimed after the lease.
type Webhooks interface {
	// AddWebhookEndpoint records e and sets its ID and CreatedAt. EINVALID for an empty URL
	// or a secret shorter than 16 bytes.
	AddWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error
	// WebhookEndpoints lists the endpoints (secrets included) by ID.
	WebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error)
	// RemoveWebhookEndpoint deletes the endpoint and its undelivered deliveries.
	// ENOTFOUND when there is none.
	RemoveWebhookEndpoint(ctx context.Context, id int64) error
	// SendTestEvent queues a "webhook.test" event (data: the endpoint id) for endpoint only and
	// returns its event id; ENOTFOUND when there is no such endpoint.
	SendTestEvent(ctx context.Context, endpoint int64) (string, error)
	// WebhookStates returns the delivery state of every endpoint that has deliveries, by
	// endpoint ID (an endpoint without deliveries has no entry).
	WebhookStates(ctx context.Context) ([]WebhookState, error)
	// ClaimDeliveries leases up to limit due, undelivered deliveries (next attempt at or
	// before now, lease free or ended) to owner until leaseUntil, oldest first.
	ClaimDeliveries(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]WebhookDelivery, error)
	// DeliverySucceeded marks the delivery done. ECONFLICT when owner no longer holds it.
	DeliverySucceeded(ctx context.Context, id int64, owner string, at time.Time) error
	// DeliveryFailed counts a failed attempt and frees the lease; next is when to try again,
	// zero to give up. ECONFLICT when owner no longer holds it.
	DeliveryFailed(ctx context.Context, id int64, owner string, next time.Time, reason string) error
}
