package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

// Login lock-out: after maxFailedLogins wrong passwords in a row an account is locked for
// lockDuration (and again after each further failure).
const (
	maxFailedLogins = 5
	lockDuration    = 15 * time.Minute
)

// principal is who makes a request: a logged-in account or an API token.
type principal struct {
	AccountID   int64
	TokenID     int64
	UnitID      int64 // 0 only for a system administrator
	OfficerID   int64 // 0 when not a certifying officer
	Role        chungthuc.Role
	Name        string
	CSRF        string
	sessionHash string
}

// actor is the audit log's name of the principal.
func (p *principal) actor() string {
	if p.TokenID != 0 {
		return fmt.Sprintf("token:%d", p.TokenID)
	}
	return fmt.Sprintf("account:%d", p.AccountID)
}

// canCertify: officers linked to an Officer record (and API tokens, which act as one).
func (p *principal) canCertify() bool { return p.OfficerID != 0 && p.UnitID != 0 }

// canRevoke: the unit's officers and its administrator.
func (p *principal) canRevoke() bool {
	return p.UnitID != 0 && (p.canCertify() || p.Role == chungthuc.RoleUnitAdmin)
}

// canStats: unit administrators (their unit) and the system administrator (every unit).
func (p *principal) canStats() bool {
	return p.Role == chungthuc.RoleUnitAdmin || p.Role == chungthuc.RoleSystemAdmin
}

// sees reports whether the principal may read an entry of unitID: only its own unit, and
// every unit for the system administrator.
func (p *principal) sees(unitID int64) bool {
	return p.Role == chungthuc.RoleSystemAdmin || (p.UnitID != 0 && p.UnitID == unitID)
}

func principalFrom(ctx context.Context) *principal {
	p, _ := ctx.Value(ctxPrincipal).(*principal)
	return p
}

// NewSecret returns a random secret with a prefix (e.g. "ctk_" for API tokens) and the
// hash under which it is stored (hex SHA-256 of the whole string).
func NewSecret(prefix string) (secret, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret), nil
}

// HashSecret is the stored form of a session cookie value or an API token.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func (s *Server) cookieName() string {
	if s.secure {
		return "__Host-chungthuc"
	}
	return "chungthuc_session"
}

// session loads the logged-in account from the session cookie; nil when there is none or
// it expired (expired sessions are deleted).
func (s *Server) session(r *http.Request) (*principal, error) {
	c, err := r.Cookie(s.cookieName())
	if err != nil || c.Value == "" || len(c.Value) > 200 {
		return nil, nil
	}
	h := HashSecret(c.Value)
	sess, err := s.accounts.SessionByHash(r.Context(), h)
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !s.now().Before(sess.ExpiresAt) {
		s.accounts.DeleteSession(r.Context(), h)
		return nil, nil
	}
	a, err := s.accounts.AccountByID(r.Context(), sess.AccountID)
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if a.Disabled {
		return nil, nil
	}
	return &principal{AccountID: a.ID, UnitID: a.UnitID, OfficerID: a.OfficerID, Role: a.Role, Name: a.Username, CSRF: sess.CSRFToken, sessionHash: h}, nil
}

// requireLogin admits requests with a valid session (else redirects to the login page) and
// checks the CSRF token of every state-changing request: the form field "csrf" or the
// X-CSRF-Token header must equal the session's token.
func (s *Server) requireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.session(r)
		if err != nil {
			Error(w, r, err)
			return
		}
		if p == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			Error(w, r, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "Your session has ended; please log in again."))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			tok := r.Header.Get("X-CSRF-Token")
			if tok == "" {
				tok = csrfFromQueryOrForm(r)
			}
			if subtle.ConstantTimeCompare([]byte(tok), []byte(p.CSRF)) != 1 {
				Error(w, r, chungthuc.Errorf(chungthuc.EFORBIDDEN, "The form has expired; please reload the page and try again."))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxPrincipal, p)))
	})
}

// csrfFromQueryOrForm reads the csrf field of an url-encoded form; multipart uploads carry it
// in the query string (the page's script and form action put it there) so that the token is
// checked before the body is read.
func csrfFromQueryOrForm(r *http.Request) string {
	if v := r.URL.Query().Get("csrf"); v != "" {
		return v
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
		return r.PostFormValue("csrf")
	}
	return ""
}

// requireToken admits API requests with a valid bearer token; it acts as the token's
// officer within the token's unit.
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || tok == "" || len(tok) > 200 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chungthuc"`)
			Error(w, r, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "A bearer token is required (Authorization: Bearer …)."))
			return
		}
		t, err := s.accounts.APITokenByHash(r.Context(), HashSecret(strings.TrimSpace(tok)))
		if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND || (err == nil && !t.RevokedAt.IsZero()) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chungthuc", error="invalid_token"`)
			Error(w, r, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "The bearer token is not valid."))
			return
		} else if err != nil {
			Error(w, r, err)
			return
		}
		p := &principal{TokenID: t.ID, UnitID: t.UnitID, OfficerID: t.OfficerID, Role: chungthuc.RoleOfficer, Name: t.Name}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxPrincipal, p)))
	})
}

// auditEvent appends a security event to the audit log (and always to the log).
func (s *Server) auditEvent(ctx context.Context, action string, unitID int64, actor, subject, detail string) {
	loggerFrom(ctx).Info("audit", "action", action, "unit", unitID, "actor", actor, "subject", subject, "request_id", requestID(ctx))
	if s.audit == nil {
		return
	}
	if detail == "" {
		detail = "{}"
	}
	e := &chungthuc.AuditEntry{Action: action, UnitID: unitID, Actor: actor, Subject: subject, Detail: detail}
	if err := s.audit.Append(context.WithoutCancel(ctx), e); err != nil {
		loggerFrom(ctx).Error("audit append failed", "action", action, "err", err)
	}
}

// errLogin is the one answer to every failed login: wrong username, wrong password,
// disabled or locked account look the same to the client.
var errLogin = chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "login failed")

// login checks a username and password, applying the lock-out, and returns the account.
func (s *Server) login(ctx context.Context, username, password string) (*chungthuc.Account, error) {
	username = strings.ToLower(strings.TrimSpace(norm.NFC.String(username)))
	if username == "" || password == "" || len(username) > 100 || len(password) > 1000 {
		return nil, errLogin
	}
	a, err := s.accounts.AccountByUsername(ctx, username)
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		CheckPassword(dummyHash, password) // same cost as a real check
		s.Metrics.login("failed")
		s.auditEvent(ctx, "login.failed", 0, "anonymous", "username:"+hashPrefix(username), "")
		return nil, errLogin
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if a.Disabled || now.Before(a.LockedUntil) {
		CheckPassword(dummyHash, password)
		s.Metrics.login("locked")
		s.auditEvent(ctx, "login.failed", a.UnitID, fmt.Sprintf("account:%d", a.ID), fmt.Sprintf("account:%d", a.ID), `{"reason":"locked_or_disabled"}`)
		return nil, errLogin
	}
	if !CheckPassword(a.PasswordHash, password) {
		failed := a.FailedLogins + 1
		var until time.Time
		if failed >= maxFailedLogins {
			until = now.Add(lockDuration)
		}
		if err := s.accounts.SetLoginState(ctx, a.ID, failed, until); err != nil {
			return nil, err
		}
		s.Metrics.login("failed")
		s.auditEvent(ctx, "login.failed", a.UnitID, fmt.Sprintf("account:%d", a.ID), fmt.Sprintf("account:%d", a.ID), fmt.Sprintf(`{"failed":%d,"locked":%t}`, failed, !until.IsZero()))
		return nil, errLogin
	}
	if a.FailedLogins != 0 || !a.LockedUntil.IsZero() {
		if err := s.accounts.SetLoginState(ctx, a.ID, 0, time.Time{}); err != nil {
			return nil, err
		}
	}
	s.Metrics.login("ok")
	s.auditEvent(ctx, "login", a.UnitID, fmt.Sprintf("account:%d", a.ID), fmt.Sprintf("account:%d", a.ID), "")
	return a, nil
}

// hashPrefix names an unknown username in the audit log without storing what was typed
// (which is sometimes a password).
func hashPrefix(s string) string { return HashSecret(s)[:12] }

// startSession creates a session for a and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, a *chungthuc.Account) error {
	secret, hash, err := NewSecret("")
	if err != nil {
		return err
	}
	csrf, _, err := NewSecret("")
	if err != nil {
		return err
	}
	now := s.now()
	if err := s.accounts.CreateSession(r.Context(), &chungthuc.Session{TokenHash: hash, AccountID: a.ID, CSRFToken: csrf, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: secret, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode, MaxAge: int(s.ttl.Seconds())})
	return nil
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request, p *principal) {
	if p != nil && p.sessionHash != "" {
		s.accounts.DeleteSession(r.Context(), p.sessionHash)
		s.auditEvent(r.Context(), "logout", p.UnitID, p.actor(), p.actor(), "")
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: "", Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
}
