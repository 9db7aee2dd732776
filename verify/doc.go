// Package verify is the validation engine for signed PDF files: one engine for the
// command line (`chungthuc verify`) and for the service's upload-to-verify page.
//
// For every signature it reports the signer's certificate, the claimed and timestamped
// signing times, the integrity of the signed bytes, the sanity of the /ByteRange, the
// revision it signs and everything that changed after it, DocMDP permissions, the chain to
// the configured trust anchors, revocation, and weak algorithms; then an ETSI-style
// indication per signature and overall, with short summaries in Vietnamese and English,
// and (when a register lookup is given) whether this exact file is a certified copy.
//
// The engine reads the PDF itself with a small bounded reader (file.go, parse.go): it
// never trusts a viewer library's repaired view of a file. Each signature's signed
// revision is the file cut where its /ByteRange ends; the final revision is what a reader
// shows. Their object graphs are compared (diff.go), so incremental-saving, shadow and
// signature-wrapping attacks show up as changes to what is shown. The JSON report is
// documented and versioned in REPORT.md.
package verify
