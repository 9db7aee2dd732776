// Package signer turns scans into a certified electronic copy: intake of the scans
// (signer/intake) into one PDF (signer/pdfdoc), the certification stamp — the statement
// (lời chứng), a footer on every page and a QR code of the verification link — in an embedded
// Liberation Serif subset (signer/ttf), then two PAdES baseline B-B signatures (cms): the
// officer's certification signature (DocMDP P=2), then the unit's visible seal.
//
// The order assemble → stamp → sign is fixed: nothing rewrites the file after the first
// signature; each signature is an incremental update whose ByteRange covers the whole file
// but its own /Contents. Keys are used only through crypto.Signer, once per signature.
//
// Keys held elsewhere (an officer's USB token, a remote-signing service, the clerk's seal
// device) use the same mechanism in two steps: PrepareCopy and PrepareSeal return a
// serialisable Pending whose Digest the device signs, Complete checks the signature and
// the certificate before embedding it (EXTERNAL.md describes the design and the state).
package signer
