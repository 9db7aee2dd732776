package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/signer"
	"github.com/chungthuc/chungthuc/storage/fs"
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
}

// app is the wired application: register, objects, keys and the workflow.
type app struct {
	cfg     *Config
	log     *slog.Logger
	reg     register
	audit   chungthuc.AuditLog
	objects chungthuc.ObjectStore
	fsStore *fs.Store // the embedded object store, when used
	pki     *certs.DevPKI
	svc     *certify.Service
	tlog    *translog.Log // the public transparency log (translog.go)

	// Keys, trusted time and long-term validation (keys.go): what signs, who time-stamps,
	// where revocation data comes from, and the PAdES level of new copies.
	keys  chungthuc.KeyStore
	ltv   *ltv
	ts    chungthuc.Timestamper      // nil: no TSA (B-B only)
	rev   chungthuc.RevocationSource // never nil once opened
	level chungthuc.PAdESLevel
}

// The demo unit and officer a fresh embedded data directory is seeded with.
var (
	demoUnit    = chungthuc.Unit{Code: "PL", Name: "Phường Phương Lâm", Place: "Phương Lâm"}
	demoOfficer = chungthuc.Officer{Name: "Trần Văn Nghĩa", Title: "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", Role: chungthuc.RoleOfficer, Active: true}
)

// openApp opens the register and the object store the configuration names (the embedded
// defaults under cfg.DataDir when unset), the development PKI, and seeds a fresh embedded
// register with the demo unit and officer.
func openApp(ctx context.Context, cfg *Config, logger *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: logger}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "cannot create the data directory %s: %v", cfg.DataDir, errorsUnwrapPath(err))
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
	if cfg.S3Endpoint == "" {
		st, err := fs.New(filepath.Join(cfg.DataDir, "objects"))
		if err != nil {
			return nil, err
		}
		a.objects, a.fsStore = st, st
	} else {
		st, err := s3.New(ctx, s3.Config{
			Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey,
			Region: cfg.S3Region, UseSSL: cfg.S3UseSSL, RetentionYears: cfg.S3RetentionYears,
		})
		if err != nil {
			return nil, err
		}
		a.objects = st
	}
	a.pki, err = certs.OpenDevPKI(filepath.Join(cfg.DataDir, "pki"), certs.Options{Algorithm: cfg.KeyAlgorithm, Now: now, BaseURL: cfg.BaseURL})
	if err != nil {
		return nil, err
	}
	if a.ltv, err = wireKeys(cfg, a.pki, now); err != nil {
		return nil, err
	}
	a.keys, a.ts, a.rev, a.level = a.ltv.keys, a.ltv.ts, a.ltv.rev, a.ltv.level
	mk, err := signer.New(signer.Options{Level: a.level, Timestamper: a.ts, Revocation: a.rev})
	if err != nil {
		return nil, err
	}
	a.svc = &certify.Service{Register: a.reg, Objects: a.objects, Keys: a.keys, Maker: mk, Now: now, BaseURL: cfg.BaseURL, Logger: logger}
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

func (a *app) issueSeal(ctx context.Context, u *chungthuc.Unit) error {
	if a.pki == nil || (a.ltv != nil && !a.ltv.devUse) {
		return nil
	}
	_, err := a.pki.IssueSeal(u)
	return err
}

func (a *app) issueOfficer(ctx context.Context, o *chungthuc.Officer, u *chungthuc.Unit) error {
	if certPEM := a.configuredOfficerCert(ctx, o); certPEM != nil {
		return a.reg.SetOfficerCert(ctx, o.ID, certPEM)
	}
	if a.pki == nil || (a.ltv != nil && !a.ltv.devUse) {
		return nil
	}
	_, certPEM, err := a.pki.IssueOfficer(o, u)
	if err != nil {
		return err
	}
	return a.reg.SetOfficerCert(ctx, o.ID, certPEM)
}

// Close releases the register and the keys.
func (a *app) Close() {
	if a.ltv != nil {
		a.ltv.close()
	}
	if a.reg != nil {
		a.reg.Close()
	}
	if a.fsStore != nil {
		a.fsStore.Close()
	}
}

// fsckReport is what fsck prints.
type fsckReport struct {
	Issued   []int64  `json:"issued"`   // Pending entries whose copy was stored: issued
	Voided   []int64  `json:"voided"`   // Pending entries without a stored copy: voided
	Orphans  []string `json:"orphans"`  // objects no entry references
	Removed  []string `json:"removed"`  // orphans deleted
	Retained []string `json:"retained"` // orphans the store keeps under retention (annotated only)
	Checked  int      `json:"checked_objects"`
	TempFree int      `json:"temp_files_removed"`
}

// fsck repairs Pending entries older than grace and finds objects that no register entry
// references (left by a crash between storing and recording). An orphan is deleted when the
// store allows it, otherwise reported as retained.
func (a *app) fsck(ctx context.Context, grace time.Duration) (*fsckReport, error) {
	rep := &fsckReport{Issued: []int64{}, Voided: []int64{}, Orphans: []string{}, Removed: []string{}, Retained: []string{}}
	r, err := a.svc.Repair(ctx, grace)
	if err != nil {
		return nil, err
	}
	rep.Issued, rep.Voided = append(rep.Issued, r.Issued...), append(rep.Voided, r.Voided...)
	cutoff := time.Now().Add(-grace)
	var orphans []string
	err = a.objects.List(ctx, "copies/", func(o chungthuc.ObjectInfo) error {
		rep.Checked++
		sum := strings.TrimSuffix(strings.TrimPrefix(o.Key, "copies/"), ".pdf")
		_, err := a.reg.CertificationBySHA256(ctx, sum)
		if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
			orphans = append(orphans, o.Key)
			return nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, k := range orphans {
		// A copy being certified right now is stored before it is issued: leave young ones.
		if info, err := a.objects.Stat(ctx, k); err != nil || (!info.ModTime.IsZero() && info.ModTime.After(cutoff)) {
			continue
		}
		rep.Orphans = append(rep.Orphans, k)
		if err := a.objects.Delete(ctx, k); err == nil {
			rep.Removed = append(rep.Removed, k)
		} else if chungthuc.ErrorCode(err) == chungthuc.ECONFLICT {
			rep.Retained = append(rep.Retained, k)
		} else {
			return nil, err
		}
	}
	if a.fsStore != nil {
		n, err := a.fsStore.Cleanup(ctx, grace)
		if err != nil {
			return nil, err
		}
		rep.TempFree = n
	}
	return rep, nil
}

// migrate applies pending migrations to the configured register and returns the schema
// version reached.
func migrate(ctx context.Context, cfg *Config) (int, error) {
	if cfg.Embedded() {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return 0, err
		}
		db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "register.db"), sqlite.Options{AutoMigrate: true})
		if err != nil {
			return 0, err
		}
		defer db.Close()
		return db.SchemaVersion(ctx)
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{AutoMigrate: true})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.SchemaVersion(ctx)
}
