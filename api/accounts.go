package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
)

// AccountAdmin is what the administrators' account pages need beyond AccountStore:
// accounts and API tokens listed by unit, created, disabled and revoked (chungthuc.Accounts).
type AccountAdmin interface {
	ListAccounts(ctx context.Context, unitID int64) ([]*chungthuc.Account, error)
	CreateAccount(ctx context.Context, a *chungthuc.Account) error
	SetAccountDisabled(ctx context.Context, id int64, disabled bool) error
	ListAPITokens(ctx context.Context, unitID int64) ([]*chungthuc.APIToken, error)
	RevokeAPIToken(ctx context.Context, id int64, at time.Time) error
}

// adminsOnly lets unit administrators and the system administrator through; anyone else
// gets 403. A unit administrator's scope is their unit; the system administrator's, every
// unit (adminScope).
func (s *Server) adminsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := who(r)
		if p.Account == nil || (p.Role != chungthuc.RoleSystemAdmin && (p.Role != chungthuc.RoleUnitAdmin || p.UnitID == 0)) || s.AccountAdmin == nil {
			s.Error(w, r, bi(chungthuc.EFORBIDDEN, "Chỉ quản trị viên mới quản lý được tài khoản.", "Only administrators manage accounts."))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// adminScope is the unit whose accounts the administrator manages (0: every unit).
func adminScope(p *principal) int64 {
	if p.Role == chungthuc.RoleSystemAdmin {
		return 0
	}
	return p.UnitID
}

var accountNotFound = bi(chungthuc.ENOTFOUND, "Không tìm thấy tài khoản này trong đơn vị của bạn.", "This account is not in your unit.")

// targetAccount is account {id} if the administrator may manage it: a unit administrator
// only their unit's accounts, never a system administrator's; another's is ENOTFOUND like a
// missing one.
func (s *Server) targetAccount(r *http.Request) (*chungthuc.Account, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, accountNotFound
	}
	a, err := s.Accounts.AccountByID(r.Context(), id)
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		return nil, accountNotFound
	} else if err != nil {
		return nil, err
	}
	p := who(r)
	if p.Role != chungthuc.RoleSystemAdmin && (a.UnitID != p.UnitID || a.Role == chungthuc.RoleSystemAdmin) {
		return nil, accountNotFound
	}
	return a, nil
}

// accountsPage lists the accounts and API tokens the administrator manages (GET
// /app/accounts), with the forms to add, disable, enable, reset and end sessions, and to
// revoke tokens.
func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request) {
	s.renderAccounts(w, r, http.StatusOK, map[string]any{"Done": r.URL.Query().Get("done")})
}

func (s *Server) renderAccounts(w http.ResponseWriter, r *http.Request, status int, data map[string]any) {
	p := who(r)
	scope := adminScope(p)
	accts, err := s.AccountAdmin.ListAccounts(r.Context(), scope)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	toks, err := s.AccountAdmin.ListAPITokens(r.Context(), scope)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	units, err := s.Register.Units(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	codes := map[int64]string{}
	var mine []*chungthuc.Unit
	for _, u := range units {
		codes[u.ID] = u.Code
		if scope == 0 || u.ID == scope {
			mine = append(mine, u)
		}
	}
	roles := []chungthuc.Role{chungthuc.RoleClerk, chungthuc.RoleOfficer, chungthuc.RoleUnitAdmin}
	if scope == 0 {
		roles = append(roles, chungthuc.RoleSystemAdmin)
	}
	data["Accounts"], data["Tokens"], data["UnitCode"], data["Units"], data["Roles"] = accts, toks, codes, mine, roles
	data["MeID"] = p.Account.ID
	w.Header().Set("Cache-Control", "no-store")
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	s.render(w, r, "accounts.html", data)
}

// adminAudit appends a security audit entry for an administrator's action on subject.
func (s *Server) adminAudit(r *http.Request, action string, unitID int64, subject, detail string) error {
	return s.audit(r, &chungthuc.AuditEntry{Action: action, UnitID: unitID, Actor: who(r).actor(), Subject: subject,
		Detail: fmt.Sprintf(`{%s"ip":%q}`, detail, clientAddr(r))})
}

// confirmed says whether a destructive form was confirmed (its confirm box ticked);
// otherwise it answers 400 with the page and a message.
func (s *Server) confirmed(w http.ResponseWriter, r *http.Request) bool {
	if r.FormValue("confirm") == "1" {
		return true
	}
	s.renderAccounts(w, r, http.StatusBadRequest, map[string]any{"Error": s.t(r, "acct.confirm")})
	return false
}

// secretShown answers with the page showing a generated password once (no-store).
func (s *Server) secretShown(w http.ResponseWriter, r *http.Request, a *chungthuc.Account, password string) {
	s.renderAccounts(w, r, http.StatusOK, map[string]any{"Secret": password, "SecretFor": a.Username})
}

// addAccount creates an account in the administrator's scope with a generated password,
// shown once, that must be changed at the first login (POST /app/accounts).
func (s *Server) addAccount(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	p := who(r)
	a := &chungthuc.Account{Username: strings.ToLower(strings.TrimSpace(r.FormValue("username"))),
		Role: chungthuc.Role(r.FormValue("role")), MustChangePassword: true}
	if a.Role != chungthuc.RoleSystemAdmin {
		a.UnitID = p.UnitID
		if p.Role == chungthuc.RoleSystemAdmin {
			a.UnitID, _ = strconv.ParseInt(r.FormValue("unit"), 10, 64)
		}
	} else if p.Role != chungthuc.RoleSystemAdmin {
		s.Error(w, r, accountNotFound)
		return
	}
	if o := strings.TrimSpace(r.FormValue("officer")); o != "" {
		a.OfficerID, _ = strconv.ParseInt(o, 10, 64)
	}
	password := credentials.NewPassword()
	hash, err := credentials.HashPassword(password)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	a.PasswordHash = hash
	if err := s.AccountAdmin.CreateAccount(r.Context(), a); err != nil {
		if c := chungthuc.ErrorCode(err); c == chungthuc.EINVALID || c == chungthuc.ECONFLICT || c == chungthuc.ENOTFOUND {
			s.renderAccounts(w, r, http.StatusBadRequest, map[string]any{"Error": s.t(r, "acct.bad") + " (" + chungthuc.ErrorMessage(err) + ")"})
			return
		}
		s.Error(w, r, err)
		return
	}
	if err := s.adminAudit(r, "account.add", a.UnitID, fmt.Sprintf("account:%d", a.ID), fmt.Sprintf(`"role":%q,`, a.Role)); err != nil {
		s.Error(w, r, err)
		return
	}
	s.secretShown(w, r, a, password)
}

// accountAction runs one administrator action on account {id} (disable, enable, reset —
// which removes the second factor too —, sessions, totp: remove the second factor) after the scope check and, for all but enable, the confirmation; it is audited.
func (s *Server) accountAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		a, err := s.targetAccount(r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if action != "enable" && !s.confirmed(w, r) {
			return
		}
		if a.ID == who(r).Account.ID && action == "disable" {
			s.renderAccounts(w, r, http.StatusBadRequest, map[string]any{"Error": s.t(r, "acct.self")})
			return
		}
		subject, detail, password := fmt.Sprintf("account:%d", a.ID), "", ""
		switch action {
		case "disable", "enable":
			err = s.AccountAdmin.SetAccountDisabled(r.Context(), a.ID, action == "disable")
		case "reset":
			password = credentials.NewPassword()
			var hash string
			if hash, err = credentials.HashPassword(password); err == nil {
				if err = s.Accounts.SetPassword(r.Context(), a.ID, hash, true); err == nil {
					var n int
					if n, err = s.Accounts.DeleteSessions(r.Context(), a.ID, ""); err == nil {
						// A reset is how a person who lost the password or the authenticator
						// gets back in: the second factor goes too, and is enrolled again.
						var was bool
						was, err = s.Accounts.DisableTOTP(r.Context(), a.ID)
						detail = fmt.Sprintf(`"sessions_ended":%d,"totp_disabled":%t,`, n, was)
					}
				}
			}
		case "totp":
			var was bool
			if was, err = s.Accounts.DisableTOTP(r.Context(), a.ID); err == nil {
				detail = fmt.Sprintf(`"totp_disabled":%t,`, was)
			}
		case "sessions":
			var n int
			n, err = s.Accounts.DeleteSessions(r.Context(), a.ID, "")
			detail = fmt.Sprintf(`"sessions_ended":%d,`, n)
		}
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if err := s.adminAudit(r, "account."+action, a.UnitID, subject, detail); err != nil {
			s.Error(w, r, err)
			return
		}
		if password != "" {
			s.secretShown(w, r, a, password)
			return
		}
		http.Redirect(w, r, "/app/accounts?done="+action, http.StatusSeeOther)
	}
}

// revokeToken revokes API token {id} of the administrator's scope (POST
// /app/tokens/{id}/revoke, confirmed); another unit's token is 404.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	toks, err := s.AccountAdmin.ListAPITokens(r.Context(), adminScope(who(r)))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var tok *chungthuc.APIToken
	for _, t := range toks {
		if t.ID == id {
			tok = t
		}
	}
	if tok == nil {
		s.Error(w, r, bi(chungthuc.ENOTFOUND, "Không tìm thấy mã API này trong đơn vị của bạn.", "This API token is not in your unit."))
		return
	}
	if !s.confirmed(w, r) {
		return
	}
	if err := s.AccountAdmin.RevokeAPIToken(r.Context(), tok.ID, s.Now()); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.adminAudit(r, "token.revoke", tok.UnitID, fmt.Sprintf("token:%d", tok.ID), ""); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/app/accounts?done=revoke", http.StatusSeeOther)
}
