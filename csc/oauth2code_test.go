package csc

import (
	"context"
	"crypto/ecdsa"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// providerPage plays the signer at the provider's page: it opens authURL, then posts the
// decision with otp, and returns where the provider sends the browser back.
func providerPage(t *testing.T, authURL, decision, otp string) (*url.URL, int) {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("provider page: %d", res.StatusCode)
	}
	u, _ := url.Parse(authURL)
	form := u.Query()
	form.Set("decision", decision)
	form.Set("otp", otp)
	res, err = hc.PostForm(strings.Split(authURL, "?")[0], form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return nil, res.StatusCode
	}
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return back, res.StatusCode
}

// TestProviderPageFlow: CSC oauth2code — the provider's page authorises exactly the hashes;
// the code (single use, PKCE-bound, for this redirect) gives a token that signs them once.
func TestProviderPageFlow(t *testing.T) {
	f := newFixture(t)
	f.ec.AuthMode = "oauth2code"
	ctx := context.Background()
	c := f.client(t, false, "s3cret")
	tok, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := c.CredentialInfo(ctx, tok, f.ec.ID)
	if err != nil || cr.Auth.Mode != "oauth2code" {
		t.Fatalf("credential info: %+v %v", cr, err)
	}
	// Explicit authorisation is refused for such a credential.
	_, _, err = c.Authorize(ctx, tok, f.ec.ID, [][]byte{digest("x")}, map[string]string{"OTP": "123456"})
	wantCode(t, err, chungthuc.EINVALID, "explicit authorisation of an oauth2code credential")

	const redirect = "http://127.0.0.1:8080/app/csc/callback"
	d := digest("bản sao số 1")
	verifier, challenge := NewPKCE()
	if len(verifier) < 43 || challenge == "" {
		t.Fatalf("PKCE %q %q", verifier, challenge)
	}
	authURL := c.AuthorizeURL(f.ec.ID, [][]byte{d}, redirect, "state-1", challenge)
	for _, p := range []string{"scope=credential", "credentialID=officer-7", "numSignatures=1", "code_challenge_method=S256", "hashAlgorithmOID=2.16.840.1.101.3.4.2.1"} {
		if !strings.Contains(authURL, p) {
			t.Fatalf("authorize URL lacks %s: %s", p, authURL)
		}
	}

	// Refused at the provider: back with access_denied and the state, no code.
	back, _ := providerPage(t, authURL, "refuse", "")
	if back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "state-1" || back.Query().Get("code") != "" {
		t.Fatalf("refusal: %v", back)
	}
	// A wrong one-time code: the page again, nobody sent back.
	if back, status := providerPage(t, authURL, "confirm", "000000"); back != nil || status != http.StatusBadRequest {
		t.Fatalf("wrong code: %v %d", back, status)
	}
	back, _ = providerPage(t, authURL, "confirm", "123456")
	code := back.Query().Get("code")
	if code == "" || back.Query().Get("state") != "state-1" || back.Host != "127.0.0.1:8080" {
		t.Fatalf("confirmed: %v", back)
	}

	// Another verifier, another redirect address: refused — and the code is spent.
	_, err = c.CredentialToken(ctx, code, redirect, "not-the-verifier-not-the-verifier-not-the-v")
	wantCode(t, err, chungthuc.EFORBIDDEN, "wrong verifier")
	_, err = c.CredentialToken(ctx, code, redirect, verifier)
	wantCode(t, err, chungthuc.EFORBIDDEN, "a spent code")

	back, _ = providerPage(t, authURL, "confirm", "123456")
	_, err = c.CredentialToken(ctx, back.Query().Get("code"), "http://127.0.0.1:8080/elsewhere", verifier)
	wantCode(t, err, chungthuc.EFORBIDDEN, "another redirect_uri")

	// Right: the token signs exactly the authorised hash, once.
	back, _ = providerPage(t, authURL, "confirm", "123456")
	credTok, err := c.CredentialToken(ctx, back.Query().Get("code"), redirect, verifier)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SignHash(ctx, credTok, f.ec.ID, "", SignAlgoFor(cr), [][]byte{digest("another")})
	wantCode(t, err, chungthuc.EINVALID, "a hash that was not authorised")

	back, _ = providerPage(t, authURL, "confirm", "123456")
	credTok, err = c.CredentialToken(ctx, back.Query().Get("code"), redirect, verifier)
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := c.SignHash(ctx, credTok, f.ec.ID, "", SignAlgoFor(cr), [][]byte{d})
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(f.ec.Key.Public().(*ecdsa.PublicKey), d, sigs[0]) {
		t.Fatal("the signature does not verify with the credential's key")
	}
	_, err = c.SignHash(ctx, credTok, f.ec.ID, "", SignAlgoFor(cr), [][]byte{d})
	wantCode(t, err, chungthuc.EINVALID, "the token used twice")

	// An expired code.
	back, _ = providerPage(t, authURL, "confirm", "123456")
	f.clock.add(3 * time.Minute)
	_, err = c.CredentialToken(ctx, back.Query().Get("code"), redirect, verifier)
	wantCode(t, err, chungthuc.EFORBIDDEN, "an expired code")

	// Bad requests are shown, never redirected: another client, a non-loopback redirect.
	for _, bad := range []string{strings.Replace(authURL, "client_id=ct-client", "client_id=evil", 1),
		strings.Replace(authURL, url.QueryEscape(redirect), url.QueryEscape("https://evil.example/cb"), 1)} {
		res, err := http.Get(bad)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("bad authorize request %s: %d", bad, res.StatusCode)
		}
	}
}
