-- Optional second factor (issue #12): RFC 6238 time-based one-time codes for officer and
-- administrator accounts. totp_secret is the confirmed base32 secret (NULL: no second
-- factor); totp_pending a generated secret shown for enrolment and not yet confirmed by a
-- code; totp_last_step the time step of the last accepted code — a code is accepted only for a
-- later step, by one conditional UPDATE, so no code is used twice. The secrets are stored as
-- they are (README "Two-step login": whoever reads the register must not also get the
-- password; keep the database as private as the password hashes); they never reach the
-- audit log or the service's log.
ALTER TABLE accounts
    ADD COLUMN totp_secret text CHECK (totp_secret IS NULL OR length(totp_secret) BETWEEN 16 AND 128),
    ADD COLUMN totp_pending text CHECK (totp_pending IS NULL OR length(totp_pending) BETWEEN 16 AND 128),
    ADD COLUMN totp_enabled_at timestamptz,
    ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0 CHECK (totp_last_step >= 0),
    ADD CHECK ((totp_secret IS NULL) = (totp_enabled_at IS NULL));

-- A login whose password was right, waiting for its code: in the register, so that any
-- instance behind a load balancer can finish it; token_hash is the hash of its cookie value.
-- It expires within minutes and is deleted when used (a second use finds nothing).
CREATE TABLE pending_logins (
    token_hash text PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    next       text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX pending_logins_expires ON pending_logins (expires_at);
