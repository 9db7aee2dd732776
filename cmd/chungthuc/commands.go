package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/signer/intake"
)

// newFlags is a FlagSet whose errors are usage errors and whose output is discarded (Main
// prints the usage).
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	// Allow flags after positional arguments (chungthuc certify --out x a.jpg --unit HB).
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return usagef("%s: %v", fs.Name(), err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func cmdCertify(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("certify")
	unit := fs.String("unit", "", "unit code")
	officer := fs.Int64("officer", 0, "officer id")
	signerTitle := fs.String("signer-title", "", "one of the titles on the officer's record (default: the record's)")
	doc := fs.String("doc", "", "what the original is (required)")
	issuer := fs.String("issuer", "", "who issued the original")
	requester := fs.String("requester", "", "who asked for the copy (required)")
	copies := fs.Int("copies", 1, "copies made from the original at once (one number; the fee is per copy)")
	email := fs.String("email", "", "the citizen's e-mail address: the link and access code are sent once the copy is issued (by serve; needs CHUNGTHUC_SMTP_URL)")
	confirm := fs.Bool("confirm-low-resolution", false, "the officer confirms a scan-quality warning")
	out := fs.String("out", "", "output PDF")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *unit == "":
		return usagef("certify: --unit is required")
	case *officer <= 0:
		return usagef("certify: --officer is required")
	case strings.TrimSpace(*doc) == "":
		return usagef("certify: --doc (the name of the original) is required")
	case strings.TrimSpace(*requester) == "":
		return usagef("certify: --requester (the citizen's full name) is required")
	case *copies < 1 || *copies > chungthuc.MaxCopies:
		return usagef("certify: --copies must be 1 to %d", chungthuc.MaxCopies)
	case *out == "":
		return usagef("certify: --out is required")
	case fs.NArg() == 0:
		return usagef("certify: at least one scan is required")
	}
	in := certify.Input{
		UnitCode: strings.ToUpper(*unit), OfficerID: *officer, Title: *signerTitle, DocTitle: *doc, Issuer: *issuer,
		Requester: *requester, Copies: *copies, ConfirmLowResolution: *confirm, KeepScans: true, Email: *email,
	}
	// Everything printed under the signatures is checked before anything is opened.
	if err := certify.CheckInput(&in); err != nil {
		return usagef("certify: %s", chungthuc.ErrorMessage(err))
	}
	scans, err := readScans(fs.Args(), intake.DefaultLimits().MaxTotalBytes)
	if err != nil {
		return err
	}
	in.Scans = scans
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if o, err := a.reg.OfficerByID(ctx, *officer); err == nil {
		if _, err := certify.SignerTitle(o, in.Title); chungthuc.ErrorCode(err) == chungthuc.EINVALID {
			return usagef("certify: --signer-title: %s", chungthuc.ErrorMessage(err))
		}
	}
	res, err := a.svc.Certify(ctx, in)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(*out, res.PDF); err != nil {
		return err
	}
	c := res.Certification
	return printJSON(stdout, map[string]any{
		"id": c.ID, "number": c.Number, "book": c.BookCode, "year": c.Year,
		"certified_at": c.CertifiedAt.In(chungthuc.Vietnam).Format(time.RFC3339),
		"verify_url":   res.VerifyURL, "access_code": res.AccessCode, "sha256": c.SHA256,
		"pages": c.Pages + 1, "original_pages": c.Pages, "copies": c.Copies, "fee_vnd": c.FeeVND,
		"document": c.Title, "requester": c.Requester, "issuer": c.Issuer,
		"officer": c.OfficerName, "officer_title": c.OfficerTitle, "out": *out, "dropped": nonNil(res.Dropped),
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// readScans reads the scan files, refusing before reading when they are too large in total.
func readScans(paths []string, limit int64) ([]chungthuc.Scan, error) {
	var total int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "cannot read scan %q: %v", p, errorsUnwrapPath(err))
		}
		if !st.Mode().IsRegular() {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "scan %q is not a regular file", p)
		}
		total += st.Size()
	}
	if limit > 0 && total > limit {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "the scans total %d bytes, over the limit of %d bytes", total, limit)
	}
	scans := make([]chungthuc.Scan, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "cannot read scan %q: %v", p, errorsUnwrapPath(err))
		}
		scans = append(scans, chungthuc.Scan{Name: filepath.Base(p), Data: b})
	}
	return scans, nil
}

func errorsUnwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// writeFileAtomic writes data to path through a temporary file and a rename, so a crash never
// leaves a half-written copy under the final name.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".chungthuc-*.tmp")
	if err != nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "cannot write %q: %v", path, errorsUnwrapPath(err))
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		_ = f.Close() // already failing
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close() // already failing
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func cmdPKI(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) != 1 || (args[0] != "init" && args[0] != "export-root") {
		return usagef("pki: expected 'pki init' or 'pki export-root'")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if a.pki == nil {
		return chungthuc.Errorf(chungthuc.ECONFLICT, "no development PKI in this configuration")
	}
	if args[0] == "export-root" {
		_, err := stdout.Write(a.pki.RootPEM())
		return err
	}
	_, err = fmt.Fprintf(stdout, "development PKI ready in %s\n", filepath.Join(cfg.DataDir, "pki"))
	return err
}

func cmdMigrate(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) != 0 {
		return usagef("migrate takes no arguments")
	}
	n, err := migrate(ctx, cfg)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "schema up to date (version %d)\n", n)
	return err
}

// cmdFsck repairs and checks: it voids entries left Pending longer than --grace (repair
// never issues), reports objects no entry refers to, and with --deep reads back every stored
// copy and scan. It never deletes or overwrites an object. It prints JSON and exits 1 when
// it found anything an administrator must look at (orphans, missing or damaged copies,
// copies overwritten or deleted in the store), 0 when the store and the register agree.
func cmdFsck(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("fsck")
	grace := fs.Duration("grace", certify.DefaultGrace, "leave entries and objects younger than this alone (a certification may be in progress)")
	deep := fs.Bool("deep", false, "read back every stored copy and scan and compare them with the register")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("fsck takes no arguments")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := a.fsck(ctx, *grace, *deep)
	if err != nil {
		return err
	}
	if err := printJSON(stdout, rep); err != nil {
		return err
	}
	if !rep.Clean {
		return &exitError{1}
	}
	return nil
}

func cmdAudit(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) != 1 || args[0] != "verify" {
		return usagef("audit: expected 'audit verify'")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	broken, checked, err := a.audit.VerifyChain(ctx)
	if err != nil {
		return err
	}
	if err := printJSON(stdout, map[string]any{"intact": broken == 0, "checked": checked, "first_broken": broken}); err != nil {
		return err
	}
	if broken != 0 {
		return &exitError{1}
	}
	return nil
}

// cmdRevoke revokes an issued copy: it stays in the register, marked revoked with the reason,
// and verification reports it as revoked from then on.
func cmdRevoke(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("revoke")
	id := fs.Int64("id", 0, "certification id")
	reason := fs.String("reason", "", "why the copy is revoked")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *id <= 0 || strings.TrimSpace(*reason) == "" {
		return usagef("revoke: --id and --reason are required")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	c, err := a.reg.CertificationByID(ctx, *id)
	if err != nil {
		return err
	}
	c, err = a.svc.Revoke(ctx, c.UnitID, c.ID, *reason)
	if err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{"id": c.ID, "number": c.Number, "book": c.BookCode, "status": c.Status,
		"revoke_reason": c.RevokeReason, "revoked_at": c.RevokedAt.In(chungthuc.Vietnam).Format(time.RFC3339)})
}

// cmdCode: `code reissue --id N` gives an issued copy a new access code (the old one stops
// working) and prints it once, with the entry, as JSON; audited with the actor "cli".
func cmdCode(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 || args[0] != "reissue" {
		return usagef("code: expected `code reissue --id N`")
	}
	fs := newFlags("code reissue")
	id := fs.Int64("id", 0, "certification id")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *id <= 0 {
		return usagef("code reissue: --id is required")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	c, err := a.reg.CertificationByID(ctx, *id)
	if err != nil {
		return err
	}
	code, c, err := a.svc.ReissueAccessCode(ctx, c.UnitID, c.ID, "cli")
	if err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{"id": c.ID, "number": c.Number, "book": c.BookCode, "status": c.Status,
		"verify_url": a.svc.VerifyURL(c.Token), "access_code": code})
}
