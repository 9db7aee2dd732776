package main

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/storage/fs"
	"github.com/chungthuc/chungthuc/storage/postgres"
	"github.com/chungthuc/chungthuc/storage/s3"
	"github.com/chungthuc/chungthuc/storage/sqlite"
	"github.com/chungthuc/chungthuc/translog"
	"github.com/chungthuc/chungthuc/verify"
)

// cmdVerify checks a copy. Trust: --trust (a PEM bundle or directory), else verifyTrust's
// pool from the configuration. Register: consulted when one is configured
// (CHUNGTHUC_DATABASE_URL) or an embedded data directory exists; never created. Exit 0 when
// the report is valid, 1 when not, 2 on usage errors.
func cmdVerify(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := newFlags("verify")
	trust := fs.String("trust", "", "trust anchors: a PEM bundle or a directory of certificates")
	system := fs.Bool("system-roots", false, "also trust the operating system's roots")
	at := fs.String("at", "", "validate as of this time (RFC 3339 or YYYY-MM-DD), e.g. years after every certificate expired")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("verify: exactly one PDF file is required")
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	pool, rev, err := verifyTrust(cfg, *trust)
	if err != nil {
		return err
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "cannot read %q: %v", path, errorsUnwrapPath(err))
	}
	defer func() { _ = f.Close() }() // read only
	st, err := f.Stat()
	if err != nil {
		return err
	}
	opt := verify.Options{Roots: pool, UseSystemRoots: *system, Revocation: rev}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			if t, err = time.ParseInLocation("2006-01-02", *at, chungthuc.Vietnam); err != nil {
				return usagef("verify: --at wants RFC 3339 or YYYY-MM-DD, not %q", *at)
			}
		}
		opt.Now = func() time.Time { return t }
	}
	reg, closeReg, err := openRegisterReadOnly(ctx, cfg)
	if err != nil {
		return err
	}
	if reg != nil {
		defer closeReg()
		tl, closeLog := openLogReadOnly(ctx, cfg, reg)
		defer closeLog()
		opt.Lookup = registerLookup(reg, tl)
	}
	rep, err := verify.Verify(ctx, f, st.Size(), opt)
	if err != nil {
		return err
	}
	if rep.Register == nil {
		rep.Register = &verify.RegisterReport{Status: "not_consulted",
			MessageVI: "Không tra cứu sổ chứng thực (không có sổ trên máy này): chỉ kiểm tra chữ ký số.",
			MessageEN: "The certification register was not consulted (none on this machine): only the signatures were checked."}
	}
	if err := printJSON(stdout, rep); err != nil {
		return err
	}
	if !rep.Valid {
		return &exitError{1}
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// openRegisterReadOnly opens the configured register without creating anything: nil when
// there is none (no database URL and no embedded register file).
func openRegisterReadOnly(ctx context.Context, cfg *Config) (chungthuc.Register, func(), error) {
	if !cfg.Embedded() {
		db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{})
		if err != nil {
			return nil, nil, err
		}
		return db, func() { _ = db.Close() }, nil
	}
	path := filepath.Join(cfg.DataDir, "register.db")
	if !fileExists(path) {
		return nil, nil, nil
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{AutoMigrate: true}) // the embedded register migrates itself, as on every other command
	if err != nil {
		return nil, nil, err
	}
	return db, func() { _ = db.Close() }, nil
}

// registerLookup adapts a register to the verifier's lookup by hash; with a public log, a
// match says where the entry is in it when the inclusion proof checks.
func registerLookup(reg chungthuc.Register, tl *translog.Log) func(ctx context.Context, sum string) (*verify.RegisterMatch, error) {
	return func(ctx context.Context, sum string) (*verify.RegisterMatch, error) {
		c, err := reg.CertificationBySHA256(ctx, sum)
		if err != nil {
			return nil, err
		}
		u, err := reg.UnitByID(ctx, c.UnitID)
		if err != nil {
			return nil, err
		}
		m := &verify.RegisterMatch{
			Unit: u.Name, Number: c.Number, Book: c.BookCode, CertifiedAt: c.CertifiedAt,
			Status: c.Status, RevokeReason: c.RevokeReason, RevokedAt: c.RevokedAt,
		}
		if tl != nil {
			if _, in, err := tl.EntryProof(ctx, c.ID, c.Token); err == nil && in.Included {
				m.Log = &verify.LogInclusion{Index: in.Index, CheckpointSize: in.CheckpointSize, CheckpointTime: in.CheckpointTime}
			}
		}
		return m, nil
	}
}

// verifyTrust is the trust of `chungthuc verify`: the anchors of --trust alone when given,
// else the configuration's pool (certs.TrustPool, as the service builds it) of
// CHUNGTHUC_TRUST_ANCHORS and — when the configuration uses the development PKI and one
// exists here — the development root. The configured keys are not opened (no PINs are
// needed to verify): with production keys, their roots must be in CHUNGTHUC_TRUST_ANCHORS
// or --trust. The development PKI, when used, also answers for the status of its own
// certificates in-process (their OCSP address is this machine's service, which a verifier
// may not reach); nothing is fetched online.
func verifyTrust(cfg *Config, trust string) (*x509.CertPool, chungthuc.RevocationSource, error) {
	var rev chungthuc.RevocationSource
	var roots []*x509.Certificate
	dev, _, err := devPKIInUse(cfg)
	if err != nil {
		return nil, nil, err
	}
	pkiDir := filepath.Join(cfg.DataDir, "pki")
	if dev && fileExists(filepath.Join(pkiDir, "root.pem")) {
		pki, err := devpki.Open(pkiDir, devpki.Options{})
		if err != nil {
			return nil, nil, err
		}
		rev = pki
		roots = append(roots, pki.Root())
	}
	if trust != "" {
		pool, err := certs.TrustPool(trust, nil, nil)
		return pool, rev, err
	}
	pool, err := certs.TrustPool(cfg.TrustAnchors, roots, nil)
	return pool, rev, err
}

// openLogReadOnly opens the public log of the configured register for reading its newest
// checkpoint and proving entries: nil when there is no object store or log key here.
func openLogReadOnly(ctx context.Context, cfg *Config, reg chungthuc.Register) (*translog.Log, func()) {
	nothing := func() {}
	rl, ok := reg.(chungthuc.RegisterLog)
	if !ok {
		return nil, nothing
	}
	key := cfg.LogKey
	if key == "" {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, "pki", logKeyFile))
		if err != nil {
			return nil, nothing
		}
		key = string(b)
	}
	k, err := translog.ParseKey(key)
	if err != nil {
		return nil, nothing
	}
	var store chungthuc.ObjectStore
	closeStore := nothing
	if cfg.S3Endpoint != "" {
		st, err := s3.New(ctx, s3.Config{Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, AccessKey: cfg.S3AccessKey,
			SecretKey: cfg.S3SecretKey, Region: cfg.S3Region, UseSSL: cfg.S3UseSSL})
		if err != nil {
			return nil, nothing
		}
		store = st
	} else {
		dir := filepath.Join(cfg.DataDir, "objects")
		if !fileExists(dir) {
			return nil, nothing
		}
		st, err := fs.New(dir)
		if err != nil {
			return nil, nothing
		}
		store, closeStore = st, func() { _ = st.Close() }
	}
	tl, err := translog.New(translog.Options{Register: rl, Store: store, Key: k, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil || tl.Refresh(ctx) != nil {
		closeStore()
		return nil, nothing
	}
	return tl, closeStore
}
