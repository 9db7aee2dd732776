package credentials

import (
	"crypto/rand"
	"encoding/base32"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// TOTP policy (RFC 6238), with the parameters every authenticator application supports:
// HMAC-SHA1, six digits, 30-second steps, a 20-byte (160-bit, RFC 4226 §4) random secret. A
// code is accepted for the current step and one step either side (TOTPSkew), for clocks
// that drift; the register keeps the last step accepted and takes only later ones, so a code
// is never accepted twice (chungthuc.Accounts UseTOTPStep).
const (
	TOTPPeriod = 30 * time.Second
	TOTPDigits = 6
	TOTPSkew   = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

var totpOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTPSecret returns a fresh random secret of 20 bytes as unpadded base32 (32
// characters A–Z, 2–7).
func NewTOTPSecret() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("credentials: no randomness: " + err.Error())
	}
	return b32.EncodeToString(b)
}

// TOTPURI is the otpauth:// URI of secret (the Key URI Format of Google Authenticator, which
// the applications read from a QR code): label "issuer:account", and the issuer, algorithm,
// digits and period as parameters.
func TOTPURI(issuer, account, secret string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account,
		RawQuery: strings.ReplaceAll(v.Encode(), "+", "%20")}
	return u.String()
}

// TOTPStep is the RFC 6238 time step of t: Unix seconds / 30.
func TOTPStep(t time.Time) int64 { return t.Unix() / int64(TOTPPeriod/time.Second) }

// TOTPCode returns the code of secret for the step of t (for tests and tools).
func TOTPCode(secret string, t time.Time) (string, error) {
	return hotp.GenerateCodeCustom(secret, uint64(TOTPStep(t)), totpOpts)
}

// CheckTOTP checks a code typed by a person against secret at now: spaces and dashes are
// ignored, then it must be six ASCII digits matching the step of now or one step either
// side (compared in constant time by the otp library). It returns the step the code
// belongs to, which the caller must then claim with UseTOTPStep before accepting the code.
func CheckTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\u00a0' {
			return -1
		}
		return r
	}, code)
	if len(code) != TOTPDigits || strings.Trim(code, "0123456789") != "" || secret == "" {
		return 0, false
	}
	now0 := TOTPStep(now)
	for s := now0 - TOTPSkew; s <= now0+TOTPSkew; s++ {
		if s <= 0 {
			continue
		}
		if valid, err := hotp.ValidateCustom(code, uint64(s), secret, totpOpts); err == nil && valid {
			step, ok = s, true
		}
	}
	return step, ok
}
