package credentials

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters (OWASP's minimum: 19 MiB, 2 passes, 1 lane).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// HashPassword returns the argon2id hash of password in PHC string format
// ("$argon2id$v=19$m=…,t=…,p=…$salt$key") with a fresh 16-byte salt. The error is the
// random source's.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a hash from HashPassword, comparing in
// constant time. Malformed hashes, and parameters beyond 1 GiB of memory or 10 passes
// (a tampered hash must not make a login cost minutes), never match.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 10 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when there is no real hash to check, so that unknown and
// known usernames take the same time. Computed on first use, not at start-up (argon2id is
// slow on purpose, and every CLI command would pay for it).
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword("chungthuc-dummy-password")
	if err != nil {
		// Without randomness no password can be hashed either; a fixed salt keeps the cost.
		return "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	}
	return h
})

// CheckUnknown spends the time of one CheckPassword on password and returns false: for a
// username that does not exist, a disabled or locked account, so that the answer's timing
// does not tell them apart from a wrong password.
func CheckUnknown(password string) bool {
	CheckPassword(dummyHash(), password)
	return false
}

// TokenHash is how session cookies and API tokens are stored: the hex SHA-256 of the token.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewPassword returns a random 16-character password of letters and digits without
// look-alikes (no 0, O, 1, l, I), easy to type and never starting with a dash (about 93
// bits).
func NewPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789" // 56 letters, no look-alikes
	out := make([]byte, 0, 16)
	b := make([]byte, 32)
	for len(out) < 16 {
		_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+: it crashes the program instead)
		for _, c := range b {
			if int(c) < 256/len(alphabet)*len(alphabet) && len(out) < 16 {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// NewToken returns a random URL-safe token of 32 bytes (256 bits), for session cookies,
// CSRF tokens and API tokens.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails; see NewPassword
	return base64.RawURLEncoding.EncodeToString(b)
}
