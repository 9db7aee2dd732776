-- The certification register (PostgreSQL).

CREATE TABLE units (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text NOT NULL UNIQUE,
    name       text NOT NULL,
    place      text NOT NULL,
    seal_image bytea,
    created_at timestamptz NOT NULL
);

CREATE TABLE officers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id    bigint REFERENCES units (id), -- NULL only for system administrators
    name       text NOT NULL,
    title      text NOT NULL,
    role       text NOT NULL CHECK (role IN ('officer', 'clerk', 'unit_admin', 'system_admin')),
    active     boolean NOT NULL,
    cert_pem   bytea,
    created_at timestamptz NOT NULL,
    CHECK (unit_id IS NOT NULL OR role = 'system_admin')
);
CREATE INDEX officers_unit ON officers (unit_id);

-- The last number allocated per unit and calendar year. Reserve updates the row, which locks
-- it until commit, in the same transaction that inserts the entry: numbers never repeat nor
-- skip, and different units never wait for each other here.
CREATE TABLE number_counters (
    unit_id     bigint NOT NULL REFERENCES units (id),
    year        integer NOT NULL,
    last_number bigint NOT NULL CHECK (last_number >= 0),
    PRIMARY KEY (unit_id, year)
);

CREATE TABLE books (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id       bigint NOT NULL REFERENCES units (id),
    year          integer NOT NULL,
    seq           integer NOT NULL CHECK (seq >= 1),
    code          text NOT NULL,
    first_number  bigint NOT NULL CHECK (first_number >= 1),
    last_number   bigint NOT NULL,
    opened_at     timestamptz NOT NULL,
    closed_at     timestamptz,
    closing_count bigint NOT NULL DEFAULT 0,
    UNIQUE (unit_id, year, seq),
    CHECK (last_number >= first_number - 1)
);
-- At most one open book per unit and year.
CREATE UNIQUE INDEX books_open ON books (unit_id, year) WHERE closed_at IS NULL;

CREATE TABLE certifications (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id          bigint NOT NULL REFERENCES units (id),
    book_id          bigint NOT NULL REFERENCES books (id),
    book_code        text NOT NULL,
    year             integer NOT NULL,
    number           bigint NOT NULL CHECK (number >= 1),
    token            text NOT NULL,
    access_code_hash text NOT NULL,
    title            text NOT NULL,
    issuer           text NOT NULL,
    requester        text NOT NULL,
    search           text NOT NULL, -- folded title, issuer and requester (see storage/internal/ledger.Fold)
    officer_id       bigint NOT NULL REFERENCES officers (id),
    officer_name     text NOT NULL,
    officer_title    text NOT NULL,
    pages            integer NOT NULL,
    fee_vnd          bigint NOT NULL,
    sha256           text,          -- NULL until sealed
    object_key       text,          -- NULL until sealed
    scan_keys        text[] NOT NULL DEFAULT '{}',
    status           text NOT NULL CHECK (status IN ('pending', 'issued', 'void', 'revoked')),
    void_reason      text NOT NULL DEFAULT '',
    revoke_reason    text NOT NULL DEFAULT '',
    revoked_at       timestamptz,
    certified_at     timestamptz NOT NULL,
    created_at       timestamptz NOT NULL,
    UNIQUE (unit_id, year, number)
);
CREATE UNIQUE INDEX certifications_token ON certifications (token);
CREATE UNIQUE INDEX certifications_sha256 ON certifications (sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX certifications_year_number ON certifications (year, number);
CREATE INDEX certifications_unit_status ON certifications (unit_id, status, year, number);
CREATE INDEX certifications_pending ON certifications (created_at) WHERE status = 'pending';

-- Substring search over the folded text uses a trigram index when pg_trgm can be installed
-- (it is a trusted extension since PostgreSQL 13); without it the search still works, by scan.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXECUTE 'CREATE INDEX certifications_search ON certifications USING gin (search gin_trgm_ops)';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable (%): substring search will scan', SQLERRM;
END;
$$;

CREATE TABLE refusals (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id    bigint NOT NULL REFERENCES units (id),
    officer_id bigint NOT NULL REFERENCES officers (id),
    reason     text NOT NULL CHECK (reason IN ('altered', 'damaged', 'classified', 'unlawful', 'not_legalised', 'self_made')),
    note       text NOT NULL,
    title      text NOT NULL,
    requester  text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX refusals_unit ON refusals (unit_id, created_at);

-- The hash-chained audit log. The id is taken from the sequence before the insert (it is part
-- of the hash) while the append lock is held. unit_id 0 marks system-wide entries.
CREATE SEQUENCE audit_log_id_seq;
CREATE TABLE audit_log (
    id        bigint PRIMARY KEY DEFAULT nextval('audit_log_id_seq'),
    at        timestamptz NOT NULL,
    action    text NOT NULL,
    unit_id   bigint NOT NULL DEFAULT 0,
    actor     text NOT NULL,
    subject   text NOT NULL,
    detail    text NOT NULL,
    prev_hash text NOT NULL,
    hash      text NOT NULL
);
ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
CREATE INDEX audit_log_unit ON audit_log (unit_id, id);

-- The permanent-record rule. The owner of a table cannot be denied UPDATE/DELETE by REVOKE,
-- so triggers refuse them: the audit log is append-only, register entries and books are never
-- deleted, and what identifies an entry never changes. SQLSTATE CT001 marks these refusals.
CREATE FUNCTION permanent_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'permanent record: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'CT001';
END;
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();
CREATE TRIGGER certifications_no_delete BEFORE DELETE ON certifications
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER certifications_no_truncate BEFORE TRUNCATE ON certifications
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();
CREATE TRIGGER books_no_delete BEFORE DELETE ON books
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER books_no_truncate BEFORE TRUNCATE ON books
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();

CREATE FUNCTION certifications_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.unit_id <> OLD.unit_id OR NEW.book_id <> OLD.book_id
       OR NEW.year <> OLD.year OR NEW.number <> OLD.number
       OR NEW.token <> OLD.token OR NEW.certified_at <> OLD.certified_at
       OR NEW.created_at <> OLD.created_at OR NEW.officer_id <> OLD.officer_id
       OR NEW.title <> OLD.title OR NEW.issuer <> OLD.issuer OR NEW.requester <> OLD.requester
       OR (OLD.status <> 'pending' AND (NEW.sha256 IS DISTINCT FROM OLD.sha256
                                        OR NEW.object_key IS DISTINCT FROM OLD.object_key
                                        OR NEW.scan_keys <> OLD.scan_keys))
       OR (NEW.status <> OLD.status AND NOT (
              (OLD.status = 'pending' AND NEW.status IN ('issued', 'void'))
           OR (OLD.status = 'issued' AND NEW.status = 'revoked'))) THEN
        RAISE EXCEPTION 'permanent record: this change to register entry % is not allowed', OLD.id
            USING ERRCODE = 'CT001';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER certifications_immutable BEFORE UPDATE ON certifications
    FOR EACH ROW EXECUTE FUNCTION certifications_immutable();
