package csc

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The development server's provider page (oauth2/authorize, scope "credential") and the
// authorization_code grant: what a remote-signing provider's own confirmation page does,
// with the fixed one-time code instead of the provider's app. Codes are single use, live
// two minutes, and are bound to the client, the redirect address, the PKCE challenge, the
// credential and the exact hashes; the token they give signs exactly those hashes once.

type codeGrant struct {
	clientID, redirect, challenge string
	sadGrant
}

// codeLifetime is how long an authorisation code can be exchanged.
const codeLifetime = 2 * time.Minute

// authRequest is a checked oauth2/authorize request.
type authRequest struct {
	q        url.Values
	cred     *DevCredential
	hashes   []string // standard base64, as signatures/signHash sends them
	redirect *url.URL
}

// parseAuthRequest checks the parameters; the error text is shown on the page (never
// redirected: a request with a bad client or redirect address must not be sent back).
func (s *DevServer) parseAuthRequest(q url.Values) (*authRequest, string) {
	a := &authRequest{q: q}
	if q.Get("response_type") != "code" || q.Get("scope") != "credential" {
		return nil, "response_type=code and scope=credential are required"
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("client_id")), []byte(s.ClientID)) != 1 {
		return nil, "unknown client_id"
	}
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "redirect_uri must be an absolute http(s) address"
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, "the development server sends codes to loopback addresses only"
	}
	a.redirect = u
	if a.cred = s.creds[q.Get("credentialID")]; a.cred == nil || a.cred.AuthMode != "oauth2code" {
		return nil, "credentialID is not a credential authorised on this page"
	}
	if q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" {
		return nil, "PKCE (code_challenge, S256) and state are required"
	}
	if q.Get("hashAlgorithmOID") != OIDSHA256 {
		return nil, "hashAlgorithmOID must be SHA-256"
	}
	for _, h := range strings.Split(q.Get("hashes"), ",") {
		d, err := base64.RawURLEncoding.DecodeString(h)
		if err != nil || len(d) != sha256.Size {
			return nil, "hashes must be base64url SHA-256 values separated by commas"
		}
		a.hashes = append(a.hashes, base64.StdEncoding.EncodeToString(d))
	}
	if n, err := strconv.Atoi(q.Get("numSignatures")); err != nil || n != len(a.hashes) || n > 16 {
		return nil, "numSignatures must equal the number of hashes (at most 16)"
	}
	return a, ""
}

var authPage = template.Must(template.New("p").Parse(`<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Xác nhận ký số — csc-dev</title></head>
<body><main>
<h1>Xác nhận ký số từ xa</h1>
<p>Dịch vụ phát triển (csc-dev). Chứng thư: <strong>{{.Cred}}</strong>. Số chữ ký: {{.N}}.</p>
<ul>{{range .Hashes}}<li><code>{{.}}</code></li>{{end}}</ul>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<label for="otp">Mã xác thực một lần</label> <input id="otp" name="otp" autocomplete="one-time-code" inputmode="numeric">
<button name="decision" value="confirm">Xác nhận ký</button>
<button name="decision" value="refuse">Từ chối</button>
</form></main></body></html>`))

// authorizePage serves oauth2/authorize: GET shows what is to be signed; POST confirms
// (with the one-time code) or refuses, and sends the browser back to the client.
func (s *DevServer) authorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed form", http.StatusBadRequest)
			return
		}
		q = r.PostForm
	} else if r.Method != http.MethodGet {
		http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
		return
	}
	a, problem := s.parseAuthRequest(q)
	if a == nil {
		http.Error(w, "oauth2/authorize: "+problem, http.StatusBadRequest)
		return
	}
	show := func(status int, msg string) {
		params := map[string]string{}
		for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "credentialID", "numSignatures", "hashes", "hashAlgorithmOID", "code_challenge", "code_challenge_method", "state"} {
			params[k] = q.Get(k)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = authPage.Execute(w, map[string]any{"Cred": a.cred.Description, "N": len(a.hashes), "Hashes": a.hashes, "Params": params, "Error": msg}) // the browser went away: nothing to do
	}
	if r.Method == http.MethodGet {
		show(http.StatusOK, "")
		return
	}
	back := *a.redirect
	bq := back.Query()
	bq.Set("state", q.Get("state"))
	if q.Get("decision") != "confirm" {
		bq.Set("error", "access_denied")
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, back.String(), http.StatusSeeOther)
		return
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(q.Get("otp"))), []byte(s.OTP)) != 1 {
		show(http.StatusBadRequest, "Mã xác thực không đúng.")
		return
	}
	code := randomToken()
	s.mu.Lock()
	s.codes[code] = codeGrant{clientID: q.Get("client_id"), redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
		sadGrant: sadGrant{credential: a.cred.ID, hashes: strings.Join(a.hashes, ","), expires: s.now().Add(codeLifetime)}}
	s.mu.Unlock()
	bq.Set("code", code)
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}

// exchangeCode is oauth2/token with grant_type=authorization_code: the code (single use,
// whatever happens), the client, the redirect address and the PKCE verifier must all match;
// the access token it gives is also the SAD for exactly the authorised hashes.
func (s *DevServer) exchangeCode(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	s.mu.Lock()
	g, ok := s.codes[f.Get("code")]
	delete(s.codes, f.Get("code"))
	s.mu.Unlock()
	if !s.clientOK(f.Get("client_id"), f.Get("client_secret")) {
		fail(w, http.StatusUnauthorized, "invalid_client", "wrong client credentials")
		return
	}
	sum := sha256.Sum256([]byte(f.Get("code_verifier")))
	switch {
	case !ok || !s.now().Before(g.expires):
		fail(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	case g.clientID != f.Get("client_id") || g.redirect != f.Get("redirect_uri"):
		fail(w, http.StatusBadRequest, "invalid_grant", "the code was issued for another client or redirect_uri")
		return
	case subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.challenge)) != 1:
		fail(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the challenge")
		return
	}
	life := s.SADLifetime
	if life <= 0 {
		life = 5 * time.Minute
	}
	t := randomToken()
	s.mu.Lock()
	s.tokens[t] = s.now().Add(life)
	s.sads[t] = sadGrant{credential: g.credential, hashes: g.hashes, expires: s.now().Add(life)}
	s.mu.Unlock()
	reply(w, map[string]any{"access_token": t, "token_type": "Bearer", "expires_in": int(life / time.Second)})
}
