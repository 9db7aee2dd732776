package verify

import (
	"github.com/chungthuc/chungthuc/internal/pdf"

	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/chungthuc/chungthuc"
)

// dssData is the validation data of the document security store (PAdES B-LT).
type dssData struct {
	certs []*x509.Certificate
	ocsps [][]byte
	crls  [][]byte
}

// readAllDSS reads the DSS of every revision of the file and returns their union (nil
// when none has one). Validation data, once in the file, stays evidence: a later
// incremental update that replaces /DSS (an allowed change) cannot hide an OCSP response
// or CRL that says a certificate was revoked.
func (e *engine) readAllDSS() *dssData {
	var out *dssData
	seen := map[[32]byte]bool{}
	add := func(list *[][]byte, b []byte) {
		if h := sha256.Sum256(b); !seen[h] {
			seen[h] = true
			*list = append(*list, b)
		}
	}
	for _, end := range e.ends {
		if end > e.fin.End() {
			break
		}
		r := e.fin
		if end != e.fin.End() {
			var err error
			if r, err = e.f.Revision(end); err != nil {
				continue
			}
		}
		d := readDSS(r)
		if d == nil {
			continue
		}
		if out == nil {
			out = &dssData{}
		}
		for _, c := range d.certs {
			if h := sha256.Sum256(c.Raw); !seen[h] {
				seen[h] = true
				out.certs = append(out.certs, c)
			}
		}
		for _, b := range d.ocsps {
			add(&out.ocsps, b)
		}
		for _, b := range d.crls {
			add(&out.crls, b)
		}
	}
	return out
}

// readDSS reads /DSS of revision r (nil when absent).
func readDSS(r *pdf.Revision) *dssData {
	dss := r.Dict(r.Root().Get("DSS"))
	if dss == nil {
		return nil
	}
	out := &dssData{}
	read := func(key pdf.Name) [][]byte {
		arr, _ := r.Resolve(dss.Get(key)).(pdf.Array)
		var bs [][]byte
		for i, o := range arr {
			if i >= 1000 {
				break
			}
			st, ok := r.Resolve(o).(*pdf.Stream)
			if !ok {
				continue
			}
			b, err := r.Decode(st)
			if err == nil {
				bs = append(bs, b)
			}
		}
		return bs
	}
	for _, b := range read("Certs") {
		if c, err := x509.ParseCertificate(b); err == nil {
			out.certs = append(out.certs, c)
		}
	}
	out.ocsps = read("OCSPs")
	out.crls = read("CRLs")
	return out
}

// revStatus is the revocation status of one certificate.
type revStatus struct {
	status     string
	source     string
	revokedAt  time.Time
	reason     int
	thisUpdate time.Time
	nextUpdate time.Time
	detail     string
}

// revRef is the time a certificate's status matters at.
type revRef struct {
	// at is the time to prove the status for: the best signature time (a proven time)
	// or the validation time. A "good" answer counts only if it was issued at or after
	// at, or was current at at (thisUpdate ≤ at ≤ nextUpdate).
	at time.Time
	// proven is true when at is a time proven by a trusted time-stamp.
	proven bool
	// claimed is the time the signer or TSA itself claims (/M, genTime), zero if none.
	// A revocation between claimed and at leaves the result open (REVOKED_NO_POE).
	claimed time.Time
}

// checkRevocation finds the status of every certificate of chain (except the anchor) and
// records the outcome on s, in three named steps per certificate:
//
//  1. revocationStatus: the embedded data (the signature's own, then the DSS), then the
//     caller's revocation source (Options.Revocation) when the file gives no current answer;
//  2. revocationInfo: the report's record of what was found;
//  3. judgeRevocation: what the status means for the signature at ref.
//
// Revoked at or before ref.at: TOTAL_FAILED/REVOKED when ref.at is a proven time and the
// revocation is not after the claimed time, else INDETERMINATE/REVOKED_NO_POE. Revoked
// after a proven time: a warning (the signature was made while the certificate was good).
func (e *engine) checkRevocation(s *sigState, chain []*x509.Certificate, ocsps, crls [][]byte, ref revRef) {
	ev := e.revocationEvidence(ocsps, crls)
	for i := 0; i+1 < len(chain); i++ {
		cert := chain[i]
		st := e.revocationStatus(chain[i:], ev, ref.at)
		s.rep.Revocation = append(s.rep.Revocation, revocationInfo(cert, st, ref.at))
		e.judgeRevocation(s, fmt.Sprintf("revocation[%d]", i), cert.Subject.CommonName, st, ref)
	}
}

// revEvidence is the revocation data a file offers for a signature: its own OCSP responses
// and CRLs followed by those of the DSS, and the DSS certificates (delegated responders).
type revEvidence struct {
	ocsps, crls [][]byte
	extra       []*x509.Certificate
}

// revocationEvidence joins a signature's own revocation data with the DSS's.
func (e *engine) revocationEvidence(ocsps, crls [][]byte) revEvidence {
	ev := revEvidence{ocsps: ocsps, crls: crls}
	if e.dss != nil {
		ev.ocsps = append(append([][]byte{}, ocsps...), e.dss.ocsps...)
		ev.crls = append(append([][]byte{}, crls...), e.dss.crls...)
		ev.extra = e.dss.certs
	}
	return ev
}

// revocationStatus is the status at at of chain[0] (issued by chain[1]): from the file's
// evidence, else from the caller's revocation source, settled into one of "good",
// "revoked", "not_applicable" or "unknown".
func (e *engine) revocationStatus(chain []*x509.Certificate, ev revEvidence, at time.Time) revStatus {
	cert, issuer := chain[0], chain[1]
	st := embeddedStatus(cert, issuer, ev.ocsps, ev.crls, ev.extra, at, "embedded")
	detail := "no revocation data in the file and online checking is off"
	if undecided(st) && e.opt.Revocation != nil {
		var asked revStatus
		asked, detail = e.askRevocationSource(chain, ev.extra, at)
		if asked.status == "good" || asked.status == "revoked" {
			st = asked
		}
	}
	return settleStatus(cert, st, detail)
}

// undecided reports whether st leaves the status open: no answer, or only stale ones.
func undecided(st revStatus) bool { return st.status == "" || st.status == "stale" }

// askRevocationSource asks Options.Revocation for chain's revocation data and reads
// chain[0]'s status at at from it, checked like embedded data. The string says why there
// is no answer when there is none.
func (e *engine) askRevocationSource(chain []*x509.Certificate, extra []*x509.Certificate, at time.Time) (revStatus, string) {
	data, err := e.opt.Revocation.Revocation(e.ctx, chain)
	switch {
	case err != nil:
		return revStatus{}, "no revocation data in the file, and the revocation service could not answer: " + chungthuc.ErrorMessage(err)
	case data == nil:
		return revStatus{}, "no revocation data in the file, and none from the revocation service"
	}
	st := embeddedStatus(chain[0], chain[1], data.OCSP, data.CRLs, extra, at, "revocation service")
	if st.status != "good" && st.status != "revoked" {
		return revStatus{}, "no revocation data in the file, and no current answer from the revocation service"
	}
	return st, ""
}

// settleStatus turns an open status into "not_applicable" (the certificate names no OCSP
// responder and no CRL: nobody could answer) or "unknown" (with detail when there is no
// answer at all; a stale answer keeps its own explanation).
func settleStatus(cert *x509.Certificate, st revStatus, detail string) revStatus {
	noService := len(cert.OCSPServer) == 0 && len(cert.CRLDistributionPoints) == 0
	switch st.status {
	case "":
		if noService {
			return revStatus{status: "not_applicable", detail: "the certificate names no OCSP responder and no CRL"}
		}
		st.status = "unknown"
		if st.detail == "" {
			st.detail = detail
		}
	case "stale":
		if noService {
			// Nobody could give a fresher answer: the certificate names no service.
			return revStatus{status: "not_applicable", detail: "the certificate names no OCSP responder and no CRL (" + st.detail + ")"}
		}
		st.status = "unknown"
	}
	return st
}

// revocationInfo is the report's record of cert's status st, checked at at.
func revocationInfo(cert *x509.Certificate, st revStatus, at time.Time) RevocationInfo {
	ri := RevocationInfo{Subject: cert.Subject.String(), Status: st.status, Source: st.source, Detail: st.detail}
	utc := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.UTC()
		return &t
	}
	checkedAt := at.UTC()
	ri.CheckedAt = &checkedAt
	if !st.revokedAt.IsZero() {
		ri.RevokedAt = utc(st.revokedAt)
		ri.Reason = st.reason
	}
	ri.ThisUpdate = utc(st.thisUpdate)
	ri.NextUpdate = utc(st.nextUpdate)
	return ri
}

// judgeRevocation records on s what status st of the certificate named cn means for the
// signature at ref (see checkRevocation).
func (e *engine) judgeRevocation(s *sigState, name, cn string, st revStatus, ref revRef) {
	at := ref.at.UTC().Format(time.RFC3339)
	switch st.status {
	case "good":
		s.check(name, CheckPassed, "%s: good at %s (%s issued %s)", cn, at, st.source, st.thisUpdate.UTC().Format(time.RFC3339))
	case "not_applicable":
		s.check(name, CheckSkipped, "%s: %s", cn, st.detail)
	case "revoked":
		rev := st.revokedAt.UTC().Format(time.RFC3339)
		switch {
		case ref.proven && st.revokedAt.After(ref.at):
			s.check(name, CheckWarning, "%s: revoked on %s, after the proven time %s; the signature was made while the certificate was valid", cn, rev, at)
		case !ref.proven:
			s.fail(Indeterminate, SubRevokedNoPOE, name, "%s: revoked on %s; no trusted time-stamp proves the signature older", cn, rev)
		case !ref.claimed.IsZero() && st.revokedAt.After(ref.claimed):
			s.fail(Indeterminate, SubRevokedNoPOE, name, "%s: revoked on %s, after the claimed time %s but before the proven time %s", cn, rev, ref.claimed.UTC().Format(time.RFC3339), at)
		default:
			s.fail(TotalFailed, SubRevoked, name, "%s: revoked on %s, before the proven time %s", cn, rev, at)
		}
	default:
		if e.opt.SoftFailRevocation {
			s.check(name, CheckWarning, "%s: status at %s unknown: %s", cn, at, st.detail)
		} else {
			s.fail(Indeterminate, SubTryLater, name, "%s: status at %s unknown: %s", cn, at, st.detail)
		}
	}
}

// fresh reports whether an answer issued at thisUpdate (valid until nextUpdate, zero if
// open) tells the status at at.
func fresh(at, thisUpdate, nextUpdate time.Time) bool {
	return !thisUpdate.Before(at) || (!nextUpdate.IsZero() && !at.After(nextUpdate))
}

// embeddedStatus looks for cert's status at time at in OCSP responses, then CRLs. Only
// answers whose signature checks out count (see ocspFor and the CRL checks). A revocation
// found in any of them wins; otherwise a fresh "good"; otherwise "stale" (good answers
// that are all older than at) or "" (no answer for cert at all).
func embeddedStatus(cert, issuer *x509.Certificate, ocsps, crls [][]byte, extra []*x509.Certificate, at time.Time, where string) revStatus {
	var good, stale revStatus
	note := func(st revStatus) {
		if fresh(at, st.thisUpdate, st.nextUpdate) {
			if good.status == "" {
				good = st
			}
		} else if stale.status == "" || st.thisUpdate.After(stale.thisUpdate) {
			stale = st
		}
	}
	for _, b := range ocsps {
		resp, err := ocspFor(b, cert, issuer, extra)
		if err != nil {
			continue
		}
		st := revStatus{source: where + " OCSP", thisUpdate: resp.ThisUpdate, nextUpdate: resp.NextUpdate}
		switch resp.Status {
		case ocsp.Good:
			st.status = "good"
			note(st)
		case ocsp.Revoked:
			st.status, st.revokedAt, st.reason = "revoked", resp.RevokedAt, resp.RevocationReason
			return st
		}
	}
	for _, b := range crls {
		rl, err := x509.ParseRevocationList(b)
		if err != nil || !bytes.Equal(rl.RawIssuer, issuer.RawSubject) || rl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		st := revStatus{source: where + " CRL", thisUpdate: rl.ThisUpdate, nextUpdate: rl.NextUpdate}
		for _, ent := range rl.RevokedCertificateEntries {
			if ent.SerialNumber != nil && ent.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				st.status, st.revokedAt, st.reason = "revoked", ent.RevocationTime, ent.ReasonCode
				return st
			}
		}
		st.status = "good"
		note(st)
	}
	if good.status != "" {
		return good
	}
	if stale.status != "" {
		stale.status = "stale"
		stale.detail = fmt.Sprintf("the newest revocation data (%s, issued %s, valid until %s) is older than %s",
			stale.source, stale.thisUpdate.UTC().Format(time.RFC3339), stale.nextUpdate.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
		return stale
	}
	return revStatus{}
}
