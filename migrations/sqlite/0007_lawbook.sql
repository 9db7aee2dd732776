-- The register as the law keeps it (issue 11): the unit as a body with its province and its
-- registered seal, the officer's authority (Decree 23/2015 as amended by Decree 280/2025) and
-- signature image, copies per number, who signed a book's closing page, and refusal slips
-- numbered per unit and year with an "other" ground.

ALTER TABLE units ADD COLUMN body TEXT NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN province TEXT NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN seal_mm REAL NOT NULL DEFAULT 0 CHECK (seal_mm >= 0 AND seal_mm <= 80);
ALTER TABLE units ADD COLUMN demo INTEGER NOT NULL DEFAULT 0 CHECK (demo IN (0, 1));
ALTER TABLE units ADD COLUMN titles TEXT NOT NULL DEFAULT '[]'; -- JSON array: allowed officer titles
-- The demonstration unit an embedded data directory was seeded with before this migration
-- ("Phường Phương Lâm", PL, without a seal image) stays usable as what it is: a demo unit.
UPDATE units SET demo = 1 WHERE code = 'PL' AND name = 'Phường Phương Lâm' AND seal_image IS NULL;

ALTER TABLE officers ADD COLUMN titles TEXT NOT NULL DEFAULT '[]'; -- JSON array: further titles allowed
ALTER TABLE officers ADD COLUMN authority TEXT NOT NULL DEFAULT ''
    CHECK (authority IN ('', 'chairman', 'vice_chairman', 'authorised'));
ALTER TABLE officers ADD COLUMN decision_no TEXT NOT NULL DEFAULT '';
ALTER TABLE officers ADD COLUMN decision_date TEXT;
ALTER TABLE officers ADD COLUMN valid_from TEXT;
ALTER TABLE officers ADD COLUMN valid_until TEXT;
ALTER TABLE officers ADD COLUMN signature_image BLOB;

-- One number covers every copy made from one original at one time; the fee is per copy.
ALTER TABLE certifications ADD COLUMN copies INTEGER NOT NULL DEFAULT 1 CHECK (copies >= 1);
CREATE TRIGGER certifications_copies_fixed BEFORE UPDATE OF copies ON certifications
WHEN NEW.copies IS NOT OLD.copies
BEGIN
    SELECT RAISE(ABORT, 'permanent record: this change to a register entry is not allowed');
END;

ALTER TABLE books ADD COLUMN closed_by INTEGER REFERENCES officers (id);
ALTER TABLE books ADD COLUMN closing_pdf BLOB;
CREATE TRIGGER books_closing_once BEFORE UPDATE OF closed_by, closing_pdf ON books
WHEN OLD.closed_by IS NOT NULL OR OLD.closed_at IS NULL
BEGIN
    SELECT RAISE(ABORT, 'permanent record: a closing page is signed once, after the book is closed');
END;

-- Refusals: the reason "other" (with its text), and a slip number per unit and year. SQLite
-- cannot change a CHECK, so the table is rebuilt; existing refusals are numbered in order.
CREATE TABLE refusals_new (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES units (id),
    officer_id INTEGER NOT NULL REFERENCES officers (id),
    year       INTEGER NOT NULL,
    number     INTEGER NOT NULL CHECK (number >= 1),
    reason     TEXT NOT NULL CHECK (reason IN ('altered', 'damaged', 'classified', 'unlawful', 'not_legalised', 'self_made', 'other')),
    note       TEXT NOT NULL,
    title      TEXT NOT NULL,
    requester  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (reason <> 'other' OR note <> ''),
    UNIQUE (unit_id, year, number)
) STRICT;
INSERT INTO refusals_new (id, unit_id, officer_id, year, number, reason, note, title, requester, created_at)
SELECT id, unit_id, officer_id, CAST(strftime('%Y', created_at, '+7 hours') AS INTEGER),
       ROW_NUMBER() OVER (PARTITION BY unit_id, strftime('%Y', created_at, '+7 hours') ORDER BY id),
       reason, note, title, requester, created_at
FROM refusals;
DROP TABLE refusals;
ALTER TABLE refusals_new RENAME TO refusals;
CREATE INDEX refusals_unit ON refusals (unit_id, created_at);
CREATE TRIGGER refusals_no_update BEFORE UPDATE ON refusals
BEGIN
    SELECT RAISE(ABORT, 'permanent record: refusals are never changed');
END;
CREATE TRIGGER refusals_no_delete BEFORE DELETE ON refusals
BEGIN
    SELECT RAISE(ABORT, 'permanent record: refusals are never deleted');
END;
