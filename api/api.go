// Package api is the HTTP face of chungthuc: the officer workspace (server-rendered HTML,
// Vietnamese by default), citizen download with an access code, public verification (the QR
// target /v/{token}, upload-to-verify), the JSON API for integrations, health, readiness and
// Prometheus metrics.
//
// All routes are declared in one function (routes.go). Handlers are methods on Server, a
// struct of the interfaces it needs (Register, Accounts, ObjectStore, AuditLog, the
// certification workflow and a verify function); public pages see only read-only views.
// Errors go through one function, Error, that maps chungthuc error codes to HTTP statuses
// with one table. The caller (cmd/chungthuc) owns the http.Server.
package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/verify"
)

// Certifier is the certification workflow the service drives (implemented by
// *certify.Service).
type Certifier interface {
	Certify(ctx context.Context, in certify.Input) (*certify.Output, error)
	Revoke(ctx context.Context, unitID, id int64, reason string) (*chungthuc.Certification, error)
	Refuse(ctx context.Context, r *chungthuc.Refusal) error
}

var _ Certifier = (*certify.Service)(nil)

// VerifyFunc checks a signed PDF (trust anchors and register lookup configured by the
// caller) and returns the report; errors are *chungthuc.Error (EINVALID, ETOOLARGE…).
type VerifyFunc func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error)

// Deps are what the service is built from. Register, Accounts, Objects, Certifier and
// Verify are required.
type Deps struct {
	Register  chungthuc.Register
	Accounts  chungthuc.Accounts
	Objects   chungthuc.ObjectStore
	Audit     chungthuc.AuditLog // nil: security events go to the log only
	Certifier Certifier
	Verify    VerifyFunc
	// BaseURL is the public base of links (verification URLs, QR codes); cookies are
	// marked Secure when it starts with https://.
	BaseURL string
	Now     chungthuc.Clock // default time.Now
	Logger  *slog.Logger    // default slog.Default()
	// MaxUploadBytes bounds one upload request (default 50 MiB); MaxFiles the scans of one
	// certification (default 50).
	MaxUploadBytes int64
	MaxFiles       int
	// TempDir receives uploads while they are checked (default os.TempDir()).
	TempDir string
	// Mounts are extra handlers mounted at a path prefix (e.g. "/pki" for the development
	// PKI's OCSP responder and CRL).
	Mounts map[string]http.Handler
	// PublicRate is the sustained requests per second one client may make to the public
	// verification endpoints (default 5, burst 20); LoginRate the login attempts per
	// minute per client (default 10).
	PublicRate float64
	LoginRate  float64
	// SessionTTL is how long a login lasts (default 8 hours, a working day).
	SessionTTL time.Duration
}

// Server is the HTTP service. Build it with New; it is safe for concurrent use.
type Server struct {
	reg       chungthuc.Register
	accounts  chungthuc.Accounts
	objects   chungthuc.ObjectStore
	audit     chungthuc.AuditLog
	certifier Certifier
	verify    VerifyFunc
	baseURL   string
	now       chungthuc.Clock
	log       *slog.Logger
	maxUpload int64
	maxFiles  int
	tempDir   string
	mounts    map[string]http.Handler
	secure    bool
	ttl       time.Duration

	Metrics     *Metrics
	publicLimit *limiter
	loginLimit  *limiter

	inflight sync.WaitGroup // certifications in progress (graceful shutdown waits for them)
	handler  http.Handler
}

// New builds the service. It panics only on a programming error (a required dependency
// missing), never on input.
func New(d Deps) *Server {
	if d.Register == nil || d.Accounts == nil || d.Objects == nil || d.Certifier == nil || d.Verify == nil {
		panic("api.New: Register, Accounts, Objects, Certifier and Verify are required")
	}
	s := &Server{
		reg: d.Register, accounts: d.Accounts, objects: d.Objects, audit: d.Audit,
		certifier: d.Certifier, verify: d.Verify, baseURL: strings.TrimRight(d.BaseURL, "/"),
		now: d.Now, log: d.Logger, maxUpload: d.MaxUploadBytes, maxFiles: d.MaxFiles,
		tempDir: d.TempDir, mounts: d.Mounts, ttl: d.SessionTTL,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxUpload <= 0 {
		s.maxUpload = 50 << 20
	}
	if s.maxFiles <= 0 {
		s.maxFiles = 50
	}
	if s.ttl <= 0 {
		s.ttl = 8 * time.Hour
	}
	s.secure = strings.HasPrefix(s.baseURL, "https://")
	pr := d.PublicRate
	if pr <= 0 {
		pr = 5
	}
	lr := d.LoginRate
	if lr <= 0 {
		lr = 10
	}
	s.publicLimit = newLimiter(pr, 20, s.now)
	s.loginLimit = newLimiter(lr/60, int(max(lr, 1)), s.now)
	s.Metrics = newMetrics()
	s.handler = s.routes()
	return s
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Wait blocks until every certification in progress has finished or ctx is done; the
// caller calls it after http.Server.Shutdown so that a signal never cuts a certification
// between its reservation and its issue.
func (s *Server) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// verifyURL is the public link of a token.
func (s *Server) verifyURL(token string) string { return s.baseURL + "/v/" + token }
