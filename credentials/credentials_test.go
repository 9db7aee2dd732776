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
	th := Throttle{Free: 3, Base: time.Second, Max: time.Minute, Window: time.Hour}
	for n, want := range map[int]time.Duration{0: 0, 1: 0, 3: 0, 4: time.Second, 5: 2 * time.Second, 9: 32 * time.Second, 10: time.Minute, 1000: time.Minute} {
		if got := th.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
	counts := []chungthuc.LoginFailures{{Count: 2, Last: now}, {Count: 5, Last: now.Add(-time.Second)}}
	if got := th.Wait(counts, now); got != time.Second {
		t.Fatalf("Wait = %v, want 1s (the address's 2 s delay, 1 s gone)", got)
	}
	if got := th.Wait(counts, now.Add(time.Second)); got != 0 {
		t.Fatalf("Wait after the delay = %v", got)
	}
	if got := th.Wait([]chungthuc.LoginFailures{{Count: 100, Last: now.Add(-2 * time.Hour)}}, now); got != 0 {
		t.Fatalf("Wait after the window = %v", got)
	}
}
