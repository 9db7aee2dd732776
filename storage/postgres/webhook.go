package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

var _ chungthuc.Webhooks = (*DB)(nil)

// enqueueEvent writes a webhook event and one delivery per endpoint in t — the transaction
// of the register change it reports.
func (db *DB) enqueueEvent(ctx context.Context, t *txn, typ string, subject map[string]any) error {
	_, err := db.enqueueEventTo(ctx, t, typ, subject, 0)
	return err
}

// enqueueEventTo writes an event with one delivery to endpoint (0: to every endpoint).
func (db *DB) enqueueEventTo(ctx context.Context, t *txn, typ string, subject map[string]any, endpoint int64) (string, error) {
	now := ledger.Micro(db.now())
	id, body := ledger.WebhookEvent(typ, now, subject)
	if _, err := t.Exec(ctx, `INSERT INTO webhook_events (event_id, type, body, created_at) VALUES ($1, $2, $3, $4)`,
		id, typ, body, now); err != nil {
		return "", err
	}
	_, err := t.Exec(ctx, `INSERT INTO webhook_deliveries (event_id, endpoint_id, next_at)
		SELECT $1, id, $2 FROM webhook_endpoints WHERE $3::bigint = 0 OR id = $3::bigint`, id, now, endpoint)
	return id, err
}

// SendTestEvent queues a webhook.test event for one endpoint and returns its event id;
// ENOTFOUND when there is no such endpoint.
func (db *DB) SendTestEvent(ctx context.Context, endpoint int64) (id string, err error) {
	err = db.write(ctx, func(t *txn) error {
		var n int
		if err := t.QueryRow(ctx, `SELECT count(*) FROM webhook_endpoints WHERE id = $1`, endpoint).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "webhook endpoint %d not found", endpoint)
		}
		id, err = db.enqueueEventTo(ctx, t, ledger.EventTest, map[string]any{"endpoint_id": endpoint}, endpoint)
		return err
	})
	return id, err
}

// AddWebhookEndpoint records e and sets its ID and CreatedAt. EINVALID for an empty URL or a
// secret shorter than 16 bytes.
func (db *DB) AddWebhookEndpoint(ctx context.Context, e *chungthuc.WebhookEndpoint) error {
	if e.URL == "" || len(e.Secret) < 16 {
		return chungthuc.Errorf(chungthuc.EINVALID, "a webhook endpoint needs a URL and a secret of at least 16 bytes")
	}
	e.CreatedAt = ledger.Micro(db.now())
	return db.write(ctx, func(t *txn) error {
		return t.QueryRow(ctx, `INSERT INTO webhook_endpoints (url, secret, created_at) VALUES ($1, $2, $3) RETURNING id`,
			e.URL, e.Secret, e.CreatedAt).Scan(&e.ID)
	})
}

// WebhookEndpoints lists the endpoints by ID.
func (db *DB) WebhookEndpoints(ctx context.Context) (es []chungthuc.WebhookEndpoint, err error) {
	err = db.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, url, secret, created_at FROM webhook_endpoints ORDER BY id`)
		if err != nil {
			return err
		}
		es, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (chungthuc.WebhookEndpoint, error) {
			var e chungthuc.WebhookEndpoint
			err := row.Scan(&e.ID, &e.URL, &e.Secret, &e.CreatedAt)
			e.CreatedAt = e.CreatedAt.UTC()
			return e, err
		})
		return err
	})
	return es, err
}

// RemoveWebhookEndpoint deletes the endpoint and its deliveries. ENOTFOUND when none.
func (db *DB) RemoveWebhookEndpoint(ctx context.Context, id int64) error {
	return db.write(ctx, func(t *txn) error {
		tag, err := t.Exec(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "webhook endpoint %d not found", id)
		}
		return nil
	})
}

// ClaimDeliveries leases up to limit due deliveries to owner until leaseUntil, oldest first.
// Rows another instance is claiming at the same moment are skipped (FOR UPDATE SKIP LOCKED),
// so two instances never lease the same row.
func (db *DB) ClaimDeliveries(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) (ds []chungthuc.WebhookDelivery, err error) {
	err = db.write(ctx, func(t *txn) error {
		rows, err := t.Query(ctx, `WITH claimed AS (
				UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2
				WHERE id IN (SELECT id FROM webhook_deliveries
					WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
					ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
				RETURNING id, event_id, endpoint_id, attempts)
			SELECT c.id, c.event_id, ev.type, ev.body, c.attempts, e.id, e.url, e.secret
			FROM claimed c JOIN webhook_events ev ON ev.event_id = c.event_id JOIN webhook_endpoints e ON e.id = c.endpoint_id
			ORDER BY c.id`, owner, leaseUntil, now, limit)
		if err != nil {
			return err
		}
		ds, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (chungthuc.WebhookDelivery, error) {
			var d chungthuc.WebhookDelivery
			err := row.Scan(&d.ID, &d.EventID, &d.Type, &d.Body, &d.Attempts, &d.Endpoint.ID, &d.Endpoint.URL, &d.Endpoint.Secret)
			return d, err
		})
		return err
	})
	return ds, err
}

// DeliverySucceeded marks the delivery done. ECONFLICT when owner no longer holds it.
func (db *DB) DeliverySucceeded(ctx context.Context, id int64, owner string, at time.Time) error {
	return db.settle(ctx, id, owner, `UPDATE webhook_deliveries SET delivered_at = $3, lease_owner = NULL, lease_until = NULL
		WHERE id = $1 AND lease_owner = $2 AND delivered_at IS NULL`, at)
}

// DeliveryFailed counts a failed attempt; next zero gives up. ECONFLICT when owner no longer
// holds it.
func (db *DB) DeliveryFailed(ctx context.Context, id int64, owner string, next time.Time, reason string) error {
	if next.IsZero() {
		return db.settle(ctx, id, owner, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $3, gave_up_at = $4,
			lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND delivered_at IS NULL`, reason, db.now())
	}
	return db.settle(ctx, id, owner, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $3, next_at = $4,
		lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND delivered_at IS NULL`, reason, next)
}

func (db *DB) settle(ctx context.Context, id int64, owner, query string, args ...any) error {
	return db.write(ctx, func(t *txn) error {
		tag, err := t.Exec(ctx, query, append([]any{id, owner}, args...)...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "webhook delivery %d is not leased to %s", id, owner)
		}
		return nil
	})
}

// WebhookStates counts each endpoint's deliveries by state, with the newest error.
func (db *DB) WebhookStates(ctx context.Context) (ss []chungthuc.WebhookState, err error) {
	err = db.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, ledger.WebhookStatesQuery)
		if err != nil {
			return err
		}
		ss, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (chungthuc.WebhookState, error) {
			var s chungthuc.WebhookState
			err := row.Scan(&s.EndpointID, &s.Pending, &s.Failed, &s.Delivered, &s.LastError)
			return s, err
		})
		return err
	})
	return ss, err
}
