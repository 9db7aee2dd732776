package csc

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"

	"github.com/chungthuc/chungthuc"
)

// The provider-page authorisation of CSC v2 (credentials whose credentials/info reports
// auth.mode "oauth2code"): instead of an OTP typed into our page, the signer is sent to the
// provider's own page (or app confirmation behind it), which authorises exactly the given
// hashes and sends the browser back with a code; the code, exchanged at oauth2/token with
// the PKCE verifier, gives a credential-scoped access token that signatures/signHash accepts
// in place of a SAD (SCAL2). Parameter names as in CSC API v2.0.0.2 §8.4.2 (oauth2/authorize
// with scope "credential": credentialID, numSignatures, hashes as base64url joined by
// commas, hashAlgorithmOID) and RFC 7636 (PKCE, S256).

// NewPKCE returns a PKCE verifier (RFC 7636: 43 characters of [A-Za-z0-9-_]) and its S256
// challenge.
func NewPKCE() (verifier, challenge string) {
	verifier = base64.RawURLEncoding.EncodeToString([]byte(randomToken()[:32]))
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// AuthorizeURL is the provider's page that authorises credentialID to sign exactly hashes
// (SHA-256) for this client, returning to redirectURI with state and a code.
func (c *Client) AuthorizeURL(credentialID string, hashes [][]byte, redirectURI, state, challenge string) string {
	hs := make([]string, len(hashes))
	for i, h := range hashes {
		hs[i] = base64.RawURLEncoding.EncodeToString(h)
	}
	q := url.Values{
		"response_type": {"code"}, "client_id": {c.cfg.ClientID}, "redirect_uri": {redirectURI},
		"scope": {"credential"}, "credentialID": {credentialID}, "numSignatures": {strconv.Itoa(len(hashes))},
		"hashes": {strings.Join(hs, ",")}, "hashAlgorithmOID": {OIDSHA256},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "state": {state},
	}
	return c.base.JoinPath("csc/v2", "oauth2/authorize").String() + "?" + q.Encode()
}

// CredentialToken exchanges the code the provider's page returned (authorization_code
// grant with the PKCE verifier) for the credential-scoped access token. EFORBIDDEN when
// the provider refuses the code (used, expired, another verifier or redirect).
func (c *Client) CredentialToken(ctx context.Context, code, redirectURI, verifier string) (string, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI},
		"client_id": {c.cfg.ClientID}, "client_secret": {c.cfg.ClientSecret}, "code_verifier": {verifier}}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := c.do(ctx, "oauth2/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), nil, &out); err != nil {
		if chungthuc.ErrorCode(err) == chungthuc.EINVALID { // invalid_grant: used, expired, not this verifier
			return "", chungthuc.Wrap(err, chungthuc.EFORBIDDEN, "the remote signing service did not accept the authorisation")
		}
		return "", err
	}
	if out.AccessToken == "" {
		return "", chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the remote signing service returned no access token")
	}
	return out.AccessToken, nil
}
