-- Logins, browser sessions and API tokens (PostgreSQL). Only hashes of passwords, session
-- cookies and API tokens are stored.

-- Usernames are stored lower-case (NFC), so the unique constraint ignores case.
CREATE TABLE accounts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id       bigint REFERENCES units (id),    -- NULL only for system administrators
    officer_id    bigint REFERENCES officers (id), -- NULL when not a certifying officer
    username      text NOT NULL UNIQUE CHECK (username = lower(username) AND length(username) BETWEEN 3 AND 64),
    password_hash text NOT NULL,                   -- argon2id, PHC string format
    role          text NOT NULL CHECK (role IN ('officer', 'clerk', 'unit_admin', 'system_admin')),
    failed_logins integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    locked_until  timestamptz,                     -- NULL when not locked
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    CHECK ((unit_id IS NULL) = (role = 'system_admin'))
);
CREATE INDEX accounts_unit ON accounts (unit_id);

-- A browser session; token_hash is the hash of the cookie value.
CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_account ON sessions (account_id);

-- A token that lets an integration act as an officer of a unit; revoked tokens are kept.
CREATE TABLE api_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id    bigint NOT NULL REFERENCES units (id),
    officer_id bigint NOT NULL REFERENCES officers (id),
    name       text NOT NULL,
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz                          -- NULL while valid
);
CREATE INDEX api_tokens_unit ON api_tokens (unit_id);
