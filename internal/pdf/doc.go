// Package pdf is the project's one PDF reader: a bounded tokeniser and object parser,
// cross-reference tables and streams, object streams, hybrid files, stream filters with
// decode budgets, incremental revisions, page trees and a content-stream lexer. The
// verifier (verify), the signer's incremental updates (signer/pdfdoc) and the intake's
// content rewriting (signer/intake) all read PDF through it.
package pdf
