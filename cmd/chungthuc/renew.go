package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/signer"
	"github.com/chungthuc/chungthuc/verify"
)

// Archive renewal (PAdES B-LTA). A stored copy stays verifiable for as long as its newest
// document time-stamp does; before that time-stamp's TSA certificate expires, a new
// document time-stamp is added over the whole file (with the validation data of
// everything before it). The result is a new object; the original is never overwritten.
//
// Renewed versions are stored under renewals/{sha256 of the registered copy}/{sha256 of
// the version}.pdf: content-addressed, out of fsck's way (fsck looks at copies/), and found
// again by listing that prefix. Every version extends the one before it byte for byte, so
// the newest is the longest and starts with the registered copy. Each version is recorded in
// the register (AddVersion: a renewed file is found by its own hash, so verification of it
// reads "certified") and in the audit log ("archive.renew").

// renewPrefix is where renewed versions live.
const renewPrefix = "renewals/"

// maxRenewObject bounds a stored copy read for renewal.
const maxRenewObject = 256 << 20

// renewItem is one copy looked at.
type renewItem struct {
	ID        int64     `json:"id"`
	Unit      string    `json:"unit"`
	Number    int64     `json:"number"`
	Year      int       `json:"year"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`               // why it is due
	Expires   time.Time `json:"expires,omitzero"`     // of the newest document time-stamp; zero when none
	OldSHA256 string    `json:"old_sha256"`           // the version renewed
	NewSHA256 string    `json:"new_sha256,omitempty"` // the new version (not in a dry run)
	NewKey    string    `json:"new_key,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// renewReport is what `chungthuc renew` prints.
type renewReport struct {
	Checked int         `json:"checked"`
	Due     int         `json:"due"`
	Renewed int         `json:"renewed"`
	Failed  int         `json:"failed"`
	DryRun  bool        `json:"dry_run"`
	Items   []renewItem `json:"items"`
}

// renewDue renews every stored copy (Issued or Revoked) whose newest document time-stamp
// is missing or certified by a TSA certificate expiring within before, and returns how
// many were renewed. For the periodic job of `serve`. A copy that fails is logged and
// skipped; the error returned is the first failure (with the count of those that
// succeeded), or ECONFLICT when the app has no time-stamping authority.
func renewDue(ctx context.Context, a *app, before time.Duration) (int, error) {
	rep, err := a.renew(ctx, before, false)
	if err != nil {
		return 0, err
	}
	for _, it := range rep.Items {
		if it.Error != "" {
			return rep.Renewed, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "renewal of certification %d failed: %s (%d renewed)", it.ID, it.Error, rep.Renewed)
		}
	}
	return rep.Renewed, nil
}

// renew finds the copies due and, unless dryRun, renews them.
func (a *app) renew(ctx context.Context, before time.Duration, dryRun bool) (*renewReport, error) {
	if a.ts == nil && !dryRun {
		return nil, chungthuc.Errorf(chungthuc.ECONFLICT, "renewal needs a time-stamping authority: set CHUNGTHUC_TSA_URL")
	}
	units, err := a.reg.Units(ctx)
	if err != nil {
		return nil, err
	}
	rep := &renewReport{DryRun: dryRun, Items: []renewItem{}}
	now := time.Now()
	roots := a.trustPool()
	for _, u := range units {
		for _, st := range []chungthuc.Status{chungthuc.StatusIssued, chungthuc.StatusRevoked} {
			var list []*chungthuc.Certification
			for off := 0; ; {
				cs, total, err := a.reg.Certifications(ctx, chungthuc.CertificationFilter{UnitID: u.ID, Status: st, Offset: off, Limit: 500})
				if err != nil {
					return nil, err
				}
				list = append(list, cs...)
				off += len(cs)
				if len(cs) == 0 || off >= total {
					break
				}
			}
			for _, c := range list {
				if err := ctx.Err(); err != nil {
					return rep, err
				}
				rep.Checked++
				it, due := a.renewOne(ctx, u, c, now, before, roots, dryRun)
				if !due {
					continue
				}
				rep.Due++
				switch {
				case it.Error != "":
					rep.Failed++
					a.log.Warn("archive renewal failed", "certification", c.ID, "err", it.Error)
				case !dryRun:
					rep.Renewed++
				}
				rep.Items = append(rep.Items, it)
			}
		}
	}
	return rep, nil
}

// renewOne checks one copy and renews it when due (and not dryRun).
func (a *app) renewOne(ctx context.Context, u *chungthuc.Unit, c *chungthuc.Certification, now time.Time, before time.Duration,
	roots *x509.CertPool, dryRun bool) (renewItem, bool) {
	it := renewItem{ID: c.ID, Unit: u.Code, Number: c.Number, Year: c.Year, Status: string(c.Status)}
	fail := func(err error) (renewItem, bool) {
		it.Error = chungthuc.ErrorMessage(err)
		return it, true
	}
	cur, err := a.latestVersion(ctx, c)
	if err != nil {
		return fail(err)
	}
	sum := sha256.Sum256(cur)
	it.OldSHA256 = hex.EncodeToString(sum[:])
	rep, err := verify.VerifyBytes(ctx, cur, verify.Options{Roots: roots, Now: func() time.Time { return now }})
	if err != nil {
		return fail(err)
	}
	expires, has := newestDocTimestampExpiry(rep)
	switch {
	case !has:
		it.Reason = "no document time-stamp"
	case expires.Sub(now) <= before:
		it.Expires = expires
		it.Reason = fmt.Sprintf("document time-stamp certificate expires %s", expires.Format(time.RFC3339))
	default:
		return it, false
	}
	if has {
		it.Expires = expires
	}
	if dryRun {
		return it, true
	}
	out, err := signer.AddDocumentTimestamp(ctx, cur, a.ts, a.rev)
	if err != nil {
		return fail(err)
	}
	if !bytes.HasPrefix(out, cur) {
		return fail(chungthuc.Errorf(chungthuc.EINTERNAL, "renewal rewrote earlier bytes; not stored"))
	}
	nsum := sha256.Sum256(out)
	it.NewSHA256 = hex.EncodeToString(nsum[:])
	it.NewKey = renewPrefix + c.SHA256 + "/" + it.NewSHA256 + ".pdf"
	if _, err := a.objects.Put(ctx, it.NewKey, bytes.NewReader(out), int64(len(out)), it.NewSHA256); err != nil {
		return fail(err)
	}
	// Register the version, so that the renewed file is recognised by its hash (an
	// interrupted renewal leaves a stored but unregistered object; the next run finds it by
	// listing and registers its successor).
	if err := a.reg.AddVersion(ctx, c.ID, it.NewSHA256, it.NewKey); err != nil {
		return fail(err)
	}
	detail, _ := json.Marshal(map[string]any{
		"old_sha256": it.OldSHA256, "new_sha256": it.NewSHA256, "registered_sha256": c.SHA256,
		"object_key": it.NewKey, "previous_expiry": it.Expires,
	})
	if err := a.audit.Append(ctx, &chungthuc.AuditEntry{
		Action: "archive.renew", UnitID: c.UnitID, Actor: "system",
		Subject: "certification:" + strconv.FormatInt(c.ID, 10), Detail: string(detail),
	}); err != nil {
		// The new version is stored and found again by listing; only the record is missing.
		return fail(err)
	}
	return it, true
}

// latestVersion returns the newest stored version of c's copy: the longest object under
// renewals/{sha}/ that extends the registered copy, else the registered copy itself (whose
// hash is checked against the register).
func (a *app) latestVersion(ctx context.Context, c *chungthuc.Certification) ([]byte, error) {
	if c.ObjectKey == "" || c.SHA256 == "" {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "certification %d has no stored copy", c.ID)
	}
	orig, err := a.readObject(ctx, c.ObjectKey, c.ObjectVersion)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(orig); hex.EncodeToString(sum[:]) != c.SHA256 {
		return nil, chungthuc.Errorf(chungthuc.ECONFLICT, "the stored copy of certification %d does not match the register's hash", c.ID)
	}
	var versions []chungthuc.ObjectInfo
	err = a.objects.List(ctx, renewPrefix+c.SHA256+"/", func(o chungthuc.ObjectInfo) error {
		versions = append(versions, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i].Size > versions[j].Size })
	for _, v := range versions {
		b, err := a.readObject(ctx, v.Key, "")
		if err != nil {
			return nil, err
		}
		want := strings.TrimSuffix(v.Key[strings.LastIndexByte(v.Key, '/')+1:], ".pdf")
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) == want && bytes.HasPrefix(b, orig) {
			return b, nil
		}
		a.log.Warn("ignoring a renewed version that does not extend the registered copy", "key", v.Key)
	}
	return orig, nil
}

func (a *app) readObject(ctx context.Context, key, version string) ([]byte, error) {
	rc, _, err := a.objects.Get(ctx, key, version)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxRenewObject+1))
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "cannot read %s: %v", key, err)
	}
	if len(b) > maxRenewObject {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%s is larger than %d bytes", key, maxRenewObject)
	}
	return b, nil
}

// newestDocTimestampExpiry returns when the newest document time-stamp of the report
// stops being verifiable: the earliest expiry in its TSA's chain.
func newestDocTimestampExpiry(rep *verify.Report) (time.Time, bool) {
	for i := len(rep.Signatures) - 1; i >= 0; i-- {
		s := rep.Signatures[i]
		if s.Kind != "document_timestamp" {
			continue
		}
		var exp time.Time
		if s.Timestamp != nil && s.Timestamp.TSA != nil {
			exp = s.Timestamp.TSA.NotAfter
		} else if s.Signer != nil {
			exp = s.Signer.NotAfter
		}
		for _, c := range s.Chain {
			if exp.IsZero() || (!c.NotAfter.IsZero() && c.NotAfter.Before(exp)) {
				exp = c.NotAfter
			}
		}
		return exp, !exp.IsZero()
	}
	return time.Time{}, false
}

// trustPool returns the development root (when there is a dev PKI) and the configured
// trust anchors.
func (a *app) trustPool() *x509.CertPool {
	pool := x509.NewCertPool()
	if a.pki != nil {
		pool.AddCert(a.pki.Root())
	}
	if a.cfg.TrustAnchors != "" {
		if _, list, err := certs.LoadTrustAnchors(a.cfg.TrustAnchors); err == nil {
			for _, c := range list {
				pool.AddCert(c)
			}
		}
	}
	return pool
}

// cmdRenew: chungthuc renew [--before 2y] [--dry-run]
func cmdRenew(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("renew")
	beforeS := fs.String("before", "2y", "renew when the newest document time-stamp expires within this (e.g. 2y, 180d, 72h)")
	dry := fs.Bool("dry-run", false, "only list the copies that are due")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("renew takes no arguments")
	}
	before, err := parseLongDuration(*beforeS)
	if err != nil {
		return usagef("renew: --before: %v", err)
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := a.renew(ctx, before, *dry)
	if err != nil {
		return err
	}
	if err := printJSON(stdout, rep); err != nil {
		return err
	}
	if rep.Failed > 0 {
		return &exitError{1}
	}
	return nil
}

// parseLongDuration accepts Go durations and whole numbers of days ("180d") or years
// ("2y", 365 days each).
func parseLongDuration(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"y": 365 * 24 * time.Hour, "d": 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 || v > 100*365 {
				return 0, fmt.Errorf("%q is not a whole number of %s", s, map[string]string{"y": "years", "d": "days"}[suffix])
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration (e.g. 2y, 180d, 72h)", s)
	}
	return d, nil
}

// cmdPKIRevoke: chungthuc pki revoke --officer ID [--reason N]
func cmdPKIRevoke(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("pki revoke")
	officer := fs.Int64("officer", 0, "officer id")
	reason := fs.Int("reason", 0, "CRL reason code: 0 unspecified, 1 key compromise, 3 affiliation changed, 4 superseded, 5 cessation of operation")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *officer <= 0 || fs.NArg() != 0 {
		return usagef("pki revoke: --officer ID is required")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	o, err := a.reg.OfficerByID(ctx, *officer)
	if err != nil {
		return err
	}
	leafPEM := o.CertPEM
	if len(leafPEM) == 0 {
		sk, err := a.pki.OfficerKey(ctx, o)
		if err != nil {
			return err
		}
		leafPEM = certs.EncodeCertificatePEM(sk.Chain[0])
	}
	list, err := certs.ParseCertificatePEM(leafPEM)
	if err != nil {
		return err
	}
	leaf := list[0]
	if !a.pki.Issued(leaf) {
		return chungthuc.Errorf(chungthuc.ECONFLICT, "officer %d's certificate was not issued by the development PKI; revoke it at its CA", o.ID)
	}
	at := time.Now()
	if err := a.pki.Revoke(leaf.SerialNumber, *reason, at); err != nil {
		return err
	}
	serial := strings.ToUpper(leaf.SerialNumber.Text(16))
	detail, _ := json.Marshal(map[string]any{"officer": o.ID, "serial": serial, "reason": *reason})
	if err := a.audit.Append(ctx, &chungthuc.AuditEntry{
		Action: "pki.revoke", UnitID: o.UnitID, Actor: "cli", Subject: "officer:" + strconv.FormatInt(o.ID, 10), Detail: string(detail),
	}); err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{
		"officer": o.ID, "serial": serial, "reason": *reason, "revoked_at": at.In(chungthuc.Vietnam).Format(time.RFC3339),
	})
}
