package signer

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// Printed is what a certified copy made by this package prints on its statement page.
type Printed struct {
	Number       int64
	BookCode     string
	Place        string
	Date         time.Time // the certification day, midnight in Vietnam
	OfficerTitle string
	OfficerName  string
	VerifyURL    string // the link under the QR code
	Pages        int    // pages of the copy, the statement page included
}

// ReadPrinted reads back the statement page of a copy this package made: the text drawn
// with the embedded fonts, mapped to Unicode through their ToUnicode maps, parsed as the
// statement's lines (Statement.Lines) and the verification link. It reads only what this
// package writes and trusts nothing of it: the caller must verify the copy's signatures
// before relying on the result (reconcile does, with package verify). EINVALID when the
// file is not such a copy.
func ReadPrinted(pdf []byte) (*Printed, error) {
	bad := func(what string) (*Printed, error) {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "not a copy certified by chungthuc: %s", what)
	}
	r, err := pdfdoc.Read(pdf)
	if err != nil {
		return bad(err.Error())
	}
	root, err := r.Dict(r.Rev.Root)
	if err != nil {
		return bad(err.Error())
	}
	pagesRef, _ := root["Pages"].(pdfdoc.Ref)
	pages, err := r.Dict(pagesRef)
	if err != nil {
		return bad(err.Error())
	}
	kids, _ := pages["Kids"].(pdfdoc.Array)
	if len(kids) < 2 {
		return bad("fewer than two pages")
	}
	lastRef, _ := kids[len(kids)-1].(pdfdoc.Ref)
	page, err := r.Dict(lastRef)
	if err != nil {
		return bad(err.Error())
	}
	res, _ := page["Resources"].(pdfdoc.Dict)
	fonts, _ := res["Font"].(pdfdoc.Dict)
	maps := map[string]map[uint16]rune{}
	for _, fn := range []string{fnRegular, fnBold} {
		ref, _ := fonts[pdfdoc.Name(fn)].(pdfdoc.Ref)
		font, err := r.Dict(ref)
		if err != nil {
			return bad("font " + fn)
		}
		tuRef, _ := font["ToUnicode"].(pdfdoc.Ref)
		data, err := streamData(r, tuRef)
		if err != nil {
			return bad("ToUnicode of " + fn)
		}
		maps[fn] = parseToUnicode(data)
	}
	cref, _ := page["Contents"].(pdfdoc.Ref)
	content, err := streamData(r, cref)
	if err != nil {
		return bad("statement page content")
	}
	type run struct {
		font, size, s string
	}
	var lines []string
	var runs []run
	for _, m := range textRun.FindAllSubmatch(content, -1) {
		cmap := maps[string(m[1])]
		g, err := hex.DecodeString(string(m[3]))
		if cmap == nil || err != nil || len(g)%2 != 0 {
			continue
		}
		var b strings.Builder
		for i := 0; i < len(g); i += 2 {
			if ch, ok := cmap[uint16(g[i])<<8|uint16(g[i+1])]; ok {
				b.WriteRune(ch)
			}
		}
		lines = append(lines, norm.NFC.String(b.String()))
		runs = append(runs, run{string(m[1]), string(m[2]), lines[len(lines)-1]})
	}
	// The statement's lines in drawing order: the number line, the date, the heading, the
	// title (bold 12.5 pt, one level per line, long levels wrapped), the placeholder when
	// there is no signature image, the name (bold 13 pt, wrapped if long), the agency's
	// signature information, the QR caption and the link.
	p := &Printed{Pages: len(kids)}
	var titles, names []string
	state := 0
	for i, l := range lines {
		r := runs[i]
		switch {
		case state == 0 && numberLine.MatchString(l):
			m := numberLine.FindStringSubmatch(l)
			p.Number, _ = strconv.ParseInt(m[1], 10, 64)
			p.BookCode = m[2]
			state = 1
		case state == 1:
			m := dateLine.FindStringSubmatch(l)
			if m == nil {
				return bad("no date after the number")
			}
			d, _ := strconv.Atoi(m[2])
			mo, _ := strconv.Atoi(m[3])
			y, _ := strconv.Atoi(m[4])
			p.Place, p.Date = m[1], time.Date(y, time.Month(mo), d, 0, 0, 0, 0, chungthuc.Vietnam)
			state = 2
		case state == 2 && l == "NGƯỜI THỰC HIỆN CHỨNG THỰC":
			state = 3
		case state == 3 && l == unsignedMark:
		case state == 3 && r.font == fnBold && r.size == "12.5":
			titles = append(titles, l)
		case state == 3 && r.font == fnBold && r.size == "13":
			names = append(names, l)
		case state == 3 && len(names) > 0:
			p.OfficerTitle, p.OfficerName = strings.Join(titles, " "), strings.Join(names, " ")
			state = 5
			if l == qrCaption {
				p.VerifyURL = strings.Join(urlLines(lines[i+1:]), "")
				state = 6
			}
		case state == 5 && l == qrCaption:
			p.VerifyURL = strings.Join(urlLines(lines[i+1:]), "")
			state = 6
		}
	}
	if state != 6 || p.Number <= 0 || p.VerifyURL == "" {
		return bad("the statement page does not read as a certification statement")
	}
	return p, nil
}

// urlLines are the lines of the link: they follow its caption until the footer.
func urlLines(ls []string) []string {
	var out []string
	for _, l := range ls {
		if strings.HasPrefix(l, "Số chứng thực ") || strings.ContainsAny(l, " ") {
			break
		}
		out = append(out, l)
	}
	return out
}

var (
	textRun    = regexp.MustCompile(`BT /(C[RB]) ([0-9.]+) Tf -?[0-9.]+ -?[0-9.]+ Td <([0-9A-Fa-f]*)> Tj ET`)
	numberLine = regexp.MustCompile(`^Số chứng thực (\d+), quyển số (\S+)$`)
	dateLine   = regexp.MustCompile(`^(?:(.+), n|N)gày (\d{2}) tháng (\d{1,2}) năm (\d{4})$`)
	bfchar     = regexp.MustCompile(`<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>`)
)

func streamData(r *pdfdoc.Reader, ref pdfdoc.Ref) ([]byte, error) {
	o, err := r.Object(ref)
	if err != nil {
		return nil, err
	}
	s, ok := o.(*pdfdoc.Stream)
	if !ok {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "object %d is not a stream", ref.Num)
	}
	if f, _ := s.Dict["Filter"].(pdfdoc.Name); f != "FlateDecode" {
		return s.Data, nil
	}
	zr, err := zlib.NewReader(bytes.NewReader(s.Data))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(io.LimitReader(zr, 16<<20))
}

// parseToUnicode reads the bfchar entries this package writes (toUnicodeCMap).
func parseToUnicode(cmap []byte) map[uint16]rune {
	out := map[uint16]rune{}
	for _, m := range bfchar.FindAllSubmatch(cmap, -1) {
		g, err1 := strconv.ParseUint(string(m[1]), 16, 16)
		u, err2 := hex.DecodeString(string(m[2]))
		if err1 != nil || err2 != nil || len(u)%2 != 0 {
			continue
		}
		units := make([]uint16, len(u)/2)
		for i := range units {
			units[i] = uint16(u[2*i])<<8 | uint16(u[2*i+1])
		}
		if rs := utf16.Decode(units); len(rs) == 1 {
			out[uint16(g)] = rs[0]
		}
	}
	return out
}
