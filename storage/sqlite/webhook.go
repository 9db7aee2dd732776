package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

var _ chungthuc.Webhooks = (*DB)(nil)

// enqueueEvent writes a webhook event and one delivery per endpoint in tx — the
// transaction of the register change it reports.
func (db *DB) enqueueEvent(ctx context.Context, tx *sql.Tx, typ string, subject map[string]any) error {
	_, err := db.enqueueEventTo(ctx, tx, typ, subject, 0)
	return err
}

// enqueueEventTo writes an event with one delivery to endpoint (0: to every endpoint).
func (db *DB) enqueueEventTo(ctx context.Context, tx *sql.Tx, typ string, subject map[string]any, endpoint int64) (string, error) {
	now := db.now()
	id, body := ledger.WebhookEvent(typ, now, subject)
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (event_id, type, body, created_at) VALUES (?, ?, ?, ?)`,
		id, typ, body, ledger.FormatTime(now)); err != nil {
		return "", err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (event_id, endpoint_id, next_at)
		SELECT ?, id, ? FROM webhook_endpoints WHERE ? = 0 OR id = ?`, id, ledger.FormatTime(now), endpoint, endpoint)
	return id, err
}

// SendTestEvent queues a webhook.test event for one endpoint and returns its event id;
// ENOTFOUND when there is no such endpoint.
func (db *DB) SendTestEvent(ctx context.Context, endpoint int64) (id string, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhook_endpoints WHERE id = ?`, endpoint).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "webhook endpoint %d not found", endpoint)
		}
		id, err = db.enqueueEventTo(ctx, tx, ledger.EventTest, map[string]any{"endpoint_id": endpoint}, endpoint)
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
	return db.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO webhook_endpoints (url, secret, created_at) VALUES (?, ?, ?) RETURNING id`,
			e.URL, e.Secret, ledger.FormatTime(e.CreatedAt)).Scan(&e.ID)
	})
}

// WebhookEndpoints lists the endpoints by ID.
func (db *DB) WebhookEndpoints(ctx context.Context) (es []chungthuc.WebhookEndpoint, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, url, secret, created_at FROM webhook_endpoints ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e chungthuc.WebhookEndpoint
			var at string
			if err := rows.Scan(&e.ID, &e.URL, &e.Secret, &at); err != nil {
				return err
			}
			if e.CreatedAt, err = ledger.ParseTime(at); err != nil {
				return err
			}
			es = append(es, e)
		}
		return rows.Err()
	})
	return es, err
}

// RemoveWebhookEndpoint deletes the endpoint and its deliveries. ENOTFOUND when none.
func (db *DB) RemoveWebhookEndpoint(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "webhook endpoint %d not found", id)
		}
		return nil
	})
}

// ClaimDeliveries leases up to limit due deliveries to owner until leaseUntil, oldest first.
// The writer connection serialises claims, so two processes never lease the same row.
func (db *DB) ClaimDeliveries(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) (ds []chungthuc.WebhookDelivery, err error) {
	n := ledger.FormatTime(now)
	err = db.write(ctx, func(tx *sql.Tx) error {
		ds = nil
		rows, err := tx.QueryContext(ctx, `SELECT d.id, d.event_id, ev.type, ev.body, d.attempts, e.id, e.url, e.secret
			FROM webhook_deliveries d JOIN webhook_events ev ON ev.event_id = d.event_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.delivered_at IS NULL AND d.gave_up_at IS NULL AND d.next_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?)
			ORDER BY d.id LIMIT ?`, n, n, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d chungthuc.WebhookDelivery
			if err := rows.Scan(&d.ID, &d.EventID, &d.Type, &d.Body, &d.Attempts, &d.Endpoint.ID, &d.Endpoint.URL, &d.Endpoint.Secret); err != nil {
				return err
			}
			ds = append(ds, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range ds {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? WHERE id = ?`,
				owner, ledger.FormatTime(leaseUntil), d.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return ds, err
}

// DeliverySucceeded marks the delivery done. ECONFLICT when owner no longer holds it.
func (db *DB) DeliverySucceeded(ctx context.Context, id int64, owner string, at time.Time) error {
	return db.settle(ctx, id, owner, `UPDATE webhook_deliveries SET delivered_at = ?, lease_owner = NULL, lease_until = NULL
		WHERE id = ? AND lease_owner = ? AND delivered_at IS NULL`, ledger.FormatTime(at), id, owner)
}

// DeliveryFailed counts a failed attempt; next zero gives up. ECONFLICT when owner no longer
// holds it.
func (db *DB) DeliveryFailed(ctx context.Context, id int64, owner string, next time.Time, reason string) error {
	if next.IsZero() {
		return db.settle(ctx, id, owner, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?, gave_up_at = ?,
			lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ? AND delivered_at IS NULL`,
			reason, ledger.FormatTime(db.now()), id, owner)
	}
	return db.settle(ctx, id, owner, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?, next_at = ?,
		lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ? AND delivered_at IS NULL`,
		reason, ledger.FormatTime(next), id, owner)
}

func (db *DB) settle(ctx context.Context, id int64, owner, query string, args ...any) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "webhook delivery %d is not leased to %s", id, owner)
		}
		return nil
	})
}

// WebhookStates counts each endpoint's deliveries by state, with the newest error.
func (db *DB) WebhookStates(ctx context.Context) (ss []chungthuc.WebhookState, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		ss = nil
		rows, err := tx.QueryContext(ctx, ledger.WebhookStatesQuery)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s chungthuc.WebhookState
			if err := rows.Scan(&s.EndpointID, &s.Pending, &s.Failed, &s.Delivered, &s.LastError); err != nil {
				return err
			}
			ss = append(ss, s)
		}
		return rows.Err()
	})
	return ss, err
}
