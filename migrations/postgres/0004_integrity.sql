-- Integrity of the register and of the stored copies (issue 10, items 1, 2, 5, 6).
--
-- 1. Where a copy is stored: the object version and ETag the store reported at the write,
--    so reads fetch that version and check it against sha256.
-- 2. Idempotency keys: the Idempotency-Key of the request that created an entry, unique per
--    unit, and the fingerprint of that request.
-- 3. Findings: problems found with stored objects (orphans, missing or damaged copies),
--    kept until they are resolved, for the system administrator.
-- 4. Stricter permanent-record rules: what an issued entry says never changes, a status
--    changes only with its audit entry in the same transaction, counters only step by one.

ALTER TABLE certifications
    ADD COLUMN object_version  text NOT NULL DEFAULT '',
    ADD COLUMN object_etag     text NOT NULL DEFAULT '',
    ADD COLUMN idempotency_key text,
    ADD COLUMN request_hash    text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX certifications_idempotency ON certifications (unit_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
-- fsck asks "does any entry refer to this object?" for every object in the store.
CREATE INDEX certifications_object_key ON certifications (object_key) WHERE object_key IS NOT NULL;
CREATE INDEX certifications_scan_keys ON certifications USING gin (scan_keys);
CREATE INDEX certification_versions_object_key ON certification_versions (object_key);

CREATE TABLE object_findings (
    key              text PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('orphan', 'missing', 'damaged', 'overwritten', 'deleted')),
    certification_id bigint REFERENCES certifications (id),
    detail           text NOT NULL,
    first_seen       timestamptz NOT NULL,
    last_seen        timestamptz NOT NULL,
    cleared_at       timestamptz -- NULL while open
);
CREATE INDEX object_findings_open ON object_findings (last_seen) WHERE cleared_at IS NULL;
CREATE TRIGGER object_findings_no_delete BEFORE DELETE ON object_findings
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER object_findings_no_truncate BEFORE TRUNCATE ON object_findings
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();

-- The transaction that wrote each audit entry, set by the database (a value given in the
-- INSERT is replaced), so a trigger can ask "was this change audited in this transaction?".
-- Entries written before this migration have none.
ALTER TABLE audit_log ADD COLUMN txid bigint;
CREATE FUNCTION audit_log_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.txid := txid_current();
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_txid BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_txid();
CREATE INDEX audit_log_txid_subject ON audit_log (txid, subject) WHERE txid IS NOT NULL;

-- What an entry says is fixed when it is reserved; the copy's hash, key, version and ETag
-- when it is issued; a void or revocation reason when it is given.
CREATE OR REPLACE FUNCTION certifications_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    to_void    boolean := OLD.status = 'pending' AND NEW.status = 'void';
    to_issued  boolean := OLD.status = 'pending' AND NEW.status = 'issued';
    to_revoked boolean := OLD.status = 'issued' AND NEW.status = 'revoked';
BEGIN
    IF NEW.unit_id <> OLD.unit_id OR NEW.book_id <> OLD.book_id OR NEW.book_code <> OLD.book_code
       OR NEW.year <> OLD.year OR NEW.number <> OLD.number
       OR NEW.token <> OLD.token OR NEW.access_code_hash <> OLD.access_code_hash
       OR NEW.certified_at <> OLD.certified_at OR NEW.created_at <> OLD.created_at
       OR NEW.officer_id <> OLD.officer_id OR NEW.officer_name <> OLD.officer_name
       OR NEW.officer_title <> OLD.officer_title OR NEW.pages <> OLD.pages OR NEW.fee_vnd <> OLD.fee_vnd
       OR NEW.title <> OLD.title OR NEW.issuer <> OLD.issuer OR NEW.requester <> OLD.requester
       OR NEW.search <> OLD.search
       OR NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key OR NEW.request_hash <> OLD.request_hash
       OR (OLD.status <> 'pending' AND (NEW.sha256 IS DISTINCT FROM OLD.sha256
                                        OR NEW.object_key IS DISTINCT FROM OLD.object_key
                                        OR NEW.scan_keys <> OLD.scan_keys))
       OR ((NEW.object_version <> OLD.object_version OR NEW.object_etag <> OLD.object_etag) AND NOT to_issued)
       OR (NEW.void_reason <> OLD.void_reason AND NOT to_void)
       OR ((NEW.revoke_reason <> OLD.revoke_reason OR NEW.revoked_at IS DISTINCT FROM OLD.revoked_at) AND NOT to_revoked)
       OR (NEW.status = 'issued' AND (NEW.sha256 IS NULL OR NEW.object_key IS NULL))
       OR (NEW.status <> OLD.status AND NOT (to_void OR to_issued OR to_revoked)) THEN
        RAISE EXCEPTION 'permanent record: this change to register entry % is not allowed', OLD.id
            USING ERRCODE = 'CT001';
    END IF;
    RETURN NEW;
END;
$$;

-- An entry is born Pending, with nothing sealed, voided or revoked.
CREATE FUNCTION certifications_born_pending() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'pending' OR NEW.sha256 IS NOT NULL OR NEW.object_key IS NOT NULL
       OR NEW.object_version <> '' OR NEW.object_etag <> ''
       OR NEW.void_reason <> '' OR NEW.revoke_reason <> '' OR NEW.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'permanent record: a register entry is recorded as pending first'
            USING ERRCODE = 'CT001';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER certifications_born_pending BEFORE INSERT ON certifications
    FOR EACH ROW EXECUTE FUNCTION certifications_born_pending();

-- A new entry and every change of status need their audit entry, written in the same
-- transaction (checked at commit, after the register appended its audit entries).
CREATE FUNCTION certifications_audited() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    want text := CASE NEW.status WHEN 'pending' THEN 'certify.reserve' WHEN 'issued' THEN 'certify.issue'
                                 WHEN 'void' THEN 'certify.void' WHEN 'revoked' THEN 'revoke' END;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_log WHERE txid = txid_current()
                   AND subject = 'certification:' || NEW.id AND action = want) THEN
        RAISE EXCEPTION 'permanent record: register entry % became % without the audit entry %', NEW.id, NEW.status, want
            USING ERRCODE = 'CT001';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER certifications_insert_audited AFTER INSERT ON certifications
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION certifications_audited();
CREATE CONSTRAINT TRIGGER certifications_status_audited AFTER UPDATE ON certifications
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION certifications_audited();

-- Number counters only step by one, and only to a number an entry then holds.
CREATE FUNCTION number_counters_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP = 'INSERT' AND NEW.last_number NOT IN (0, 1))
       OR (TG_OP = 'UPDATE' AND (NEW.unit_id <> OLD.unit_id OR NEW.year <> OLD.year
                                 OR NEW.last_number NOT IN (OLD.last_number, OLD.last_number + 1))) THEN
        RAISE EXCEPTION 'permanent record: number counters only step by one'
            USING ERRCODE = 'CT001';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER number_counters_step BEFORE INSERT OR UPDATE ON number_counters
    FOR EACH ROW EXECUTE FUNCTION number_counters_step();
CREATE FUNCTION number_counters_used() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_number > 0 AND NOT EXISTS (SELECT 1 FROM certifications
            WHERE unit_id = NEW.unit_id AND year = NEW.year AND number = NEW.last_number) THEN
        RAISE EXCEPTION 'permanent record: number % of % has no register entry', NEW.last_number, NEW.year
            USING ERRCODE = 'CT001';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER number_counters_used AFTER INSERT OR UPDATE ON number_counters
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION number_counters_used();
CREATE TRIGGER number_counters_no_delete BEFORE DELETE ON number_counters
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER number_counters_no_truncate BEFORE TRUNCATE ON number_counters
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();
