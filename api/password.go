package api

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
)

// minPasswordLen is the least number of characters (runes) of a password a person chooses.
const minPasswordLen = 12

// passwordPath is the password change page; a session whose password must change can reach
// nothing else under /app (logging out stays possible).
const passwordPath = "/app/password"

// passwordRule returns the message key of the rule a new password breaks, or "" when it is
// acceptable: at least minPasswordLen characters, typed the same twice, neither the
// username nor the current password.
func passwordRule(username, current, pw, again string) string {
	switch {
	case utf8.RuneCountInString(pw) < minPasswordLen:
		return "pw.short"
	case pw != again:
		return "pw.mismatch"
	case strings.EqualFold(strings.TrimSpace(pw), username):
		return "pw.username"
	case pw == current:
		return "pw.same"
	}
	return ""
}

// forcedChange keeps a session whose password was generated on the password page: GET
// requests elsewhere under /app are sent there (303), anything else is refused (403).
func (s *Server) forcedChange(w http.ResponseWriter, r *http.Request, p *principal) bool {
	if p.Account == nil || !p.Account.MustChangePassword || r.URL.Path == passwordPath {
		return false
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, passwordPath, http.StatusSeeOther)
	} else {
		s.Error(w, r, bi(chungthuc.EFORBIDDEN, "Hãy đổi mật khẩu trước khi làm việc.", "Change your password first."))
	}
	return true
}

// passwordPage shows the password change form (GET /app/password).
func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	if p.Account == nil {
		s.Error(w, r, chungthuc.Errorf(chungthuc.EFORBIDDEN, "no account"))
		return
	}
	s.render(w, r, "password.html", map[string]any{"Forced": p.Account.MustChangePassword,
		"Changed": r.URL.Query().Get("changed") == "1", "MinLen": minPasswordLen})
}

// changePassword changes the password of the session's account (POST /app/password): the
// current password, then the new one twice. On success the password no longer must change,
// every other session of the account ends, and the change is audited; the answer is a 303
// to the page. A wrong current password or a broken rule answers 400 with the form again.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	if p.Account == nil || p.Session == nil {
		s.Error(w, r, chungthuc.Errorf(chungthuc.EFORBIDDEN, "no account"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	current, pw, again := r.FormValue("current"), r.FormValue("new"), r.FormValue("new2")
	acct := p.Account
	again400 := func(key, why string) {
		// A failed attempt is audited (the error is logged by s.audit; the refusal stands).
		_ = s.audit(r, &chungthuc.AuditEntry{Action: "account.password.refused", UnitID: acct.UnitID, Actor: p.actor(),
			Subject: fmt.Sprintf("account:%d", acct.ID), Detail: fmt.Sprintf(`{"why":%q,"ip":%q}`, why, clientAddr(r))})
		w.WriteHeader(http.StatusBadRequest)
		s.render(w, r, "password.html", map[string]any{"Forced": acct.MustChangePassword, "MinLen": minPasswordLen,
			"Error": s.t(r, key)})
	}
	if !credentials.CheckPassword(acct.PasswordHash, current) {
		again400("pw.current", "current")
		return
	}
	if key := passwordRule(acct.Username, current, pw, again); key != "" {
		again400(key, key)
		return
	}
	hash, err := credentials.HashPassword(pw)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Accounts.SetPassword(r.Context(), acct.ID, hash, false); err != nil {
		s.Error(w, r, err)
		return
	}
	n, err := s.Accounts.DeleteSessions(r.Context(), acct.ID, p.Session.TokenHash)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.audit(r, &chungthuc.AuditEntry{Action: "account.password.change", UnitID: acct.UnitID, Actor: p.actor(),
		Subject: fmt.Sprintf("account:%d", acct.ID), Detail: fmt.Sprintf(`{"sessions_ended":%d,"ip":%q}`, n, clientAddr(r))}); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, passwordPath+"?changed=1", http.StatusSeeOther)
}
