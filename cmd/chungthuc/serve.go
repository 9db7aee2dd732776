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
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/api"
	"github.com/chungthuc/chungthuc/verify"
)

// demoUsername is the login created for the demo unit's officer on a fresh data directory.
const demoUsername = "pl.canbo"

// cmdServe runs the web service on cfg.Addr until ctx is cancelled (SIGINT/SIGTERM), then
// stops accepting requests, lets in-flight requests — certifications above all — finish
// (up to 60 s) and closes the register.
func cmdServe(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("serve")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// The service logs requests at Info: a logger of its own, JSON on stderr.
	slogger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := openApp(ctx, cfg, slogger)
	if err != nil {
		return err
	}
	defer a.Close()
	accounts, ok := a.reg.(chungthuc.Accounts)
	if !ok {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "this register does not store accounts yet (storage without the accounts migration)")
	}
	if err := firstLogin(ctx, a, accounts, stdout); err != nil {
		return err
	}
	roots := a.trustPool()
	lookup := registerLookup(a.reg)
	mounts := map[string]http.Handler{}
	if a.pki != nil {
		mounts["/pki"] = http.StripPrefix("/pki", a.pki.Handler())
	}
	tmp := filepath.Join(cfg.DataDir, "tmp")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return err
	}
	srv := api.New(api.Deps{
		Register: a.reg, Accounts: accounts, Objects: a.objects, Audit: a.audit, Certifier: a.svc,
		Verify: func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error) {
			return verify.Verify(ctx, r, size, verify.Options{Roots: roots, Lookup: lookup})
		},
		BaseURL: cfg.BaseURL, Logger: slogger, TempDir: tmp, Mounts: mounts,
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "cannot listen on %s: %v", cfg.Addr, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // a 50 MB upload over a slow ward connection
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(slogger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "chungthuc: serving on http://%s (public links: %s)\n", ln.Addr(), cfg.BaseURL)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	// Expired sessions are swept hourly.
	go func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				accounts.DeleteExpiredSessions(ctx, time.Now())
			}
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slogger.Info("shutting down: waiting for requests in progress")
	sctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = hs.Shutdown(sctx)
	if werr := srv.Wait(sctx); err == nil {
		err = werr
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// firstLogin creates, on a register whose demo unit and officer exist but that has no
// demo login yet, the demo officer's login, and prints its password once.
func firstLogin(ctx context.Context, a *app, accounts chungthuc.Accounts, stdout io.Writer) error {
	if _, err := accounts.AccountByUsername(ctx, demoUsername); err == nil {
		return nil
	} else if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		return err
	}
	u, err := a.reg.UnitByCode(ctx, demoUnit.Code)
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	o, err := a.reg.OfficerByID(ctx, 1)
	if err != nil || o.UnitID != u.ID {
		return nil
	}
	password, _, err := api.NewSecret("")
	if err != nil {
		return err
	}
	password = password[:16]
	hash, err := api.HashPassword(password)
	if err != nil {
		return err
	}
	if err := accounts.CreateAccount(ctx, &chungthuc.Account{UnitID: u.ID, OfficerID: o.ID, Username: demoUsername, PasswordHash: hash, Role: chungthuc.RoleOfficer}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "chungthuc: first start — login of %s (%s): username %s, password %s (shown once; store it now)\n", o.Name, u.Name, demoUsername, password)
	return nil
}
