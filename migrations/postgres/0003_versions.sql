-- Later versions of a certified copy: the same signed file extended by archive renewal (a DSS
-- and a new document time-stamp appended). A version's hash identifies the entry as surely as
-- the registered copy's own. Versions are never deleted.
CREATE TABLE certification_versions (
    certification_id bigint NOT NULL REFERENCES certifications(id),
    seq              integer NOT NULL,
    sha256           text NOT NULL UNIQUE,
    object_key       text NOT NULL,
    created_at       timestamptz NOT NULL,
    PRIMARY KEY (certification_id, seq)
);

CREATE TRIGGER certification_versions_permanent BEFORE UPDATE OR DELETE ON certification_versions
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER certification_versions_no_truncate BEFORE TRUNCATE ON certification_versions
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();
