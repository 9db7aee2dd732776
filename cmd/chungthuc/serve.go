package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/api"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/credentials"
	"github.com/chungthuc/chungthuc/csc"
	"github.com/chungthuc/chungthuc/verify"
)

// cmdServe runs the web service until ctx is cancelled (SIGINT/SIGTERM), then shuts down
// gracefully: in-flight requests — certifications included — get up to 60 s to finish.
// At start-up it repairs what a crash left half-done (fsck), and on a fresh register it
// creates the demo logins and prints them once.
func cmdServe(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("serve")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("serve takes no arguments")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	a.warnOwner(ctx, logger)
	// Start-up check: repair what a crash left and look for orphans (never deleting them).
	a.checkPass(ctx, logger, true)
	if err := a.seedLogins(ctx, stdout); err != nil {
		return err
	}
	if err := a.tlog.Blocked(); err != nil {
		_, _ = fmt.Fprintf(stdout, "chungthuc: CERTIFICATION IS STOPPED (verification works): %s\n", chungthuc.ErrorMessage(err))
	}
	var metrics http.Handler
	deps := api.Deps{
		Public: a.reg, Register: a.reg, Accounts: a.reg, AccountAdmin: a.reg, Audit: a.audit, Certify: a.svc,
		Verify: a.verifier(), BaseURL: cfg.BaseURL, Logger: logger, PKI: a.pkiHandler(),
		Ready: a.ready, RateLimit: cfg.RateLimit, Log: a.tlog, UnitAdmin: unitAdmin{a},
		MaxConcurrentVerify: cfg.MaxConcurrentVerify, MaxConcurrentCertify: cfg.MaxConcurrentCertify,
		Mail: a.reg, MailEnabled: cfg.Mailer != nil, Webhooks: a.reg, WebhookAllowLoopback: cfg.WebhookAllowLoopback,
		TrustedProxies: cfg.TrustedProxies, AgentURL: cfg.AgentURL, RequireTOTPForAdmin: cfg.RequireTOTPForAdmin,
	}
	if cfg.RemoteSigners != nil {
		if err := checkRemoteSigners(ctx, a.reg, cfg.RemoteSigners); err != nil {
			return err
		}
		deps.Remote = cfg.RemoteSigners
		logger.Info("remote signing configured", "credentials", cfg.RemoteSigners.Len())
	}
	if cfg.MetricsAddr != "" {
		deps.ServeMetrics = func(h http.Handler) { metrics = h }
	}
	h, err := api.New(deps)
	if err != nil {
		return err
	}
	if metrics != nil {
		stop, err := serveMetrics(ctx, cfg.MetricsAddr, metrics, stdout)
		if err != nil {
			return err
		}
		defer stop()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "cannot listen on %s", cfg.Addr)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // a 50 MB upload on a slow ward connection
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if _, err := fmt.Fprintf(stdout, "chungthuc: listening on http://%s (links: %s)\n", ln.Addr(), cfg.BaseURL); err != nil {
		logger.Warn("cannot write to standard output", "err", err)
	}
	go a.renewLoop(ctx, logger)
	go a.checkLoop(ctx, logger)
	go a.tlog.Run(ctx, logInterval)
	go a.webhookWorker(logger).Run(ctx)
	if a.cfg.Mailer != nil {
		go a.mailWorker(logger).Run(ctx)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: waiting for requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	_, err = fmt.Fprintln(stdout, "chungthuc: stopped")
	return err
}

// serveMetrics serves /metrics alone on addr (CHUNGTHUC_METRICS_ADDR) until stop is called.
func serveMetrics(ctx context.Context, addr string, h http.Handler, stdout io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "cannot listen on %s (CHUNGTHUC_METRICS_ADDR)", addr)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	go func() { _ = srv.Serve(ln) }() // ends with Close below
	if _, err := fmt.Fprintf(stdout, "chungthuc: metrics on http://%s/metrics\n", ln.Addr()); err != nil {
		return nil, errors.Join(err, srv.Close())
	}
	return func() { _ = srv.Close() }, nil // nothing to keep of a scrape cut off at shutdown
}

// verifier is the verification engine with the register, the trust pool and the
// revocation source wired in.
func (a *app) verifier() api.Verifier {
	opt := verify.Options{Roots: a.trust, Lookup: registerLookup(a.reg, a.tlog), MaxSize: 64 << 20, Revocation: a.rev}
	return func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error) {
		return verify.Verify(ctx, r, size, opt)
	}
}

// pkiHandler serves the development PKI's OCSP, CRL, TSA and root at /pki/; nil (nothing
// mounted: /pki/* is 404) in production key mode.
func (a *app) pkiHandler() http.Handler {
	if a.pki == nil {
		return nil
	}
	return a.pki.Handler()
}

// logInterval is how often serve reads the checkpoints other instances stored and re-checks
// the register against the newest.
const logInterval = 10 * time.Second

// ready checks, at the same time, that the register answers and that the object store
// accepts a write now (its Probe: nothing is left behind, see storage/fs and storage/s3),
// each within the probe timeout, and that the register is not behind the object store's
// public log (then the message says why and what to do). The error names the failing part
// only; the detail (endpoints, dial errors) is logged.
func (a *app) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.StoreProbeTimeout)
	defer cancel()
	regc := make(chan error, 1)
	go func() { _, err := a.reg.Units(ctx); regc <- err }()
	storeErr := a.objects.Probe(ctx)
	regErr := <-regc
	var parts []string
	if regErr != nil {
		a.log.Warn("readiness: register", "err", regErr)
		parts = append(parts, "register unavailable")
	}
	if storeErr != nil {
		a.log.Warn("readiness: object store", "err", storeErr)
		parts = append(parts, "object store unavailable")
	}
	if len(parts) > 0 {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "%s", strings.Join(parts, ", "))
	}
	if err := a.tlog.Blocked(); err != nil {
		return err
	}
	return nil
}

// repairLocker is a register that can hold the repair lock across processes (PostgreSQL);
// the embedded register serves one process, which runs one check at a time.
type repairLocker interface {
	TryRepairLock(ctx context.Context) (release func(), ok bool, err error)
}

// checkLoop repairs and checks every RepairInterval: voids entries Pending longer than the
// grace, reads back a rolling sample of stored copies, and every tenth pass lists the store
// for orphans. One instance at a time does it (the PostgreSQL advisory lock); every
// instance refreshes the open findings for /metrics.
func (a *app) checkLoop(ctx context.Context, logger *slog.Logger) {
	t := time.NewTicker(a.cfg.RepairInterval)
	defer t.Stop()
	for pass := 1; ; pass++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.checkPass(ctx, logger, pass%10 == 0)
		// Expired sessions are deleted, not only refused.
		if err := a.reg.DeleteExpiredSessions(ctx, time.Now()); err != nil {
			logger.Warn("cannot delete expired sessions", "err", err)
		}
	}
}

// checkPass runs one repair-and-check pass under the repair lock (skipped when another
// instance holds it) and logs what it found.
func (a *app) checkPass(ctx context.Context, logger *slog.Logger, orphans bool) {
	if l, ok := a.reg.(repairLocker); ok {
		release, got, err := l.TryRepairLock(ctx)
		if err != nil {
			logger.Error("repair: cannot take the repair lock", "err", err)
			return
		}
		if !got {
			if _, err := a.svc.RefreshFindings(ctx); err != nil {
				logger.Warn("repair: cannot read the findings", "err", err)
			}
			return
		}
		defer release()
	}
	a.checkMu.Lock()
	defer a.checkMu.Unlock()
	// Entries whose external signature did not come before its deadline (issue 14).
	if n, err := a.svc.ExpireWaits(ctx); err != nil {
		logger.Error("cannot void expired signature waits", "err", err)
	} else if n > 0 {
		logger.Warn("voided entries whose signature wait expired", "voided", n)
	}
	rep, err := a.svc.Check(ctx, certify.CheckOptions{Grace: a.cfg.RepairGrace, Orphans: orphans, Sample: a.cfg.CheckSample})
	if err != nil {
		logger.Error("repair and check failed", "err", err)
		return
	}
	if len(rep.Voided) > 0 {
		logger.Warn("repair voided interrupted entries", "voided", len(rep.Voided))
	}
	if !rep.Clean() {
		logger.Error("stored objects need an administrator: see `chungthuc fsck`", "orphans", len(rep.Orphans), "problems", len(rep.Problems))
	}
}

// warnOwner logs a warning when serve runs as the owner of the register's tables: that role
// can alter them and disable their triggers (see README, "Two PostgreSQL roles").
func (a *app) warnOwner(ctx context.Context, logger *slog.Logger) {
	type owned interface {
		CurrentUser(ctx context.Context) (string, bool, error)
	}
	if o, ok := a.reg.(owned); ok {
		if role, owner, err := o.CurrentUser(ctx); err == nil && owner {
			logger.Warn("serve runs as the owner of the register's tables, which can alter them and disable their triggers; give serve its own role (CHUNGTHUC_MIGRATE_DATABASE_URL for migrate)", "role", role)
		}
	}
}

// renewLoop renews archived copies whose last time-stamp nears expiry, once a day.
func (a *app) renewLoop(ctx context.Context, logger *slog.Logger) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := a.renewer().Due(ctx, 2*365*24*time.Hour)
			if err != nil {
				logger.Error("archive renewal", "err", err)
			} else if n > 0 {
				logger.Info("archive renewal", "renewed", n)
			}
		}
	}
}

// Demo logins created on a fresh register.
const (
	demoOfficerLogin = "canbo"
	demoAdminLogin   = "quantri"
)

// seedLogins creates, when no demo login exists yet, a login for the demo officer (officer 1
// of unit HB) and a system administrator, and prints their passwords once. Only the
// embedded default is seeded.
func (a *app) seedLogins(ctx context.Context, stdout io.Writer) error {
	if !a.cfg.Embedded() {
		return nil
	}
	if _, err := a.reg.AccountByUsername(ctx, demoOfficerLogin); err == nil || chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		return err
	}
	u, err := a.reg.UnitByCode(ctx, demoUnit.Code)
	if err != nil {
		return err
	}
	officerPW, adminPW := credentials.NewPassword(), credentials.NewPassword()
	for _, acct := range []struct {
		a  chungthuc.Account
		pw string
	}{
		{chungthuc.Account{UnitID: u.ID, OfficerID: 1, Username: demoOfficerLogin, Role: chungthuc.RoleOfficer, MustChangePassword: true}, officerPW},
		{chungthuc.Account{Username: demoAdminLogin, Role: chungthuc.RoleSystemAdmin, MustChangePassword: true}, adminPW},
	} {
		h, err := credentials.HashPassword(acct.pw)
		if err != nil {
			return err
		}
		acct.a.PasswordHash = h
		if err := a.reg.CreateAccount(ctx, &acct.a); err != nil {
			return err
		}
	}
	// The passwords are also written to first-login.txt below: a failed print loses nothing.
	_, _ = fmt.Fprintf(stdout, "\nchungthuc: first start — demo logins (shown only this once; also in %s):\n  officer of %s: %s / %s\n  system administrator: %s / %s\n\n",
		filepath.Join(a.cfg.DataDir, "first-login.txt"), u.Name, demoOfficerLogin, officerPW, demoAdminLogin, adminPW)
	note := fmt.Sprintf("%s / %s (officer, %s)\n%s / %s (system administrator)\nDelete this file after you have changed the passwords.\n",
		demoOfficerLogin, officerPW, u.Name, demoAdminLogin, adminPW)
	return os.WriteFile(filepath.Join(a.cfg.DataDir, "first-login.txt"), []byte(note), 0o600)
}

// checkRemoteSigners refuses to start with a remote-signing configuration naming a unit
// that does not exist, or an officer who is not of that unit (EINVALID, every one named).
func checkRemoteSigners(ctx context.Context, reg chungthuc.Register, s *csc.Signers) error {
	var errs []string
	for _, ref := range s.Refs() {
		u, err := reg.UnitByCode(ctx, ref.Unit)
		if err != nil {
			errs = append(errs, fmt.Sprintf("unit %s: %s", ref.Unit, chungthuc.ErrorMessage(err)))
			continue
		}
		if ref.Officer == 0 {
			continue
		}
		if o, err := reg.OfficerByID(ctx, ref.Officer); err != nil || o.UnitID != u.ID {
			errs = append(errs, fmt.Sprintf("unit %s: officer %d is not an officer of this unit", ref.Unit, ref.Officer))
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return chungthuc.Errorf(chungthuc.EINVALID, "CHUNGTHUC_CSC_CONFIG: %s", strings.Join(errs, "; "))
	}
	return nil
}
