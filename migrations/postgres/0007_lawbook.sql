-- The register as the law keeps it (issue 11): the unit as a body with its province and its
-- registered seal, the officer's authority (Decree 23/2015 as amended by Decree 280/2025) and
-- signature image, copies per number, who signed a book's closing page, and refusal slips
-- numbered per unit and year with an "other" ground.

ALTER TABLE units ADD COLUMN body text NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN province text NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN seal_mm double precision NOT NULL DEFAULT 0 CHECK (seal_mm >= 0 AND seal_mm <= 80);
ALTER TABLE units ADD COLUMN demo boolean NOT NULL DEFAULT false;
ALTER TABLE units ADD COLUMN titles text[] NOT NULL DEFAULT '{}';
-- The demonstration unit an embedded data directory was seeded with before this migration
-- ("Phường Phương Lâm", PL, without a seal image) stays usable as what it is: a demo unit.
UPDATE units SET demo = true WHERE code = 'PL' AND name = 'Phường Phương Lâm' AND seal_image IS NULL;

ALTER TABLE officers ADD COLUMN titles text[] NOT NULL DEFAULT '{}';
ALTER TABLE officers ADD COLUMN authority text NOT NULL DEFAULT ''
    CHECK (authority IN ('', 'chairman', 'vice_chairman', 'authorised'));
ALTER TABLE officers ADD COLUMN decision_no text NOT NULL DEFAULT '';
ALTER TABLE officers ADD COLUMN decision_date timestamptz;
ALTER TABLE officers ADD COLUMN valid_from timestamptz;
ALTER TABLE officers ADD COLUMN valid_until timestamptz;
ALTER TABLE officers ADD COLUMN signature_image bytea;

-- One number covers every copy made from one original at one time; the fee is per copy.
ALTER TABLE certifications ADD COLUMN copies integer NOT NULL DEFAULT 1 CHECK (copies >= 1);
CREATE FUNCTION certifications_copies_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.copies IS DISTINCT FROM OLD.copies THEN
        RAISE EXCEPTION 'permanent record: this change to a register entry is not allowed' USING ERRCODE = 'CT001';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER certifications_copies_fixed BEFORE UPDATE ON certifications
    FOR EACH ROW EXECUTE FUNCTION certifications_copies_fixed();

ALTER TABLE books ADD COLUMN closed_by bigint REFERENCES officers (id);
ALTER TABLE books ADD COLUMN closing_pdf bytea;
CREATE FUNCTION books_closing_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.closed_by IS DISTINCT FROM OLD.closed_by OR NEW.closing_pdf IS DISTINCT FROM OLD.closing_pdf)
       AND (OLD.closed_by IS NOT NULL OR OLD.closed_at IS NULL) THEN
        RAISE EXCEPTION 'permanent record: a closing page is signed once, after the book is closed' USING ERRCODE = 'CT001';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER books_closing_once BEFORE UPDATE ON books
    FOR EACH ROW EXECUTE FUNCTION books_closing_once();

-- Refusals: the reason "other" (with its text), and a slip number per unit and year;
-- existing refusals are numbered in order.
ALTER TABLE refusals DROP CONSTRAINT refusals_reason_check;
ALTER TABLE refusals ADD CONSTRAINT refusals_reason_check
    CHECK (reason IN ('altered', 'damaged', 'classified', 'unlawful', 'not_legalised', 'self_made', 'other'));
ALTER TABLE refusals ADD CONSTRAINT refusals_other_note CHECK (reason <> 'other' OR note <> '');
ALTER TABLE refusals ADD COLUMN year integer;
ALTER TABLE refusals ADD COLUMN number bigint CHECK (number >= 1);
UPDATE refusals r SET year = n.year, number = n.number
FROM (SELECT id, EXTRACT(YEAR FROM (created_at AT TIME ZONE 'UTC') + interval '7 hours')::integer AS year,
             ROW_NUMBER() OVER (PARTITION BY unit_id, EXTRACT(YEAR FROM (created_at AT TIME ZONE 'UTC') + interval '7 hours')
                                ORDER BY id) AS number
      FROM refusals) n
WHERE r.id = n.id;
ALTER TABLE refusals ALTER COLUMN year SET NOT NULL;
ALTER TABLE refusals ALTER COLUMN number SET NOT NULL;
ALTER TABLE refusals ADD CONSTRAINT refusals_number UNIQUE (unit_id, year, number);
CREATE TRIGGER refusals_no_update BEFORE UPDATE ON refusals
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();
CREATE TRIGGER refusals_no_delete BEFORE DELETE ON refusals
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();
