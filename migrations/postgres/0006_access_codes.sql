-- Reissued access codes (issue 13; assigned number 0009, numbered 0006 on its branch because
-- versions run without gaps). An entry's own access_code_hash never changes — the public log
-- commits to it — so a reissue adds a row here: the newest row is the code in force and
-- voids every code before it. Written in the same transaction as its audit entry
-- (access_code.reissue). Append-only; the serving role may only INSERT (GrantServing's default).
CREATE TABLE access_code_reissues (
    id               bigserial PRIMARY KEY,
    certification_id bigint NOT NULL REFERENCES certifications (id),
    code_hash        text NOT NULL CHECK (code_hash <> ''),
    actor            text NOT NULL,
    created_at       timestamptz NOT NULL
);
CREATE INDEX access_code_reissues_certification ON access_code_reissues (certification_id, id);

CREATE TRIGGER access_code_reissues_append_only BEFORE UPDATE OR DELETE ON access_code_reissues
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER access_code_reissues_no_truncate BEFORE TRUNCATE ON access_code_reissues
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();
