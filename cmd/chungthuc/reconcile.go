package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/signer"
	"github.com/chungthuc/chungthuc/translog"
	"github.com/chungthuc/chungthuc/verify"
)

// reconcileReport is what reconcile prints.
type reconcileReport struct {
	Log    *translog.ReconcileReport `json:"log"`
	Copies copiesReport              `json:"copies"`
	// Voided are numbers used after the backup that neither the log nor a stored copy
	// accounts for: recorded Void (with their leaves) so the numbering stays gapless.
	Voided []string `json:"voided_numbers"`
}

// copiesReport accounts for the stored copies that had no register entry.
type copiesReport struct {
	Checked     int          `json:"checked"`
	Registered  []copyResult `json:"registered"` // re-registered from the signed PDF itself
	Explained   []string     `json:"explained"`  // an operator's note accounts for them
	Unexplained []copyResult `json:"unexplained"`
	Young       []string     `json:"too_young"` // written within --grace: a certification may be in progress
}

type copyResult struct {
	Key    string `json:"key"`
	Entry  string `json:"entry,omitempty"`  // "HB 2026 no. 1317"
	Reason string `json:"reason,omitempty"` // why it could not be re-registered
}

// cmdReconcile brings register and object store back into agreement after a restore from an
// older backup, without deleting anything: it replays what the store's public log knows
// and the register does not (translog.Reconcile), then re-registers each stored copy that
// neither a row nor a leaf accounts for from the signed PDF itself, when its signatures
// verify; the rest are listed for `reconcile --explain KEY --note TEXT`. Exit 1 while any
// stored copy stays unaccounted for.
func cmdReconcile(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("reconcile")
	note := fs.String("note", "", "why (recorded in the log and the audit log)")
	explain := fs.String("explain", "", "object key to record the operator's explanation (--note) for")
	grace := fs.Duration("grace", 2*time.Minute, "leave copies younger than this alone (a certification may be storing one)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("reconcile takes no arguments")
	}
	if *explain != "" && strings.TrimSpace(*note) == "" {
		return usagef("reconcile --explain KEY needs --note TEXT")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if *explain != "" {
		if _, err := a.objects.Stat(ctx, *explain); err != nil {
			return err
		}
		if err := a.reg.ExplainObject(ctx, *explain, *note, "cli"); err != nil {
			return err
		}
		return printJSON(stdout, map[string]any{"explained": *explain, "note": strings.TrimSpace(*note)})
	}
	why := strings.TrimSpace(*note)
	if why == "" {
		why = "register restored from an older backup"
	}
	lr, err := translog.Reconcile(ctx, a.tlog, a.reg, why)
	if err != nil {
		return err
	}
	rep := &reconcileReport{Log: lr}
	if rep.Copies, err = a.reconcileCopies(ctx, *grace); err != nil {
		return err
	}
	// Last, so that a cut-off copy gets its own number back first.
	if rep.Voided, err = a.reg.CloseGaps(ctx, why); err != nil {
		return err
	}
	if err := printJSON(stdout, rep); err != nil {
		return err
	}
	if len(rep.Copies.Unexplained) > 0 {
		return &exitError{1}
	}
	return nil
}

// reconcileCopies re-registers the stored copies that have no register entry.
func (a *app) reconcileCopies(ctx context.Context, grace time.Duration) (copiesReport, error) {
	rep := copiesReport{Registered: []copyResult{}, Explained: []string{}, Unexplained: []copyResult{}, Young: []string{}}
	notes, err := a.reg.ObjectNotes(ctx)
	if err != nil {
		return rep, err
	}
	var orphans []chungthuc.ObjectInfo
	for _, prefix := range certify.StorePrefixes {
		err = a.objects.List(ctx, prefix, func(o chungthuc.ObjectInfo) error {
			rep.Checked++
			if notes[o.Key] != "" {
				rep.Explained = append(rep.Explained, o.Key)
				return nil
			}
			ok, err := a.reg.ObjectReferenced(ctx, o.Key)
			if err == nil && !ok {
				orphans = append(orphans, o)
			}
			return err
		})
		if err != nil {
			return rep, err
		}
	}
	if len(orphans) == 0 {
		return rep, nil
	}
	units, err := a.reg.Units(ctx)
	if err != nil {
		return rep, err
	}
	for _, o := range orphans {
		switch {
		case !o.ModTime.IsZero() && time.Since(o.ModTime) < grace:
			rep.Young = append(rep.Young, o.Key)
		case !strings.HasPrefix(o.Key, "copies/"):
			rep.Unexplained = append(rep.Unexplained, copyResult{Key: o.Key,
				Reason: "no entry refers to it and it is not a certified copy to re-register: record why with --explain"})
		default:
			entry, reason, err := a.registerCopy(ctx, o.Key, units)
			if err != nil {
				return rep, err
			}
			if reason != "" {
				rep.Unexplained = append(rep.Unexplained, copyResult{Key: o.Key, Reason: reason})
			} else {
				rep.Registered = append(rep.Registered, copyResult{Key: o.Key, Entry: entry})
			}
		}
	}
	return rep, nil
}

var (
	urlToken = regexp.MustCompile(`/v/([A-Za-z0-9_-]{22,128})$`)
	bookYear = regexp.MustCompile(`^\d+/(\d{4})-`)
)

// registerCopy re-registers one stored copy from what it prints and what its signatures
// say, after checking them against the trust anchors. It returns the entry made, or why it
// could not (then nothing is recorded); err is for failures to read.
func (a *app) registerCopy(ctx context.Context, key string, units []*chungthuc.Unit) (entry, reason string, err error) {
	rc, info, err := a.objects.Get(ctx, key, "")
	if err != nil {
		return "", "", err
	}
	data, err := io.ReadAll(io.LimitReader(rc, 64<<20+1))
	rc.Close()
	if err != nil {
		return "", "", err
	}
	sum := strings.TrimSuffix(strings.TrimPrefix(key, "copies/"), ".pdf")
	rep, err := verify.Verify(ctx, bytes.NewReader(data), int64(len(data)), verify.Options{Roots: a.trust, Revocation: a.rev, MaxSize: 64 << 20})
	if err != nil {
		return "", "the file cannot be verified: " + chungthuc.ErrorMessage(err), nil
	}
	if rep.SHA256 != sum || (info.SHA256 != "" && info.SHA256 != sum) {
		return "", "its content does not hash to its name", nil
	}
	if !rep.Valid {
		return "", "its signatures do not verify: " + rep.SummaryEN, nil
	}
	pr, err := signer.ReadPrinted(data)
	if err != nil {
		return "", chungthuc.ErrorMessage(err), nil
	}
	var officerSig, sealSig *verify.SignatureReport
	for i := range rep.Signatures {
		switch s := &rep.Signatures[i]; s.Kind {
		case "certification":
			officerSig = s
		case "approval":
			if sealSig == nil {
				sealSig = s
			}
		}
	}
	if officerSig == nil || sealSig == nil {
		return "", "it lacks the officer's certification signature or the unit's seal", nil
	}
	if officerSig.Name != pr.OfficerName {
		return "", fmt.Sprintf("the officer's signature names %q but the statement %q", officerSig.Name, pr.OfficerName), nil
	}
	var unit *chungthuc.Unit
	for _, u := range units {
		if u.Name == sealSig.Name {
			unit = u
		}
	}
	if unit == nil {
		return "", fmt.Sprintf("the seal's unit %q is not in the register", sealSig.Name), nil
	}
	m := urlToken.FindStringSubmatch(pr.VerifyURL)
	if m == nil {
		return "", "its verification link " + pr.VerifyURL + " holds no token", nil
	}
	year := pr.Date.Year()
	if y := bookYear.FindStringSubmatch(pr.BookCode); y != nil {
		year, _ = strconv.Atoi(y[1])
	}
	at := pr.Date
	if t := officerSig.ClaimedSigningTime; t != nil && t.In(chungthuc.Vietnam).Format("2006-01-02") == pr.Date.Format("2006-01-02") {
		at = *t // the statement's date to the second, as signed
	}
	pages := max(pr.Pages-1, 0)
	c := &chungthuc.Certification{
		UnitID: unit.ID, Year: year, Number: pr.Number, BookCode: pr.BookCode, Token: m[1],
		AccessCodeHash: translog.RestoredAccessCode, Title: translog.RestoredText,
		OfficerName: pr.OfficerName, OfficerTitle: pr.OfficerTitle, Pages: pages, FeeVND: chungthuc.Fee(pages),
		SHA256: sum, ObjectKey: key, CertifiedAt: at,
	}
	entry = fmt.Sprintf("%s %d no. %d", unit.Code, year, pr.Number)
	if err := a.reg.RegisterCopy(ctx, c, "re-registered by reconcile from the signed copy "+key); err != nil {
		if chungthuc.ErrorCode(err) == chungthuc.ECONFLICT {
			return "", entry + ": " + chungthuc.ErrorMessage(err), nil
		}
		return "", "", err
	}
	return entry, "", nil
}
