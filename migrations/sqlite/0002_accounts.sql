-- Logins, browser sessions and API tokens (SQLite). Only hashes of passwords, session cookies
-- and API tokens are stored.

-- Usernames are stored lower-case (NFC), so the unique constraint ignores case.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER REFERENCES units (id),    -- NULL only for system administrators
    officer_id    INTEGER REFERENCES officers (id), -- NULL when not a certifying officer
    username      TEXT NOT NULL UNIQUE CHECK (username = lower(username) AND length(username) BETWEEN 3 AND 64),
    password_hash TEXT NOT NULL,                    -- argon2id, PHC string format
    role          TEXT NOT NULL CHECK (role IN ('officer', 'clerk', 'unit_admin', 'system_admin')),
    failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until  TEXT,                             -- NULL when not locked
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    CHECK ((unit_id IS NULL) = (role = 'system_admin'))
) STRICT;
CREATE INDEX accounts_unit ON accounts (unit_id);

-- A browser session; token_hash is the hash of the cookie value.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_account ON sessions (account_id);

-- A token that lets an integration act as an officer of a unit; revoked tokens are kept.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES units (id),
    officer_id INTEGER NOT NULL REFERENCES officers (id),
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT                                  -- NULL while valid
) STRICT;
CREATE INDEX api_tokens_unit ON api_tokens (unit_id);
