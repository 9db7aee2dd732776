package api

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
)

// The workspace's pages for signing outside the service (issue 14 item 5; the flow in
// signer/EXTERNAL.md):
//
//	GET  /app/to-sign              "Chờ ký": the officer's own entries waiting for their signature
//	GET  /app/to-seal              "Chờ đóng dấu": the unit's entries waiting for the seal (clerk, unit admin)
//	GET  /app/c/{id}/sign          what is signed, and how: the local agent (JS), a pasted value, remote signing
//	POST /app/c/{id}/signature     csrf, signature (base64), chain — from the agent's JS or pasted
//	POST /app/c/{id}/sign-remote   csrf, otp — the server has the configured CSC credential sign
//
// The steps themselves are certify.Service.CompleteSignature's, with its checks (the
// officer of the entry only; the seal by a clerk or the unit administrator; unit isolation;
// the signature verified against the registered certificate).

// queueLimit bounds a queue page.
const queueLimit = 200

// mayComplete reports whether p may complete step of c (the page is not shown otherwise):
// the officer's step by the officer of the entry, the seal by a records clerk or the unit
// administrator of c's unit. The workflow checks the same again.
func mayComplete(p *principal, c *chungthuc.Certification, step chungthuc.SignatureStep) bool {
	if p == nil || p.UnitID == 0 || p.UnitID != c.UnitID {
		return false
	}
	if step == chungthuc.StepSeal {
		return p.Role == chungthuc.RoleClerk || p.Role == chungthuc.RoleUnitAdmin
	}
	return p.OfficerID != 0 && p.OfficerID == c.OfficerID && (p.Role == chungthuc.RoleOfficer || p.Role == chungthuc.RoleUnitAdmin)
}

// mayQueue reports whether p has the queue of step: officers (and unit administrators who
// certify) the officer's step, records clerks and unit administrators the seal.
func mayQueue(p *principal, step chungthuc.SignatureStep) bool {
	if p == nil || p.UnitID == 0 {
		return false
	}
	if step == chungthuc.StepSeal {
		return p.Role == chungthuc.RoleClerk || p.Role == chungthuc.RoleUnitAdmin
	}
	return canCertify(p) == nil
}

// queueRow is one waiting entry of a queue page.
type queueRow struct {
	C         *chungthuc.Certification
	ExpiresAt time.Time
}

// waiting lists the entries of p's unit waiting at step that p may complete.
func (s *Server) waiting(r *http.Request, p *principal, step chungthuc.SignatureStep) ([]queueRow, error) {
	ws, err := s.Register.SignatureWaits(r.Context(), p.UnitID, step, queueLimit)
	if err != nil {
		return nil, err
	}
	var rows []queueRow
	for _, w := range ws {
		c, err := s.Register.CertificationByID(r.Context(), w.CertificationID)
		if err != nil {
			return nil, err
		}
		if mayComplete(p, c, step) {
			rows = append(rows, queueRow{C: c, ExpiresAt: w.ExpiresAt})
		}
	}
	return rows, nil
}

// waitCounts are the sizes of p's queues for the dashboard (-1: not p's queue).
func (s *Server) waitCounts(r *http.Request, p *principal) (toSign, toSeal int, err error) {
	toSign, toSeal = -1, -1
	for _, q := range []struct {
		step chungthuc.SignatureStep
		n    *int
	}{{chungthuc.StepOfficerSignature, &toSign}, {chungthuc.StepSeal, &toSeal}} {
		if !mayQueue(p, q.step) {
			continue
		}
		rows, err := s.waiting(r, p, q.step)
		if err != nil {
			return 0, 0, err
		}
		*q.n = len(rows)
	}
	return toSign, toSeal, nil
}

// signQueue: GET /app/to-sign and /app/to-seal.
func (s *Server) signQueue(step chungthuc.SignatureStep) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setLang(w, r)
		p := who(r)
		if !mayQueue(p, step) {
			s.Error(w, r, s.stepRefusal(r, certify.ReasonRole, chungthuc.EFORBIDDEN))
			return
		}
		rows, err := s.waiting(r, p, step)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		s.render(w, r, "queue.html", map[string]any{"Step": string(step), "Rows": rows, "Seal": step == chungthuc.StepSeal})
	}
}

// stepRefusal is the i18n message of a refused step as an error of code.
func (s *Server) stepRefusal(r *http.Request, reason, code string) error {
	vi, en := messages["vi"]["sign.err."+reason], messages["en"]["sign.err."+reason]
	if vi == "" {
		vi, en = messages["vi"]["sign.err.remote"], messages["en"]["sign.err.remote"]
	}
	return bi(code, vi, en)
}

// remoteKey is the officer id whose remote credential signs step of c (0: the seal's).
func remoteKey(c *chungthuc.Certification, step chungthuc.SignatureStep) int64 {
	if step == chungthuc.StepSeal {
		return 0
	}
	return c.OfficerID
}

// signPage: GET /app/c/{id}/sign.
// An ?err= key (a return from the provider's page, providerCallback) shows its message.
func (s *Server) signPage(w http.ResponseWriter, r *http.Request) {
	status, key := http.StatusOK, ""
	switch k := r.URL.Query().Get("err"); k {
	case "provider_refused", "provider_return", "remote", "remote_config":
		status, key = http.StatusOK, k
	}
	s.showSign(w, r, status, key)
}

// showSign renders the signing page of entry {id} with status and an error message key
// (""), or the error page when the entry waits for nothing p may do.
func (s *Server) showSign(w http.ResponseWriter, r *http.Request, status int, errKey string) {
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
	if !mayComplete(p, a.Certification, a.Step) {
		s.Error(w, r, s.stepRefusal(r, certify.ReasonRole, chungthuc.EFORBIDDEN))
		return
	}
	u, err := s.Register.UnitByID(r.Context(), c.UnitID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	data := map[string]any{"C": a.Certification, "Step": string(a.Step), "Seal": a.Step == chungthuc.StepSeal, "ExpiresAt": a.ExpiresAt,
		"DigestHex": hex.EncodeToString(a.ToSign.Digest), "Digest": base64.StdEncoding.EncodeToString(a.ToSign.Digest),
		"Algorithm": a.ToSign.SignatureAlgorithm, "Remote": s.Remote != nil && s.Remote.Has(u.Code, remoteKey(a.Certification, a.Step))}
	formAction := ""
	if ps := s.providerSigner(u.Code, remoteKey(a.Certification, a.Step)); ps != nil {
		data["Provider"] = true
		// The form's answer is a redirect to the provider's page: form-action must allow it.
		formAction = " " + ps.ProviderOrigin(u.Code, remoteKey(a.Certification, a.Step))
	}
	if crt, err := x509.ParseCertificate(a.ToSign.Certificate); err == nil {
		data["CertSubject"] = crt.Subject.CommonName
		data["CertSerial"] = hex.EncodeToString(crt.SerialNumber.Bytes())
	}
	if errKey != "" {
		data["Error"] = s.t(r, "sign.err."+errKey)
	}
	if s.AgentURL != "" {
		data["AgentURL"] = s.AgentURL
		data["AgentHelp"] = strings.ReplaceAll(s.t(r, "SignLocalHelp"), "{agent}", s.AgentURL)
		// The page's script may reach the agent (and nothing else off-site).
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy+formAction+"; connect-src 'self' "+agentOrigin(s.AgentURL))
	} else if formAction != "" {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy+formAction)
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.render(w, r, "sign.html", data)
}

// agentOrigin is scheme://host[:port] of the agent's URL.
func agentOrigin(agent string) string {
	u, err := url.Parse(agent)
	if err != nil {
		return "'none'"
	}
	return u.Scheme + "://" + u.Host
}

// signatureForm: POST /app/c/{id}/signature — a value made by the officer's or clerk's
// device (the agent's answer posted by sign.js, or pasted), with an optional chain.
func (s *Server) signatureForm(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v, err := decodeB64(r.FormValue("signature"))
	if err != nil || len(v) == 0 {
		s.showSign(w, r, http.StatusBadRequest, "empty")
		return
	}
	sig := certify.Signature{Value: v}
	if sig.Chain, err = parseChainField(r.FormValue("chain")); err != nil {
		s.showSign(w, r, http.StatusBadRequest, certify.ReasonCertificate)
		return
	}
	s.complete(w, r, c, sig)
}

// parseChainField reads certificates given as PEM, or base64 DER separated by white space.
func parseChainField(v string) ([]*x509.Certificate, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	if strings.Contains(v, "-----BEGIN") {
		return certify.ParseCertificates([]byte(v))
	}
	var out []*x509.Certificate
	for _, f := range strings.Fields(v) {
		der, err := decodeB64(f)
		if err != nil {
			return nil, err
		}
		crt, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, err
		}
		out = append(out, crt)
	}
	return out, nil
}

// signRemote: POST /app/c/{id}/sign-remote — the signer's one-time code; the configured
// CSC credential of the entry's officer (officer step) or of the unit's seal signs the
// awaited digest, then the step is completed. A refused code leaves the entry waiting.
func (s *Server) signRemote(w http.ResponseWriter, r *http.Request) {
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
	// Before anything reaches the provider: nobody else's credential is ever asked to sign.
	if !mayComplete(who(r), a.Certification, a.Step) {
		s.Error(w, r, s.stepRefusal(r, certify.ReasonRole, chungthuc.EFORBIDDEN))
		return
	}
	u, err := s.Register.UnitByID(r.Context(), c.UnitID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if s.Remote == nil || !s.Remote.Has(u.Code, remoteKey(a.Certification, a.Step)) {
		s.Error(w, r, bi(chungthuc.ENOTFOUND, messages["vi"]["SignRemoteNone"], messages["en"]["SignRemoteNone"]))
		return
	}
	value, chainDER, err := s.Remote.Sign(r.Context(), u.Code, remoteKey(a.Certification, a.Step), a.ToSign.Digest, r.FormValue("otp"))
	if err != nil {
		key, status := "remote", http.StatusServiceUnavailable
		switch chungthuc.ErrorCode(err) {
		case chungthuc.EFORBIDDEN:
			key, status = "otp", http.StatusForbidden
		case chungthuc.EUNAUTHORIZED, chungthuc.EUNSUPPORTED:
			key = "remote_config"
		}
		s.log.Warn("remote signing failed", "request_id", requestID(r), "certification", c.ID, "step", a.Step, "err", err)
		s.showSign(w, r, status, key)
		return
	}
	sig, ok := signatureOf(value, chainDER)
	if !ok {
		s.showSign(w, r, http.StatusBadGateway, "remote")
		return
	}
	s.complete(w, r, c, sig)
}

// signatureOf is a remote signature value with the credential's chain (DER, leaf first);
// false when a certificate of the chain cannot be read.
func signatureOf(value []byte, chainDER [][]byte) (certify.Signature, bool) {
	sig := certify.Signature{Value: value}
	for _, der := range chainDER {
		crt, err := x509.ParseCertificate(der)
		if err != nil {
			return sig, false
		}
		sig.Chain = append(sig.Chain, crt)
	}
	return sig, true
}

// complete runs the awaited step with sig for the session's principal: to the entry's page
// ("signed, waiting for the seal") after the officer's step, to the receipt when issued
// (the access code kept for the session, shown once), the signing page again with the
// refusal when the entry still waits, the error page otherwise.
func (s *Server) complete(w http.ResponseWriter, r *http.Request, c *chungthuc.Certification, sig certify.Signature) {
	p := who(r)
	sig.UnitID, sig.ID = c.UnitID, c.ID
	sig.Actor = certify.Actor{OfficerID: p.OfficerID, Role: p.Role, Name: p.actor()}
	next, out, err := s.Certify.CompleteSignature(r.Context(), sig)
	if err != nil {
		var se *certify.StepError
		if errors.As(err, &se) && (se.Reason == certify.ReasonSignatureInvalid || se.Reason == certify.ReasonCertificate) {
			s.showSign(w, r, statusOf[chungthuc.ErrorCode(err)], se.Reason)
			return
		}
		s.Error(w, r, s.wordStepError(r, err))
		return
	}
	if next != nil {
		http.Redirect(w, r, fmt.Sprintf("/app/c/%d?signed=1%s", c.ID, langParam(r)), http.StatusSeeOther)
		return
	}
	s.metrics.count("chungthuc_certifications_total", `outcome="ok"`)
	if p.Session != nil {
		s.codes.put(p.Session.TokenHash, out.Certification.ID, out.AccessCode, out.Dropped, s.Now())
	}
	http.Redirect(w, r, fmt.Sprintf("/app/c/%d/receipt", c.ID), http.StatusSeeOther)
}

// wordStepError gives a StepError the workspace's words for its reason; other errors pass.
func (s *Server) wordStepError(r *http.Request, err error) error {
	var se *certify.StepError
	if errors.As(err, &se) {
		if _, ok := messages["vi"]["sign.err."+se.Reason]; ok {
			return s.stepRefusal(r, se.Reason, chungthuc.ErrorCode(err))
		}
	}
	return err
}
