-- Webhooks for integrations (package notify): endpoints set by the system administrator,
-- events written in the same transaction as the register change they report, and one
-- delivery per event and endpoint, claimed by workers with a lease (FOR UPDATE SKIP LOCKED).

CREATE TABLE webhook_endpoints (
    id         BIGSERIAL PRIMARY KEY,
    url        TEXT NOT NULL CHECK (url <> ''),
    secret     BYTEA NOT NULL CHECK (length(secret) >= 16),
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_events (
    event_id   TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    body       BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhook_deliveries (
    id           BIGSERIAL PRIMARY KEY,
    event_id     TEXT NOT NULL REFERENCES webhook_events (event_id),
    endpoint_id  BIGINT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      TIMESTAMPTZ NOT NULL,
    lease_owner  TEXT,
    lease_until  TIMESTAMPTZ,
    delivered_at TIMESTAMPTZ,
    gave_up_at   TIMESTAMPTZ,
    last_error   TEXT,
    UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;
