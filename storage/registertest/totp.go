package registertest

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// TOTPSecret returns a fresh unpadded base32 secret of 20 random bytes (32 characters), as
// the registers store for a second factor.
func TOTPSecret() string {
	b := make([]byte, 20)
	rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// testTOTP: an enrolment is pending until EnableTOTP confirms that very secret; an enabled
// second factor cannot be replaced by another enrolment; steps are accepted only increasing;
// disabling removes it and reports whether there was one; enabling and disabling are audited
// (nothing else is), and an account is read with TOTPSince set.
func testTOTP(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	o := newOfficer(t, db.r, u.ID)
	a := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, OfficerID: o.ID, Username: "canbo", Role: chungthuc.RoleOfficer})
	other := newAccount(t, db, &chungthuc.Account{Username: "quantri", Role: chungthuc.RoleSystemAdmin})

	got, err := db.TOTPOf(ctx, a.ID)
	must(t, "TOTPOf fresh", err)
	if *got != (chungthuc.TOTP{}) {
		t.Fatalf("fresh account has TOTP %+v", got)
	}
	_, err = db.TOTPOf(ctx, a.ID+1000)
	code(t, "TOTPOf unknown", err, chungthuc.ENOTFOUND)

	s1, s2 := TOTPSecret(), TOTPSecret()
	code(t, "SetTOTPPending malformed", db.SetTOTPPending(ctx, a.ID, "not base32!"), chungthuc.EINVALID)
	code(t, "SetTOTPPending lower case", db.SetTOTPPending(ctx, a.ID, "abcdefghijklmnopqrstuvwx"), chungthuc.EINVALID)
	code(t, "SetTOTPPending unknown", db.SetTOTPPending(ctx, a.ID+1000, s1), chungthuc.ENOTFOUND)
	before := entries(t, db.r)
	must(t, "SetTOTPPending", db.SetTOTPPending(ctx, a.ID, s1))
	must(t, "SetTOTPPending again (replaces)", db.SetTOTPPending(ctx, a.ID, s2))
	if got, _ := db.TOTPOf(ctx, a.ID); got.Pending != s2 || got.Secret != "" || !got.EnabledAt.IsZero() {
		t.Fatalf("after SetTOTPPending: %+v", got)
	}
	if acct, _ := db.AccountByID(ctx, a.ID); !acct.TOTPSince.IsZero() {
		t.Fatal("a pending enrolment counts as enabled")
	}
	// Only the pending secret can be confirmed, and only with a positive step.
	code(t, "EnableTOTP replaced secret", db.EnableTOTP(ctx, a.ID, s1, 100, time.Time{}), chungthuc.ECONFLICT)
	code(t, "EnableTOTP step 0", db.EnableTOTP(ctx, a.ID, s2, 0, time.Time{}), chungthuc.EINVALID)
	code(t, "EnableTOTP unknown account", db.EnableTOTP(ctx, a.ID+1000, s2, 100, time.Time{}), chungthuc.ENOTFOUND)
	code(t, "EnableTOTP other account", db.EnableTOTP(ctx, other.ID, s2, 100, time.Time{}), chungthuc.ECONFLICT)
	if n := entries(t, db.r) - before; n != 0 {
		t.Fatalf("pending enrolments and refused enables wrote %d audit entries", n)
	}
	at := time.Date(2026, 12, 4, 9, 30, 0, 123456789, chungthuc.Vietnam)
	must(t, "EnableTOTP", db.EnableTOTP(ctx, a.ID, s2, 100, at))
	if n := entries(t, db.r) - before; n != 1 {
		t.Fatalf("EnableTOTP wrote %d audit entries, want 1", n)
	}
	got, err = db.TOTPOf(ctx, a.ID)
	must(t, "TOTPOf enabled", err)
	if got.Secret != s2 || got.Pending != "" || got.LastStep != 100 || !got.EnabledAt.Equal(at.Truncate(time.Microsecond)) {
		t.Fatalf("TOTPOf enabled = %+v", got)
	}
	acct, err := db.AccountByID(ctx, a.ID)
	must(t, "AccountByID", err)
	if !acct.TOTPSince.Equal(got.EnabledAt) {
		t.Fatalf("account TOTPSince %v, want %v", acct.TOTPSince, got.EnabledAt)
	}
	if acct, _ := db.AccountByUsername(ctx, "canbo"); acct.TOTPSince.IsZero() {
		t.Fatal("AccountByUsername without TOTPSince")
	}
	code(t, "EnableTOTP twice", db.EnableTOTP(ctx, a.ID, s2, 101, time.Time{}), chungthuc.ECONFLICT)
	code(t, "SetTOTPPending while enabled", db.SetTOTPPending(ctx, a.ID, s1), chungthuc.ECONFLICT)

	// Steps: only later ones.
	code(t, "UseTOTPStep the enabling step", db.UseTOTPStep(ctx, a.ID, 100), chungthuc.ECONFLICT)
	code(t, "UseTOTPStep earlier", db.UseTOTPStep(ctx, a.ID, 99), chungthuc.ECONFLICT)
	must(t, "UseTOTPStep 101", db.UseTOTPStep(ctx, a.ID, 101))
	code(t, "UseTOTPStep 101 again", db.UseTOTPStep(ctx, a.ID, 101), chungthuc.ECONFLICT)
	must(t, "UseTOTPStep 103", db.UseTOTPStep(ctx, a.ID, 103))
	code(t, "UseTOTPStep 102 after 103", db.UseTOTPStep(ctx, a.ID, 102), chungthuc.ECONFLICT)
	code(t, "UseTOTPStep without TOTP", db.UseTOTPStep(ctx, other.ID, 200), chungthuc.ECONFLICT)
	code(t, "UseTOTPStep unknown", db.UseTOTPStep(ctx, a.ID+1000, 200), chungthuc.ECONFLICT)
	code(t, "UseTOTPStep 0", db.UseTOTPStep(ctx, a.ID, 0), chungthuc.EINVALID)

	// Disabling.
	before = entries(t, db.r)
	was, err := db.DisableTOTP(ctx, a.ID)
	must(t, "DisableTOTP", err)
	if !was {
		t.Fatal("DisableTOTP of an enabled second factor reported none")
	}
	if got, _ := db.TOTPOf(ctx, a.ID); *got != (chungthuc.TOTP{}) {
		t.Fatalf("after DisableTOTP: %+v", got)
	}
	if acct, _ := db.AccountByID(ctx, a.ID); !acct.TOTPSince.IsZero() {
		t.Fatal("TOTPSince after DisableTOTP")
	}
	code(t, "UseTOTPStep after disabling", db.UseTOTPStep(ctx, a.ID, 500), chungthuc.ECONFLICT)
	was, err = db.DisableTOTP(ctx, a.ID)
	if err != nil || was {
		t.Fatalf("DisableTOTP twice = %v, %v; want false, nil", was, err)
	}
	// A pending enrolment is dropped by DisableTOTP too, and that is not audited.
	must(t, "SetTOTPPending", db.SetTOTPPending(ctx, a.ID, s1))
	if was, err := db.DisableTOTP(ctx, a.ID); err != nil || was {
		t.Fatalf("DisableTOTP of a pending enrolment = %v, %v", was, err)
	}
	if got, _ := db.TOTPOf(ctx, a.ID); got.Pending != "" {
		t.Fatal("DisableTOTP kept the pending enrolment")
	}
	if n := entries(t, db.r) - before; n != 1 {
		t.Fatalf("disabling wrote %d audit entries, want 1", n)
	}
	_, err = db.DisableTOTP(ctx, a.ID+1000)
	code(t, "DisableTOTP unknown", err, chungthuc.ENOTFOUND)
	// Enrolling again works, from the new step on.
	must(t, "SetTOTPPending after disabling", db.SetTOTPPending(ctx, a.ID, s1))
	must(t, "EnableTOTP after disabling", db.EnableTOTP(ctx, a.ID, s1, 50, time.Time{}))
	must(t, "UseTOTPStep 51", db.UseTOTPStep(ctx, a.ID, 51))
}

// testTOTPParallelReuse: sixteen callers use the same step at once; exactly one succeeds (the
// compare-and-set is atomic), and then the next step succeeds once too.
func testTOTPParallelReuse(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	a := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, Username: "quantri.hb", Role: chungthuc.RoleUnitAdmin})
	s := TOTPSecret()
	must(t, "SetTOTPPending", db.SetTOTPPending(ctx, a.ID, s))
	must(t, "EnableTOTP", db.EnableTOTP(ctx, a.ID, s, 1000, time.Time{}))
	for _, step := range []int64{1001, 1002} {
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, conflicts := 0, 0
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.UseTOTPStep(ctx, a.ID, step)
				mu.Lock()
				defer mu.Unlock()
				switch chungthuc.ErrorCode(err) {
				case "":
					ok++
				case chungthuc.ECONFLICT:
					conflicts++
				default:
					t.Errorf("UseTOTPStep %d: %v", step, err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || conflicts != 15 {
			t.Fatalf("step %d used by 16 callers at once: %d accepted, %d refused; want 1 and 15", step, ok, conflicts)
		}
	}
}

// testPendingLogins: a pending login is stored and found by its hash, validated like a
// session, deleted once (a second delete is ENOTFOUND, also in parallel: one of sixteen
// wins) and removed by DeleteExpiredSessions when expired.
func testPendingLogins(t *testing.T, db accountsDB) {
	u := newUnit(t, db.r, "HB")
	a := newAccount(t, db, &chungthuc.Account{UnitID: u.ID, Username: "canbo", Role: chungthuc.RoleOfficer})
	t0 := time.Date(2026, 12, 4, 8, 0, 0, 987654321, chungthuc.Vietnam)
	p := &chungthuc.PendingLogin{TokenHash: SecretHash(), AccountID: a.ID, Next: "/app/register?x=1", CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)}
	must(t, "CreatePendingLogin", db.CreatePendingLogin(ctx, p))
	got, err := db.PendingLoginByHash(ctx, p.TokenHash)
	must(t, "PendingLoginByHash", err)
	if got.TokenHash != p.TokenHash || got.AccountID != a.ID || got.Next != p.Next || !got.CreatedAt.Equal(t0.Truncate(time.Microsecond)) ||
		!got.ExpiresAt.Equal(p.ExpiresAt) || got.ExpiresAt.Location() != time.UTC {
		t.Fatalf("PendingLoginByHash = %+v, want %+v", got, p)
	}
	code(t, "duplicate", db.CreatePendingLogin(ctx, &chungthuc.PendingLogin{TokenHash: p.TokenHash, AccountID: a.ID, ExpiresAt: time.Now().Add(time.Minute)}), chungthuc.ECONFLICT)
	code(t, "unknown account", db.CreatePendingLogin(ctx, &chungthuc.PendingLogin{TokenHash: SecretHash(), AccountID: a.ID + 1000, ExpiresAt: time.Now().Add(time.Minute)}), chungthuc.ENOTFOUND)
	code(t, "raw token", db.CreatePendingLogin(ctx, &chungthuc.PendingLogin{TokenHash: "short", AccountID: a.ID, ExpiresAt: time.Now().Add(time.Minute)}), chungthuc.EINVALID)
	code(t, "no expiry", db.CreatePendingLogin(ctx, &chungthuc.PendingLogin{TokenHash: SecretHash(), AccountID: a.ID}), chungthuc.EINVALID)
	code(t, "nil", db.CreatePendingLogin(ctx, nil), chungthuc.EINVALID)
	_, err = db.PendingLoginByHash(ctx, SecretHash())
	code(t, "PendingLoginByHash unknown", err, chungthuc.ENOTFOUND)

	// Used once, even by parallel callers.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.DeletePendingLogin(ctx, p.TokenHash)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won++
			} else if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
				t.Errorf("DeletePendingLogin: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d of 16 parallel DeletePendingLogin succeeded, want 1", won)
	}
	_, err = db.PendingLoginByHash(ctx, p.TokenHash)
	code(t, "after delete", err, chungthuc.ENOTFOUND)

	// Expired ones go with the expired sessions.
	var hashes []string
	for i := range 3 {
		q := &chungthuc.PendingLogin{TokenHash: SecretHash(), AccountID: a.ID, Next: "/app/", CreatedAt: t0, ExpiresAt: t0.Add(time.Duration(i+1) * time.Minute)}
		must(t, "CreatePendingLogin", db.CreatePendingLogin(ctx, q))
		hashes = append(hashes, q.TokenHash)
	}
	must(t, "DeleteExpiredSessions", db.DeleteExpiredSessions(ctx, t0.Add(2*time.Minute)))
	for i, h := range hashes {
		_, err := db.PendingLoginByHash(ctx, h)
		if i < 2 {
			code(t, fmt.Sprintf("expired pending login %d", i), err, chungthuc.ENOTFOUND)
		} else {
			must(t, fmt.Sprintf("live pending login %d", i), err)
		}
	}
}
