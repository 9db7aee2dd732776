package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
)

// cmdAccount creates a login: `account add --username U --role R [--unit CODE] [--officer ID]`.
// The generated password is printed once (only its argon2id hash is stored).
func cmdAccount(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) > 0 && args[0] == "passwd" {
		return cmdAccountPasswd(ctx, cfg, args[1:], stdout, logger)
	}
	if len(args) > 0 && (args[0] == "disable" || args[0] == "enable") {
		return cmdAccountDisable(ctx, cfg, args[0], args[1:], stdout, logger)
	}
	if len(args) > 0 && args[0] == "logout" {
		return cmdAccountLogout(ctx, cfg, args[1:], stdout, logger)
	}
	if len(args) > 0 && args[0] == "totp-reset" {
		return cmdAccountTOTPReset(ctx, cfg, args[1:], stdout, logger)
	}
	if len(args) == 0 || args[0] != "add" {
		return usagef("account: expected 'account add', 'account passwd', 'account disable', 'account enable', 'account logout' or 'account totp-reset'")
	}
	fs := newFlags("account add")
	username := fs.String("username", "", "login name (3–64 of a–z 0–9 . _ -)")
	role := fs.String("role", string(chungthuc.RoleOfficer), "officer, clerk, unit_admin or system_admin")
	unit := fs.String("unit", "", "unit code (not for system_admin)")
	officer := fs.Int64("officer", 0, "officer id the login certifies as (officers)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *username == "" {
		return usagef("account add: --username is required")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	acct := &chungthuc.Account{Username: *username, Role: chungthuc.Role(*role), OfficerID: *officer, MustChangePassword: true}
	if *unit != "" {
		u, err := a.reg.UnitByCode(ctx, strings.ToUpper(*unit))
		if err != nil {
			return err
		}
		acct.UnitID = u.ID
	}
	password := credentials.NewPassword()
	if acct.PasswordHash, err = credentials.HashPassword(password); err != nil {
		return err
	}
	if err := a.reg.CreateAccount(ctx, acct); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s %s\n", acct.Username, password)
	return err
}

// cmdAccountPasswd gives an account a new generated password (`account passwd --username
// X`), printed once; the old one stops working at once, the account's browser sessions end,
// its second factor is removed (a reset is how a person who lost either gets back in) and
// the new password must be changed at the next login.
func cmdAccountPasswd(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	a, acct, err := accountByFlag(ctx, cfg, "passwd", args, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	password := credentials.NewPassword()
	hash, err := credentials.HashPassword(password)
	if err != nil {
		return err
	}
	if err := a.reg.SetPassword(ctx, acct.ID, hash, true); err != nil {
		return err
	}
	if _, err := a.reg.DeleteSessions(ctx, acct.ID, ""); err != nil {
		return err
	}
	if _, err := a.reg.DisableTOTP(ctx, acct.ID); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s %s\n", acct.Username, password)
	return err
}

// cmdAccountTOTPReset removes an account's second factor (`account totp-reset --username U`,
// audited as account.totp.disable when there was one) and ends its browser sessions; the
// password stays. It prints whether a second factor was on.
func cmdAccountTOTPReset(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	a, acct, err := accountByFlag(ctx, cfg, "totp-reset", args, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	was, err := a.reg.DisableTOTP(ctx, acct.ID)
	if err != nil {
		return err
	}
	if _, err := a.reg.DeleteSessions(ctx, acct.ID, ""); err != nil {
		return err
	}
	state := "was not on"
	if was {
		state = "turned off"
	}
	_, err = fmt.Fprintf(stdout, "account %s: two-step verification %s\n", acct.Username, state)
	return err
}

// cmdAccountDisable disables (`account disable --username U`: its sessions end and its
// officer's API tokens are revoked) or enables (`account enable --username U`; revoked
// tokens stay revoked) an account.
func cmdAccountDisable(ctx context.Context, cfg *Config, verb string, args []string, stdout io.Writer, logger *slog.Logger) error {
	a, acct, err := accountByFlag(ctx, cfg, verb, args, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.reg.SetAccountDisabled(ctx, acct.ID, verb == "disable"); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s %sd\n", acct.Username, verb)
	return err
}

// cmdAccountLogout ends every browser session of a login (`account logout --username U`,
// "log out everywhere") and prints how many there were; the login itself keeps working.
func cmdAccountLogout(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	a, acct, err := accountByFlag(ctx, cfg, "logout", args, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.reg.DeleteSessions(ctx, acct.ID, "")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "account %s: %d sessions ended\n", acct.Username, n)
	return err
}

// accountByFlag parses `--username U` for `account <verb>`, opens the application and looks
// the account up. On success the caller closes the returned app.
func accountByFlag(ctx context.Context, cfg *Config, verb string, args []string, logger *slog.Logger) (*app, *chungthuc.Account, error) {
	fs := newFlags("account " + verb)
	username := fs.String("username", "", "login name")
	if err := parseFlags(fs, args); err != nil {
		return nil, nil, err
	}
	if *username == "" {
		return nil, nil, usagef("account %s: --username is required", verb)
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return nil, nil, err
	}
	acct, err := a.reg.AccountByUsername(ctx, strings.ToLower(strings.TrimSpace(*username)))
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, acct, nil
}
