// Package pdfdoc writes PDF files: a small object model (Name, Dict, Array, Ref, Stream…),
// a Writer that numbers objects and writes a classic cross-reference table, and incremental
// updates appended to a finished file — the form PDF signatures need.
//
// It does not parse PDF itself: Read reads the last revision of a finished file with the
// project's one PDF reader (internal/pdf) and converts the objects an update changes into
// this package's objects. Everything it emits is deterministic (dictionary keys in sorted
// order) so that the same input gives the same bytes.
package pdfdoc
