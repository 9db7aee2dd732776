package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/api"
)

// cmdToken: `token create --unit CODE --officer ID [--name NAME]` prints a new API token for
// the one-stop-shop software; it acts as that officer of that unit. Only its hash is stored:
// the token is shown once.
func cmdToken(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("token: expected 'token create --unit CODE --officer ID'")
	}
	fs := newFlags("token create")
	unit := fs.String("unit", "", "unit code")
	officer := fs.Int64("officer", 0, "officer id")
	name := fs.String("name", "one-stop shop", "what the token is for")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *unit == "" || *officer <= 0 {
		return usagef("token create: --unit and --officer are required")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	accounts, ok := a.reg.(chungthuc.Accounts)
	if !ok {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "this register does not store API tokens yet")
	}
	u, err := a.reg.UnitByCode(ctx, strings.ToUpper(*unit))
	if err != nil {
		return err
	}
	o, err := a.reg.OfficerByID(ctx, *officer)
	if err != nil {
		return err
	}
	if o.UnitID != u.ID {
		return chungthuc.Errorf(chungthuc.EINVALID, "officer %d does not belong to unit %s", o.ID, u.Code)
	}
	secret, hash, err := api.NewSecret("ctk_")
	if err != nil {
		return err
	}
	t := &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: *name, TokenHash: hash}
	if err := accounts.CreateAPIToken(ctx, t); err != nil {
		return err
	}
	if err := a.audit.Append(ctx, &chungthuc.AuditEntry{Action: "token.create", UnitID: u.ID, Actor: "cli", Subject: fmt.Sprintf("token:%d", t.ID), Detail: fmt.Sprintf(`{"officer":%d}`, o.ID)}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	return nil
}
