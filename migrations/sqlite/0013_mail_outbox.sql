-- The citizen's e-mail (package notify): held with the entry at Reserve, due at Issue (same
-- transactions), deleted at Void. Address and access code are erased when the message is
-- sent or given up; only a masked hint stays for the officer.

CREATE TABLE mail_outbox (
    id               INTEGER PRIMARY KEY,
    certification_id INTEGER NOT NULL UNIQUE REFERENCES certifications (id),
    address          TEXT,
    access_code      TEXT,
    address_hint     TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('held', 'pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_at          TEXT,
    lease_owner      TEXT,
    lease_until      TEXT,
    settled_at       TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    CHECK (state IN ('held', 'pending') OR (address IS NULL AND access_code IS NULL))
) STRICT;
CREATE INDEX mail_outbox_due ON mail_outbox (next_at) WHERE state = 'pending';
