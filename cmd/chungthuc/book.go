package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
)

// cmdBook manages a unit's register books: list, open the next book of the year (numbering
// continues), close a book (at year end, with the count of the year's certifications).
func cmdBook(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "open" && args[0] != "close") {
		return usagef("book: expected 'book list', 'book open' or 'book close'")
	}
	fs := newFlags("book " + args[0])
	unit := fs.String("unit", "", "unit code")
	year := fs.Int("year", 0, "calendar year (default: this year in Vietnam time)")
	id := fs.Int64("id", 0, "book id (close)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if args[0] == "close" && *id <= 0 {
		return usagef("book close: --id is required")
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
		b, err := a.reg.CloseBook(ctx, *id, now)
		if err != nil {
			return err
		}
		return printJSON(stdout, bookJSON(b))
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
	out := make([]map[string]any, 0, len(books))
	for _, b := range books {
		out = append(out, bookJSON(b))
	}
	return printJSON(stdout, out)
}

func bookJSON(b *chungthuc.Book) map[string]any {
	m := map[string]any{"id": b.ID, "code": b.Code, "year": b.Year, "seq": b.Seq, "first_number": b.FirstNumber,
		"last_number": b.LastNumber, "opened_at": b.OpenedAt.In(chungthuc.Vietnam).Format(time.RFC3339), "closed_at": nil}
	if b.ClosedAt != nil {
		m["closed_at"] = b.ClosedAt.In(chungthuc.Vietnam).Format(time.RFC3339)
		m["closing_count"] = b.ClosingCount
	}
	return m
}
