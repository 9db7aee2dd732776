// Package chungthuc holds the domain of electronic copy certification (chứng thực bản sao
// điện tử từ bản chính): units, officers, books, certifications, refusals, their statuses,
// the error codes every layer speaks, and the small interfaces the use cases need from the
// adapters (register — split into Directory, Ledger, Entries and Books —, object store,
// keys, time-stamps, revocation data, clock). Users narrow them further where they are used
// (certify.Register, renew.Register, api.PublicRegister).
//
// It imports nothing of the project. Adapters live in storage/, certs/, signer/, verify/;
// the use cases in certify/ (certification) and renew/ (archive renewal); login secrets in
// credentials/; HTTP in api/; wiring in cmd/chungthuc.
package chungthuc
