package credentials

import (
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("Mật khẩu đúng")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash format: %s", h)
	}
	if !CheckPassword(h, "Mật khẩu đúng") {
		t.Fatal("the right password does not match")
	}
	if CheckPassword(h, "Mật khẩu sai") || CheckPassword(h, "") {
		t.Fatal("a wrong password matches")
	}
	h2, _ := HashPassword("Mật khẩu đúng")
	if h2 == h {
		t.Fatal("two hashes of one password are equal: no fresh salt")
	}
	parts := strings.Split(h, "$")
	for name, bad := range map[string]string{
		"empty":        "",
		"bcrypt":       "$2y$10$abcdefghijklmnopqrstuv",
		"no key":       strings.Join(parts[:5], "$") + "$",
		"huge memory":  strings.Replace(h, "m=19456", "m=4194304", 1),
		"many passes":  strings.Replace(h, "t=2", "t=1000", 1),
		"zero threads": strings.Replace(h, "p=1", "p=0", 1),
		"bad salt":     strings.Join(append(append([]string{}, parts[:4]...), "!!", parts[5]), "$"),
	} {
		if CheckPassword(bad, "Mật khẩu đúng") {
			t.Errorf("%s: matches", name)
		}
	}
	if CheckUnknown("anything") {
		t.Fatal("CheckUnknown matched")
	}
}

func TestTokens(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		tok := NewToken()
		if len(tok) != 43 || strings.ContainsAny(tok, "+/=") || seen[tok] {
			t.Fatalf("bad token %q", tok)
		}
		seen[tok] = true
	}
	if got := TokenHash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("TokenHash: %s", got)
	}
}

func TestNewPassword(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		p := NewPassword()
		if len(p) != 16 || strings.ContainsAny(p, "-_0O1lI") || seen[p] {
			t.Fatalf("bad password %q", p)
		}
		seen[p] = true
	}
}

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, chungthuc.Vietnam)
	th := Throttle{MaxFailures: 3, Lockout: time.Minute}
	a := &chungthuc.Account{}
	for i := 1; i < 3; i++ {
		failed, until := th.Failed(a, now)
		if failed != i || !until.IsZero() {
			t.Fatalf("failure %d: %d %v", i, failed, until)
		}
		a.FailedLogins = failed
		if !th.Succeeded(a) {
			t.Fatal("failures recorded, yet nothing to reset")
		}
	}
	failed, until := th.Failed(a, now)
	if failed != 0 || !until.Equal(now.Add(time.Minute)) {
		t.Fatalf("third failure: %d %v", failed, until)
	}
	a.FailedLogins, a.LockedUntil = failed, until
	if !th.Locked(a, now.Add(59*time.Second)) || th.Locked(a, now.Add(time.Minute)) {
		t.Fatal("lock period wrong")
	}
	if !th.Succeeded(a) || th.Succeeded(&chungthuc.Account{}) {
		t.Fatal("Succeeded")
	}
}
