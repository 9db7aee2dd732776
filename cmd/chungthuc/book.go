package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
)

// cmdBook manages a unit's register books: list, open the next book of the year (numbering
// continues), close a book (at year end, with the count of the year's certifications).
func cmdBook(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "open" && args[0] != "close" && args[0] != "print") {
		return usagef("book: expected 'book list', 'book open', 'book close' or 'book print'")
	}
	fs := newFlags("book " + args[0])
	unit := fs.String("unit", "", "unit code")
	year := fs.Int("year", 0, "calendar year (default: this year in Vietnam time)")
	id := fs.Int64("id", 0, "book id (close, print)")
	officer := fs.Int64("officer", 0, "the officer who signs the closing page (close)")
	out := fs.String("out", "", "output file (print)")
	asCSV := fs.Bool("csv", false, "print the eight columns as CSV instead of PDF (print)")
	fromS := fs.String("from", "", "first day of the period, YYYY-MM-DD (print --unit)")
	toS := fs.String("to", "", "last day of the period, YYYY-MM-DD (print --unit)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if args[0] == "close" && (*id <= 0 || *officer <= 0) {
		return usagef("book close: --id and --officer (who signs the closing page) are required")
	}
	if args[0] == "print" {
		return cmdBookPrint(ctx, cfg, stdout, logger, *id, *unit, *fromS, *toS, *out, *asCSV)
	}
	if args[0] != "close" && *unit == "" {
		return usagef("book %s: --unit is required", args[0])
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	now := time.Now().In(chungthuc.Vietnam)
	if *year == 0 && args[0] == "open" {
		*year = now.Year()
	}
	switch args[0] {
	case "close":
		b, err := a.reg.BookByID(ctx, *id)
		if err != nil {
			return err
		}
		if b.ClosedAt == nil {
			if b, err = a.reg.CloseBook(ctx, *id, now); err != nil {
				return err
			}
		} else if b.ClosedBy != 0 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "book %s is already closed and its closing page signed by officer %d", b.Code, b.ClosedBy)
		}
		// A book closed but not yet signed (an interrupted close) is signed now.
		pdf, err := a.signClosing(ctx, b, *officer)
		if err != nil {
			return err
		}
		b.ClosedBy = *officer
		m := bookJSON(b)
		m["closing_pdf_sha256"] = sha256hex(pdf)
		return printJSON(stdout, m)
	}
	u, err := a.reg.UnitByCode(ctx, strings.ToUpper(*unit))
	if err != nil {
		return err
	}
	if args[0] == "open" {
		b, err := a.reg.OpenBook(ctx, u.ID, *year, now)
		if err != nil {
			return err
		}
		return printJSON(stdout, bookJSON(b))
	}
	books, err := a.reg.Books(ctx, u.ID, *year)
	if err != nil {
		return err
	}
	list := make([]map[string]any, 0, len(books))
	for _, b := range books {
		list = append(list, bookJSON(b))
	}
	return printJSON(stdout, list)
}

func bookJSON(b *chungthuc.Book) map[string]any {
	m := map[string]any{"id": b.ID, "code": b.Code, "year": b.Year, "seq": b.Seq, "first_number": b.FirstNumber,
		"last_number": b.LastNumber, "opened_at": b.OpenedAt.In(chungthuc.Vietnam).Format(time.RFC3339), "closed_at": nil}
	if b.ClosedAt != nil {
		m["closed_at"] = b.ClosedAt.In(chungthuc.Vietnam).Format(time.RFC3339)
		m["closing_count"] = b.ClosingCount
		m["closed_by"] = b.ClosedBy
	}
	return m
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// cmdBookPrint writes a book (--id) or a unit's entries of a period (--unit --from --to) as
// the eight-column register book, PDF or CSV. A closed book prints as its signed PDF.
func cmdBookPrint(ctx context.Context, cfg *Config, stdout io.Writer, logger *slog.Logger, id int64, unit, fromS, toS, out string, asCSV bool) error {
	if out == "" {
		return usagef("book print: --out is required")
	}
	if (id > 0) == (unit != "") {
		return usagef("book print: either --id N, or --unit CODE with --from and --to")
	}
	var from, to time.Time
	if unit != "" {
		f, err := parseDay("from", fromS)
		if err != nil {
			return err
		}
		t, err := parseDay("to", toS)
		if err != nil {
			return err
		}
		if f == nil || t == nil || t.Before(*f) {
			return usagef("book print: --from and --to (YYYY-MM-DD, from not after to) are required with --unit")
		}
		from, to = *f, t.AddDate(0, 0, 1)
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	var b *chungthuc.Book
	var u *chungthuc.Unit
	if id > 0 {
		if b, err = a.reg.BookByID(ctx, id); err != nil {
			return err
		}
		if u, err = a.reg.UnitByID(ctx, b.UnitID); err != nil {
			return err
		}
	} else if u, err = a.reg.UnitByCode(ctx, strings.ToUpper(unit)); err != nil {
		return err
	}
	data, err := a.printBook(ctx, b, u, from, to, asCSV)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(out, data); err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{"out": out, "bytes": len(data), "signed": b != nil && len(b.ClosingPDF) > 0 && !asCSV})
}
