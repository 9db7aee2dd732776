package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
)

// cmdToken creates an API token for the one-stop-shop software, acting as an officer of a
// unit. The token is printed once; only its hash is stored.
func cmdToken(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) > 0 && args[0] == "revoke" {
		return cmdTokenRevoke(ctx, cfg, args[1:], stdout, logger)
	}
	if len(args) > 0 && args[0] == "list" {
		return cmdTokenList(ctx, cfg, args[1:], stdout, logger)
	}
	if len(args) == 0 || args[0] != "create" {
		return usagef("token: expected 'token create', 'token list' or 'token revoke'")
	}
	fs := newFlags("token create")
	unit := fs.String("unit", "", "unit code")
	officer := fs.Int64("officer", 0, "officer id the token acts as")
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
	u, err := a.reg.UnitByCode(ctx, strings.ToUpper(*unit))
	if err != nil {
		return err
	}
	o, err := a.reg.OfficerByID(ctx, *officer)
	if err != nil {
		return err
	}
	if o.UnitID != u.ID {
		return chungthuc.Errorf(chungthuc.EFORBIDDEN, "officer %d does not belong to unit %s", o.ID, u.Code)
	}
	tok := credentials.NewToken()
	t := &chungthuc.APIToken{UnitID: u.ID, OfficerID: o.ID, Name: *name, TokenHash: credentials.TokenHash(tok)}
	if err := a.reg.CreateAPIToken(ctx, t); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

// cmdTokenRevoke revokes an API token by its id (`token revoke --id N`): every request
// carrying it is refused from then on.
func cmdTokenRevoke(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("token revoke")
	id := fs.Int64("id", 0, "id of the token")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *id <= 0 {
		return usagef("token revoke: --id is required")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.reg.RevokeAPIToken(ctx, *id, time.Now()); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "token %d revoked\n", *id)
	return err
}

// cmdTokenList prints the API tokens (`token list [--unit CODE]`), one a line: id, unit code,
// officer id, created, "active" or "revoked <time>", name. Secrets are not stored, so none is
// printed.
func cmdTokenList(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("token list")
	unit := fs.String("unit", "", "only this unit's tokens (unit code)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	units, err := a.reg.Units(ctx)
	if err != nil {
		return err
	}
	codes := map[int64]string{}
	var unitID int64
	for _, u := range units {
		codes[u.ID] = u.Code
		if strings.EqualFold(u.Code, *unit) {
			unitID = u.ID
		}
	}
	if *unit != "" && unitID == 0 {
		return chungthuc.Errorf(chungthuc.ENOTFOUND, "unit %q not found", *unit)
	}
	toks, err := a.reg.ListAPITokens(ctx, unitID)
	if err != nil {
		return err
	}
	for _, t := range toks {
		state := "active"
		if !t.RevokedAt.IsZero() {
			state = "revoked " + t.RevokedAt.UTC().Format(time.RFC3339)
		}
		if _, err := fmt.Fprintf(stdout, "%d\t%s\t%d\t%s\t%s\t%s\n", t.ID, codes[t.UnitID], t.OfficerID,
			t.CreatedAt.UTC().Format(time.RFC3339), state, t.Name); err != nil {
			return err
		}
	}
	return nil
}
