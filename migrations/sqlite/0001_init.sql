-- The certification register (SQLite). Times are TEXT in UTC with microseconds,
-- 'YYYY-MM-DDTHH:MM:SS.ffffffZ', so that text order is time order.

CREATE TABLE units (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    place      TEXT NOT NULL,
    seal_image BLOB,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE officers (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER REFERENCES units (id), -- NULL only for system administrators
    name       TEXT NOT NULL,
    title      TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('officer', 'clerk', 'unit_admin', 'system_admin')),
    active     INTEGER NOT NULL CHECK (active IN (0, 1)),
    cert_pem   BLOB,
    created_at TEXT NOT NULL,
    CHECK (unit_id IS NOT NULL OR role = 'system_admin')
) STRICT;
CREATE INDEX officers_unit ON officers (unit_id);

-- The last number allocated per unit and calendar year; the row is written inside the
-- write transaction that records the entry, so numbers never repeat nor skip.
CREATE TABLE number_counters (
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    year        INTEGER NOT NULL,
    last_number INTEGER NOT NULL CHECK (last_number >= 0),
    PRIMARY KEY (unit_id, year)
) STRICT;

CREATE TABLE books (
    id            INTEGER PRIMARY KEY,
    unit_id       INTEGER NOT NULL REFERENCES units (id),
    year          INTEGER NOT NULL,
    seq           INTEGER NOT NULL CHECK (seq >= 1),
    code          TEXT NOT NULL,
    first_number  INTEGER NOT NULL CHECK (first_number >= 1),
    last_number   INTEGER NOT NULL,
    opened_at     TEXT NOT NULL,
    closed_at     TEXT,
    closing_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (unit_id, year, seq),
    CHECK (last_number >= first_number - 1)
) STRICT;
-- At most one open book per unit and year.
CREATE UNIQUE INDEX books_open ON books (unit_id, year) WHERE closed_at IS NULL;

CREATE TABLE certifications (
    id               INTEGER PRIMARY KEY,
    unit_id          INTEGER NOT NULL REFERENCES units (id),
    book_id          INTEGER NOT NULL REFERENCES books (id),
    book_code        TEXT NOT NULL,
    year             INTEGER NOT NULL,
    number           INTEGER NOT NULL CHECK (number >= 1),
    token            TEXT NOT NULL,
    access_code_hash TEXT NOT NULL,
    title            TEXT NOT NULL,
    issuer           TEXT NOT NULL,
    requester        TEXT NOT NULL,
    search           TEXT NOT NULL, -- folded title, issuer and requester (see storage/internal/ledger.Fold)
    officer_id       INTEGER NOT NULL REFERENCES officers (id),
    officer_name     TEXT NOT NULL,
    officer_title    TEXT NOT NULL,
    pages            INTEGER NOT NULL,
    fee_vnd          INTEGER NOT NULL,
    sha256           TEXT,          -- NULL until sealed
    object_key       TEXT,          -- NULL until sealed
    scan_keys        TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    status           TEXT NOT NULL CHECK (status IN ('pending', 'issued', 'void', 'revoked')),
    void_reason      TEXT NOT NULL DEFAULT '',
    revoke_reason    TEXT NOT NULL DEFAULT '',
    revoked_at       TEXT,
    certified_at     TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (unit_id, year, number)
) STRICT;
CREATE UNIQUE INDEX certifications_token ON certifications (token);
CREATE UNIQUE INDEX certifications_sha256 ON certifications (sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX certifications_year_number ON certifications (year, number);
CREATE INDEX certifications_pending ON certifications (created_at) WHERE status = 'pending';

CREATE TABLE refusals (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES units (id),
    officer_id INTEGER NOT NULL REFERENCES officers (id),
    reason     TEXT NOT NULL CHECK (reason IN ('altered', 'damaged', 'classified', 'unlawful', 'not_legalised', 'self_made')),
    note       TEXT NOT NULL,
    title      TEXT NOT NULL,
    requester  TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX refusals_unit ON refusals (unit_id, created_at);

-- The hash-chained audit log. unit_id 0 marks system-wide entries (no foreign key).
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    action    TEXT NOT NULL,
    unit_id   INTEGER NOT NULL DEFAULT 0,
    actor     TEXT NOT NULL,
    subject   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_unit ON audit_log (unit_id, id);

-- The permanent-record rule: the audit log is append-only, register entries and books are
-- never deleted, and what identifies an entry never changes.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'permanent record: audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'permanent record: audit_log is append-only');
END;
CREATE TRIGGER certifications_no_delete BEFORE DELETE ON certifications
BEGIN
    SELECT RAISE(ABORT, 'permanent record: certifications are never deleted');
END;
CREATE TRIGGER books_no_delete BEFORE DELETE ON books
BEGIN
    SELECT RAISE(ABORT, 'permanent record: books are never deleted');
END;
CREATE TRIGGER certifications_immutable BEFORE UPDATE ON certifications
WHEN NEW.unit_id IS NOT OLD.unit_id OR NEW.book_id IS NOT OLD.book_id
  OR NEW.year IS NOT OLD.year OR NEW.number IS NOT OLD.number
  OR NEW.token IS NOT OLD.token OR NEW.certified_at IS NOT OLD.certified_at
  OR NEW.created_at IS NOT OLD.created_at OR NEW.officer_id IS NOT OLD.officer_id
  OR NEW.title IS NOT OLD.title OR NEW.issuer IS NOT OLD.issuer OR NEW.requester IS NOT OLD.requester
  OR (OLD.status <> 'pending' AND (NEW.sha256 IS NOT OLD.sha256 OR NEW.object_key IS NOT OLD.object_key
                                   OR NEW.scan_keys IS NOT OLD.scan_keys))
  OR (NEW.status IS NOT OLD.status AND NOT (
        (OLD.status = 'pending' AND NEW.status IN ('issued', 'void'))
     OR (OLD.status = 'issued' AND NEW.status = 'revoked')))
BEGIN
    SELECT RAISE(ABORT, 'permanent record: this change to a register entry is not allowed');
END;
