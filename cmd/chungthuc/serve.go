package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/api"
	"github.com/chungthuc/chungthuc/certs"
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
	if rep, err := a.fsck(ctx, 2*time.Minute); err != nil {
		logger.Error("start-up fsck failed", "err", err)
	} else if len(rep.Issued)+len(rep.Voided)+len(rep.Removed) > 0 {
		logger.Warn("start-up fsck repaired entries", "issued", rep.Issued, "voided", rep.Voided, "removed", rep.Removed)
	}
	if err := a.seedLogins(ctx, stdout); err != nil {
		return err
	}
	if err := a.tlog.Blocked(); err != nil {
		fmt.Fprintf(stdout, "chungthuc: CERTIFICATION IS STOPPED (verification works): %s\n", chungthuc.ErrorMessage(err))
	}
	h, err := api.New(api.Deps{
		Register: a.reg, Accounts: a.reg, Audit: a.audit, Objects: a.objects, Certify: a.svc,
		Verify: a.verifier(), BaseURL: cfg.BaseURL, Logger: logger, PKI: a.pkiHandler(),
		Ready: a.ready, RateLimit: cfg.RateLimit, Log: a.tlog,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "cannot listen on %s: %v", cfg.Addr, err)
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
	fmt.Fprintf(stdout, "chungthuc: listening on http://%s (links: %s)\n", ln.Addr(), cfg.BaseURL)
	go a.renewLoop(ctx, logger)
	go a.tlog.Run(ctx, logInterval)
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
	fmt.Fprintln(stdout, "chungthuc: stopped")
	return nil
}

// verifier is the verification engine with the register and the trust anchors wired in: the
// development root (when the dev PKI is used) and CHUNGTHUC_TRUST_ANCHORS.
func (a *app) verifier() api.Verifier {
	pool := x509.NewCertPool()
	if a.pki != nil {
		pool.AddCert(a.pki.Root())
	}
	if a.cfg.TrustAnchors != "" {
		if _, roots, err := certs.LoadTrustAnchors(a.cfg.TrustAnchors); err == nil {
			for _, c := range roots {
				pool.AddCert(c)
			}
		}
	}
	lookup := registerLookup(a.reg, a.tlog)
	return func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error) {
		return verify.Verify(ctx, r, size, verify.Options{Roots: pool, Lookup: lookup, MaxSize: 64 << 20, Revocation: a.rev})
	}
}

// pkiHandler serves the development PKI's OCSP, CRL, TSA and root at /pki/.
func (a *app) pkiHandler() http.Handler {
	if a.pki == nil {
		return nil
	}
	return a.pki.Handler()
}

// logInterval is how often serve reads the checkpoints other instances stored and re-checks
// the register against the newest.
const logInterval = 10 * time.Second

// ready checks that the register and the object store answer, and that the register is not
// behind the object store's public log.
func (a *app) ready(ctx context.Context) error {
	if _, err := a.reg.Units(ctx); err != nil {
		return err
	}
	if err := a.tlog.Blocked(); err != nil {
		return err
	}
	if _, err := a.objects.Stat(ctx, "readyz/probe"); err != nil && chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		return err
	}
	return nil
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
			n, err := renewDue(ctx, a, 2*365*24*time.Hour)
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
// of unit PL) and a system administrator, and prints their passwords once. Only the
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
	officerPW, adminPW := api.NewPassword(), api.NewPassword()
	for _, acct := range []struct {
		a  chungthuc.Account
		pw string
	}{
		{chungthuc.Account{UnitID: u.ID, OfficerID: 1, Username: demoOfficerLogin, Role: chungthuc.RoleOfficer}, officerPW},
		{chungthuc.Account{Username: demoAdminLogin, Role: chungthuc.RoleSystemAdmin}, adminPW},
	} {
		h, err := api.HashPassword(acct.pw)
		if err != nil {
			return err
		}
		acct.a.PasswordHash = h
		if err := a.reg.CreateAccount(ctx, &acct.a); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nchungthuc: first start — demo logins (shown only this once; also in %s):\n  officer of %s: %s / %s\n  system administrator: %s / %s\n\n",
		filepath.Join(a.cfg.DataDir, "first-login.txt"), u.Name, demoOfficerLogin, officerPW, demoAdminLogin, adminPW)
	note := fmt.Sprintf("%s / %s (officer, %s)\n%s / %s (system administrator)\nDelete this file after you have changed the passwords.\n",
		demoOfficerLogin, officerPW, u.Name, demoAdminLogin, adminPW)
	return os.WriteFile(filepath.Join(a.cfg.DataDir, "first-login.txt"), []byte(note), 0o600)
}
