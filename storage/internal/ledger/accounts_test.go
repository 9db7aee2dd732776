package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

func TestUsername(t *testing.T) {
	for in, want := range map[string]string{
		"  Admin.PL ": "admin.pl",
		"HANG_NT-01":  "hang_nt-01",
		"\u212Aey":    "key", // KELVIN SIGN is canonically K: NFC first, then lower-case
	} {
		got := Username(in)
		if got != want || CheckUsername(got) != nil {
			t.Errorf("Username(%q) = %q (%v), want %q", in, got, CheckUsername(got), want)
		}
	}
	for _, bad := range []string{"", "ab", strings.Repeat("x", 65), "a b", "hằng", "a@b", "ＡＢＣ"} {
		if chungthuc.ErrorCode(CheckUsername(Username(bad))) != chungthuc.EINVALID {
			t.Errorf("username %q accepted", bad)
		}
	}
}

func TestCheckPasswordHash(t *testing.T) {
	good := "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"
	if err := CheckPasswordHash(good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "hunter2", "$argon2i$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "$argon2id$v=19$m=65536,t=3,p=4$$aGFzaA",
		"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$", good + " ", "$argon2id$m=65536$c2FsdA$aGFzaA$x",
		good[:40] + strings.Repeat("A", 500)} {
		err := CheckPasswordHash(bad)
		if chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("CheckPasswordHash(%q) = %v", bad, err)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("the error quotes the hash: %v", err)
		}
	}
}

func TestPrepareSession(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 999, time.UTC)
	s := &chungthuc.Session{TokenHash: strings.Repeat("ab", 32), AccountID: 1, CSRFToken: "x", ExpiresAt: now.Add(time.Hour)}
	if err := PrepareSession(s, now); err != nil || !s.CreatedAt.Equal(Micro(now)) {
		t.Fatalf("PrepareSession = %v, %+v", err, s)
	}
	for _, h := range []string{"", "short", strings.Repeat("a", 129), strings.Repeat("a", 20) + " ", strings.Repeat("é", 20)} {
		if CheckSecretHash(h) == nil {
			t.Errorf("CheckSecretHash(%q) accepted", h)
		}
	}
}
