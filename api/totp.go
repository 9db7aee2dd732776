package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
)

// The optional second factor (issue 12): RFC 6238 codes from an authenticator application.
//
// Enrolment (/app/account/totp): the page generates a secret, kept in the register as
// pending, shows it as a QR code of its otpauth:// URI and as text, and enables it only when
// a current code verifies; from then on the code's step is the last accepted one. Disabling
// takes a current code or the password. An administrator's password reset, `account passwd`
// and `account totp-reset` remove it.
//
// Login: a right password for an account with a second factor creates no session but a
// pending login in the register (any instance can finish it) under a random cookie with
// Path /login, for pendingLoginTTL, and sends the browser to /login/totp. The code is
// throttled exactly like the password — the same keys (username at the network, the
// network) plus one for the account, which only someone who knows the password can count —
// and fails with one message whatever went wrong (wrong, reused, too early, expired). A code
// is accepted only if the register's compare-and-set of its step succeeds (never twice), and
// the login only by the request that deletes the pending login (used once). Then the session
// is created as for a password alone (startSession).
const (
	totpPath           = "/app/account/totp"
	totpLoginPath      = "/login/totp"
	pendingLoginCookie = "ct_login_pending"
	pendingLoginTTL    = 5 * time.Minute
	totpIssuer         = "chungthuc"
)

// mustEnrol says whether acct, logged in, must enrol a second factor before anything else:
// a system administrator without one while RequireTOTPForAdmin is set.
func (s *Server) mustEnrol(acct *chungthuc.Account) bool {
	return s.RequireTOTPForAdmin && acct.Role == chungthuc.RoleSystemAdmin && acct.TOTPSince.IsZero()
}

// forcedEnrol keeps such a session on the second-factor page as forcedChange keeps one on
// the password page: GET requests elsewhere under /app are sent there (303), anything else is
// refused (403). The password page stays reachable, and logging out.
func (s *Server) forcedEnrol(w http.ResponseWriter, r *http.Request, p *principal) bool {
	if p.Account == nil || !s.mustEnrol(p.Account) || r.URL.Path == totpPath || r.URL.Path == passwordPath {
		return false
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, totpPath, http.StatusSeeOther)
	} else {
		s.Error(w, r, bi(chungthuc.EFORBIDDEN, "Hãy bật xác thực hai bước trước khi làm việc.", "Turn on two-step verification first."))
	}
	return true
}

// awaitTOTP answers a right password of an account with a second factor: a pending login in
// the register, its cookie, and a 303 to the code page.
func (s *Server) awaitTOTP(w http.ResponseWriter, r *http.Request, acct *chungthuc.Account, next string) {
	now := s.Now()
	tok := credentials.NewToken()
	p := &chungthuc.PendingLogin{TokenHash: credentials.TokenHash(tok), AccountID: acct.ID, Next: next, CreatedAt: now, ExpiresAt: now.Add(pendingLoginTTL)}
	if err := s.Accounts.CreatePendingLogin(r.Context(), p); err != nil {
		s.Error(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: pendingLoginCookie, Value: tok, Path: "/login", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(pendingLoginTTL / time.Second)})
	http.Redirect(w, r, totpLoginPath, http.StatusSeeOther)
}

// pendingLogin returns the live pending login of the request's cookie and its account, or
// nil (none, expired, the account disabled or without a second factor now).
func (s *Server) pendingLogin(r *http.Request) (*chungthuc.PendingLogin, *chungthuc.Account, error) {
	c, err := r.Cookie(pendingLoginCookie)
	if err != nil || c.Value == "" {
		return nil, nil, nil
	}
	p, err := s.Accounts.PendingLoginByHash(r.Context(), credentials.TokenHash(c.Value))
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	if !s.Now().Before(p.ExpiresAt) {
		return nil, nil, nil
	}
	acct, err := s.Accounts.AccountByID(r.Context(), p.AccountID)
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	if acct.Disabled || acct.TOTPSince.IsZero() {
		return nil, nil, nil
	}
	return p, acct, nil
}

// renderTOTPLogin shows the code page with a fresh login CSRF token.
func (s *Server) renderTOTPLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok := credentials.NewToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.render(w, r, "login_totp.html", map[string]any{"CSRF": tok, "Error": msg})
}

// totpLoginPage shows the code form of a pending login (GET /login/totp); without one, the
// login page.
func (s *Server) totpLoginPage(w http.ResponseWriter, r *http.Request) {
	p, _, err := s.pendingLogin(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if p == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.renderTOTPLogin(w, r, http.StatusOK, "")
}

// totpLoginKeys are the throttling keys of a code: the password's (loginKeys) and the
// account's own.
func totpLoginKeys(acct *chungthuc.Account, network string) []string {
	return append(loginKeys(acct.Username, network), fmt.Sprintf("totp:account:%d", acct.ID))
}

// totpLogin checks the code of a pending login (POST /login/totp; the csrf middleware has
// checked the login cookie's token) and on success logs in (startSession). Failures are
// counted and audited (login.failed, why totp, totp_reused, throttled or expired) and answer
// 401 with one message; the pending login stays for another try until it expires.
func (s *Server) totpLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	code := r.FormValue("code")
	now := s.Now()
	p, acct, err := s.pendingLogin(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if p == nil {
		// Nothing to count against: start again with the password.
		_ = s.audit(r, &chungthuc.AuditEntry{Action: "login.failed", Actor: "anonymous", Subject: "pending-login",
			Detail: fmt.Sprintf(`{"ip":%q,"why":"expired"}`, clientAddr(r))})
		tok := credentials.NewToken()
		http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
		http.SetCookie(w, &http.Cookie{Name: pendingLoginCookie, Path: "/login", MaxAge: -1})
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, r, "login.html", map[string]any{"CSRF": tok, "Next": "/app/", "Error": s.t(r, "totp.expired")})
		return
	}
	keys := totpLoginKeys(acct, clientNet(r))
	fail := func(why string) {
		counts, err := s.Accounts.LoginFailed(r.Context(), keys, now, throttle.Window)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		// A failure to record a failed login is logged (s.audit); the refusal stands either way.
		_ = s.audit(r, &chungthuc.AuditEntry{Action: "login.failed", UnitID: acct.UnitID, Actor: "anonymous", Subject: fmt.Sprintf("account:%d", acct.ID),
			Detail: fmt.Sprintf(`{"ip":%q,"why":%q,"failures":%d,"address_failures":%d,"account_code_failures":%d}`,
				clientAddr(r), why, counts[0].Count, counts[1].Count, counts[2].Count)})
		s.renderTOTPLogin(w, r, http.StatusUnauthorized, s.t(r, "totp.bad"))
	}
	counts, err := s.Accounts.LoginFailures(r.Context(), keys)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if throttle.Wait(counts, now) > 0 {
		fail("throttled")
		return
	}
	t, err := s.Accounts.TOTPOf(r.Context(), acct.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	step, ok := credentials.CheckTOTP(t.Secret, code, now)
	if !ok {
		fail("totp")
		return
	}
	if err := s.Accounts.UseTOTPStep(r.Context(), acct.ID, step); chungthuc.ErrorCode(err) == chungthuc.ECONFLICT {
		fail("totp_reused")
		return
	} else if err != nil {
		s.Error(w, r, err)
		return
	}
	// The one request that deletes the pending login finishes it.
	if err := s.Accounts.DeletePendingLogin(r.Context(), p.TokenHash); chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		fail("expired")
		return
	} else if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Accounts.ForgetLoginFailures(r.Context(), []string{keys[0], keys[2]}); err != nil {
		s.Error(w, r, err)
		return
	}
	s.startSession(w, r, acct, safeNext(p.Next), "totp")
}

// groupSecret writes a base32 secret in groups of four for typing.
func groupSecret(secret string) string {
	var b strings.Builder
	for i, c := range secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// totpLabel is the account's name in authenticator applications: username@host of the
// service's base URL.
func (s *Server) totpLabel(acct *chungthuc.Account) string {
	if u, err := url.Parse(s.BaseURL); err == nil && u.Hostname() != "" {
		return acct.Username + "@" + u.Hostname()
	}
	return acct.Username
}

// totpPage shows the second-factor page (GET /app/account/totp): when it is on, since when and
// the form to turn it off; otherwise the enrolment — a pending secret (made on the first
// visit, kept for the next), its QR code and text, and the form for a current code.
func (s *Server) totpPage(w http.ResponseWriter, r *http.Request) {
	s.renderTOTP(w, r, http.StatusOK, map[string]any{"Done": r.URL.Query().Get("done")})
}

func (s *Server) renderTOTP(w http.ResponseWriter, r *http.Request, status int, data map[string]any) {
	p := who(r)
	if p.Account == nil {
		s.Error(w, r, chungthuc.Errorf(chungthuc.EFORBIDDEN, "no account"))
		return
	}
	t, err := s.Accounts.TOTPOf(r.Context(), p.Account.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	data["Enabled"] = t.Secret != ""
	data["Since"] = t.EnabledAt
	data["Required"] = s.mustEnrol(p.Account)
	if t.Secret == "" {
		if t.Pending == "" {
			t.Pending = credentials.NewTOTPSecret()
			if err := s.Accounts.SetTOTPPending(r.Context(), p.Account.ID, t.Pending); err != nil {
				s.Error(w, r, err)
				return
			}
		}
		uri := credentials.TOTPURI(totpIssuer, s.totpLabel(p.Account), t.Pending)
		data["QR"], data["Secret"], data["Label"] = qrSVG(uri), groupSecret(t.Pending), s.totpLabel(p.Account)
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.render(w, r, "totp.html", data)
}

// totpAudit appends a security audit entry about the session's own second factor.
func (s *Server) totpAudit(r *http.Request, action, detail string) error {
	p := who(r)
	return s.audit(r, &chungthuc.AuditEntry{Action: action, UnitID: p.Account.UnitID, Actor: p.actor(),
		Subject: fmt.Sprintf("account:%d", p.Account.ID), Detail: fmt.Sprintf(`{%s"ip":%q}`, detail, clientAddr(r))})
}

// totpEnable turns the second factor on (POST /app/account/totp) when the code verifies
// against the pending secret; the account's other sessions end, and it is audited
// (totp.enable). A wrong code answers 400 with the page (the same secret), audited
// (totp.enable.refused).
func (s *Server) totpEnable(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	p := who(r)
	if p.Account == nil || p.Session == nil {
		s.Error(w, r, chungthuc.Errorf(chungthuc.EFORBIDDEN, "no account"))
		return
	}
	t, err := s.Accounts.TOTPOf(r.Context(), p.Account.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if t.Secret != "" {
		http.Redirect(w, r, totpPath, http.StatusSeeOther)
		return
	}
	step, ok := credentials.CheckTOTP(t.Pending, r.FormValue("code"), s.Now())
	if !ok {
		_ = s.totpAudit(r, "totp.enable.refused", `"why":"code",`)
		s.renderTOTP(w, r, http.StatusBadRequest, map[string]any{"Error": s.t(r, "totp.wrong")})
		return
	}
	if err := s.Accounts.EnableTOTP(r.Context(), p.Account.ID, t.Pending, step, s.Now()); err != nil {
		if chungthuc.ErrorCode(err) == chungthuc.ECONFLICT {
			// Another page replaced the pending secret meanwhile: show the current one.
			s.renderTOTP(w, r, http.StatusConflict, map[string]any{"Error": s.t(r, "totp.wrong")})
			return
		}
		s.Error(w, r, err)
		return
	}
	n, err := s.Accounts.DeleteSessions(r.Context(), p.Account.ID, p.Session.TokenHash)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.totpAudit(r, "totp.enable", fmt.Sprintf(`"sessions_ended":%d,`, n)); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, totpPath+"?done=on", http.StatusSeeOther)
}

// totpDisable turns the second factor off (POST /app/account/totp/disable) given a current
// code (claimed like a login's: never reused) or the password; audited (totp.disable, or
// totp.disable.refused with a 400 and the page).
func (s *Server) totpDisable(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	p := who(r)
	if p.Account == nil {
		s.Error(w, r, chungthuc.Errorf(chungthuc.EFORBIDDEN, "no account"))
		return
	}
	t, err := s.Accounts.TOTPOf(r.Context(), p.Account.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if t.Secret == "" {
		http.Redirect(w, r, totpPath, http.StatusSeeOther)
		return
	}
	by := ""
	if pw := r.FormValue("current"); pw != "" && credentials.CheckPassword(p.Account.PasswordHash, pw) {
		by = "password"
	} else if step, ok := credentials.CheckTOTP(t.Secret, r.FormValue("code"), s.Now()); ok {
		if err := s.Accounts.UseTOTPStep(r.Context(), p.Account.ID, step); err == nil {
			by = "code"
		} else if chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
			s.Error(w, r, err)
			return
		}
	}
	if by == "" {
		_ = s.totpAudit(r, "totp.disable.refused", "")
		s.renderTOTP(w, r, http.StatusBadRequest, map[string]any{"Error": s.t(r, "totp.disable.bad")})
		return
	}
	if _, err := s.Accounts.DisableTOTP(r.Context(), p.Account.ID); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.totpAudit(r, "totp.disable", fmt.Sprintf(`"by":%q,`, by)); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, totpPath+"?done=off", http.StatusSeeOther)
}
