package certs

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/chungthuc/chungthuc"
)

// Limits of RevocationFetcher.
const (
	DefaultFetchTimeout = 5 * time.Second
	// MaxRevocationResponse caps one OCSP response or CRL (1 MiB).
	MaxRevocationResponse = 1 << 20
	// fetchSkew is the clock difference tolerated on thisUpdate/nextUpdate.
	fetchSkew = 5 * time.Minute
	// crlCacheMax bounds how long a fetched CRL is reused (never past its nextUpdate).
	crlCacheMax = time.Hour
)

// RevocationFetcher gathers revocation data online for production certificates: for each
// certificate of a chain (but the trust anchor) an OCSP response from the responder its
// authority information access names, else the CRL of its CRL distribution points.
// It implements chungthuc.RevocationSource and is safe for concurrent use.
//
// Because the addresses come from certificates, fetching is guarded (threats.md, "no
// SSRF"): only chains that verify to Roots are fetched for; only http and https URLs; every
// connection's resolved IP address is checked by PublicAddress when it is dialled (so DNS
// tricks and redirects cannot reach loopback, private, shared, link-local, multicast,
// NAT64 or other non-public addresses, unless AllowPrivate); no proxy from the
// environment; at most 3 redirects; each request bounded by Timeout and each answer by
// MaxRevocationResponse bytes. Every answer is
// checked before it is returned: an OCSP response must be signed by the certificate's
// issuer or by a responder the issuer delegated (id-kp-OCSPSigning), name the certificate's
// serial number and be current; a CRL must be signed by the issuer and current.
type RevocationFetcher struct {
	// Roots are the trust anchors a chain must verify to (required).
	Roots *x509.CertPool
	// Client, when set, supplies the cookie jar and the transport settings: its Transport
	// must be nil or an *http.Transport, of which a copy is used whose dialer checks
	// addresses as described above (any other RoundTripper could dial unchecked: every
	// fetch then fails with EUNAVAILABLE).
	Client *http.Client
	// Timeout bounds each request (default DefaultFetchTimeout).
	Timeout time.Duration
	// AllowPrivate turns the address guard off (tests, closed networks whose CA lives
	// inside).
	AllowPrivate bool
	// Now is the clock (default time.Now).
	Now func() time.Time

	allowed func(netip.Addr) bool // tests: replaces PublicAddress

	once      sync.Once
	client    *http.Client
	clientErr error // Client cannot be guarded

	crlMu    sync.Mutex
	crlCache map[string]cachedCRL
}

type cachedCRL struct {
	der     []byte
	crl     *x509.RevocationList
	expires time.Time
}

var _ chungthuc.RevocationSource = (*RevocationFetcher)(nil)

// Revocation implements chungthuc.RevocationSource. chain is leaf first; it must verify to
// Roots (intermediates taken from chain; checked at the current time, or at the leaf's
// expiry for an expired leaf, so archived copies can be renewed). Certificates naming no
// OCSP responder or CRL yield nothing; the trust anchor yields nothing.
//
// Errors: EINVALID when chain is empty-handed of a leaf or does not verify to Roots (nothing
// is fetched), or Roots is nil; EUNAVAILABLE naming the certificate when it names OCSP or CRL
// locations but no usable answer could be obtained from any of them; the context's error.
func (f *RevocationFetcher) Revocation(ctx context.Context, chain []*x509.Certificate) (*chungthuc.RevocationData, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data := &chungthuc.RevocationData{}
	if len(chain) == 0 {
		return data, nil
	}
	if f.Roots == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "revocation: no trust anchors configured")
	}
	path, err := f.verify(chain)
	if err != nil {
		return nil, err
	}
	seenCRL := map[string]bool{}
	for i := 0; i+1 < len(path); i++ {
		cert, issuer := path[i], path[i+1]
		if len(cert.OCSPServer) == 0 && len(cert.CRLDistributionPoints) == 0 {
			continue
		}
		var problems []string
		if der, err := f.fetchOCSP(ctx, cert, issuer); err == nil {
			data.OCSP = append(data.OCSP, der)
			continue
		} else if ctx.Err() != nil {
			return nil, ctx.Err()
		} else if len(cert.OCSPServer) > 0 {
			problems = append(problems, err.Error())
		}
		der, u, err := f.fetchCRL(ctx, cert, issuer)
		if err == nil {
			if !seenCRL[u] {
				seenCRL[u] = true
				data.CRLs = append(data.CRLs, der)
			}
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if len(cert.CRLDistributionPoints) > 0 {
			problems = append(problems, err.Error())
		}
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "revocation status of %q not available: %s",
			cert.Subject.CommonName, strings.Join(problems, "; "))
	}
	return data, nil
}

// verify returns the verified path of chain to a trust anchor (leaf first, anchor last).
func (f *RevocationFetcher) verify(chain []*x509.Certificate) ([]*x509.Certificate, error) {
	leaf := chain[0]
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	at := f.now()
	if at.After(leaf.NotAfter) {
		at = leaf.NotAfter
	}
	paths, err := leaf.Verify(x509.VerifyOptions{
		Roots: f.Roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil || len(paths) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID,
			"revocation: the certificate chain of %q does not reach a trust anchor; nothing fetched", leaf.Subject.CommonName)
	}
	return paths[0], nil
}

func (f *RevocationFetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *RevocationFetcher) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return DefaultFetchTimeout
}

// fetchOCSP asks each responder of cert in turn: POST, then GET.
func (f *RevocationFetcher) fetchOCSP(ctx context.Context, cert, issuer *x509.Certificate) ([]byte, error) {
	if len(cert.OCSPServer) == 0 {
		return nil, errors.New("no OCSP responder")
	}
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		return nil, fmt.Errorf("OCSP request: %v", err)
	}
	var problems []string
	for _, u := range cert.OCSPServer {
		der, err := f.get(ctx, http.MethodPost, u, req)
		if err == nil {
			if err = f.checkOCSP(der, cert, issuer); err == nil {
				return der, nil
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		problems = append(problems, err.Error())
		// RFC 6960 A.1: GET {url}/{url-encoded base64 request}.
		getURL := strings.TrimRight(u, "/") + "/" + url.PathEscape(base64.StdEncoding.EncodeToString(req))
		der, err = f.get(ctx, http.MethodGet, getURL, nil)
		if err == nil {
			if err = f.checkOCSP(der, cert, issuer); err == nil {
				return der, nil
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		problems = append(problems, "GET: "+err.Error())
	}
	return nil, errors.New(strings.Join(problems, "; "))
}

// checkOCSP checks a response for cert: signature by issuer or a delegated responder, the
// serial number, a definite status and currency.
func (f *RevocationFetcher) checkOCSP(der []byte, cert, issuer *x509.Certificate) error {
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		return fmt.Errorf("OCSP response rejected: %v", err)
	}
	if resp.Certificate != nil && !bytes.Equal(resp.Certificate.Raw, issuer.Raw) {
		// ParseResponseForCert checked that issuer signed the responder certificate; RFC
		// 6960 4.2.2.2 also wants it marked for OCSP signing.
		delegated := false
		for _, u := range resp.Certificate.ExtKeyUsage {
			delegated = delegated || u == x509.ExtKeyUsageOCSPSigning
		}
		if !delegated {
			return errors.New("OCSP response rejected: the responder certificate lacks id-kp-OCSPSigning")
		}
	}
	if resp.SerialNumber == nil || resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		return errors.New("OCSP response rejected: it is about another certificate")
	}
	if resp.Status != ocsp.Good && resp.Status != ocsp.Revoked {
		return errors.New("OCSP responder does not know the certificate")
	}
	now := f.now()
	if resp.ThisUpdate.After(now.Add(fetchSkew)) {
		return errors.New("OCSP response rejected: thisUpdate is in the future")
	}
	if !resp.NextUpdate.IsZero() && resp.NextUpdate.Before(now.Add(-fetchSkew)) {
		return errors.New("OCSP response rejected: expired (nextUpdate has passed)")
	}
	return nil
}

// fetchCRL returns the first current CRL of cert's distribution points signed by issuer,
// and its URL.
func (f *RevocationFetcher) fetchCRL(ctx context.Context, cert, issuer *x509.Certificate) ([]byte, string, error) {
	if len(cert.CRLDistributionPoints) == 0 {
		return nil, "", errors.New("no CRL distribution point")
	}
	var problems []string
	for _, u := range cert.CRLDistributionPoints {
		if der, ok := f.cachedCRL(u, issuer); ok {
			return der, u, nil
		}
		der, err := f.get(ctx, http.MethodGet, u, nil)
		if err == nil {
			var crl *x509.RevocationList
			if crl, err = f.checkCRL(der, issuer); err == nil {
				f.keepCRL(u, der, crl)
				return der, u, nil
			}
		}
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		problems = append(problems, err.Error())
	}
	return nil, "", errors.New(strings.Join(problems, "; "))
}

func (f *RevocationFetcher) checkCRL(der []byte, issuer *x509.Certificate) (*x509.RevocationList, error) {
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("CRL rejected: %v", err)
	}
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return nil, errors.New("CRL rejected: issued by another CA")
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("CRL rejected: %v", err)
	}
	now := f.now()
	if crl.ThisUpdate.After(now.Add(fetchSkew)) {
		return nil, errors.New("CRL rejected: thisUpdate is in the future")
	}
	if !crl.NextUpdate.IsZero() && crl.NextUpdate.Before(now.Add(-fetchSkew)) {
		return nil, errors.New("CRL rejected: expired (nextUpdate has passed)")
	}
	return crl, nil
}

func (f *RevocationFetcher) cachedCRL(u string, issuer *x509.Certificate) ([]byte, bool) {
	f.crlMu.Lock()
	defer f.crlMu.Unlock()
	c, ok := f.crlCache[u]
	if !ok || !f.now().Before(c.expires) || !bytes.Equal(c.crl.RawIssuer, issuer.RawSubject) || c.crl.CheckSignatureFrom(issuer) != nil {
		return nil, false
	}
	return c.der, true
}

func (f *RevocationFetcher) keepCRL(u string, der []byte, crl *x509.RevocationList) {
	expires := f.now().Add(crlCacheMax)
	if !crl.NextUpdate.IsZero() && crl.NextUpdate.Before(expires) {
		expires = crl.NextUpdate
	}
	f.crlMu.Lock()
	defer f.crlMu.Unlock()
	if f.crlCache == nil || len(f.crlCache) > 256 {
		f.crlCache = map[string]cachedCRL{}
	}
	f.crlCache[u] = cachedCRL{der: der, crl: crl, expires: expires}
}

// allow is the address guard in force: PublicAddress, or anything with AllowPrivate.
func (f *RevocationFetcher) allow(addr netip.Addr) bool {
	switch {
	case f.AllowPrivate:
		return true
	case f.allowed != nil:
		return f.allowed(addr)
	}
	return PublicAddress(addr)
}

// httpClient builds the guarded client once.
func (f *RevocationFetcher) httpClient() *http.Client {
	f.once.Do(func() {
		timeout := f.timeout()
		dialer := &net.Dialer{Timeout: timeout, Control: guardDial(f.allow)}
		redirects := func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return errors.New("redirect to a non-http(s) URL")
			}
			return nil
		}
		base := http.DefaultTransport.(*http.Transport).Clone()
		c := &http.Client{CheckRedirect: redirects, Timeout: timeout}
		if f.Client != nil {
			c.Jar = f.Client.Jar
			if t, ok := f.Client.Transport.(*http.Transport); ok {
				base = t.Clone()
			} else if f.Client.Transport != nil {
				f.clientErr = errors.New("the revocation fetcher's client must use an *http.Transport (its dialer is what the address guard checks)")
			}
		}
		base.Proxy = nil // a proxy would dial for us, unchecked
		base.DialContext = dialer.DialContext
		base.DialTLSContext = nil
		base.TLSHandshakeTimeout = timeout
		base.ResponseHeaderTimeout = timeout
		c.Transport = base
		f.client = c
	})
	return f.client
}

// get performs one bounded request and returns the body of a 200 answer.
func (f *RevocationFetcher) get(ctx context.Context, method, rawURL string, body []byte) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: not an http(s) URL", shortURL(rawURL))
	}
	name := shortURL(rawURL)
	client := f.httpClient()
	if f.clientErr != nil {
		return nil, fmt.Errorf("%s: %v", name, f.clientErr)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/ocsp-request")
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, errRefused) {
			return nil, fmt.Errorf("%s: %v", name, errRefused)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s: no answer within %v", name, f.timeout())
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d", name, resp.StatusCode)
	}
	if resp.ContentLength > MaxRevocationResponse {
		return nil, fmt.Errorf("%s: answer larger than %d bytes", name, MaxRevocationResponse)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxRevocationResponse+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: no complete answer within %v", name, f.timeout())
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(b) > MaxRevocationResponse {
		return nil, fmt.Errorf("%s: answer larger than %d bytes", name, MaxRevocationResponse)
	}
	return b, nil
}

// shortURL is a URL for messages: scheme, host and path, at most 120 characters (no query
// or credentials, which certificates should not carry but might).
func shortURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(malformed URL)"
	}
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	s := v.String()
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}
