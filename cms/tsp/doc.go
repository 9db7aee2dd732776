// Package tsp implements the messages of the RFC 3161 Time-Stamp Protocol on top of
// package cms: the query (TimeStampReq), the answer (TimeStampResp with its PKIStatusInfo),
// the TSTInfo a token signs, and the token itself, a CMS SignedData encapsulating a TSTInfo
// (id-ct-TSTInfo).
//
// Both sides of the service use it: the TSA client (certs.TSAClient) parses and checks
// answers with ParseResponse and ParseToken, the development TSA builds them with
// ParseRequest, Sign and Response.Marshal, and the verifier checks the signature and
// document time-stamps it finds in PDFs with ParseToken. A token the client accepts is
// therefore one the verifier accepts.
//
// Requests are read as DER only (they are small and every client writes DER); answers and
// TSTInfos fall back to cms.NormalizeBER when they are not DER; tokens go through
// cms.Parse, which does the same. Errors are *cms.Error values, so the reasons (ErrMalformed,
// ErrUnsupportedAlg, ErrWeakAlgorithm, ErrSignerNotFound, ErrSigningCertificate, ...) carry
// over to the sub-indications a verifier reports.
package tsp
