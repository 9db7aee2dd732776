package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
)

// Session policy (login throttling: credentials.DefaultThrottle).
const (
	sessionCookie   = "ct_session"
	loginCSRFCookie = "ct_login_csrf"
	sessionTTL      = 12 * time.Hour
)

// principal is who is making a request.
type principal struct {
	Account   *chungthuc.Account // nil for an API token
	Token     *chungthuc.APIToken
	Session   *chungthuc.Session
	UnitID    int64
	OfficerID int64
	Role      chungthuc.Role
}

func (p *principal) actor() string {
	if p.Token != nil {
		return fmt.Sprintf("token:%d", p.Token.ID)
	}
	return fmt.Sprintf("account:%d", p.Account.ID)
}

func who(r *http.Request) *principal {
	p, _ := r.Context().Value(keyAuth).(*principal)
	return p
}

// sessionFrom returns the principal of a valid session cookie, or nil.
func (s *Server) sessionFrom(r *http.Request) *principal {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	sess, err := s.Accounts.SessionByHash(r.Context(), credentials.TokenHash(c.Value))
	if err != nil || !s.Now().Before(sess.ExpiresAt) {
		return nil
	}
	acct, err := s.Accounts.AccountByID(r.Context(), sess.AccountID)
	if err != nil || acct.Disabled {
		return nil
	}
	return &principal{Account: acct, Session: sess, UnitID: acct.UnitID, OfficerID: acct.OfficerID, Role: acct.Role}
}

// sessionOf is the session the csrf middleware found for this request, or else the one of
// its cookie (nil when there is none).
func (s *Server) sessionOf(r *http.Request) *principal {
	if p := who(r); p != nil && p.Session != nil {
		return p
	}
	return s.sessionFrom(r)
}

// sessionRequired sends visitors without a valid session to the login page.
func (s *Server) sessionRequired(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := s.sessionOf(r)
		if p == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.Error(w, r, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại. (Please log in again.)"))
			return
		}
		if s.forcedChange(w, r, p) || s.forcedEnrol(w, r, p) {
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyAuth, p)))
	})
}

// withSession runs h with the session's principal (nil when there is none).
func (s *Server) withSession(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p := s.sessionOf(r); p != nil {
			r = r.WithContext(context.WithValue(r.Context(), keyAuth, p))
		}
		h(w, r)
	}
}

// bearerRequired authenticates API requests by an API token.
func (s *Server) bearerRequired(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chungthuc"`)
			s.Error(w, r, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "an API token is required (Authorization: Bearer …)"))
			return
		}
		t, err := s.Accounts.APITokenByHash(r.Context(), credentials.TokenHash(strings.TrimSpace(tok)))
		if err != nil || !t.RevokedAt.IsZero() {
			if err != nil && chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
				s.Error(w, r, err)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="chungthuc", error="invalid_token"`)
			s.Error(w, r, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "the API token is not valid"))
			return
		}
		// The token acts as its officer: an officer no longer active (or moved) ends it, on
		// every route behind this middleware.
		o, err := s.Register.OfficerByID(r.Context(), t.OfficerID)
		if err != nil && chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
			s.Error(w, r, err)
			return
		}
		if err != nil || !o.Active || o.UnitID != t.UnitID {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chungthuc", error="invalid_token"`)
			s.Error(w, r, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "the API token is not valid"))
			return
		}
		// A token acts as an officer, or as a records clerk when its record is a clerk's
		// (the clerk applies the unit's seal through the API: issue 14).
		role := chungthuc.RoleOfficer
		if o.Role == chungthuc.RoleClerk {
			role = chungthuc.RoleClerk
		}
		p := &principal{Token: t, UnitID: t.UnitID, OfficerID: t.OfficerID, Role: role}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keyAuth, p)))
	})
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	tok := credentials.NewToken()
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	s.render(w, r, "login.html", map[string]any{"CSRF": tok, "Next": safeNext(r.URL.Query().Get("next"))})
}

// throttle is the login throttling policy (a variable for tests).
var throttle = credentials.DefaultThrottle

// loginKeys are the throttling keys of a login attempt: the username at the client's
// network (IPv4 address, IPv6 /64), and the network. The username enters only hashed, and
// known and unknown usernames are treated alike.
func loginKeys(username, network string) []string {
	return []string{"login:" + credentials.TokenHash(username)[:32] + "@" + network, "addr:" + network}
}

// login checks a username and password. Failures are counted per username and client
// network and per client network, atomically in the register; an attempt made before the
// delay its counts call for (credentials.Throttle) fails without the password being
// looked at, and counts too. Every failure — unknown user, wrong password, disabled
// account, too early — gets the same answer; unknown usernames cost the same hashing time.
// For an account with a second factor a right password leads to the code page (totp.go),
// not to a session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	// The csrf middleware has checked the login cookie's token.
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	username := strings.ToLower(strings.TrimSpace(r.FormValue("username")))
	password := r.FormValue("password")
	next := safeNext(r.FormValue("next"))
	now := s.Now()
	network := clientNet(r)
	keys := loginKeys(username, network)
	var known *chungthuc.Account
	fail := func(why string) {
		counts, err := s.Accounts.LoginFailed(r.Context(), keys, now, throttle.Window)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		// A known account is named by id; an unknown name only by a short hash of it (people
		// sometimes type their password into the username field: it must not reach the log).
		subject := "username-sha256:" + credentials.TokenHash(username)[:12]
		if known != nil {
			subject = fmt.Sprintf("account:%d", known.ID)
		}
		// A failure to record a failed login is logged (s.audit); the refusal stands either way.
		_ = s.audit(r, &chungthuc.AuditEntry{Action: "login.failed", Actor: "anonymous", Subject: subject,
			Detail: fmt.Sprintf(`{"ip":%q,"why":%q,"failures":%d,"address_failures":%d}`, clientAddr(r), why, counts[0].Count, counts[1].Count)})
		tok := credentials.NewToken()
		http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Value: tok, Path: "/login", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, r, "login.html", map[string]any{"CSRF": tok, "Next": next, "Error": s.t(r, "login.bad"), "Username": username})
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
	acct, err := s.Accounts.AccountByUsername(r.Context(), username)
	if err != nil {
		if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
			s.Error(w, r, err)
			return
		}
		credentials.CheckUnknown(password)
		fail("unknown")
		return
	}
	known = acct
	if acct.Disabled {
		credentials.CheckUnknown(password)
		fail("disabled")
		return
	}
	if !credentials.CheckPassword(acct.PasswordHash, password) {
		fail("password")
		return
	}
	if !acct.TOTPSince.IsZero() {
		// The password was right; the second factor is still to come (totp.go). The failures
		// counted so far are forgotten only when the login is complete.
		s.awaitTOTP(w, r, acct, next)
		return
	}
	if counts[0].Count > 0 {
		if err := s.Accounts.ForgetLoginFailures(r.Context(), keys[:1]); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	s.startSession(w, r, acct, next, "")
}

// startSession logs acct in: a new session, audited ("login"; secondFactor, when not "",
// names the second factor used), its cookie, the login cookies cleared, and a 303 to next —
// to the password page instead while the password must change, to the second-factor page
// while a system administrator must enrol one (RequireTOTPForAdmin).
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, acct *chungthuc.Account, next, secondFactor string) {
	now := s.Now()
	tok := credentials.NewToken()
	sess := &chungthuc.Session{TokenHash: credentials.TokenHash(tok), AccountID: acct.ID, CSRFToken: credentials.NewToken(), CreatedAt: now, ExpiresAt: now.Add(sessionTTL)}
	if err := s.Accounts.CreateSession(r.Context(), sess); err != nil {
		s.Error(w, r, err)
		return
	}
	detail := fmt.Sprintf(`{"ip":%q}`, clientAddr(r))
	if secondFactor != "" {
		detail = fmt.Sprintf(`{"ip":%q,"second_factor":%q}`, clientAddr(r), secondFactor)
	}
	// No login without its audit record: the session, never handed out, is ended again.
	if err := s.audit(r, &chungthuc.AuditEntry{Action: "login", UnitID: acct.UnitID, Actor: fmt.Sprintf("account:%d", acct.ID),
		Subject: fmt.Sprintf("account:%d", acct.ID), Detail: detail}); err != nil {
		if derr := s.Accounts.DeleteSession(r.Context(), sess.TokenHash); derr != nil {
			s.log.Error("cannot end an unaudited session", "request_id", requestID(r), "err", derr)
		}
		s.Error(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode, Expires: sess.ExpiresAt})
	http.SetCookie(w, &http.Cookie{Name: loginCSRFCookie, Path: "/login", MaxAge: -1})
	http.SetCookie(w, &http.Cookie{Name: pendingLoginCookie, Path: "/login", MaxAge: -1})
	if acct.MustChangePassword {
		next = passwordPath
	} else if s.mustEnrol(acct) {
		next = totpPath
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if p := who(r); p != nil && p.Session != nil {
		// The session must end on the server, not only in this browser: if it cannot be
		// deleted, say so (and keep the cookie, so that logging out can be tried again).
		if err := s.Accounts.DeleteSession(r.Context(), p.Session.TokenHash); err != nil {
			s.log.Error("logout: cannot delete the session", "request_id", requestID(r), "err", err)
			s.metrics.count("chungthuc_session_delete_failures_total", "")
			s.Error(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps redirects after login on this site: next must parse (net/url) as a path
// relative to this host — no scheme, host or user, starting with one "/" and no second "/"
// or backslash after it, and no control characters or spaces anywhere (browsers strip a tab or a
// newline and would follow "/\t/host" to another site). Anything else is "/app/".
func safeNext(next string) string {
	const home = "/app/"
	if next == "" || len(next) > 2048 {
		return home
	}
	for _, c := range next {
		if c < 0x21 || c == 0x7f || c == '\\' || (c >= 0x80 && c <= 0x9f) || c == '\u00a0' || c == '\u2028' || c == '\u2029' || c == '\ufeff' {
			return home
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return home
	}
	if strings.ContainsFunc(u.Path, func(c rune) bool { return c < 0x20 || c == 0x7f || c == '\\' }) {
		return home
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return home
	}
	return u.RequestURI()
}
