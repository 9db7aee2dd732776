-- The public transparency log of the register (package translog): one leaf per register
-- event a verifier relies on (issued, void, revoked, version, book closed, reconciled),
-- written in the same transaction as the change it records, under the audit append lock,
-- and the stored hashes of the RFC 6962 Merkle tree over the leaves
-- (golang.org/x/mod/sumdb/tlog.StoredHashIndex numbering). Signed checkpoints of the tree
-- live in the object store, not here.

CREATE TABLE log_leaves (
    idx              bigint PRIMARY KEY CHECK (idx >= 0), -- position in the log, from 0
    event            text NOT NULL,
    certification_id bigint REFERENCES certifications (id),
    book_id          bigint REFERENCES books (id),
    data             bytea NOT NULL, -- the leaf as hashed (canonical JSON, translog.Leaf)
    private          bytea,          -- what the leaf commits to (translog.Opening); never published
    created_at       timestamptz NOT NULL
);
CREATE INDEX log_leaves_certification ON log_leaves (certification_id) WHERE certification_id IS NOT NULL;

CREATE TABLE log_hashes (
    idx  bigint PRIMARY KEY CHECK (idx >= 0),
    hash bytea NOT NULL CHECK (length(hash) = 32)
);

-- Objects under copies/ that neither a register row nor a log leaf accounts for, explained
-- by an operator (`chungthuc reconcile --explain KEY --note TEXT`).
CREATE TABLE object_notes (
    key        text PRIMARY KEY,
    note       text NOT NULL,
    actor      text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TRIGGER log_leaves_append_only BEFORE UPDATE OR DELETE ON log_leaves
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER log_leaves_no_truncate BEFORE TRUNCATE ON log_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();
CREATE TRIGGER log_hashes_append_only BEFORE UPDATE OR DELETE ON log_hashes
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER log_hashes_no_truncate BEFORE TRUNCATE ON log_hashes
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();
CREATE TRIGGER object_notes_append_only BEFORE UPDATE OR DELETE ON object_notes
    FOR EACH ROW EXECUTE FUNCTION permanent_record();
CREATE TRIGGER object_notes_no_truncate BEFORE TRUNCATE ON object_notes
    FOR EACH STATEMENT EXECUTE FUNCTION permanent_record();
