package main

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/chungthuc/chungthuc"
)

// cmdRefuse records a refusal (Decree 23/2015 art. 22, or "other" with its text) and writes
// its numbered slip (phiếu từ chối) for the citizen; `refuse slip --id N` prints it again.
func cmdRefuse(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	again := len(args) > 0 && args[0] == "slip"
	if again {
		args = args[1:]
	}
	fs := newFlags("refuse")
	id := fs.Int64("id", 0, "refusal id (slip)")
	unit := fs.String("unit", "", "unit code")
	officer := fs.Int64("officer", 0, "officer id")
	reason := fs.String("reason", "", "altered, damaged, classified, unlawful, not_legalised, self_made or other")
	note := fs.String("note", "", "the ground, for --reason other (printed on the slip)")
	doc := fs.String("doc", "", "the name of the original")
	requester := fs.String("requester", "", "the citizen's full name")
	out := fs.String("out", "", "the slip (PDF)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("refuse: --out is required")
	}
	if again && *id <= 0 {
		return usagef("refuse slip: --id is required")
	}
	if !again {
		switch {
		case *unit == "" || *officer <= 0:
			return usagef("refuse: --unit and --officer are required")
		case !chungthuc.ValidRefusalReason(chungthuc.RefusalReason(*reason)):
			return usagef("refuse: unknown --reason %q", *reason)
		}
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	var r *chungthuc.Refusal
	if again {
		if r, err = a.reg.RefusalByID(ctx, *id); err != nil {
			return err
		}
	} else {
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
		r = &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID, Reason: chungthuc.RefusalReason(*reason), Note: *note, Title: *doc, Requester: *requester}
		if err := a.svc.Refuse(ctx, r); err != nil {
			return invalidAsUsage("refuse", err)
		}
	}
	pdf, err := a.refusalSlip(ctx, r)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(*out, pdf); err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{"id": r.ID, "number": r.Number, "year": r.Year, "reason": r.Reason,
		"reason_label": chungthuc.RefusalLabel(r.Reason), "note": r.Note, "document": r.Title, "requester": r.Requester, "out": *out})
}
