-- External signing (issue 14): see the PostgreSQL file of the same number. The entry stays
-- 'pending' while it waits; this table says for what and until when, and holds the
-- workflow's state between the steps. Times are TEXT in the register's fixed layout
-- (ledger.TimeLayout), so they compare as strings.
CREATE TABLE signature_waits (
    certification_id INTEGER PRIMARY KEY REFERENCES certifications (id),
    unit_id          INTEGER NOT NULL REFERENCES units (id),
    step             TEXT NOT NULL CHECK (step IN ('officer_signature', 'seal', 'closed')),
    expires_at       TEXT NOT NULL,
    state            BLOB,
    updated_at       TEXT NOT NULL,
    CHECK ((step = 'closed') = (state IS NULL))
) STRICT;
CREATE INDEX signature_waits_open ON signature_waits (expires_at) WHERE step <> 'closed';
CREATE INDEX signature_waits_unit ON signature_waits (unit_id, step);

CREATE TRIGGER signature_waits_born BEFORE INSERT ON signature_waits
WHEN NEW.step <> 'officer_signature' OR NOT EXISTS (SELECT 1 FROM certifications
        WHERE id = NEW.certification_id AND unit_id = NEW.unit_id AND status = 'pending')
BEGIN
    SELECT RAISE(ABORT, 'permanent record: a signature wait starts at the officer step of a pending entry of its unit');
END;
CREATE TRIGGER signature_waits_step BEFORE UPDATE ON signature_waits
WHEN NEW.certification_id IS NOT OLD.certification_id OR NEW.unit_id IS NOT OLD.unit_id OR NOT (
        (OLD.step = 'officer_signature' AND NEW.step IN ('seal', 'closed'))
     OR (OLD.step = 'seal' AND NEW.step = 'closed'))
  OR (NEW.step = 'seal' AND NOT EXISTS (SELECT 1 FROM certifications
        WHERE id = NEW.certification_id AND status = 'pending'))
BEGIN
    SELECT RAISE(ABORT, 'permanent record: a signature wait moves officer_signature → seal → closed');
END;
CREATE TRIGGER signature_waits_no_delete BEFORE DELETE ON signature_waits
BEGIN
    SELECT RAISE(ABORT, 'permanent record: signature waits are never deleted');
END;

-- Issuing while the officer's signature is still awaited is refused; leaving 'pending'
-- closes the wait in the same transaction.
CREATE TRIGGER certifications_issue_after_officer BEFORE UPDATE OF status ON certifications
WHEN NEW.status = 'issued' AND EXISTS (SELECT 1 FROM signature_waits
        WHERE certification_id = NEW.id AND step = 'officer_signature')
BEGIN
    SELECT RAISE(ABORT, 'permanent record: an entry awaiting the officer''s signature cannot be issued');
END;
CREATE TRIGGER certifications_close_wait AFTER UPDATE OF status ON certifications
WHEN OLD.status = 'pending' AND NEW.status <> 'pending'
BEGIN
    UPDATE signature_waits SET step = 'closed', state = NULL,
        updated_at = strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')
        WHERE certification_id = NEW.id AND step <> 'closed';
END;

-- The unit's seal applied outside the service (see the PostgreSQL file).
ALTER TABLE units ADD COLUMN seal_cert_pem BLOB;
ALTER TABLE units ADD COLUMN external_signing INTEGER NOT NULL DEFAULT 0 CHECK (external_signing IN (0, 1));
