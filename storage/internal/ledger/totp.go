package ledger

import (
	"regexp"
	"time"

	"github.com/chungthuc/chungthuc"
)

// Audit actions of an account's second factor (the secret is never in the entry).
const (
	ActionAccountTOTPEnable  = "account.totp.enable"
	ActionAccountTOTPDisable = "account.totp.disable"
)

var totpSecret = regexp.MustCompile(`^[A-Z2-7]{16,128}$`)

// CheckTOTPSecret reports whether s is an unpadded base32 TOTP secret of 16 to 128
// characters (EINVALID otherwise). It does not print s.
func CheckTOTPSecret(s string) error {
	if !totpSecret.MatchString(s) {
		return chungthuc.Errorf(chungthuc.EINVALID, "a TOTP secret is 16 to 128 characters of unpadded base32")
	}
	return nil
}

// CheckTOTPStep reports whether step can be an RFC 6238 time step (positive; EINVALID
// otherwise).
func CheckTOTPStep(step int64) error {
	if step <= 0 {
		return chungthuc.Errorf(chungthuc.EINVALID, "a TOTP time step is positive")
	}
	return nil
}

// PreparePendingLogin checks and normalises a pending login before it is stored: TokenHash
// a token hash (CheckSecretHash), AccountID required, Next at most 2048 bytes, CreatedAt now
// when zero, ExpiresAt after CreatedAt; times truncated to microseconds. EINVALID otherwise.
func PreparePendingLogin(p *chungthuc.PendingLogin, now time.Time) error {
	if p == nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "pending login missing")
	}
	if err := CheckSecretHash(p.TokenHash); err != nil {
		return err
	}
	switch {
	case p.AccountID <= 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "a pending login needs an account")
	case len(p.Next) > 2048:
		return chungthuc.Errorf(chungthuc.EINVALID, "a pending login's next address is at most 2048 bytes")
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	p.CreatedAt, p.ExpiresAt = Micro(p.CreatedAt), Micro(p.ExpiresAt)
	if !p.ExpiresAt.After(p.CreatedAt) {
		return chungthuc.Errorf(chungthuc.EINVALID, "a pending login must expire after it is created")
	}
	return nil
}
