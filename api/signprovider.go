package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/credentials"
)

// Signing at the provider's page (CSC oauth2code, issue 14 item 4):
//
//	POST /app/c/{id}/sign-provider   csrf — sends the browser to the provider's page, which
//	                                  authorises exactly the awaited digest
//	GET  /app/csc/callback?code&state — the provider sends the browser back; the code is
//	                                  exchanged, the credential signs, the step completes
//
// What the callback needs (entry, step, the state, the PKCE verifier, a deadline) travels in
// a cookie limited to the callback's path, MACed with the session's own secret (its CSRF
// token, kept in the register): any instance behind a load balancer can check it, another
// session cannot use it, and it is cleared by its first use. The callback is a GET from the
// provider's page, so it carries no CSRF field; the unguessable state, equal to the one in
// the cookie of this session, is what binds the return to the request made here.

// providerCookie is the pending provider-page authorisation; providerTTL its lifetime.
const (
	providerCookie = "ct_csc"
	providerPath   = "/app/csc/callback"
	providerTTL    = 10 * time.Minute
)

type providerRequest struct {
	ID       int64  `json:"i"`
	Step     string `json:"s"`
	State    string `json:"t"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
}

// providerMAC is the MAC of payload under the session's secret.
func providerMAC(sess *chungthuc.Session, payload []byte) []byte {
	m := hmac.New(sha256.New, []byte("chungthuc provider return\x00"+sess.CSRFToken))
	m.Write(payload)
	return m.Sum(nil)
}

// providerSigner is s.Remote when it can send signers to the provider's page for unit's
// signer officerID (0: the seal), else nil.
func (s *Server) providerSigner(unitCode string, officerID int64) ProviderSigner {
	ps, ok := s.Remote.(ProviderSigner)
	if !ok || !ps.AtProvider(unitCode, officerID) {
		return nil
	}
	return ps
}

// signProvider: POST /app/c/{id}/sign-provider.
func (s *Server) signProvider(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.Certify.ToSignOf(r.Context(), c.UnitID, c.ID)
	if err != nil {
		s.Error(w, r, s.wordStepError(r, err))
		return
	}
	p := who(r)
	if !mayComplete(p, a.Certification, a.Step) || p.Session == nil {
		s.Error(w, r, s.stepRefusal(r, certify.ReasonRole, chungthuc.EFORBIDDEN))
		return
	}
	u, err := s.Register.UnitByID(r.Context(), c.UnitID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ps := s.providerSigner(u.Code, remoteKey(a.Certification, a.Step))
	if ps == nil {
		s.Error(w, r, bi(chungthuc.ENOTFOUND, messages["vi"]["SignRemoteNone"], messages["en"]["SignRemoteNone"]))
		return
	}
	state := credentials.NewToken()
	authURL, verifier, err := ps.AuthorizeAt(u.Code, remoteKey(a.Certification, a.Step), a.ToSign.Digest, s.callbackURL(), state)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	payload, _ := json.Marshal(providerRequest{ID: c.ID, Step: string(a.Step), State: state, Verifier: verifier, Expires: s.Now().Add(providerTTL).Unix()}) // plain fields: cannot fail
	val := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(providerMAC(p.Session, payload))
	// SameSite=Lax: the provider's page sends the browser back with a top-level GET.
	http.SetCookie(w, &http.Cookie{Name: providerCookie, Value: val, Path: providerPath, HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(providerTTL / time.Second)})
	s.log.Info("remote signing at the provider's page", "request_id", requestID(r), "certification", c.ID, "step", a.Step)
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// callbackURL is where the provider's page sends the browser back.
func (s *Server) callbackURL() string { return strings.TrimRight(s.BaseURL, "/") + providerPath }

// providerReturn reads and checks this session's pending request; nil when there is none,
// it is not this session's, it expired, or state does not match.
func (s *Server) providerReturn(r *http.Request, sess *chungthuc.Session, state string) *providerRequest {
	ck, err := r.Cookie(providerCookie)
	if err != nil || sess == nil {
		return nil
	}
	b64, mac64, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return nil
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(b64)
	mac, err2 := base64.RawURLEncoding.DecodeString(mac64)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, providerMAC(sess, payload)) {
		return nil
	}
	var pr providerRequest
	if json.Unmarshal(payload, &pr) != nil || s.Now().Unix() > pr.Expires || pr.State == "" ||
		subtle.ConstantTimeCompare([]byte(pr.State), []byte(state)) != 1 {
		return nil
	}
	return &pr
}

// providerCallback: GET /app/csc/callback.
func (s *Server) providerCallback(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	q := r.URL.Query()
	pr := s.providerReturn(r, p.Session, q.Get("state"))
	// Used once, whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: providerCookie, Path: providerPath, MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	if pr == nil {
		s.Error(w, r, bi(chungthuc.EFORBIDDEN, messages["vi"]["sign.err.provider_return"], messages["en"]["sign.err.provider_return"]))
		return
	}
	back := func(key string) {
		http.Redirect(w, r, fmt.Sprintf("/app/c/%d/sign?err=%s%s", pr.ID, key, langParam(r)), http.StatusSeeOther)
	}
	if q.Get("error") != "" || q.Get("code") == "" {
		back("provider_refused")
		return
	}
	c, err := s.Register.CertificationByID(r.Context(), pr.ID)
	if err != nil || c.UnitID != p.UnitID {
		s.Error(w, r, bi(chungthuc.ENOTFOUND, "Không tìm thấy mục này trong sổ chứng thực của đơn vị.", "This entry is not in your unit's register."))
		return
	}
	a, err := s.Certify.ToSignOf(r.Context(), c.UnitID, c.ID)
	if err != nil {
		s.Error(w, r, s.wordStepError(r, err))
		return
	}
	if string(a.Step) != pr.Step || !mayComplete(p, a.Certification, a.Step) {
		s.Error(w, r, s.stepRefusal(r, certify.ReasonStep, chungthuc.ECONFLICT))
		return
	}
	u, err := s.Register.UnitByID(r.Context(), c.UnitID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ps := s.providerSigner(u.Code, remoteKey(a.Certification, a.Step))
	if ps == nil {
		s.Error(w, r, bi(chungthuc.ENOTFOUND, messages["vi"]["SignRemoteNone"], messages["en"]["SignRemoteNone"]))
		return
	}
	value, chainDER, err := ps.SignWithCode(r.Context(), u.Code, remoteKey(a.Certification, a.Step), a.ToSign.Digest, q.Get("code"), s.callbackURL(), pr.Verifier)
	if err != nil {
		s.log.Warn("remote signing at the provider's page failed", "request_id", requestID(r), "certification", c.ID, "step", a.Step, "err", err)
		switch chungthuc.ErrorCode(err) {
		case chungthuc.EFORBIDDEN:
			back("provider_return")
		case chungthuc.EUNAUTHORIZED, chungthuc.EUNSUPPORTED:
			back("remote_config")
		default:
			back("remote")
		}
		return
	}
	sig, ok := signatureOf(value, chainDER)
	if !ok {
		back("remote")
		return
	}
	s.complete(w, r, c, sig)
}
