package certs

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/cms"
	"github.com/chungthuc/chungthuc/cms/tsp"
)

// TSAClient asks an RFC 3161 time-stamping authority for timestamp tokens.
//
// The zero value is not usable: URL is required. A TSAClient is safe for concurrent use.
type TSAClient struct {
	// URL of the TSA (http or https). Userinfo in the URL is sent as basic auth and, like
	// Password, never appears in errors.
	URL string
	// Username and Password, if Username is set, are sent as HTTP basic auth.
	Username, Password string
	// HTTPClient sends the requests (default: a client with no overall timeout; Timeout
	// below bounds each attempt).
	HTTPClient *http.Client
	// Timeout bounds each attempt, connection included (default 10 s). The whole call is
	// bounded by (Retries+1)×Timeout plus the backoff between attempts, and by ctx.
	Timeout time.Duration
	// Retries is the number of further attempts after a network error, a timeout or an
	// HTTP 5xx/429 answer (default 0). Answers that are wrong, rather than absent, are
	// never retried.
	Retries int
	// Roots, if set, are the trust anchors the TSA certificate must chain to (with the
	// timeStamping extended key usage, at the token's time). If nil, the token's signature
	// and signing-certificate attribute are still checked against the certificate inside it,
	// and the certificate must carry the timeStamping EKU; trust is left to the verifier.
	Roots *x509.CertPool
}

// tsaMaxResponse caps the size of a TSA answer.
const tsaMaxResponse = 1 << 20

// Timestamp returns an RFC 3161 TimeStampToken (DER ContentInfo of a CMS SignedData, as put
// in a CMS signature's id-aa-signatureTimeStampToken attribute) for digest, the h hash of
// the data to time-stamp. The request carries a random nonce and certReq=true; the answer
// must be granted, name the same hash and digest, echo the nonce, include the TSA
// certificate, carry a valid signature by it and a signing-certificate attribute that
// names it, and the certificate must have the timeStamping EKU (and chain to Roots if set).
// The answer is parsed and checked by package tsp (cms/tsp), the same code the verifier
// runs on the token later. The token returned has DER lengths (a BER answer is
// normalised), ready for cms.AddUnsignedAttribute.
//
// Errors: EINVALID for an empty URL or a digest that does not fit h; EUNSUPPORTED for a
// hash other than SHA-256/384/512; EUNAVAILABLE ("timestamp authority <url> …", never the
// password) when the TSA cannot be reached in time, answers with an error status, refuses
// the request, or returns a token that fails the checks above.
func (c *TSAClient) Timestamp(ctx context.Context, digest []byte, h crypto.Hash) ([]byte, error) {
	if c.URL == "" {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "timestamp authority URL is not configured")
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "timestamp authority URL is not an http(s) URL")
	}
	if !tsaHashes[h] {
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "timestamp: hash %v is not supported (use SHA-256, SHA-384 or SHA-512)", h)
	}
	if len(digest) != h.Size() {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "timestamp: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	req, err := (&tsp.Request{Hash: h, Digest: digest, CertReq: true, Nonce: nonce}).Marshal()
	if err != nil {
		return nil, err
	}

	name := tsaDisplayURL(u)
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var body []byte
	var lastErr error
	for attempt := 0; attempt <= max(c.Retries, 0); attempt++ {
		if attempt > 0 {
			if err := tsaSleep(ctx, tsaBackoff(attempt)); err != nil {
				break
			}
		}
		var retry bool
		body, retry, lastErr = c.post(ctx, u, req, timeout)
		if lastErr == nil || !retry {
			break
		}
	}
	if lastErr != nil {
		if ctx.Err() != nil {
			return nil, chungthuc.Wrap(lastErr, chungthuc.EUNAVAILABLE, "timestamp authority %s not available: %v", name, ctx.Err())
		}
		return nil, chungthuc.Wrap(lastErr, chungthuc.EUNAVAILABLE, "timestamp authority %s not available", name)
	}
	token, err := c.check(body, digest, h, nonce)
	if err != nil {
		return nil, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "timestamp authority %s returned an unusable answer", name)
	}
	return token, nil
}

// post sends one request. retry reports whether another attempt may help.
func (c *TSAClient) post(ctx context.Context, u *url.URL, req []byte, timeout time.Duration) (body []byte, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	target := *u
	target.User = nil
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(req))
	if err != nil {
		return nil, false, errors.New("cannot build the request")
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	hr.Header.Set("Accept", "application/timestamp-reply")
	switch {
	case c.Username != "":
		hr.SetBasicAuth(c.Username, c.Password)
	case u.User != nil:
		pw, _ := u.User.Password()
		hr.SetBasicAuth(u.User.Username(), pw)
	}
	client := c.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(hr)
	if err != nil {
		// *url.Error repeats the URL; keep only the cause, which names no credentials.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			return nil, true, fmt.Errorf("no answer within %v", timeout)
		}
		return nil, true, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		// A TSA may explain a refusal in a TimeStampResp (status and failInfo).
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/timestamp-reply" {
			if r, perr := tsp.ParseResponse(b); perr == nil && r.Err() != nil {
				return nil, retry, fmt.Errorf("HTTP %s: %v", resp.Status, r.Err())
			}
		}
		return nil, retry, fmt.Errorf("HTTP %s", resp.Status)
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, tsaMaxResponse+1))
	if err != nil {
		return nil, true, fmt.Errorf("reading the answer: %v", err)
	}
	if len(body) > tsaMaxResponse {
		return nil, false, fmt.Errorf("answer larger than %d bytes", tsaMaxResponse)
	}
	return body, false, nil
}

// check parses a TimeStampResp and checks the token against the request.
func (c *TSAClient) check(body, digest []byte, h crypto.Hash, nonce *big.Int) ([]byte, error) {
	resp, err := tsp.ParseResponse(body)
	if err != nil {
		return nil, err
	}
	if err := resp.Err(); err != nil {
		return nil, err
	}
	// ParseToken verifies the CMS signature with the certificate included in the token,
	// the signing-certificate attribute naming it (so a token cannot be passed off under
	// another certificate with the same key) and the timeStamping usage.
	tok, err := tsp.ParseToken(resp.Token)
	if errors.Is(err, cms.ErrSignerNotFound) {
		return nil, errors.New("the token includes no TSA certificate although one was requested")
	}
	if err != nil {
		return nil, err
	}
	if tok.Info.Hash != h || !bytes.Equal(tok.Info.Digest, digest) {
		return nil, errors.New("the token's message imprint is not the digest sent")
	}
	if tok.Info.Nonce == nil || tok.Info.Nonce.Cmp(nonce) != 0 {
		return nil, errors.New("the token's nonce is not the nonce sent")
	}
	if c.Roots != nil {
		inter := x509.NewCertPool()
		for _, ct := range tok.Certificates {
			inter.AddCert(ct)
		}
		if _, err := tok.Certificate.Verify(x509.VerifyOptions{
			Roots: c.Roots, Intermediates: inter, CurrentTime: tok.Info.GenTime,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		}); err != nil {
			return nil, fmt.Errorf("the TSA certificate is not trusted: %v", err)
		}
	}
	return resp.Token, nil
}

// tsaHashes lists the hashes the client asks for (certs/devpki's TSA stamps the same).
var tsaHashes = map[crypto.Hash]bool{crypto.SHA256: true, crypto.SHA384: true, crypto.SHA512: true}

// tsaDisplayURL is the URL for messages: no userinfo, no query (which may hold API keys).
func tsaDisplayURL(u *url.URL) string {
	v := *u
	v.User = nil
	v.RawQuery = ""
	v.Fragment = ""
	return v.String()
}

// tsaBackoff is the pause before attempt n (n ≥ 1): 250 ms doubling, capped at 4 s, with
// up to 25% jitter so that many clients do not retry in step.
func tsaBackoff(n int) time.Duration {
	d := 250 * time.Millisecond << min(n-1, 4)
	j, _ := rand.Int(rand.Reader, big.NewInt(int64(d/4)+1))
	return d + time.Duration(j.Int64())
}

func tsaSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
