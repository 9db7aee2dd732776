// Package renew is the archive renewal use case (PAdES B-LTA), beside certify. A stored
// copy stays verifiable for as long as its newest document time-stamp does; before that
// time-stamp's TSA certificate expires, a new document time-stamp is added over the whole
// file (with the validation data of everything before it). The result is a new object; the
// original is never overwritten.
//
// Renewed versions are stored under renewals/{sha256 of the registered copy}/{sha256 of the
// version}.pdf: content-addressed, out of fsck's way (fsck looks at copies/), and found
// again by listing that prefix. Every version extends the one before it byte for byte, so
// the newest is the longest and starts with the registered copy. Each version is recorded in
// the register (AddVersion: a renewed file is found by its own hash, so verification of it
// reads "certified") and in the audit log ("archive.renew").
//
// The Service talks to the rest through small interfaces defined here: Register, Objects
// and Auditor (met by the storage adapters), Inspector (when does a copy's newest document
// time-stamp expire) and Stamper (add one). engines.go adapts the verification and signing
// engines to the last two; cmd/chungthuc only wires them and prints the Report.
package renew
