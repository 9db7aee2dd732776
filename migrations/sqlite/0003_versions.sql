-- Later versions of a certified copy: the same signed file extended by archive renewal (a DSS
-- and a new document time-stamp appended). A version's hash identifies the entry as surely as
-- the registered copy's own. Versions are never deleted.
CREATE TABLE certification_versions (
    certification_id INTEGER NOT NULL REFERENCES certifications(id),
    seq              INTEGER NOT NULL,
    sha256           TEXT NOT NULL UNIQUE,
    object_key       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (certification_id, seq)
);

CREATE TRIGGER certification_versions_no_update BEFORE UPDATE ON certification_versions
BEGIN
    SELECT RAISE(ABORT, 'permanent record: certification versions never change');
END;

CREATE TRIGGER certification_versions_no_delete BEFORE DELETE ON certification_versions
BEGIN
    SELECT RAISE(ABORT, 'permanent record: certification versions are never deleted');
END;
