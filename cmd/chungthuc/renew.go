package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
)

// cmdRenew: chungthuc renew [--before 2y] [--dry-run]. Archive renewal (package renew): adds
// a new document time-stamp to stored copies whose newest one expires within --before and
// prints the report; exit 1 when any copy failed.
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
	rep, err := a.renewer().Run(ctx, before, *dry)
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
	if len(leafPEM) == 0 && a.pki == nil {
		return chungthuc.Errorf(chungthuc.ECONFLICT, "no development PKI in this configuration; revoke officer %d's certificate at its CA", o.ID)
	}
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
	if a.pki == nil || !a.pki.Issued(leaf) {
		return chungthuc.Errorf(chungthuc.ECONFLICT, "officer %d's certificate was not issued by the development PKI; revoke it at its CA", o.ID)
	}
	at := time.Now()
	if err := a.pki.Revoke(leaf.SerialNumber, *reason, at); err != nil {
		return err
	}
	serial := strings.ToUpper(leaf.SerialNumber.Text(16))
	detail, err := json.Marshal(map[string]any{"officer": o.ID, "serial": serial, "reason": *reason})
	if err != nil {
		return err
	}
	if err := a.audit.Append(ctx, &chungthuc.AuditEntry{
		Action: "pki.revoke", UnitID: o.UnitID, Actor: "cli", Subject: "officer:" + strconv.FormatInt(o.ID, 10), Detail: string(detail),
	}); err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{
		"officer": o.ID, "serial": serial, "reason": *reason, "revoked_at": at.In(chungthuc.Vietnam).Format(time.RFC3339),
	})
}
