// Package chungthuc holds the domain of electronic copy certification (chứng thực bản sao
// điện tử từ bản chính): units, officers, books, certifications, refusals, their statuses,
// the error codes every layer speaks, and the small interfaces the workflow needs from the
// adapters (register, object store, keys, clock).
//
// It imports nothing of the project. Adapters live in storage/, certs/, signer/, verify/;
// the workflow in certify/; HTTP in api/; wiring in cmd/chungthuc.
package chungthuc
