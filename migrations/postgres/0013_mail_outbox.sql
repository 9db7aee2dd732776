-- The citizen's e-mail (package notify): held with the entry at Reserve, due at Issue (same
-- transactions), deleted at Void. Address and access code are erased when the message is
-- sent or given up; only a masked hint stays for the officer.

CREATE TABLE mail_outbox (
    id               BIGSERIAL PRIMARY KEY,
    certification_id BIGINT NOT NULL UNIQUE REFERENCES certifications (id),
    address          TEXT,
    access_code      TEXT,
    address_hint     TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('held', 'pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_at          TIMESTAMPTZ,
    lease_owner      TEXT,
    lease_until      TIMESTAMPTZ,
    settled_at       TIMESTAMPTZ,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    CHECK (state IN ('held', 'pending') OR (address IS NULL AND access_code IS NULL))
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_at) WHERE state = 'pending';
