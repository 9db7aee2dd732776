-- Login throttling instead of lock-out (issue #12): failed logins counted per key — a
-- username at a client address, and a client address (IPv4, or the /64 of IPv6) — in one
-- atomic statement, so parallel failures all count. The delay before the next attempt grows
-- with the count (credentials.Throttle). accounts.failed_logins and locked_until are no
-- longer used: nobody can lock an account by failing to log into it.
CREATE TABLE login_failures (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL CHECK (failures > 0),
    last_failure INTEGER NOT NULL                 -- Unix time in milliseconds
) STRICT;
