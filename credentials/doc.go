// Package credentials holds what makes a secret a login: argon2id password hashes
// (HashPassword, CheckPassword, CheckUnknown for names that do not exist), the SHA-256 under
// which session cookies and API tokens are stored (TokenHash), generated passwords and
// tokens (NewPassword, NewToken), the login throttling policy (Throttle: how long the next
// attempt waits after failures), and the optional second factor: RFC 6238 time-based
// one-time codes through github.com/pquerna/otp (NewTOTPSecret, TOTPURI, CheckTOTP, which
// names the time step a code belongs to so that the register can refuse its reuse).
//
// It is used by the web service (api) and the command line (accounts and tokens created by
// an operator), and knows nothing of HTTP or storage: callers keep the hashes and the
// counters in chungthuc.Accounts.
package credentials
