-- Reissued access codes (issue 13; assigned number 0009, numbered 0006 on its branch because
-- versions run without gaps). An entry's own access_code_hash never changes — the public log
-- commits to it — so a reissue adds a row here: the newest row is the code in force and
-- voids every code before it. Written in the same transaction as its audit entry
-- (access_code.reissue). Append-only.
CREATE TABLE access_code_reissues (
    id               INTEGER PRIMARY KEY,
    certification_id INTEGER NOT NULL REFERENCES certifications (id),
    code_hash        TEXT NOT NULL CHECK (code_hash <> ''),
    actor            TEXT NOT NULL,
    created_at       TEXT NOT NULL
) STRICT;
CREATE INDEX access_code_reissues_certification ON access_code_reissues (certification_id, id);

CREATE TRIGGER access_code_reissues_no_update BEFORE UPDATE ON access_code_reissues
BEGIN
    SELECT RAISE(ABORT, 'permanent record: reissued access codes are append-only');
END;
CREATE TRIGGER access_code_reissues_no_delete BEFORE DELETE ON access_code_reissues
BEGIN
    SELECT RAISE(ABORT, 'permanent record: reissued access codes are append-only');
END;
