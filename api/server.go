package api

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/translog"
	"github.com/chungthuc/chungthuc/verify"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Verifier checks an uploaded PDF with the verification engine (the same one `chungthuc
// verify` uses), consulting the register.
type Verifier func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error)

// Deps is what the server needs (ports.go). Public, Register, Accounts, Audit, Certify
// and Verify are required. Stored copies are read through Certify, which checks them
// against the register.
type Deps struct {
	Public   PublicRegister // for the public pages and JSON only
	Register OfficeRegister // for the officer workspace and the integrations' API
	Accounts AccountStore
	// AccountAdmin backs the administrators' account pages (nil: they answer 403).
	AccountAdmin AccountAdmin
	Audit        Auditor
	Certify      Certifier
	Verify       Verifier
	BaseURL      string       // e.g. https://chungthuc.example.vn (cookies are Secure when https)
	Logger       *slog.Logger // default slog.Default()
	Now          chungthuc.Clock
	// MaxUpload bounds one request's uploaded files (default 50 MiB + 1 MiB of form).
	MaxUpload int64
	// PKI, when set, is mounted at /pki/ (the development PKI's OCSP, CRL, TSA, root).
	PKI http.Handler
	// Ready checks the register and that the object store accepts writes, for /readyz (nil:
	// always ready). It is given one second; its error message is shown, so it must name
	// the failing part without endpoints (the detail belongs in the log).
	Ready func(ctx context.Context) error
	// RateLimit is the number of public requests per minute per client address for the
	// verification and download endpoints (default 60); logins get a fifth of it.
	RateLimit int
	// MaxConcurrentVerify and MaxConcurrentCertify bound the verifications and the
	// certifications running at once, process-wide (default: the number of CPUs, at least
	// 2); a request beyond them waits up to QueueWait (default 5 s), then gets 503 with
	// Retry-After.
	MaxConcurrentVerify, MaxConcurrentCertify int
	QueueWait                                 time.Duration
	// ServeMetrics, when set, is handed the /metrics handler to serve elsewhere (cmd: on
	// CHUNGTHUC_METRICS_ADDR), and the service's own listener does not serve /metrics.
	ServeMetrics func(http.Handler)
	// Log, when set, is the register's public transparency log: /log/checkpoint, /log/key,
	// /api/v1/log/… and the "in the public log" line of verification answers (translog.go).
	Log *translog.Log
	// UnitAdmin, when set, serves the unit page (seal and signature images, register books)
	// and the printouts: book PDF/CSV, refusal slips (unitadmin.go).
	UnitAdmin UnitAdmin
	// Mail, when set, reports the citizen e-mail of an entry on its detail page (state,
	// masked address, attempts, last error). MailEnabled shows the e-mail field in the
	// certify form (e-mail is configured: CHUNGTHUC_SMTP_URL).
	Mail        MailStatuses
	MailEnabled bool
	// Webhooks, when set, serves the system administrator's webhook page (/app/webhooks);
	// WebhookAllowLoopback lets it accept receivers on loopback (as the worker does).
	Webhooks             WebhookAdmin
	WebhookAllowLoopback bool
	// TrustedProxies (CHUNGTHUC_TRUSTED_PROXIES, ParseTrustedProxies) are the networks whose
	// X-Forwarded-For / Forwarded headers name the client; none by default, so the client is
	// the socket peer (clientaddr.go).
	TrustedProxies []netip.Prefix
	// Remote, when set, signs with the remote-signing credentials configured per officer
	// and per unit seal (CHUNGTHUC_CSC_CONFIG); AgentURL is the local signing agent's
	// loopback base URL the signing page calls (cmd/chungthuc-agent; empty: not offered).
	Remote   RemoteSigner
	AgentURL string
	// RequireTOTPForAdmin (CHUNGTHUC_REQUIRE_TOTP_FOR_ADMIN): a system administrator without
	// a second factor can only enrol one (or change the password, or log out) after logging
	// in (totp.go).
	RequireTOTPForAdmin bool
}

// Server holds the handlers.
type Server struct {
	Deps
	log     *slog.Logger
	tmpl    map[string]*template.Template
	metrics *metrics
	public  *limiter
	logins  *limiter
	ratings *limiter // the citizens' ratings (rate.go)
	secure  bool
	codes   *codeHolder // new access codes until handed over; one-time form keys (submit.go)
	mux     *chi.Mux    // the router, for the csrf middleware's lookups
	// verifying and certifying bound the heavy requests running at once (budget.go).
	verifying, certifying *gate
}

// New returns the service's HTTP handler.
func New(d Deps) (http.Handler, error) {
	if d.Public == nil || d.Register == nil || d.Accounts == nil || d.Audit == nil || d.Certify == nil || d.Verify == nil {
		return nil, errors.New("api: missing dependency")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.MaxUpload <= 0 {
		d.MaxUpload = 51 << 20
	}
	if d.RateLimit <= 0 {
		d.RateLimit = 60
	}
	if d.MaxConcurrentVerify <= 0 {
		d.MaxConcurrentVerify = defaultConcurrency()
	}
	if d.MaxConcurrentCertify <= 0 {
		d.MaxConcurrentCertify = defaultConcurrency()
	}
	if d.QueueWait <= 0 {
		d.QueueWait = defaultQueueWait
	}
	s := &Server{Deps: d, log: d.Logger, metrics: newMetrics(), secure: strings.HasPrefix(d.BaseURL, "https://"), codes: newCodeHolder()}
	s.metrics.extra = s.integrityMetrics
	s.verifying = newGate("verify", d.MaxConcurrentVerify, d.QueueWait)
	s.certifying = newGate("certify", d.MaxConcurrentCertify, d.QueueWait)
	s.public = newLimiter(d.RateLimit, time.Minute)
	s.logins = newLimiter(max(d.RateLimit/5, 5), time.Minute)
	s.ratings = newLimiter(max(d.RateLimit/rateLimitShare, 5), time.Minute)
	var err error
	if s.tmpl, err = parseTemplates(); err != nil {
		return nil, err
	}
	return s.routes(), nil
}

// routes declares every route of the service.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	s.mux = r
	r.Use(s.clientAddresses, s.requestID, s.recoverer, s.observe, securityHeaders, s.hsts, s.csrf)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, chungthuc.Errorf(chungthuc.ENOTFOUND, "Không tìm thấy trang. (Page not found.)"))
	})

	// Operations.
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	if s.ServeMetrics != nil {
		s.ServeMetrics(http.HandlerFunc(s.metrics.handler))
	} else {
		r.Get("/metrics", s.metrics.handler)
	}
	static, _ := fs.Sub(staticFS, "static")
	r.Handle("/static/*", http.StripPrefix("/static/", cacheStatic(noListing(http.FileServer(http.FS(static))))))
	r.Get("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	if s.PKI != nil {
		r.Mount("/pki", s.PKI)
	}

	// Public pages and JSON: read-only, rate limited.
	r.Group(func(r chi.Router) {
		r.Use(s.rateLimit(s.public))
		r.Get("/", s.home)
		r.Get("/v/{token}", s.verifyToken)
		r.Post("/v/{token}/download", s.download)
		r.With(s.rateLimit(s.ratings)).Get("/v/{token}/rate", s.ratePage)
		r.With(s.rateLimit(s.ratings)).Post("/v/{token}/rate", s.rate)
		r.Get("/verify", s.verifyPage)
		r.Post("/verify", s.verifyUpload)
		r.Post("/api/v1/verify", s.apiVerify)
		r.Get("/api/v1/verify/{token}", s.apiVerifyToken)
		r.Get("/api/v1/verify/sha256/{sum}", s.apiVerifyHash)
		r.Get("/api/openapi.json", s.openAPI)
		s.logRoutes(r)
	})

	// Login.
	r.Group(func(r chi.Router) {
		r.Use(s.rateLimit(s.logins))
		r.Get("/login", s.loginPage)
		r.Post("/login", s.login)
		r.Post(totpLoginPath, s.totpLogin)
	})
	r.Get(totpLoginPath, s.totpLoginPage) // the code page: no guess is made here
	r.Post("/logout", s.withSession(s.logout))
	r.Get("/logout", s.withSession(s.logoutPage)) // a followed link gets a page, not a 405

	// The officer workspace: a session, unit-scoped (CSRF: the csrf middleware, csrf.go).
	r.Route("/app", func(r chi.Router) {
		r.Use(s.sessionRequired)
		r.Get("/", s.dashboard)
		r.Get("/password", s.passwordPage)
		r.Post("/password", s.changePassword)
		r.Get("/account/totp", s.totpPage)
		r.Post("/account/totp", s.totpEnable)
		r.Post("/account/totp/disable", s.totpDisable)
		r.Group(func(r chi.Router) {
			r.Use(s.adminsOnly)
			r.Get("/accounts", s.accountsPage)
			r.Post("/accounts", s.addAccount)
			r.Post("/accounts/{id}/disable", s.accountAction("disable"))
			r.Post("/accounts/{id}/enable", s.accountAction("enable"))
			r.Post("/accounts/{id}/reset", s.accountAction("reset"))
			r.Post("/accounts/{id}/sessions", s.accountAction("sessions"))
			r.Post("/accounts/{id}/totp", s.accountAction("totp"))
			r.Post("/tokens/{id}/revoke", s.revokeToken)
		})
		r.Get("/certify", s.certifyPage)
		r.Post("/certify", s.certifyForm)
		r.Post("/certify/confirm", s.certifyConfirm)
		r.Get("/certify/preview", s.certifyPreview)
		r.Get("/register", s.registerPage)
		r.Get("/c/{id}", s.certificationPage)
		r.Get("/c/{id}/pdf", s.certificationPDF)
		r.Get("/c/{id}/receipt", s.receipt)
		r.Post("/c/{id}/revoke", s.revokeForm)
		r.Post("/c/{id}/code-handed-over", s.codeHandedOver)
		r.Post("/c/{id}/access-code", s.reissueForm)
		r.Get("/refuse", s.refusePage)
		r.Post("/refuse", s.refuseForm)
		r.Get("/stats", s.stats)
		r.Get("/unit", s.unitPage)
		r.Post("/unit/seal", s.unitSeal)
		r.Post("/unit/signature", s.unitSignature)
		r.Get("/books/{id}/pdf", s.bookPrint(false))
		r.Get("/books/{id}/csv", s.bookPrint(true))
		r.Get("/refusals/{id}/slip", s.refusalSlip)
		r.Get("/to-sign", s.signQueue(chungthuc.StepOfficerSignature))
		r.Get("/to-seal", s.signQueue(chungthuc.StepSeal))
		r.Get("/c/{id}/sign", s.signPage)
		r.Post("/c/{id}/signature", s.signatureForm)
		r.Post("/c/{id}/sign-remote", s.signRemote)
		r.Post("/c/{id}/sign-provider", s.signProvider)
		r.Get("/csc/callback", s.providerCallback)
		r.Get("/webhooks", s.webhooksPage)
		r.Post("/webhooks", s.webhookAdd)
		r.Post("/webhooks/{id}/remove", s.webhookRemove)
		r.Post("/webhooks/{id}/test", s.webhookTest)
	})

	// The JSON API for integrations: bearer tokens, unit-scoped.
	r.Route("/api/v1/certifications", func(r chi.Router) {
		r.Use(s.bearerRequired)
		r.Post("/", s.apiCertify)
		r.Get("/{id}", s.apiCertification)
		r.Get("/{id}/pdf", s.apiCertificationPDF)
		r.Post("/{id}/revoke", s.apiRevoke)
		r.Post("/{id}/access-code", s.apiReissueCode)
		r.Get("/{id}/to-sign", s.apiToSign)
		r.Post("/{id}/signature", s.apiSignature)
	})
	return r
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// readyTimeout bounds /readyz: a load balancer needs its answer within about a second.
const readyTimeout = time.Second

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		errc := make(chan error, 1)
		go func() { errc <- s.Ready(ctx) }()
		var err error
		select {
		case err = <-errc:
		case <-ctx.Done():
			err = chungthuc.Errorf(chungthuc.EUNAVAILABLE, "no answer within %s", readyTimeout)
		}
		if err != nil {
			s.log.Warn("not ready", "err", err)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready: "+chungthuc.ErrorMessage(err)+"\n")
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ready\n")
}

// noListing answers 404 for a directory (a path ending in "/", or empty): the static files
// are served, their folders are not listed.
func noListing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// logoutPage answers GET /logout (a bookmarked or typed link): a button that logs out.
func (s *Server) logoutPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "logout.html", nil)
}
