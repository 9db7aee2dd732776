package credentials

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TestTOTPRFC6238 checks the codes against the SHA-1 test vectors of RFC 6238 appendix B
// (eight digits there; the last six of them are our six-digit codes).
func TestTOTPRFC6238(t *testing.T) {
	secret := b32.EncodeToString([]byte("12345678901234567890"))
	for _, v := range []struct {
		unix int64
		code string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}} {
		at := time.Unix(v.unix, 0)
		got, err := TOTPCode(secret, at)
		if err != nil || got != v.code[2:] {
			t.Errorf("TOTPCode at %d = %q, %v; want %q", v.unix, got, err, v.code[2:])
		}
		step, ok := CheckTOTP(secret, v.code[2:5]+" "+v.code[5:], at)
		if !ok || step != v.unix/30 {
			t.Errorf("CheckTOTP at %d = %d, %v", v.unix, step, ok)
		}
	}
}

// TestCheckTOTP: the previous, current and next steps' codes pass and name their step; two
// steps away, wrong digits, wrong lengths, letters, an empty secret and another secret fail.
func TestCheckTOTP(t *testing.T) {
	secret := NewTOTPSecret()
	if len(secret) != 32 || strings.Trim(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Fatalf("secret %q", secret)
	}
	now := time.Date(2026, 12, 4, 10, 0, 10, 0, time.UTC)
	for d := -1; d <= 1; d++ {
		at := now.Add(time.Duration(d) * TOTPPeriod)
		code, _ := TOTPCode(secret, at)
		if step, ok := CheckTOTP(secret, code, now); !ok || step != TOTPStep(at) {
			t.Errorf("code of step %+d: %d, %v", d, step, ok)
		}
		// The library's own generator agrees with ours.
		lib, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil || lib != code {
			t.Errorf("totp.GenerateCodeCustom = %q, %v; ours %q", lib, err, code)
		}
	}
	far, _ := TOTPCode(secret, now.Add(2*TOTPPeriod))
	cur, _ := TOTPCode(secret, now)
	wrong := []byte(cur)
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	for _, c := range []string{far, string(wrong), cur[:5], cur + "0", "abcdef", "", "１２３４５６"} {
		if c == cur {
			continue
		}
		if _, ok := CheckTOTP(secret, c, now); ok {
			t.Errorf("CheckTOTP accepted %q", c)
		}
	}
	if _, ok := CheckTOTP("", cur, now); ok {
		t.Error("CheckTOTP accepted a code without a secret")
	}
	if _, ok := CheckTOTP(NewTOTPSecret(), cur, now); ok {
		t.Error("CheckTOTP accepted another secret's code")
	}
}

// TestTOTPURI: the URI parses back (otp.NewKeyFromURL) with our parameters.
func TestTOTPURI(t *testing.T) {
	secret := NewTOTPSecret()
	k, err := otp.NewKeyFromURL(TOTPURI("chungthuc", "canbo@ct.example.vn", secret))
	if err != nil {
		t.Fatal(err)
	}
	if k.Type() != "totp" || k.Secret() != secret || k.Issuer() != "chungthuc" || k.AccountName() != "canbo@ct.example.vn" ||
		k.Period() != 30 || k.Digits() != otp.DigitsSix || k.Algorithm() != otp.AlgorithmSHA1 {
		t.Fatalf("key %v", k)
	}
	u, _ := url.Parse(k.URL())
	if u.Scheme != "otpauth" {
		t.Fatal(u)
	}
}
