-- Integrity of the register and of the stored copies (issue 10, items 1, 2, 5, 6): see the
-- PostgreSQL file of the same number. SQLite triggers cannot see transactions, so a change
-- of status needs the latest audit entry about that entry to be the matching one (the
-- register appends it just before the change); anyone who can write the file can still drop
-- the triggers — the embedded default trusts its host.

ALTER TABLE certifications ADD COLUMN object_version TEXT NOT NULL DEFAULT '';
ALTER TABLE certifications ADD COLUMN object_etag TEXT NOT NULL DEFAULT '';
ALTER TABLE certifications ADD COLUMN idempotency_key TEXT;
ALTER TABLE certifications ADD COLUMN request_hash TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX certifications_idempotency ON certifications (unit_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX certifications_object_key ON certifications (object_key) WHERE object_key IS NOT NULL;
CREATE INDEX certification_versions_object_key ON certification_versions (object_key);
CREATE INDEX audit_log_subject ON audit_log (subject, id);

CREATE TABLE object_findings (
    key              TEXT PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('orphan', 'missing', 'damaged', 'overwritten', 'deleted')),
    certification_id INTEGER REFERENCES certifications (id),
    detail           TEXT NOT NULL,
    first_seen       TEXT NOT NULL,
    last_seen        TEXT NOT NULL,
    cleared_at       TEXT -- NULL while open
) STRICT;
CREATE INDEX object_findings_open ON object_findings (last_seen) WHERE cleared_at IS NULL;
CREATE TRIGGER object_findings_no_delete BEFORE DELETE ON object_findings
BEGIN
    SELECT RAISE(ABORT, 'permanent record: findings are never deleted');
END;

DROP TRIGGER certifications_immutable;
CREATE TRIGGER certifications_immutable BEFORE UPDATE ON certifications
WHEN NEW.unit_id IS NOT OLD.unit_id OR NEW.book_id IS NOT OLD.book_id OR NEW.book_code IS NOT OLD.book_code
  OR NEW.year IS NOT OLD.year OR NEW.number IS NOT OLD.number
  OR NEW.token IS NOT OLD.token OR NEW.access_code_hash IS NOT OLD.access_code_hash
  OR NEW.certified_at IS NOT OLD.certified_at OR NEW.created_at IS NOT OLD.created_at
  OR NEW.officer_id IS NOT OLD.officer_id OR NEW.officer_name IS NOT OLD.officer_name
  OR NEW.officer_title IS NOT OLD.officer_title OR NEW.pages IS NOT OLD.pages OR NEW.fee_vnd IS NOT OLD.fee_vnd
  OR NEW.title IS NOT OLD.title OR NEW.issuer IS NOT OLD.issuer OR NEW.requester IS NOT OLD.requester
  OR NEW.search IS NOT OLD.search
  OR NEW.idempotency_key IS NOT OLD.idempotency_key OR NEW.request_hash IS NOT OLD.request_hash
  OR (OLD.status <> 'pending' AND (NEW.sha256 IS NOT OLD.sha256 OR NEW.object_key IS NOT OLD.object_key
                                   OR NEW.scan_keys IS NOT OLD.scan_keys))
  OR ((NEW.object_version IS NOT OLD.object_version OR NEW.object_etag IS NOT OLD.object_etag)
      AND NOT (OLD.status = 'pending' AND NEW.status = 'issued'))
  OR (NEW.void_reason IS NOT OLD.void_reason AND NOT (OLD.status = 'pending' AND NEW.status = 'void'))
  OR ((NEW.revoke_reason IS NOT OLD.revoke_reason OR NEW.revoked_at IS NOT OLD.revoked_at)
      AND NOT (OLD.status = 'issued' AND NEW.status = 'revoked'))
  OR (NEW.status = 'issued' AND (NEW.sha256 IS NULL OR NEW.object_key IS NULL))
  OR (NEW.status IS NOT OLD.status AND NOT (
        (OLD.status = 'pending' AND NEW.status IN ('issued', 'void'))
     OR (OLD.status = 'issued' AND NEW.status = 'revoked')))
BEGIN
    SELECT RAISE(ABORT, 'permanent record: this change to a register entry is not allowed');
END;

CREATE TRIGGER certifications_born_pending BEFORE INSERT ON certifications
WHEN NEW.status <> 'pending' OR NEW.sha256 IS NOT NULL OR NEW.object_key IS NOT NULL
  OR NEW.object_version <> '' OR NEW.object_etag <> ''
  OR NEW.void_reason <> '' OR NEW.revoke_reason <> '' OR NEW.revoked_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'permanent record: a register entry is recorded as pending first');
END;

CREATE TRIGGER certifications_status_audited BEFORE UPDATE OF status ON certifications
WHEN NEW.status IS NOT OLD.status AND (SELECT action FROM audit_log WHERE subject = 'certification:' || NEW.id
        ORDER BY id DESC LIMIT 1) IS NOT (CASE NEW.status WHEN 'issued' THEN 'certify.issue'
        WHEN 'void' THEN 'certify.void' WHEN 'revoked' THEN 'revoke' END)
BEGIN
    SELECT RAISE(ABORT, 'permanent record: a change of status needs its audit entry');
END;

CREATE TRIGGER number_counters_step BEFORE UPDATE ON number_counters
WHEN NEW.unit_id IS NOT OLD.unit_id OR NEW.year IS NOT OLD.year
  OR NEW.last_number NOT IN (OLD.last_number, OLD.last_number + 1)
BEGIN
    SELECT RAISE(ABORT, 'permanent record: number counters only step by one');
END;
CREATE TRIGGER number_counters_born_low BEFORE INSERT ON number_counters
WHEN NEW.last_number NOT IN (0, 1)
BEGIN
    SELECT RAISE(ABORT, 'permanent record: number counters only step by one');
END;
CREATE TRIGGER number_counters_no_delete BEFORE DELETE ON number_counters
BEGIN
    SELECT RAISE(ABORT, 'permanent record: number counters are never deleted');
END;
