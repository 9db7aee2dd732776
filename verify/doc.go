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
// The engine reads the PDF with the project's bounded reader (internal/pdf): it never
// trusts a viewer library's repaired view of a file. Each signature's signed
// revision is the file cut where its /ByteRange ends; the final revision is what a reader
// shows. Their object graphs are compared (diff.go), so incremental-saving, shadow and
// signature-wrapping attacks show up as changes to what is shown; and what the later
// revision shows is compared with what the signed one painted (overlay.go, paint.go), so
// a new widget whose appearance covers earlier content (a "sneaky signature") is a
// modification even when DocMDP allows adding the field. CMS signatures (DER or
// BER) and RFC 3161 time-stamp tokens are verified with the project's cms and cms/tsp
// packages (cms.go, timestamp.go), the ones the signer and the TSA client use.
//
// Trust is decided at proven times (trust.go): document time-stamps from the last one
// (checked at the validation time) back to the first (each checked at the time the next
// one proves), then each signature at its best signature time, the earliest time a
// trusted time-stamp proves it existed. Chains are validated at that time and revocation
// data (the signature's own and the DSS; OCSP answers only from the issuer or its
// delegated responder, ocsp.go) must speak for it, so a PAdES B-LTA copy stays valid
// after its certificates expire. The JSON report is documented and versioned in REPORT.md.
package verify
