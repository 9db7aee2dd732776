package api

import (
	"context"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
)

// The server's dependencies, each cut to what its handlers use. A chungthuc.Register
// implementation serves as PublicRegister and OfficeRegister, a chungthuc.Accounts one as
// AccountStore, and so on (checked below); none of the handlers can write to the register
// except through the certification workflow (Certifier).

// PublicRegister is the read-only view of the register the public, unauthenticated pages
// and JSON get: an issued copy found by its link or by its hash, and its unit.
type PublicRegister interface {
	CertificationByToken(ctx context.Context, token string) (*chungthuc.Certification, error)
	CertificationBySHA256(ctx context.Context, sha256 string) (*chungthuc.Certification, error)
	UnitByID(ctx context.Context, id int64) (*chungthuc.Unit, error)
	// AccessCodeHash is the hash of the code in force (a reissue voids the ones before).
	AccessCodeHash(ctx context.Context, c *chungthuc.Certification) (string, error)
}

// OfficeRegister is the read-only view of the register the officer workspace and the
// integrations' API get; they change it only through Certifier.
type OfficeRegister interface {
	UnitByID(ctx context.Context, id int64) (*chungthuc.Unit, error)
	Units(ctx context.Context) ([]*chungthuc.Unit, error)
	OfficerByID(ctx context.Context, id int64) (*chungthuc.Officer, error)
	CertificationByID(ctx context.Context, id int64) (*chungthuc.Certification, error)
	Certifications(ctx context.Context, f chungthuc.CertificationFilter) ([]*chungthuc.Certification, int, error)
	// CertificationByIdempotencyKey finds the entry a form's one-time key made (submit.go).
	CertificationByIdempotencyKey(ctx context.Context, unitID int64, key string) (*chungthuc.Certification, error)
	// Statistics are a unit's figures for a period (stats.go).
	Statistics(ctx context.Context, unitID int64, from, to, now time.Time) (*chungthuc.Statistics, error)
	// SignatureWaits lists a unit's entries waiting for a signature made outside (signing.go).
	SignatureWaits(ctx context.Context, unitID int64, step chungthuc.SignatureStep, limit int) ([]*chungthuc.SignatureWait, error)
}

// RemoteSigner signs a digest with the remote-signing (CSC) credential configured for an
// officer (officerID > 0) or the seal (officerID 0) of a unit, authorised by the signer's
// one-time code (csc.Signers). Has reports whether one is configured. Sign returns the
// signature value and the credential's chain (DER, leaf first); EFORBIDDEN when the
// provider refused the code, EUNAUTHORIZED when it refused the service's client
// credentials, EUNAVAILABLE when it cannot be reached.
type RemoteSigner interface {
	Has(unitCode string, officerID int64) bool
	Sign(ctx context.Context, unitCode string, officerID int64, digest []byte, otp string) ([]byte, [][]byte, error)
}

// ProviderSigner is a RemoteSigner whose credentials may be authorised at the provider's own
// page (CSC oauth2code, csc.Signers): AtProvider says which; AuthorizeAt gives the page's
// address for exactly digest (back to redirectURI with state) and the PKCE verifier;
// SignWithCode exchanges the code the page returned and signs digest (EFORBIDDEN when the
// provider refuses the code); ProviderOrigin is the page's scheme://host.
type ProviderSigner interface {
	AtProvider(unitCode string, officerID int64) bool
	AuthorizeAt(unitCode string, officerID int64, digest []byte, redirectURI, state string) (authURL, verifier string, err error)
	SignWithCode(ctx context.Context, unitCode string, officerID int64, digest []byte, code, redirectURI, verifier string) ([]byte, [][]byte, error)
	ProviderOrigin(unitCode string, officerID int64) string
}

// MailStatuses reads what became of an entry's e-mail (chungthuc.Mails); ENOTFOUND when
// none was asked for.
type MailStatuses interface {
	MailStatusOf(ctx context.Context, certificationID int64) (*chungthuc.MailStatus, error)
}

// AccountStore is what logins, sessions and API tokens need of chungthuc.Accounts.
type AccountStore interface {
	AccountByUsername(ctx context.Context, username string) (*chungthuc.Account, error)
	AccountByID(ctx context.Context, id int64) (*chungthuc.Account, error)
	LoginFailed(ctx context.Context, keys []string, now time.Time, window time.Duration) ([]chungthuc.LoginFailures, error)
	LoginFailures(ctx context.Context, keys []string) ([]chungthuc.LoginFailures, error)
	ForgetLoginFailures(ctx context.Context, keys []string) error
	CreateSession(ctx context.Context, s *chungthuc.Session) error
	SessionByHash(ctx context.Context, hash string) (*chungthuc.Session, error)
	DeleteSession(ctx context.Context, hash string) error
	// SetPassword and DeleteSessions: password changes and ending an account's sessions.
	SetPassword(ctx context.Context, id int64, hash string, mustChange bool) error
	DeleteSessions(ctx context.Context, accountID int64, except string) (int, error)
	APITokenByHash(ctx context.Context, hash string) (*chungthuc.APIToken, error)
	// The optional second factor and the logins waiting for it (totp.go).
	TOTPOf(ctx context.Context, id int64) (*chungthuc.TOTP, error)
	SetTOTPPending(ctx context.Context, id int64, secret string) error
	EnableTOTP(ctx context.Context, id int64, secret string, step int64, at time.Time) error
	UseTOTPStep(ctx context.Context, id int64, step int64) error
	DisableTOTP(ctx context.Context, id int64) (bool, error)
	CreatePendingLogin(ctx context.Context, p *chungthuc.PendingLogin) error
	PendingLoginByHash(ctx context.Context, hash string) (*chungthuc.PendingLogin, error)
	DeletePendingLogin(ctx context.Context, hash string) error
}

// Auditor appends security events (logins, downloads, requests to revoke) to the audit log.
type Auditor interface {
	Append(ctx context.Context, e *chungthuc.AuditEntry) error
}

// Certifier is the certification workflow (certify.Service): the only way handlers change
// the register, and the only way they read stored copies (checked against the register).
type Certifier interface {
	Certify(ctx context.Context, in certify.Input) (*certify.Output, error)
	// Preview stamps in as Certify would, without a number or signature (certify.Service).
	Preview(ctx context.Context, in certify.Input) (*chungthuc.Copy, error)
	Revoke(ctx context.Context, unitID, id int64, reason string) (*chungthuc.Certification, error)
	Refuse(ctx context.Context, r *chungthuc.Refusal) error
	ReissueAccessCode(ctx context.Context, unitID, id int64, actor string) (string, *chungthuc.Certification, error)
	Rate(ctx context.Context, r *chungthuc.Rating, actor string) error
	VerifyURL(token string) string
	ReadCopy(ctx context.Context, c *chungthuc.Certification) (*certify.Copy, error)
	// Signing outside the service (external.go).
	ToSignOf(ctx context.Context, unitID, id int64) (*certify.Awaiting, error)
	CompleteSignature(ctx context.Context, sig certify.Signature) (*certify.Awaiting, *certify.Output, error)
	StoredCopyState(ctx context.Context, c *chungthuc.Certification) (string, error)
	RefreshFindings(ctx context.Context) ([]*chungthuc.Finding, error)
	// For /metrics.
	IntegrityFailures() map[string]int64
	OpenFindings() map[string]int
	PendingVoids() int
}

var (
	_ PublicRegister = chungthuc.Register(nil)
	_ OfficeRegister = chungthuc.Register(nil)
	_ AccountStore   = chungthuc.Accounts(nil)
	_ Auditor        = chungthuc.AuditLog(nil)
	_ Certifier      = (*certify.Service)(nil)
)
