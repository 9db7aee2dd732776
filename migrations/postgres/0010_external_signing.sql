-- External signing (issue 14): a certification whose officer signs with a personal device
-- (USB token, a remote-signing service) and whose seal the records clerk applies with the
-- unit's device waits between the steps. The entry itself stays 'pending' (its number is
-- allocated and kept: an expired or failed wait voids it with a reason); this table says
-- what it waits for, until when, and holds the workflow's state between the steps (the
-- prepared file and what the next step needs), so that any instance can continue it after
-- a restart. A wait moves officer_signature → seal → closed, or officer_signature → closed;
-- it is closed (and its state dropped) in the same transaction as the entry leaves
-- 'pending'; it is never deleted. An entry cannot be issued while it waits for the officer.
CREATE TABLE signature_waits (
    certification_id bigint PRIMARY KEY REFERENCES certifications (id),
    unit_id          bigint NOT NULL REFERENCES units (id),
    step             text NOT NULL CHECK (step IN ('officer_signature', 'seal', 'closed')),
    expires_at       timestamptz NOT NULL,
    state            bytea,
    updated_at       timestamptz NOT NULL,
    CHECK ((step = 'closed') = (state IS NULL))
);
CREATE INDEX signature_waits_open ON signature_waits (expires_at) WHERE step <> 'closed';
CREATE INDEX signature_waits_unit ON signature_waits (unit_id, step);

CREATE FUNCTION signature_waits_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.step <> 'officer_signature' OR NOT EXISTS (SELECT 1 FROM certifications
                WHERE id = NEW.certification_id AND unit_id = NEW.unit_id AND status = 'pending') THEN
            RAISE EXCEPTION 'permanent record: a signature wait starts at the officer step of a pending entry of its unit';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.certification_id <> OLD.certification_id OR NEW.unit_id <> OLD.unit_id OR NOT (
           (OLD.step = 'officer_signature' AND NEW.step IN ('seal', 'closed'))
        OR (OLD.step = 'seal' AND NEW.step = 'closed')) THEN
        RAISE EXCEPTION 'permanent record: a signature wait moves officer_signature → seal → closed';
    END IF;
    IF NEW.step = 'seal' AND NOT EXISTS (SELECT 1 FROM certifications
            WHERE id = NEW.certification_id AND status = 'pending') THEN
        RAISE EXCEPTION 'permanent record: only a pending entry waits for its seal';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER signature_waits_guard BEFORE INSERT OR UPDATE ON signature_waits
    FOR EACH ROW EXECUTE FUNCTION signature_waits_guard();
CREATE TRIGGER signature_waits_no_delete BEFORE DELETE ON signature_waits
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER signature_waits_no_truncate BEFORE TRUNCATE ON signature_waits
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();

-- Leaving 'pending' closes the wait in the same transaction; issuing while the officer's
-- signature is still awaited is refused.
CREATE FUNCTION certifications_close_wait() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'issued' AND EXISTS (SELECT 1 FROM signature_waits
            WHERE certification_id = NEW.id AND step = 'officer_signature') THEN
        RAISE EXCEPTION 'permanent record: an entry awaiting the officer''s signature cannot be issued';
    END IF;
    UPDATE signature_waits SET step = 'closed', state = NULL, updated_at = now()
        WHERE certification_id = NEW.id AND step <> 'closed';
    RETURN NEW;
END $$;
CREATE TRIGGER certifications_close_wait AFTER UPDATE OF status ON certifications
    FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending')
    EXECUTE FUNCTION certifications_close_wait();

-- The unit's seal applied outside the service: its registered certificate (PEM, leaf
-- first; NULL = the key store's seal key) and whether API requests that do not say sign
-- externally by default (per unit: offices that keep an HSM sign on the server).
ALTER TABLE units ADD COLUMN seal_cert_pem bytea;
ALTER TABLE units ADD COLUMN external_signing boolean NOT NULL DEFAULT false;
