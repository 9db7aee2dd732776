// Package pdfdoc writes PDF files: a small object model (Name, Dict, Array, Ref, Stream…),
// a Writer that numbers objects and writes a classic cross-reference table, and incremental
// updates appended to a finished file — the form PDF signatures need.
//
// It writes; it does not parse. Everything it emits is deterministic (dictionary keys in
// sorted order) so that the same input gives the same bytes.
package pdfdoc
