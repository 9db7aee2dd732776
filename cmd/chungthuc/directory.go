package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
)

// invalidAsUsage turns an EINVALID error (a value the register refuses: unprintable text, a
// bad image, an unknown authority) into a usage error, so that the command exits 2 with the
// register's message.
func invalidAsUsage(cmd string, err error) error {
	if chungthuc.ErrorCode(err) == chungthuc.EINVALID {
		return usagef("%s: %s", cmd, chungthuc.ErrorMessage(err))
	}
	return err
}

// given reports which flags were set on the command line.
func given(fs *flag.FlagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}

// readImage reads a PNG given with --seal or --signature (bounded before reading).
func readImage(flagName, path string, limit int) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, usagef("--%s: cannot read %q: %v", flagName, path, errorsUnwrapPath(err))
	}
	if st.Size() > int64(limit) {
		return nil, usagef("--%s: %q is %d bytes; at most %d are allowed", flagName, path, st.Size(), limit)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--%s: cannot read %q: %v", flagName, path, errorsUnwrapPath(err))
	}
	return b, nil
}

// splitTitles reads a list of titles separated by ';'.
func splitTitles(s string) []string {
	out := []string{}
	for _, t := range strings.Split(s, ";") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// parseDay reads a date YYYY-MM-DD (a day in Vietnam); "" is nil.
func parseDay(flagName, s string) (*time.Time, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), chungthuc.Vietnam)
	if err != nil {
		return nil, usagef("--%s: %q is not a date (YYYY-MM-DD)", flagName, s)
	}
	return &t, nil
}

func unitJSON(u *chungthuc.Unit) map[string]any {
	return map[string]any{"id": u.ID, "code": u.Code, "name": u.Name, "place": u.Place, "body": u.Body, "province": u.Province,
		"seal": len(u.SealImage) > 0, "seal_mm": u.SealMM, "demo": u.Demo, "titles": u.Titles}
}

func officerJSON(o *chungthuc.Officer) map[string]any {
	m := map[string]any{"id": o.ID, "unit_id": o.UnitID, "name": o.Name, "title": o.Title, "titles": o.Titles, "role": o.Role,
		"active": o.Active, "authority": o.Authority, "title_lines": chungthuc.TitleLines(o.Authority, o.Title),
		"signature": len(o.SignatureImage) > 0}
	if o.Authority == chungthuc.AuthorityAuthorised {
		m["decision_no"] = o.DecisionNo
		for k, t := range map[string]*time.Time{"decision_date": o.DecisionDate, "valid_from": o.ValidFrom, "valid_until": o.ValidUntil} {
			if t != nil {
				m[k] = t.In(chungthuc.Vietnam).Format("2006-01-02")
			}
		}
	}
	return m
}

// cmdUnit adds a certifying unit or sets its profile: body name, province, registered seal
// image (PNG with transparency) and its size in mm, allowed officer titles.
func cmdUnit(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) > 0 && args[0] == "cert" {
		return cmdUnitCert(ctx, cfg, args[1:], stdout, logger) // unitcert.go
	}
	if len(args) == 0 || (args[0] != "add" && args[0] != "set") {
		return usagef("unit: expected 'unit add', 'unit set' or 'unit cert'")
	}
	verb := "unit " + args[0]
	fs := newFlags(verb)
	code := fs.String("code", "", "short code, e.g. HB")
	name := fs.String("name", "", "full name, e.g. Phường Hòa Bình")
	place := fs.String("place", "", "place name printed before the date")
	body := fs.String("body", "", "the issuing body, e.g. Ủy ban nhân dân phường Hòa Bình")
	province := fs.String("province", "", "e.g. tỉnh Phú Thọ")
	seal := fs.String("seal", "", "the registered seal image (PNG with transparency)")
	sealMM := fs.Float64("seal-mm", 0, "the seal's true diameter in mm")
	titles := fs.String("titles", "", "titles the unit's officers may carry, separated by ';'")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	set := given(fs)
	if *code == "" {
		return usagef("%s: --code is required", verb)
	}
	if args[0] == "add" && (*name == "" || *place == "") {
		return usagef("unit add: --code, --name and --place are required")
	}
	var img []byte
	if *seal != "" {
		var err error
		if img, err = readImage("seal", *seal, chungthuc.MaxSealImage); err != nil {
			return err
		}
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	u := &chungthuc.Unit{Code: strings.ToUpper(*code)}
	if args[0] == "set" {
		if u, err = a.reg.UnitByCode(ctx, *code); err != nil {
			return err
		}
	}
	for flagName, apply := range map[string]func(){
		"name": func() { u.Name = *name }, "place": func() { u.Place = *place }, "body": func() { u.Body = *body },
		"province": func() { u.Province = *province }, "seal": func() { u.SealImage = img }, "seal-mm": func() { u.SealMM = *sealMM },
		"titles": func() { u.Titles = splitTitles(*titles) },
	} {
		if set[flagName] {
			apply()
		}
	}
	if args[0] == "add" {
		if err := a.reg.CreateUnit(ctx, u); err != nil {
			return invalidAsUsage(verb, err)
		}
		if err := a.issueSeal(ctx, u); err != nil {
			return err
		}
	} else if err := a.reg.UpdateUnit(ctx, u); err != nil {
		return invalidAsUsage(verb, err)
	}
	return printJSON(stdout, unitJSON(u))
}

// cmdOfficer adds an officer or sets an officer's record: name, title(s), role, authority
// (chairman, vice_chairman, authorised with the decision's number, date and validity) and
// handwritten signature image. Only an administrator sets titles: certifications choose
// among them.
func cmdOfficer(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) > 0 && args[0] == "cert" {
		return cmdOfficerCert(ctx, cfg, args[1:], stdout, logger) // officercert.go
	}
	if len(args) == 0 || (args[0] != "add" && args[0] != "set") {
		return usagef("officer: expected 'officer add', 'officer set' or 'officer cert'")
	}
	verb := "officer " + args[0]
	fs := newFlags(verb)
	id := fs.Int64("id", 0, "officer id (set)")
	unit := fs.String("unit", "", "unit code (add)")
	name := fs.String("name", "", "full name")
	title := fs.String("title", "", "the officer's title (position), e.g. PHÓ CHỦ TỊCH")
	titles := fs.String("titles", "", "further titles the officer may sign under, separated by ';'")
	role := fs.String("role", string(chungthuc.RoleOfficer), "role: officer, clerk, unit_admin, system_admin")
	authority := fs.String("authority", "", "chairman, vice_chairman or authorised")
	decision := fs.String("decision", "", "the authorising decision's number (authorised)")
	decisionDate := fs.String("decision-date", "", "its date, YYYY-MM-DD")
	validFrom := fs.String("valid-from", "", "first day of the authorisation, YYYY-MM-DD")
	validUntil := fs.String("valid-until", "", "last day of the authorisation, YYYY-MM-DD")
	signature := fs.String("signature", "", "the handwritten signature image (PNG, blue, transparent background)")
	active := fs.Bool("active", true, "whether the officer may act")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	set := given(fs)
	if args[0] == "add" && (*unit == "" || strings.TrimSpace(*name) == "" || (strings.TrimSpace(*title) == "" && *authority == "")) {
		return usagef("officer add: --unit, --name and --title (or --authority) are required")
	}
	if args[0] == "set" && *id <= 0 {
		return usagef("officer set: --id is required")
	}
	switch chungthuc.Role(*role) {
	case chungthuc.RoleOfficer, chungthuc.RoleClerk, chungthuc.RoleUnitAdmin, chungthuc.RoleSystemAdmin:
	default:
		return usagef("%s: unknown role %q", verb, *role)
	}
	dd, err := parseDay("decision-date", *decisionDate)
	if err != nil {
		return err
	}
	vf, err := parseDay("valid-from", *validFrom)
	if err != nil {
		return err
	}
	vu, err := parseDay("valid-until", *validUntil)
	if err != nil {
		return err
	}
	var img []byte
	if *signature != "" {
		if img, err = readImage("signature", *signature, chungthuc.MaxSignatureImage); err != nil {
			return err
		}
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	var u *chungthuc.Unit
	o := &chungthuc.Officer{Role: chungthuc.RoleOfficer, Active: true}
	if args[0] == "add" {
		if u, err = a.reg.UnitByCode(ctx, strings.ToUpper(*unit)); err != nil {
			return err
		}
		o.UnitID = u.ID
	} else if o, err = a.reg.OfficerByID(ctx, *id); err != nil {
		return err
	}
	for flagName, apply := range map[string]func(){
		"name": func() { o.Name = *name }, "title": func() { o.Title = *title }, "titles": func() { o.Titles = splitTitles(*titles) },
		"role": func() { o.Role = chungthuc.Role(*role) }, "authority": func() { o.Authority = chungthuc.Authority(*authority) },
		"decision": func() { o.DecisionNo = *decision }, "decision-date": func() { o.DecisionDate = dd },
		"valid-from": func() { o.ValidFrom = vf }, "valid-until": func() { o.ValidUntil = vu },
		"signature": func() { o.SignatureImage = img }, "active": func() { o.Active = *active },
	} {
		if set[flagName] {
			apply()
		}
	}
	if args[0] == "set" {
		if err := a.reg.UpdateOfficer(ctx, o); err != nil {
			return invalidAsUsage(verb, err)
		}
		return printJSON(stdout, officerJSON(o))
	}
	if err := a.reg.CreateOfficer(ctx, o); err != nil {
		return invalidAsUsage(verb, err)
	}
	if err := a.issueOfficer(ctx, o, u); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, o.ID)
	return err
}
