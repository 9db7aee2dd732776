package verify

import (
	"bytes"
	"context"
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

// readDSS reads /DSS of the final revision (nil when absent).
func readDSS(r *revision) *dssData {
	dss := r.dict(r.root().get("DSS"))
	if dss == nil {
		return nil
	}
	out := &dssData{}
	read := func(key pname) [][]byte {
		arr, _ := r.resolve(dss.get(key)).(parray)
		var bs [][]byte
		for i, o := range arr {
			if i >= 1000 {
				break
			}
			st, ok := r.resolve(o).(*pstream)
			if !ok {
				continue
			}
			b, err := r.f.decode(st)
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
	status    string
	source    string
	revokedAt time.Time
	detail    string
}

// checkRevocation finds the status of every certificate of chain (except the anchor) in
// the embedded data, then online when allowed, and records the outcome on s. poe is the
// trusted time the signature is proven to have existed (zero when none).
func (e *engine) checkRevocation(s *sigState, chain []*x509.Certificate, ocsps, crls [][]byte, poe time.Time) {
	if e.dss != nil {
		ocsps = append(append([][]byte{}, ocsps...), e.dss.ocsps...)
		crls = append(append([][]byte{}, crls...), e.dss.crls...)
	}
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		st := embeddedStatus(cert, issuer, ocsps, crls, "embedded")
		if st.status == "" && e.opt.FetchRevocation {
			st = e.fetchStatus(cert, issuer)
		}
		if st.status == "" {
			if len(cert.OCSPServer) == 0 && len(cert.CRLDistributionPoints) == 0 {
				st = revStatus{status: "not_applicable", detail: "the certificate names no OCSP responder and no CRL"}
			} else {
				st.status = "unknown"
				if st.detail == "" {
					st.detail = "no revocation data in the file and online checking is off"
				}
			}
		}
		ri := RevocationInfo{Subject: cert.Subject.String(), Status: st.status, Source: st.source, Detail: st.detail}
		if !st.revokedAt.IsZero() {
			t := st.revokedAt.UTC()
			ri.RevokedAt = &t
		}
		s.rep.Revocation = append(s.rep.Revocation, ri)
		name := fmt.Sprintf("revocation[%d]", i)
		switch st.status {
		case "good":
			s.check(name, CheckPassed, "%s: good (%s)", cert.Subject.CommonName, st.source)
		case "not_applicable":
			s.check(name, CheckSkipped, "%s: %s", cert.Subject.CommonName, st.detail)
		case "revoked":
			switch {
			case !poe.IsZero() && st.revokedAt.After(poe):
				s.check(name, CheckWarning, "%s: revoked on %s, after the trusted timestamp", cert.Subject.CommonName, st.revokedAt.Format(time.RFC3339))
			case !poe.IsZero():
				s.fail(TotalFailed, SubRevoked, name, "%s: revoked on %s, before the trusted timestamp", cert.Subject.CommonName, st.revokedAt.Format(time.RFC3339))
			default:
				s.fail(Indeterminate, SubRevokedNoPOE, name, "%s: revoked on %s; no trusted timestamp proves the signature older", cert.Subject.CommonName, st.revokedAt.Format(time.RFC3339))
			}
		default:
			if e.opt.SoftFailRevocation {
				s.check(name, CheckWarning, "%s: status unknown: %s", cert.Subject.CommonName, st.detail)
			} else {
				s.fail(Indeterminate, SubTryLater, name, "%s: status unknown: %s", cert.Subject.CommonName, st.detail)
			}
		}
	}
}

// embeddedStatus looks for cert's status in OCSP responses, then CRLs.
func embeddedStatus(cert, issuer *x509.Certificate, ocsps, crls [][]byte, where string) revStatus {
	for _, b := range ocsps {
		resp, err := parseOCSP(b, cert, issuer)
		if err != nil || resp.SerialNumber == nil || resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		switch resp.Status {
		case ocsp.Good:
			return revStatus{status: "good", source: where + " OCSP"}
		case ocsp.Revoked:
			return revStatus{status: "revoked", source: where + " OCSP", revokedAt: resp.RevokedAt}
		}
	}
	for _, b := range crls {
		rl, err := x509.ParseRevocationList(b)
		if err != nil || !bytes.Equal(rl.RawIssuer, issuer.RawSubject) || rl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		for _, ent := range rl.RevokedCertificateEntries {
			if ent.SerialNumber != nil && ent.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return revStatus{status: "revoked", source: where + " CRL", revokedAt: ent.RevocationTime}
			}
		}
		return revStatus{status: "good", source: where + " CRL"}
	}
	return revStatus{}
}

func parseOCSP(b []byte, cert, issuer *x509.Certificate) (resp *ocsp.Response, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, fmt.Errorf("malformed OCSP response")
		}
	}()
	return ocsp.ParseResponseForCert(b, cert, issuer)
}

// fetchStatus asks the certificate's OCSP responder, then its CRL distribution points.
func (e *engine) fetchStatus(cert, issuer *x509.Certificate) revStatus {
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
		if st := embeddedStatus(cert, issuer, [][]byte{b}, nil, "online"); st.status != "" {
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
		if st := embeddedStatus(cert, issuer, nil, [][]byte{b}, "online"); st.status != "" {
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
