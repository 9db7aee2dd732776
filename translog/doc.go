// Package translog is the public transparency log of the certification register: an
// append-only Merkle tree in the RFC 6962/9162 style (golang.org/x/mod/sumdb/tlog, as Go's
// checksum database uses) whose leaves record every register event a verifier relies on —
// a copy issued, a number voided, a copy revoked, a version added by archive renewal, a book
// closed — and whose signed checkpoints (C2SP tlog-checkpoint, signed with a
// golang.org/x/mod/sumdb/note Ed25519 key that is not in the database) are written
// write-once to the object store.
//
// The register (storage/sqlite, storage/postgres) appends the leaves and the tree's stored
// hashes in the same transaction as the change they record, so a register row and its leaf
// cannot part. Log publishes checkpoints after those commits (group commit: concurrent
// writers share one object write), each with the leaves appended since the previous one (a
// bundle), so that the bucket alone can replay the whole log; it refuses further changes
// when the object store knows a longer log than the register (a register restored from an
// older backup) until Reconcile has replayed the missing leaves. VerifyRegister compares the
// register row by row with its log (the `chungthuc log verify` command); Prove and
// Consistency produce the proofs the public endpoints serve.
//
// What a leaf says is public: anyone may fetch the leaves of a copy whose link they hold,
// and every checkpoint. The verification token itself is never in a leaf (only its SHA-256),
// and the fields that are not public but must not change (the access-code hash, the
// document's title, issuer and requester) are in the leaf only as commitments keyed by the
// token, which nobody without the link can test guesses against.
//
// The package imports the root package and golang.org/x/mod only.
package translog
