// Command chungthuc certifies electronic copies from paper originals and verifies them.
//
//	chungthuc certify --unit CODE --officer ID --doc TEXT --requester NAME [--copies N] --out FILE SCAN...
//	chungthuc verify [--trust ROOT.pem] FILE.pdf
//	chungthuc officer add|set … | officer cert --id N --csr FILE | --cert FILE | unit add|set … | book list|open|close|print …
//	chungthuc pki init | pki export-root | pki revoke --officer ID [--reason N]
//	chungthuc renew [--before 2y] [--dry-run]
//	chungthuc migrate | fsck [--grace D] [--deep] | audit verify
//	chungthuc log verify [--checkpoint OLD] | log key | log checkpoint | log keygen --out FILE
//	chungthuc reconcile [--note TEXT] | reconcile --explain KEY --note TEXT
//	chungthuc serve
//
// With no configuration it runs on the embedded default: a SQLite register, a local folder
// for objects and a development PKI under $CHUNGTHUC_DATA (./chungthuc-data), seeded on first
// use with the demo unit "Phường Hòa Bình" (HB, tỉnh Phú Thọ) and officer 1, its vice-chairman. With a key configuration
// (CHUNGTHUC_KEYS_FILE) it runs in production key mode: no development PKI, unless the
// configuration asks for it as a fallback. This package only reads the configuration, wires
// the packages together (keys.go: keys, trust pool, TSA, revocation) and prints. Exit codes: 0 success,
// 1 failure (or an invalid copy for verify), 2 usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/chungthuc/chungthuc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// usageError is a mistake in the command line (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitError carries an exit code without a message (the command printed its own output).
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

const usage = `usage: chungthuc COMMAND [ARGS]

Commands:
  certify --unit CODE --officer ID --doc TEXT --requester NAME [--copies N] [--signer-title TITLE]
          [--issuer TEXT] [--confirm-low-resolution] [--email ADDRESS] --out FILE SCAN...
                          certify scans (JPEG, PNG, PDF) into a signed copy; prints JSON (document,
                          requester, copies, fee_vnd, officer_title, …). The title is one of the
                          officer's titles on record; printed text is one line, no control or
                          invisible characters (else exit 2)
  verify [--trust ROOT.pem] FILE.pdf
                          check a copy's signatures (and the register when one is here); prints JSON
  revoke --id N --reason TEXT
                          revoke an issued copy (it stays in the register, marked revoked)
  code reissue --id N     a new access code for an issued copy (printed once, as JSON); the old
                          code stops working; audited
  officer add --unit CODE --name NAME --title TITLE [--authority A] [--titles "T1;T2"] …
  officer set --id N [--name …] [--title …] [--titles …] [--authority chairman|vice_chairman|authorised]
          [--decision NO --decision-date D --valid-from D --valid-until D] [--signature sig.png] [--active=false]
                          add an officer (prints the id; issues a dev certificate) or set its record
  officer cert --id N --csr FILE | --cert FILE
                          register the certificate of an officer's own signing device: issued
                          by the dev PKI from a PKCS#10 request, or issued by a CA (checked)
  unit add --code CODE --name NAME --place PLACE [--body BODY] [--province P] [--seal seal.png --seal-mm 36]
  unit set --code CODE [--name …] [--place …] [--body …] [--province …] [--seal …] [--seal-mm …] [--titles "T1;T2"]
                          add a certifying unit or set its profile (a unit certifies only with a seal image)
  unit cert --unit CODE --csr FILE | --cert FILE | --remove [--default external|server]
                          register the certificate of the unit's seal device (the records clerk
                          applies the seal outside the service), and the unit's default signing
  book list|open --unit CODE [--year Y] | book close --id N --officer ID
                          list a unit's register books, open the next one, close one (the
                          closing page, with the year's total, signed by the officer's key)
  book print --id N --out FILE [--csv] | book print --unit CODE --from D --to D --out FILE [--csv]
                          the eight-column register book as PDF (a closed book: its signed PDF)
                          or CSV, per book or per period
  refuse --unit CODE --officer ID --reason R [--note TEXT] [--doc TEXT] [--requester NAME] --out SLIP.pdf
  refuse slip --id N --out SLIP.pdf
                          record a refusal (reason other needs --note) and write its numbered slip
  pki init                create the development PKI (done automatically on first use)
  pki export-root         print the development root certificate (PEM) for verifiers
  pki revoke --officer ID [--reason N]
                          revoke an officer's development certificate (OCSP/CRL say so)
  renew [--before 2y] [--dry-run]
                          add a new document time-stamp to stored copies whose newest one
                          expires within --before (archive renewal, PAdES B-LTA); prints JSON
  migrate                 apply database migrations (as CHUNGTHUC_MIGRATE_DATABASE_URL when set,
                          granting the role of CHUNGTHUC_DATABASE_URL what serve needs)
  fsck [--grace 15m] [--deep]
                          void entries a dead request left pending; report objects no entry
                          refers to and (--deep) stored copies missing or damaged; deletes
                          nothing; prints JSON, exits 1 when something needs an administrator
  audit verify            check the audit log's hash chain
  log verify [--checkpoint OLD_FILE]
                          check that the register and its public log agree row by row, and
                          the log with the signed checkpoints in the object store; prints
                          JSON, exit 1 on any finding
  log key | log checkpoint
                          print the log's public key | its newest signed checkpoint
  log keygen --out FILE [--origin NAME]
                          make a log key (private key to FILE, 0600; public key printed)
  reconcile [--note TEXT] [--grace 2m]
                          replay into a register restored from an older backup what the
                          object store's log knows, and re-register stored copies that
                          neither a row nor the log accounts for (service stopped); JSON
  reconcile --explain KEY --note TEXT
                          record why a stored object has no register entry
  account add --username U --role R [--unit CODE] [--officer ID]
                          create a login; prints the username and a generated password once
  account passwd --username U
                          give a login a new generated password (printed once; must be
                          changed at the next login; its sessions end; its two-step
                          verification is turned off)
  account totp-reset --username U
                          turn a login's two-step verification (TOTP) off, e.g. for a
                          lost phone; the person can enrol again after logging in
  account disable --username U | account enable --username U
                          disable a login (its sessions end, its officer's API tokens are
                          revoked) or enable it again (revoked tokens stay revoked)
  account logout --username U
                          end every session of a login (log out everywhere)
  token create --unit CODE --officer ID [--name TEXT]
                          create an API token for integrations (printed once); the token of a
                          clerk's record (officer add --role clerk) acts as the records clerk
  webhook add --url URL [--secret S] | webhook list | webhook remove --id N
                          receivers of certification.issued/.revoked/.refused (signed)
  token revoke --id N     revoke an API token: every request with it is refused
  token list [--unit CODE]
                          list API tokens: id, unit, officer, created, state, name
  serve                   run the web service
  csc-dev --client-secret S --credential ID=CERT.pem:KEY.pem [--addr 127.0.0.1:8789] [--otp 123456]
                          development CSC v2 remote signing server (loopback, fixed one-time code)

Environment: CHUNGTHUC_DATA (default ./chungthuc-data), CHUNGTHUC_BASE_URL, CHUNGTHUC_ADDR,
CHUNGTHUC_DATABASE_URL, CHUNGTHUC_MIGRATE_DATABASE_URL,
CHUNGTHUC_S3_ENDPOINT/_BUCKET/_ACCESS_KEY/_SECRET_KEY/_REGION/_USE_SSL/_RETENTION_YEARS
(secrets also as NAME_FILE), CHUNGTHUC_STORE_TIMEOUT (30s), CHUNGTHUC_STORE_PROBE_TIMEOUT (1s),
CHUNGTHUC_REPAIR_GRACE (15m), CHUNGTHUC_REPAIR_INTERVAL (1m), CHUNGTHUC_CHECK_SAMPLE (20).
Keys and trusted time: CHUNGTHUC_KEYS_FILE (JSON key configuration: PKCS#11, PEM, PKCS#12;
with it there is no development PKI unless it says "fallback": "dev"),
CHUNGTHUC_TSA_URL, CHUNGTHUC_TSA_USERNAME, CHUNGTHUC_TSA_PASSWORD, CHUNGTHUC_PADES_LEVEL
(B-B, B-T, B-LT, B-LTA; default B-LTA with a TSA — the development TSA on the embedded
default), CHUNGTHUC_TRUST_ANCHORS (roots trusted for verification, renewal and revocation
fetching, besides the development root and the configured keys' roots).
One-stop deadline: CHUNGTHUC_HOLIDAYS_FILE (the working-day calendar: "YYYY-MM-DD name" per
day off, "+YYYY-MM-DD name" per worked weekend day; replaces the built-in 2025–2030 table).
Public log: CHUNGTHUC_LOG_KEY_FILE (its private signing key, from "chungthuc log keygen"; the
development PKI makes one on the embedded default).
`

// Main runs the command line and returns the exit code. It is what main calls and what the
// end-to-end tests call in-process.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	err := run(ctx, args, stdin, stdout, stderr, getenv, logger)
	var ue *usageError
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		// Writes to stderr: if they fail there is nowhere left to report it; the exit code stands.
		_, _ = fmt.Fprintf(stderr, "chungthuc: %s\n\n%s", ue.msg, usage)
		return 2
	default:
		if chungthuc.ErrorCode(err) == chungthuc.EINTERNAL {
			_, _ = fmt.Fprintf(stderr, "chungthuc: %v\n", err)
		} else {
			_, _ = fmt.Fprintf(stderr, "chungthuc: %s\n", chungthuc.ErrorDetail(err))
		}
		return 1
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, logger *slog.Logger) error {
	if len(args) == 0 {
		return usagef("no command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "--help":
		_, err := fmt.Fprint(stdout, usage)
		return err
	case "verify":
		return cmdVerify(ctx, rest, stdout, getenv)
	case "csc-dev":
		return cmdCSCDev(ctx, rest, stdout)
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return err
	}
	switch cmd {
	case "certify":
		return cmdCertify(ctx, cfg, rest, stdout, logger)
	case "officer":
		return cmdOfficer(ctx, cfg, rest, stdout, logger)
	case "unit":
		return cmdUnit(ctx, cfg, rest, stdout, logger)
	case "pki":
		if len(rest) > 0 && rest[0] == "revoke" {
			return cmdPKIRevoke(ctx, cfg, rest[1:], stdout, logger)
		}
		return cmdPKI(ctx, cfg, rest, stdout, logger)
	case "renew":
		return cmdRenew(ctx, cfg, rest, stdout, logger)
	case "revoke":
		return cmdRevoke(ctx, cfg, rest, stdout, logger)
	case "refuse":
		return cmdRefuse(ctx, cfg, rest, stdout, logger)
	case "book":
		return cmdBook(ctx, cfg, rest, stdout, logger)
	case "migrate":
		return cmdMigrate(ctx, cfg, rest, stdout, logger)
	case "fsck":
		return cmdFsck(ctx, cfg, rest, stdout, logger)
	case "audit":
		return cmdAudit(ctx, cfg, rest, stdout, logger)
	case "log":
		return cmdLog(ctx, cfg, rest, stdout, logger)
	case "reconcile":
		return cmdReconcile(ctx, cfg, rest, stdout, logger)
	case "account":
		return cmdAccount(ctx, cfg, rest, stdout, logger)
	case "token":
		return cmdToken(ctx, cfg, rest, stdout, logger)
	case "code":
		return cmdCode(ctx, cfg, rest, stdout, logger)
	case "webhook":
		return cmdWebhook(ctx, cfg, rest, stdout, logger)
	case "serve":
		// The service logs every request as JSON; the CLI only warnings.
		logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
		return cmdServe(ctx, cfg, rest, stdout, logger)
	}
	return usagef("unknown command %q", cmd)
}
