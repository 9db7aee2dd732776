-- Webhooks for integrations (package notify): endpoints set by the system administrator,
-- events written in the same transaction as the register change they report, and one
-- delivery per event and endpoint, claimed by workers with a lease.

CREATE TABLE webhook_endpoints (
    id         INTEGER PRIMARY KEY,
    url        TEXT NOT NULL CHECK (url <> ''),
    secret     BLOB NOT NULL CHECK (length(secret) >= 16),
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE webhook_events (
    event_id   TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    body       BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY,
    event_id     TEXT NOT NULL REFERENCES webhook_events (event_id),
    endpoint_id  INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      TEXT NOT NULL,
    lease_owner  TEXT,
    lease_until  TEXT,
    delivered_at TEXT,
    gave_up_at   TEXT,
    last_error   TEXT,
    UNIQUE (event_id, endpoint_id)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;
