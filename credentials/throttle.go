package credentials

import (
	"time"

	"github.com/chungthuc/chungthuc"
)

// Throttle is the login throttling policy: no lock-out (a lock-out lets anyone lock any
// account, the administrator's included, by failing to log into it), but a delay before
// the next attempt that grows exponentially with the failures counted under a key — a
// username at a client address, and a client address — so an attack from one address
// slows only that address, and the right password from another address still works.
// The counts live in the register (chungthuc.Accounts LoginFailed), updated atomically.
type Throttle struct {
	Free   int           // failures without delay
	Base   time.Duration // delay after the first failure beyond Free; doubled for each further one
	Max    time.Duration // longest delay
	Window time.Duration // a count whose last failure is older than this starts again
}

// DefaultThrottle: three failures free, then 2 s, 4 s, 8 s … up to 15 minutes; counts are
// forgotten a day after the last failure.
var DefaultThrottle = Throttle{Free: 3, Base: 2 * time.Second, Max: 15 * time.Minute, Window: 24 * time.Hour}

// Delay is how long after the last of failures the next attempt must wait.
func (t Throttle) Delay(failures int) time.Duration {
	n := failures - t.Free
	if n <= 0 {
		return 0
	}
	d := t.Base
	for i := 1; i < n && d < t.Max; i++ {
		d *= 2
	}
	return min(d, t.Max)
}

// Wait returns how long an attempt at now must still wait given the counts of its keys
// (0: it may go ahead).
func (t Throttle) Wait(counts []chungthuc.LoginFailures, now time.Time) time.Duration {
	var wait time.Duration
	for _, c := range counts {
		if c.Count == 0 || now.Sub(c.Last) > t.Window {
			continue
		}
		if w := c.Last.Add(t.Delay(c.Count)).Sub(now); w > wait {
			wait = w
		}
	}
	return wait
}
