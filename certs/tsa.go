package certs

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"

	"github.com/chungthuc/chungthuc"
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
	if _, ok := tsaHashes[h]; !ok {
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "timestamp: hash %v is not supported (use SHA-256, SHA-384 or SHA-512)", h)
	}
	if len(digest) != h.Size() {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "timestamp: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	req, err := (&timestamp.Request{HashAlgorithm: h, HashedMessage: digest, Certificates: true, Nonce: nonce}).Marshal()
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
			return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "timestamp authority %s not available: %v (%v)", name, ctx.Err(), lastErr)
		}
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "timestamp authority %s not available: %v", name, lastErr)
	}
	token, err := c.check(body, digest, h, nonce)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "timestamp authority %s returned an unusable answer: %v", name, err)
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
			if _, perr := timestamp.ParseResponse(b); perr != nil {
				return nil, retry, fmt.Errorf("HTTP %s: %v", resp.Status, perr)
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
	// ParseResponse rejects non-granted statuses and verifies the CMS signature with the
	// certificate included in the token.
	ts, err := timestamp.ParseResponse(body)
	if err != nil {
		return nil, err
	}
	if ts.HashAlgorithm != h || !bytes.Equal(ts.HashedMessage, digest) {
		return nil, errors.New("the token's message imprint is not the digest sent")
	}
	if ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
		return nil, errors.New("the token's nonce is not the nonce sent")
	}
	if len(ts.Certificates) == 0 {
		return nil, errors.New("the token includes no TSA certificate although one was requested")
	}
	p7, err := pkcs7.Parse(ts.RawToken)
	if err != nil {
		return nil, err
	}
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, errors.New("the token does not have exactly one signer with its certificate")
	}
	if err := tsaCheckSigningCertificate(p7, signer); err != nil {
		return nil, err
	}
	if !tsaHasTimeStampingEKU(signer) {
		return nil, errors.New("the TSA certificate lacks the timeStamping extended key usage")
	}
	if c.Roots != nil {
		inter := x509.NewCertPool()
		for _, ct := range p7.Certificates {
			inter.AddCert(ct)
		}
		if _, err := signer.Verify(x509.VerifyOptions{
			Roots: c.Roots, Intermediates: inter, CurrentTime: ts.Time,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		}); err != nil {
			return nil, fmt.Errorf("the TSA certificate is not trusted: %v", err)
		}
	}
	return ts.RawToken, nil
}

var (
	tsaOIDSigningCertificate   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	tsaOIDSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	tsaOIDTimeStamping         = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	tsaOIDExtKeyUsage          = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// tsaHashes maps the supported hashes to their OIDs.
var tsaHashes = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
	crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
	crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
}

type tsaESSCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"` // DEFAULT sha256
	CertHash      []byte
	IssuerSerial  asn1.RawValue `asn1:"optional"`
}

type tsaSigningCertificateV2 struct {
	Certs    []tsaESSCertIDv2
	Policies asn1.RawValue `asn1:"optional"`
}

type tsaESSCertID struct {
	CertHash     []byte
	IssuerSerial asn1.RawValue `asn1:"optional"`
}

type tsaSigningCertificate struct {
	Certs    []tsaESSCertID
	Policies asn1.RawValue `asn1:"optional"`
}

// tsaCheckSigningCertificate checks that the signed signing-certificate(-v2) attribute names
// the certificate that verified the signature (RFC 3161 section 2.4.2, RFC 5816), so a
// token cannot be passed off under another certificate with the same key.
func tsaCheckSigningCertificate(p7 *pkcs7.PKCS7, signer *x509.Certificate) error {
	var v2 tsaSigningCertificateV2
	if err := p7.UnmarshalSignedAttribute(tsaOIDSigningCertificateV2, &v2); err == nil && len(v2.Certs) > 0 {
		id := v2.Certs[0]
		h := crypto.SHA256
		if len(id.HashAlgorithm.Algorithm) > 0 {
			h = 0
			for hh, oid := range tsaHashes {
				if oid.Equal(id.HashAlgorithm.Algorithm) {
					h = hh
				}
			}
			if h == 0 {
				return fmt.Errorf("signing-certificate-v2 uses unsupported hash %v", id.HashAlgorithm.Algorithm)
			}
		}
		hh := h.New()
		hh.Write(signer.Raw)
		if !bytes.Equal(hh.Sum(nil), id.CertHash) {
			return errors.New("the signing-certificate-v2 attribute does not name the signing certificate")
		}
		return nil
	}
	var v1 tsaSigningCertificate
	if err := p7.UnmarshalSignedAttribute(tsaOIDSigningCertificate, &v1); err == nil && len(v1.Certs) > 0 {
		sum := sha1.Sum(signer.Raw)
		if !bytes.Equal(sum[:], v1.Certs[0].CertHash) {
			return errors.New("the signing-certificate attribute does not name the signing certificate")
		}
		return nil
	}
	return errors.New("the token has no signing-certificate attribute")
}

func tsaHasTimeStampingEKU(cert *x509.Certificate) bool {
	for _, u := range cert.ExtKeyUsage {
		if u == x509.ExtKeyUsageTimeStamping {
			return true
		}
	}
	return false
}

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
