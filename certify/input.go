package certify

import (
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/notify"
)

// CheckInput validates and normalises, in place, what a request prints or records: the
// document's name and the requester (required), the issuer (optional), each with
// chungthuc.ValidatePrintedText (one line, bounded, no control or invisible characters,
// NFC), and Copies (0 becomes 1; at most chungthuc.MaxCopies). EINVALID naming the field
// otherwise. The CLI and the API call it at their boundary too, so that a refusal is a usage
// error (exit 2) or a 400 before anything else happens.
func CheckInput(in *Input) error {
	var err error
	if in.DocTitle, err = chungthuc.ValidatePrintedText("document (the name of the original)", in.DocTitle, chungthuc.MaxDocumentLen); err != nil {
		return err
	}
	if in.Requester, err = chungthuc.ValidatePrintedText("requester (the citizen's full name)", in.Requester, chungthuc.MaxNameLen); err != nil {
		return err
	}
	if strings.TrimSpace(in.Issuer) != "" {
		if in.Issuer, err = chungthuc.ValidatePrintedText("issuer", in.Issuer, chungthuc.MaxNameLen); err != nil {
			return err
		}
	} else {
		in.Issuer = ""
	}
	if strings.TrimSpace(in.Title) != "" {
		if in.Title, err = chungthuc.ValidatePrintedText("officer_title", in.Title, chungthuc.MaxTitleLen); err != nil {
			return err
		}
	}
	if strings.TrimSpace(in.Email) != "" {
		if in.Email, err = notify.ValidAddress(in.Email); err != nil {
			return chungthuc.Errorf(chungthuc.EINVALID, "Địa chỉ thư điện tử không hợp lệ: hãy nhập một địa chỉ, ví dụ ten@example.vn, hoặc để trống. (The e-mail address is not valid: enter one address such as name@example.vn (field \"email\"), or leave it empty.)")
		}
	} else {
		in.Email = ""
	}
	if in.Copies == 0 {
		in.Copies = 1
	}
	if in.Copies < 1 || in.Copies > chungthuc.MaxCopies {
		return chungthuc.Errorf(chungthuc.EINVALID, "copies must be 1 to %d, not %d", chungthuc.MaxCopies, in.Copies)
	}
	return nil
}

// SignerTitle returns the title o signs under when a request asks for requested: o's own
// title when requested is empty, else requested if it is one of o.AllowedTitles (after NFC
// normalisation). EINVALID for any other title (titles are set by an administrator on the
// officer's record, never per request); ECONFLICT when o has no title recorded at all.
func SignerTitle(o *chungthuc.Officer, requested string) (string, error) {
	allowed := o.AllowedTitles()
	if len(allowed) == 0 {
		return "", chungthuc.Errorf(chungthuc.ECONFLICT, "officer %d has no title on record: an administrator must set it (officer set --title)", o.ID)
	}
	requested = norm.NFC.String(strings.TrimSpace(requested))
	if requested == "" {
		return allowed[0], nil
	}
	for _, t := range allowed {
		if t == requested {
			return t, nil
		}
	}
	return "", chungthuc.Errorf(chungthuc.EINVALID, "officer %d may not sign as %q: the titles on record are %s", o.ID, requested, quoteList(allowed))
}

// checkRecords refuses (ECONFLICT) to certify when the unit may not certify yet — no
// registered seal image and not the demo unit — or when a printed field of the unit or
// officer record cannot be printed (a record written before the fields were validated).
func checkRecords(u *chungthuc.Unit, o *chungthuc.Officer, lines []string) error {
	if len(u.SealImage) == 0 && !u.Demo {
		return chungthuc.Errorf(chungthuc.ECONFLICT, "unit %s has no registered seal image: the unit administrator must upload it (unit set --seal seal.png --seal-mm 36) before the unit certifies", u.Code)
	}
	if len(lines) == 0 || len(lines) > 3 {
		return chungthuc.Errorf(chungthuc.ECONFLICT, "the title of officer %d makes %d lines; 1 to 3 are printed", o.ID, len(lines))
	}
	fields := []struct {
		name, value string
		max         int
	}{
		{"the unit's name", u.Name, chungthuc.MaxNameLen},
		{"the place name", u.Place, chungthuc.MaxPlaceLen},
		{"the officer's name", o.Name, chungthuc.MaxNameLen},
	}
	if u.Body != "" {
		fields = append(fields, struct {
			name, value string
			max         int
		}{"the body's name", u.Body, chungthuc.MaxNameLen})
	}
	if u.Province != "" {
		fields = append(fields, struct {
			name, value string
			max         int
		}{"the province", u.Province, chungthuc.MaxPlaceLen})
	}
	for _, l := range lines {
		fields = append(fields, struct {
			name, value string
			max         int
		}{"a title line", l, chungthuc.MaxTitleLen})
	}
	for _, f := range fields {
		if _, err := chungthuc.ValidatePrintedText(f.name, f.value, f.max); err != nil {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "the record cannot be printed: %s; an administrator must correct it", chungthuc.ErrorMessage(err))
		}
	}
	return nil
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "\"" + s + "\""
	}
	return strings.Join(q, ", ")
}
