// Package csc is a client for remote signing services that speak the Cloud Signature
// Consortium API v2.0 (CSC v2), and a development CSC server to test it against.
//
// The client covers what the two-step signer (signer/EXTERNAL.md) needs from a remote
// signing service: info, an access token (auth/login with HTTP Basic credentials or the
// OAuth2 client-credentials grant at oauth2/token), credentials/list, credentials/info
// (certificate chain, key algorithm, authorisation mode, SCAL), credentials/authorize in
// the explicit mode (PIN and/or OTP in authData → SAD bound to the hashes, SCAL2) and
// signatures/signHash. The "oauth2code" authorisation mode (the officer authorises at the
// provider's page, or confirms a push message, and the service receives the SAD-bearing
// credential token through the redirect) is reported by Info.AuthMode and is not driven by
// this client: a caller seeing AuthMode "oauth2code" must send the officer to the
// provider's oauth2/authorize URL with scope=credential, credentialID, numSignatures and
// hashes, and pass the resulting token as the SAD equivalent (CSC v2 §8.4.2).
//
// Every response body is bounded (MaxResponse), every call has a timeout, and the
// service address passes the address guard (certs.PublicAddress) unless the client is
// made with AllowLoopback for tests and the development server. Errors are
// *chungthuc.Error: a refused PIN/OTP is EFORBIDDEN, a malformed request or expired SAD
// EINVALID, a wrong client secret EUNAUTHORIZED, an unreachable or failing service
// EUNAVAILABLE; messages never name the service's host.
package csc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
)

// OIDs used in CSC requests.
const (
	OIDSHA256          = "2.16.840.1.101.3.4.2.1"
	OIDRSAEncryption   = "1.2.840.113549.1.1.1"  // PKCS#1 v1.5 over the given hash's DigestInfo
	OIDSHA256WithRSA   = "1.2.840.113549.1.1.11" // the same, named with its hash
	OIDECPublicKey     = "1.2.840.10045.2.1"
	OIDECDSAWithSHA256 = "1.2.840.10045.4.3.2"
)

// MaxResponse bounds every response body the client reads (certificate chains included).
const MaxResponse = 1 << 20

// Config says how to reach one credential at one service.
type Config struct {
	// BaseURL is the service's base, e.g. "https://rs.example.vn"; requests go to
	// BaseURL + "/csc/v2/<method>".
	BaseURL string
	// ClientID and ClientSecret are the OAuth2 client credentials (oauth2/token,
	// grant_type=client_credentials); with Login set they are sent to auth/login as
	// HTTP Basic credentials instead.
	ClientID, ClientSecret string
	Login                  bool
	// Timeout bounds each call (10 s when zero).
	Timeout time.Duration
	// AllowLoopback lets the client reach loopback addresses (tests, csc-dev); every
	// other non-public address stays refused.
	AllowLoopback bool
}

// Client is a CSC v2 client for one service. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base *url.URL
	http *http.Client
}

// New checks cfg and returns a client. The URL must be https, or http on loopback when
// AllowLoopback is set.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the remote signing service address is not a valid https URL")
	}
	if u.Scheme == "http" && !cfg.AllowLoopback {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the remote signing service must be reached over https")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	allow := func(a netip.Addr) bool {
		return certs.PublicAddress(a) || (cfg.AllowLoopback && a.Unmap().IsLoopback())
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !allow(ap.Addr()) {
			return errGuard
		}
		return nil
	}}
	tr := &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout, MaxIdleConnsPerHost: 4, ForceAttemptHTTP2: true}
	hc := &http.Client{Transport: tr, Timeout: cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Client{cfg: cfg, base: u, http: hc}, nil
}

var errGuard = errors.New("csc: address refused by the address guard")

// Info is the answer of info.
type Info struct {
	Specs    string   `json:"specs"`
	Name     string   `json:"name"`
	Region   string   `json:"region"`
	AuthType []string `json:"authType"`
	Methods  []string `json:"methods"`
}

// Info calls info (no token needed).
func (c *Client) Info(ctx context.Context) (*Info, error) {
	var out Info
	return &out, c.call(ctx, "", "info", map[string]any{}, &out)
}

// Token obtains an access token with the configured client credentials.
func (c *Client) Token(ctx context.Context) (string, error) {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	var err error
	if c.cfg.Login {
		err = c.do(ctx, "auth/login", "application/json", strings.NewReader("{}"), func(r *http.Request) {
			r.SetBasicAuth(c.cfg.ClientID, c.cfg.ClientSecret)
		}, &out)
	} else {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.cfg.ClientID}, "client_secret": {c.cfg.ClientSecret}}
		err = c.do(ctx, "oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), nil, &out)
	}
	if err != nil {
		return "", err
	}
	if out.AccessToken == "" {
		return "", chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the remote signing service returned no access token")
	}
	return out.AccessToken, nil
}

// List calls credentials/list and returns the credential IDs.
func (c *Client) List(ctx context.Context, token string) ([]string, error) {
	var out struct {
		CredentialIDs []string `json:"credentialIDs"`
	}
	return out.CredentialIDs, c.call(ctx, token, "credentials/list", map[string]any{}, &out)
}

// Credential is the useful part of credentials/info.
type Credential struct {
	Description string `json:"description"`
	Key         struct {
		Status string   `json:"status"`
		Algo   []string `json:"algo"`
		Len    int      `json:"len"`
		Curve  string   `json:"curve,omitempty"`
	} `json:"key"`
	Cert struct {
		Status       string   `json:"status"`
		Certificates []string `json:"certificates"` // base64 DER, end entity first
	} `json:"cert"`
	Auth struct {
		Mode    string `json:"mode"` // "explicit" or "oauth2code"
		Objects []struct {
			Type  string `json:"type"`
			ID    string `json:"id"`
			Label string `json:"label,omitempty"`
		} `json:"objects,omitempty"`
	} `json:"auth"`
	SCAL      string `json:"SCAL"`
	Multisign int    `json:"multisign"`
}

// Chain decodes the certificate chain (DER, end entity first).
func (cr *Credential) Chain() ([][]byte, error) {
	var out [][]byte
	for _, s := range cr.Cert.Certificates {
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the remote signing service returned a malformed certificate")
		}
		out = append(out, der)
	}
	if len(out) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the remote signing service returned no certificate for the credential")
	}
	return out, nil
}

// CredentialInfo calls credentials/info asking for the whole chain and the auth data.
func (c *Client) CredentialInfo(ctx context.Context, token, credentialID string) (*Credential, error) {
	var out Credential
	req := map[string]any{"credentialID": credentialID, "certificates": "chain", "certInfo": true, "authInfo": true}
	return &out, c.call(ctx, token, "credentials/info", req, &out)
}

// Authorize calls credentials/authorize in the explicit mode: the SAD it returns is good
// only for exactly these hashes (SCAL2). authData maps object ids ("PIN", "OTP") to values.
func (c *Client) Authorize(ctx context.Context, token, credentialID string, hashes [][]byte, authData map[string]string) (sad string, expiresIn int, err error) {
	var ad []map[string]string
	for id, v := range authData {
		ad = append(ad, map[string]string{"id": id, "value": v})
	}
	req := map[string]any{"credentialID": credentialID, "numSignatures": len(hashes),
		"hashes": b64all(hashes), "hashAlgorithmOID": OIDSHA256, "authData": ad}
	var out struct {
		SAD       string `json:"SAD"`
		ExpiresIn int    `json:"expiresIn"`
	}
	if err := c.call(ctx, token, "credentials/authorize", req, &out); err != nil {
		return "", 0, err
	}
	if out.SAD == "" {
		return "", 0, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the remote signing service returned no authorisation")
	}
	return out.SAD, out.ExpiresIn, nil
}

// SignHash calls signatures/signHash for SHA-256 hashes with signAlgo (an OID: OIDRSAEncryption
// or OIDECDSAWithSHA256) and returns one signature per hash, in order. sad is the explicit
// authorisation (Authorize); empty when token is the credential token of CredentialToken.
func (c *Client) SignHash(ctx context.Context, token, credentialID, sad, signAlgo string, hashes [][]byte) ([][]byte, error) {
	req := map[string]any{"credentialID": credentialID, "hashes": b64all(hashes),
		"hashAlgorithmOID": OIDSHA256, "signAlgo": signAlgo, "operationMode": "S"}
	if sad != "" { // "": token is a credential-scoped token from the provider's page (oauth2code)
		req["SAD"] = sad
	}
	var out struct {
		Signatures []string `json:"signatures"`
	}
	if err := c.call(ctx, token, "signatures/signHash", req, &out); err != nil {
		return nil, err
	}
	if len(out.Signatures) != len(hashes) {
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the remote signing service returned %d signatures for %d hashes", len(out.Signatures), len(hashes))
	}
	sigs := make([][]byte, len(hashes))
	for i, s := range out.Signatures {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) == 0 {
			return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the remote signing service returned a malformed signature")
		}
		sigs[i] = b
	}
	return sigs, nil
}

// SignAlgoFor returns the signAlgo OID the client sends for a credential's key algorithm
// list (as credentials/info reports it), or "" when the key is neither RSA nor EC.
func SignAlgoFor(cr *Credential) string {
	for _, a := range cr.Key.Algo {
		switch a {
		case OIDRSAEncryption, OIDSHA256WithRSA:
			return OIDRSAEncryption
		case OIDECPublicKey, OIDECDSAWithSHA256:
			return OIDECDSAWithSHA256
		}
	}
	return ""
}

func b64all(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}

func (c *Client) call(ctx context.Context, token, method string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return chungthuc.Errorf(chungthuc.EINTERNAL, "encoding a remote signing request: %v", err)
	}
	return c.do(ctx, method, "application/json", bytes.NewReader(b), func(r *http.Request) {
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
	}, out)
}

// cscError is the CSC error body (RFC 6749 style).
type cscError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func (c *Client) do(ctx context.Context, method, ctype string, body io.Reader, decorate func(*http.Request), out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.JoinPath("csc/v2", method).String(), body)
	if err != nil {
		return chungthuc.Errorf(chungthuc.EINTERNAL, "building a remote signing request: %v", err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	if decorate != nil {
		decorate(req)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(err, errGuard) {
			return chungthuc.Errorf(chungthuc.EFORBIDDEN, "the remote signing service address is not a public address")
		}
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the remote signing service cannot be reached (%s)", method)
	}
	defer func() { _ = resp.Body.Close() }() // read fully below; a close error changes nothing
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	if err != nil {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the remote signing service answer was cut off (%s)", method)
	}
	if len(data) > MaxResponse {
		return chungthuc.Errorf(chungthuc.ETOOLARGE, "the remote signing service answer exceeds %d bytes (%s)", MaxResponse, method)
	}
	if resp.StatusCode != http.StatusOK {
		return mapError(method, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the remote signing service answer is not valid JSON (%s)", method)
	}
	return nil
}

// mapError turns a CSC error answer into a chungthuc error. The provider's description is
// kept (bounded, printable) since it tells the officer what to do; hosts never appear.
func mapError(method string, status int, data []byte) error {
	var e cscError
	_ = json.Unmarshal(data, &e) // a body that is not a CSC error leaves e empty: the status decides
	desc := printable(e.Description, 200)
	switch {
	case e.Error == "invalid_otp" || e.Error == "invalid_pin":
		return chungthuc.Errorf(chungthuc.EFORBIDDEN, "the authorisation code was refused by the signing service: %s", desc)
	case e.Error == "invalid_client" || e.Error == "unauthorized_client" || status == http.StatusUnauthorized:
		return chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "the signing service refused the client credentials (%s)", method)
	case status == http.StatusForbidden || e.Error == "access_denied":
		return chungthuc.Errorf(chungthuc.EFORBIDDEN, "the signing service refused %s: %s", method, desc)
	case status == http.StatusBadRequest:
		return chungthuc.Errorf(chungthuc.EINVALID, "the signing service refused %s: %s %s", method, printable(e.Error, 60), desc)
	case status == http.StatusTooManyRequests:
		return chungthuc.Errorf(chungthuc.ERATELIMIT, "the signing service asks to slow down (%s)", method)
	}
	return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the signing service failed (%s, HTTP %d)", method, status)
}

func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}
