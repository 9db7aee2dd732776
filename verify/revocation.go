package verify

import (
	"github.com/chungthuc/chungthuc/internal/pdf"

	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"golang.org/x/crypto/ocsp"
)

// maxFetch caps the size of a fetched OCSP response or CRL.
const maxFetch = 10 << 20

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

// checkRevocation finds the status of every certificate of chain (except the anchor) in
// the embedded data (the signature's own, then the DSS), then online when allowed, and
// records the outcome on s.
//
// Revoked at or before ref.at: TOTAL_FAILED/REVOKED when ref.at is a proven time and the
// revocation is not after the claimed time, else INDETERMINATE/REVOKED_NO_POE. Revoked
// after a proven time: a warning (the signature was made while the certificate was good).
func (e *engine) checkRevocation(s *sigState, chain []*x509.Certificate, ocsps, crls [][]byte, ref revRef) {
	var extra []*x509.Certificate
	if e.dss != nil {
		ocsps = append(append([][]byte{}, ocsps...), e.dss.ocsps...)
		crls = append(append([][]byte{}, crls...), e.dss.crls...)
		extra = e.dss.certs
	}
	at := ref.at.UTC().Format(time.RFC3339)
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		st := embeddedStatus(cert, issuer, ocsps, crls, extra, ref.at, "embedded")
		if (st.status == "" || st.status == "stale") && e.opt.Revocation != nil {
			if data, err := e.opt.Revocation.Revocation(e.ctx, chain[i:]); err == nil && data != nil {
				if f := embeddedStatus(cert, issuer, data.OCSP, data.CRLs, extra, ref.at, "revocation service"); f.status == "good" || f.status == "revoked" {
					st = f
				}
			}
		}
		if (st.status == "" || st.status == "stale") && e.opt.FetchRevocation {
			if f := e.fetchStatus(cert, issuer, ref.at); f.status == "good" || f.status == "revoked" {
				st = f
			} else if st.status == "" {
				st = f
			}
		}
		switch st.status {
		case "":
			if len(cert.OCSPServer) == 0 && len(cert.CRLDistributionPoints) == 0 {
				st = revStatus{status: "not_applicable", detail: "the certificate names no OCSP responder and no CRL"}
			} else {
				st.status = "unknown"
				if st.detail == "" {
					st.detail = "no revocation data in the file and online checking is off"
				}
			}
		case "stale":
			if len(cert.OCSPServer) == 0 && len(cert.CRLDistributionPoints) == 0 {
				// Nobody could give a fresher answer: the certificate names no service.
				st = revStatus{status: "not_applicable", detail: "the certificate names no OCSP responder and no CRL (" + st.detail + ")"}
			} else {
				st.status = "unknown"
			}
		}
		ri := RevocationInfo{Subject: cert.Subject.String(), Status: st.status, Source: st.source, Detail: st.detail}
		checkedAt := ref.at.UTC()
		ri.CheckedAt = &checkedAt
		if !st.revokedAt.IsZero() {
			t := st.revokedAt.UTC()
			ri.RevokedAt = &t
			ri.Reason = st.reason
		}
		if !st.thisUpdate.IsZero() {
			t := st.thisUpdate.UTC()
			ri.ThisUpdate = &t
		}
		if !st.nextUpdate.IsZero() {
			t := st.nextUpdate.UTC()
			ri.NextUpdate = &t
		}
		s.rep.Revocation = append(s.rep.Revocation, ri)
		name := fmt.Sprintf("revocation[%d]", i)
		cn := cert.Subject.CommonName
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

// fetchStatus asks the certificate's OCSP responder, then its CRL distribution points.
func (e *engine) fetchStatus(cert, issuer *x509.Certificate, at time.Time) revStatus {
	var problems []string
	for _, u := range cert.OCSPServer {
		req, err := ocsp.CreateRequest(cert, issuer, nil)
		if err != nil {
			break
		}
		b, err := e.fetch(http.MethodPost, u, req)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if st := embeddedStatus(cert, issuer, [][]byte{b}, nil, nil, at, "online"); st.status != "" {
			return st
		}
		problems = append(problems, "OCSP "+u+": no usable answer")
	}
	for _, u := range cert.CRLDistributionPoints {
		b, err := e.fetch(http.MethodGet, u, nil)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if st := embeddedStatus(cert, issuer, nil, [][]byte{b}, nil, at, "online"); st.status != "" {
			return st
		}
		problems = append(problems, "CRL "+u+": not a CRL of this issuer")
	}
	st := revStatus{}
	if len(problems) > 0 {
		st.detail = fmt.Sprintf("online check failed: %v", problems)
	}
	return st
}

// fetch performs one bounded request to a URL named in a certificate.
func (e *engine) fetch(method, rawURL string, body []byte) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%s: not an http(s) URL", rawURL)
	}
	client := e.opt.HTTPClient
	if client == nil {
		client = e.defaultClient()
	}
	if !e.opt.AllowPrivateAddresses {
		// Checked here too for caller-supplied clients; the default client re-checks the
		// address actually dialled.
		ips, err := net.DefaultResolver.LookupIPAddr(e.ctx, u.Hostname())
		if err != nil {
			return nil, fmt.Errorf("%s: %v", rawURL, err)
		}
		for _, ip := range ips {
			if !publicIP(ip.IP) {
				return nil, fmt.Errorf("%s: refusing a non-public address", rawURL)
			}
		}
	}
	ctx, cancel := context.WithTimeout(e.ctx, e.opt.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/ocsp-request")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", rawURL, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFetch+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", rawURL, err)
	}
	if len(b) > maxFetch {
		return nil, fmt.Errorf("%s: answer larger than %d bytes", rawURL, maxFetch)
	}
	return b, nil
}

func (e *engine) defaultClient() *http.Client {
	allow := e.opt.AllowPrivateAddresses
	d := &net.Dialer{Timeout: e.opt.FetchTimeout, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(host); !allow && (ip == nil || !publicIP(ip)) {
			return fmt.Errorf("refusing to connect to %s", host)
		}
		return nil
	}}
	return &http.Client{
		Timeout:   e.opt.FetchTimeout,
		Transport: &http.Transport{DialContext: d.DialContext, Proxy: nil, TLSHandshakeTimeout: e.opt.FetchTimeout},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return fmt.Errorf("too many redirects")
			}
			return nil
		},
	}
}

func publicIP(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast())
}
