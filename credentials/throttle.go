package credentials

import (
	"time"

	"github.com/chungthuc/chungthuc"
)

// Throttle is the login throttling policy of accounts: after MaxFailures wrong passwords
// in a row an account is locked for Lockout, and the count starts again. The counters live
// in the account (chungthuc.Account FailedLogins, LockedUntil); callers store what Failed
// and Succeeded return.
type Throttle struct {
	MaxFailures int
	Lockout     time.Duration
}

// DefaultThrottle locks an account for 15 minutes after 5 failures in a row.
var DefaultThrottle = Throttle{MaxFailures: 5, Lockout: 15 * time.Minute}

// Locked reports whether a is locked at now.
func (t Throttle) Locked(a *chungthuc.Account, now time.Time) bool {
	return now.Before(a.LockedUntil)
}

// Failed returns a's login state after one more wrong password at now: the failure count
// and, when that count reaches MaxFailures, the time the lock ends (the count is then
// reset to 0); otherwise a zero time.
func (t Throttle) Failed(a *chungthuc.Account, now time.Time) (failed int, lockedUntil time.Time) {
	failed = a.FailedLogins + 1
	if failed >= t.MaxFailures {
		return 0, now.Add(t.Lockout)
	}
	return failed, time.Time{}
}

// Succeeded reports whether a's login state must be reset after a correct password (it
// had failures or a lock recorded).
func (t Throttle) Succeeded(a *chungthuc.Account) bool {
	return a.FailedLogins != 0 || !a.LockedUntil.IsZero()
}
