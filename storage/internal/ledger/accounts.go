package ledger

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

// Audit actions of account and API token changes. Logins and sessions are audited by the
// HTTP layer through AuditLog.Append, not by the registers.
const (
	ActionAccountCreate   = "account.create"
	ActionAccountPassword = "account.password"
	ActionAccountDisable  = "account.disable"
	ActionAccountEnable   = "account.enable"
	ActionTokenCreate     = "token.create"
	ActionTokenRevoke     = "token.revoke"
)

var username = regexp.MustCompile(`^[a-z0-9._-]{3,64}$`)

// Username normalises a username for storage and lookup: trimmed, NFC, lower-case. Usernames
// are unique regardless of case because only this form is stored.
func Username(s string) string { return strings.ToLower(norm.NFC.String(strings.TrimSpace(s))) }

// CheckUsername reports whether a normalised username is 3 to 64 of a–z, 0–9, '.', '_' and
// '-' (EINVALID otherwise).
func CheckUsername(s string) error {
	if !username.MatchString(s) {
		return chungthuc.Errorf(chungthuc.EINVALID, "a username is 3 to 64 of a-z, 0-9, '.', '_' and '-'")
	}
	return nil
}

// CheckPasswordHash reports whether h looks like an argon2id hash in PHC string format
// ("$argon2id$v=19$m=…,t=…,p=…$salt$hash"), so that a plain password can never be stored by
// mistake (EINVALID otherwise). It does not print h.
func CheckPasswordHash(h string) error {
	parts := strings.Split(h, "$")
	if len(h) > 512 || len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" ||
		!strings.HasPrefix(parts[2], "v=") || !strings.HasPrefix(parts[3], "m=") || parts[4] == "" || parts[5] == "" ||
		strings.ContainsAny(h, " \t\r\n") {
		return chungthuc.Errorf(chungthuc.EINVALID, "a password hash must be argon2id in PHC string format")
	}
	return nil
}

var secretHash = regexp.MustCompile(`^[A-Za-z0-9+/=_.-]{16,128}$`)

// CheckSecretHash reports whether h can be the stored hash of a session cookie or an API
// token: 16 to 128 characters of hex, base64 or base64url (EINVALID otherwise).
func CheckSecretHash(h string) error {
	if !secretHash.MatchString(h) {
		return chungthuc.Errorf(chungthuc.EINVALID, "a token hash is 16 to 128 hex or base64 characters")
	}
	return nil
}

// CheckRole reports whether r is one of the four roles (EINVALID otherwise).
func CheckRole(r chungthuc.Role) error {
	switch r {
	case chungthuc.RoleOfficer, chungthuc.RoleClerk, chungthuc.RoleUnitAdmin, chungthuc.RoleSystemAdmin:
		return nil
	}
	return chungthuc.Errorf(chungthuc.EINVALID, "unknown role %q", r)
}

// PrepareAccount checks and normalises an account before it is created: Username normalised
// and checked (CheckUsername), PasswordHash argon2id (CheckPasswordHash), Role one of the four
// roles, a unit for every role but system administrator and none for a system administrator,
// FailedLogins not negative, LockedUntil truncated to microseconds. It sets CreatedAt to now.
// Whether the unit exists and the officer belongs to it is checked by the register. EINVALID
// otherwise.
func PrepareAccount(a *chungthuc.Account, now time.Time) error {
	if a == nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "account missing")
	}
	a.Username = Username(a.Username)
	if err := CheckUsername(a.Username); err != nil {
		return err
	}
	if err := CheckPasswordHash(a.PasswordHash); err != nil {
		return err
	}
	if err := CheckRole(a.Role); err != nil {
		return err
	}
	switch {
	case a.UnitID < 0 || a.OfficerID < 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "unit and officer cannot be negative")
	case a.Role == chungthuc.RoleSystemAdmin && a.UnitID != 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "a system administrator belongs to no unit")
	case a.Role != chungthuc.RoleSystemAdmin && a.UnitID == 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "an account other than a system administrator needs a unit")
	case a.FailedLogins < 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "failed logins cannot be negative")
	}
	if !a.LockedUntil.IsZero() {
		a.LockedUntil = Micro(a.LockedUntil)
	}
	a.CreatedAt = Micro(now)
	return nil
}

// CheckLoginState checks the arguments of SetLoginState (EINVALID when failed is negative) and
// returns lockedUntil truncated to microseconds (zero stays zero: not locked).
func CheckLoginState(failed int, lockedUntil time.Time) (time.Time, error) {
	if failed < 0 {
		return time.Time{}, chungthuc.Errorf(chungthuc.EINVALID, "failed logins cannot be negative")
	}
	if lockedUntil.IsZero() {
		return lockedUntil, nil
	}
	return Micro(lockedUntil), nil
}

// PrepareSession checks and normalises a session before it is created: TokenHash a token hash
// (CheckSecretHash), AccountID and CSRFToken required, CreatedAt now when zero, ExpiresAt after
// CreatedAt; times truncated to microseconds. EINVALID otherwise.
func PrepareSession(s *chungthuc.Session, now time.Time) error {
	if s == nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "session missing")
	}
	if err := CheckSecretHash(s.TokenHash); err != nil {
		return err
	}
	switch {
	case s.AccountID <= 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "a session needs an account")
	case s.CSRFToken == "" || len(s.CSRFToken) > 256:
		return chungthuc.Errorf(chungthuc.EINVALID, "a session needs a CSRF token of at most 256 bytes")
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	s.CreatedAt, s.ExpiresAt = Micro(s.CreatedAt), Micro(s.ExpiresAt)
	if !s.ExpiresAt.After(s.CreatedAt) {
		return chungthuc.Errorf(chungthuc.EINVALID, "a session must expire after it is created")
	}
	return nil
}

// PrepareAPIToken checks and normalises an API token before it is created: UnitID and
// OfficerID required, Name 1 to 100 characters (NFC), TokenHash a token hash
// (CheckSecretHash). It sets CreatedAt to now and clears RevokedAt. Whether the officer
// belongs to the unit is checked by the register. EINVALID otherwise.
func PrepareAPIToken(t *chungthuc.APIToken, now time.Time) error {
	if t == nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "API token missing")
	}
	t.Name = nfc(t.Name)
	switch {
	case t.UnitID <= 0 || t.OfficerID <= 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "an API token needs a unit and an officer")
	case t.Name == "" || utf8.RuneCountInString(t.Name) > 100:
		return chungthuc.Errorf(chungthuc.EINVALID, "an API token needs a name of 1 to 100 characters")
	}
	if err := CheckSecretHash(t.TokenHash); err != nil {
		return err
	}
	t.CreatedAt, t.RevokedAt = Micro(now), time.Time{}
	return nil
}
