-- The public transparency log of the register (package translog): one leaf per register
-- event a verifier relies on (issued, void, revoked, version, book closed, reconciled),
-- written in the same transaction as the change it records, and the stored hashes of the
-- RFC 6962 Merkle tree over the leaves (golang.org/x/mod/sumdb/tlog.StoredHashIndex
-- numbering). Signed checkpoints of the tree live in the object store, not here.

CREATE TABLE log_leaves (
    idx              INTEGER PRIMARY KEY CHECK (idx >= 0), -- position in the log, from 0
    event            TEXT NOT NULL,
    certification_id INTEGER REFERENCES certifications (id),
    book_id          INTEGER REFERENCES books (id),
    data             BLOB NOT NULL, -- the leaf as hashed (canonical JSON, translog.Leaf)
    private          BLOB,          -- what the leaf commits to (translog.Opening); never published
    created_at       TEXT NOT NULL
) STRICT;
CREATE INDEX log_leaves_certification ON log_leaves (certification_id) WHERE certification_id IS NOT NULL;

CREATE TABLE log_hashes (
    idx  INTEGER PRIMARY KEY CHECK (idx >= 0),
    hash BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;

-- Objects under copies/ that neither a register row nor a log leaf accounts for, explained
-- by an operator (`chungthuc reconcile --explain KEY --note TEXT`).
CREATE TABLE object_notes (
    key        TEXT PRIMARY KEY,
    note       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TRIGGER log_leaves_no_update BEFORE UPDATE ON log_leaves
BEGIN
    SELECT RAISE(ABORT, 'permanent record: the log is append-only');
END;
CREATE TRIGGER log_leaves_no_delete BEFORE DELETE ON log_leaves
BEGIN
    SELECT RAISE(ABORT, 'permanent record: the log is append-only');
END;
CREATE TRIGGER log_hashes_no_update BEFORE UPDATE ON log_hashes
BEGIN
    SELECT RAISE(ABORT, 'permanent record: the log is append-only');
END;
CREATE TRIGGER log_hashes_no_delete BEFORE DELETE ON log_hashes
BEGIN
    SELECT RAISE(ABORT, 'permanent record: the log is append-only');
END;
CREATE TRIGGER object_notes_no_update BEFORE UPDATE ON object_notes
BEGIN
    SELECT RAISE(ABORT, 'permanent record: object notes never change');
END;
CREATE TRIGGER object_notes_no_delete BEFORE DELETE ON object_notes
BEGIN
    SELECT RAISE(ABORT, 'permanent record: object notes are never deleted');
END;
