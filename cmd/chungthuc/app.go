package main

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/renew"
	"github.com/chungthuc/chungthuc/signer"
	"github.com/chungthuc/chungthuc/storage/fs"
	"github.com/chungthuc/chungthuc/storage/guard"
	"github.com/chungthuc/chungthuc/storage/postgres"
	"github.com/chungthuc/chungthuc/storage/s3"
	"github.com/chungthuc/chungthuc/storage/sqlite"
	"github.com/chungthuc/chungthuc/translog"
)

// register is what the app needs of a register: the register itself and its audit log.
type register interface {
	chungthuc.Register
	chungthuc.AuditLog
	chungthuc.Accounts
	translog.Restorer
	chungthuc.Webhooks
	chungthuc.Mails
}

// app is the wired application: register, objects, keys and the workflow.
type app struct {
	cfg     *Config
	log     *slog.Logger
	reg     register
	audit   chungthuc.AuditLog
	objects chungthuc.ObjectStore // bounded by guard: every call has a deadline
	guard   *guard.Store
	checkMu sync.Mutex  // one repair-and-check pass at a time in this process
	fsStore *fs.Store   // the embedded object store, when used
	pki     *devpki.PKI // nil in production key mode (keys.go)
	svc     *certify.Service
	maker   *signer.Signer // makes copies and prints the register book
	tlog    *translog.Log  // the public transparency log (translog.go)

	// Keys, trust, trusted time and long-term validation (keys.go): what signs, what is
	// trusted, who time-stamps, where revocation data comes from, and the PAdES level of
	// new copies.
	keys  chungthuc.KeyStore
	ltv   *ltv
	trust *x509.CertPool             // the one trust pool: verifier, renewal, revocation
	ts    chungthuc.Timestamper      // nil: no TSA (B-B only)
	rev   chungthuc.RevocationSource // never nil once opened
	level chungthuc.PAdESLevel
}

// The demo unit and officer a fresh embedded data directory is seeded with.
var (
	demoUnit = chungthuc.Unit{Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình", Body: "Ủy ban nhân dân phường Hòa Bình",
		Province: "tỉnh Phú Thọ", Demo: true}
	demoOfficer = chungthuc.Officer{Name: "Trần Văn Nghĩa", Title: "PHÓ CHỦ TỊCH", Authority: chungthuc.AuthorityViceChairman,
		Role: chungthuc.RoleOfficer, Active: true}
)

// openApp opens the register and the object store the configuration names (the embedded
// defaults under cfg.DataDir when unset), the keys (the development PKI only when it is in
// use: wireKeys), and seeds a fresh embedded register with the demo unit and officer.
func openApp(ctx context.Context, cfg *Config, logger *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: logger}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "cannot create the data directory %s", cfg.DataDir)
	}
	now := func() time.Time { return time.Now() }
	var err error
	if cfg.Embedded() {
		db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "register.db"), sqlite.Options{AutoMigrate: true, Now: now})
		if err != nil {
			return nil, err
		}
		a.reg = db
	} else {
		db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{Now: now})
		if err != nil {
			return nil, err
		}
		a.reg = db
	}
	a.audit = a.reg
	var store chungthuc.ObjectStore
	if cfg.S3Endpoint == "" {
		st, err := fs.New(filepath.Join(cfg.DataDir, "objects"))
		if err != nil {
			return nil, err
		}
		store, a.fsStore = st, st
	} else {
		sctx, cancel := context.WithTimeout(ctx, max(cfg.StoreTimeout, 10*time.Second))
		st, err := s3.New(sctx, s3.Config{
			Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey,
			Region: cfg.S3Region, UseSSL: cfg.S3UseSSL, RetentionYears: cfg.S3RetentionYears,
		})
		cancel()
		if err != nil {
			return nil, err
		}
		store = st
	}
	a.guard = guard.New(store, guard.Options{Timeout: cfg.StoreTimeout, ProbeTimeout: cfg.StoreProbeTimeout})
	a.objects = a.guard
	if a.ltv, err = wireKeys(cfg, now); err != nil {
		return nil, err
	}
	a.pki, a.keys, a.trust, a.ts, a.rev, a.level = a.ltv.pki, a.ltv.keys, a.ltv.trust, a.ltv.ts, a.ltv.rev, a.ltv.level
	opts := signer.Options{Level: a.level, Timestamper: a.ts, Revocation: a.rev, ScanQualityGate: cfg.ScanQualityGate}
	// The certificate of a signing device outside the service is checked before a number
	// is used and again when its signature comes back (issue 14): against what the
	// development PKI revoked, or else the chain's OCSP/CRL fetched online (an unreachable
	// responder keeps the entry waiting rather than trusting an unknown status).
	if a.pki != nil {
		opts.CheckCertificate = a.pki.CheckNotRevoked
	} else {
		opts.CheckCertificate = certs.RevocationCheck(a.rev)
	}
	mk, err := signer.New(opts)
	if err != nil {
		return nil, err
	}
	a.maker = mk
	a.svc = &certify.Service{Register: a.reg, Objects: a.objects, Keys: a.keys, Maker: mk, Now: now, BaseURL: cfg.BaseURL,
		Logger: logger, StoreReady: a.guard.Ready, Calendar: cfg.Calendar, Mail: cfg.Mailer != nil, MailWithoutCode: !cfg.MailAccessCode,
		External: mk, SignatureTimeout: cfg.ExternalSigningTimeout, CertificateChain: a.chainOf}
	if cfg.Embedded() {
		if err := a.seed(ctx); err != nil {
			return nil, err
		}
	}
	if err := a.openLog(ctx); err != nil {
		return nil, err
	}
	ok = true
	return a, nil
}

// chainOf completes a registered signing certificate with its chain up to the trust pool,
// for embedding in the signature; a certificate that does not chain is given alone (the
// signer and the verifier judge it).
func (a *app) chainOf(leaf *x509.Certificate) ([]*x509.Certificate, error) {
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: a.trust, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil || len(chains) == 0 {
		return []*x509.Certificate{leaf}, nil
	}
	return chains[0], nil
}

// seed creates the demo unit and officer in an empty register.
func (a *app) seed(ctx context.Context) error {
	units, err := a.reg.Units(ctx)
	if err != nil || len(units) > 0 {
		return err
	}
	u := demoUnit
	if err := a.reg.CreateUnit(ctx, &u); err != nil {
		return err
	}
	if err := a.issueSeal(ctx, &u); err != nil {
		return err
	}
	o := demoOfficer
	o.UnitID = u.ID
	if err := a.reg.CreateOfficer(ctx, &o); err != nil {
		return err
	}
	return a.issueOfficer(ctx, &o, &u)
}

// issueSeal issues u's seal certificate when the development PKI is in use (in production
// key mode seals come from the key configuration).
func (a *app) issueSeal(ctx context.Context, u *chungthuc.Unit) error {
	if a.pki == nil {
		return nil
	}
	_, err := a.pki.IssueSeal(u)
	return err
}

// issueOfficer records o's certificate: that of the configured key, else one issued by the
// development PKI when it is in use, else none (o cannot sign until a key is configured).
func (a *app) issueOfficer(ctx context.Context, o *chungthuc.Officer, u *chungthuc.Unit) error {
	if certPEM := a.configuredOfficerCert(ctx, o); certPEM != nil {
		return a.reg.SetOfficerCert(ctx, o.ID, certPEM)
	}
	if a.pki == nil {
		return nil
	}
	_, certPEM, err := a.pki.IssueOfficer(o, u)
	if err != nil {
		return err
	}
	return a.reg.SetOfficerCert(ctx, o.ID, certPEM)
}

// renewer is archive renewal wired to this app: its register, objects, audit log, trust
// pool, time-stamping authority and revocation source.
func (a *app) renewer() *renew.Service {
	s := &renew.Service{Register: a.reg, Objects: a.objects, Audit: a.audit, Inspector: renew.Verifier{Roots: a.trust}, Logger: a.log}
	if a.ts != nil {
		s.Stamper = renew.Signer{TSA: a.ts, Revocation: a.rev}
	}
	return s
}

// Close stops the workflow's background work and releases the register and the keys;
// failures are logged (the command's own result is already decided).
func (a *app) Close() {
	if a.svc != nil {
		a.svc.Close()
	}
	if a.ltv != nil {
		a.ltv.close()
	}
	if a.reg != nil {
		if err := a.reg.Close(); err != nil {
			a.log.Warn("closing the register", "err", err)
		}
	}
	if a.fsStore != nil {
		if err := a.fsStore.Close(); err != nil {
			a.log.Warn("closing the object store", "err", err)
		}
	}
}

// fsckReport is what fsck prints: what repair voided, what the checks found (orphans and
// problems with stored copies — nothing is ever deleted or overwritten), what checked out
// fine again, and the temporary files of interrupted writes removed (storage/fs only).
type fsckReport struct {
	*certify.CheckReport
	Clean    bool `json:"clean"` // no orphan and no problem: nothing for an administrator
	TempFree int  `json:"temp_files_removed"`
	// ExpiredWaits is how many entries signed outside the service were voided because
	// their wait passed its deadline (those still before it are left waiting).
	ExpiredWaits int `json:"expired_waits"`
}

// fsck voids Pending entries older than grace (repair never issues; entries waiting for an
// external signature are left alone until their deadline, then voided), lists the store for
// objects no entry refers to (kept and reported: evidence that a row is missing), and with
// deep reads back every stored copy and scan and compares them with the register.
func (a *app) fsck(ctx context.Context, grace time.Duration, deep bool) (*fsckReport, error) {
	r, err := a.svc.Check(ctx, certify.CheckOptions{Grace: grace, Orphans: true, Deep: deep})
	if err != nil {
		return nil, err
	}
	rep := &fsckReport{CheckReport: r, Clean: r.Clean()}
	if rep.ExpiredWaits, err = a.svc.ExpireWaits(ctx); err != nil {
		return nil, err
	}
	if a.fsStore != nil {
		// Temporary files of interrupted Puts are the store's own, never objects.
		n, err := a.fsStore.Cleanup(ctx, max(grace, time.Hour))
		if err != nil {
			return nil, err
		}
		rep.TempFree = n
	}
	return rep, nil
}

// migrate applies pending migrations to the configured register and returns the schema
// version reached.
func migrate(ctx context.Context, cfg *Config) (version int, err error) {
	if cfg.Embedded() {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return 0, err
		}
		db, oerr := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "register.db"), sqlite.Options{AutoMigrate: true})
		if oerr != nil {
			return 0, oerr
		}
		defer closeInto(db, &err)
		return db.SchemaVersion(ctx)
	}
	url := cfg.DatabaseURL
	if cfg.MigrateDatabaseURL != "" {
		url = cfg.MigrateDatabaseURL
	}
	db, oerr := postgres.Open(ctx, url, postgres.Options{AutoMigrate: true})
	if oerr != nil {
		return 0, oerr
	}
	defer closeInto(db, &err)
	if cfg.MigrateDatabaseURL != "" {
		// Two roles: the owner migrated; the serving role gets what serve needs, no more.
		role, err := postgresUser(cfg.DatabaseURL)
		if err != nil {
			return 0, err
		}
		owner, _, err := db.CurrentUser(ctx)
		if err != nil {
			return 0, err
		}
		if role != owner {
			if err := db.GrantServing(ctx, role); err != nil {
				return 0, err
			}
		}
	}
	return db.SchemaVersion(ctx)
}

// closeInto closes c and, when *err is nil, stores Close's error there (for a deferred
// Close whose failure must not go unnoticed).
func closeInto(c io.Closer, err *error) {
	if cerr := c.Close(); *err == nil {
		*err = cerr
	}
}

// postgresUser is the role a PostgreSQL URL logs in as (EINVALID when it names none).
func postgresUser(url string) (string, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil || cfg.User == "" {
		return "", chungthuc.Errorf(chungthuc.EINVALID, "CHUNGTHUC_DATABASE_URL names no user for the serving role")
	}
	return cfg.User, nil
}
