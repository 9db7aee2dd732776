package signer

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// RefusalSlip is the slip (phiếu từ chối) handed to a citizen whose original cannot be
// certified: who refuses, the slip's number (per unit and year), the document and the
// requester, and the legal ground — a clause of Decree 23/2015/NĐ-CP art. 22, or another
// ground written out.
type RefusalSlip struct {
	UnitBody   string
	Province   string
	Place      string
	Number     int64
	Year       int
	Date       time.Time
	Requester  string
	Document   string
	Reason     chungthuc.RefusalReason
	Note       string // the ground for RefuseOther; a remark otherwise
	SignerName string
	TitleLines []string
}

// refusalClause is the clause of Decree 23/2015/NĐ-CP art. 22 each reason rests on.
var refusalClause = map[chungthuc.RefusalReason]int{
	chungthuc.RefuseAltered: 1, chungthuc.RefuseDamaged: 2, chungthuc.RefuseClassified: 3,
	chungthuc.RefuseUnlawful: 4, chungthuc.RefuseNotLegalised: 5, chungthuc.RefuseSelfMade: 6,
}

// Lines is the slip's text below its heading, as printed.
func (r RefusalSlip) Lines() []string {
	who := r.Requester
	if who == "" {
		who = "người yêu cầu chứng thực"
	}
	doc := r.Document
	if doc == "" {
		doc = "(không ghi tên)"
	}
	out := []string{
		"Kính gửi: " + who,
		r.UnitBody + " từ chối chứng thực bản sao từ bản chính giấy tờ, văn bản: " + doc + ".",
	}
	if n, ok := refusalClause[r.Reason]; ok {
		out = append(out, fmt.Sprintf("Lý do: %s (khoản %d Điều 22 Nghị định số 23/2015/NĐ-CP, được sửa đổi, bổ sung).", chungthuc.RefusalLabel(r.Reason), n))
		if r.Note != "" {
			out = append(out, "Ghi chú: "+r.Note)
		}
	} else {
		out = append(out, "Lý do: "+r.Note)
	}
	return out
}

// PrintRefusalSlip renders the slip as an A4 PDF with the embedded font. EINVALID when a
// printed value cannot be printed (chungthuc.ValidatePrintedText) or the reason is unknown.
func (s *Signer) PrintRefusalSlip(r RefusalSlip) ([]byte, error) {
	if !chungthuc.ValidRefusalReason(r.Reason) {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "unknown refusal reason %q", r.Reason)
	}
	if r.Reason == chungthuc.RefuseOther && r.Note == "" {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "a refusal for another reason needs the reason written out")
	}
	for _, f := range []struct {
		name, v  string
		max      int
		optional bool
	}{
		{"the body's name", r.UnitBody, chungthuc.MaxNameLen, false}, {"the province", r.Province, chungthuc.MaxPlaceLen, true},
		{"the place name", r.Place, chungthuc.MaxPlaceLen, false}, {"the requester", r.Requester, chungthuc.MaxNameLen, true},
		{"the document", r.Document, chungthuc.MaxDocumentLen, true}, {"the note", r.Note, chungthuc.MaxNoteLen, true},
		{"the signer's name", r.SignerName, chungthuc.MaxNameLen, false},
	} {
		if f.optional && f.v == "" {
			continue
		}
		if _, err := chungthuc.ValidatePrintedText(f.name, f.v, f.max); err != nil {
			return nil, err
		}
	}
	for _, l := range r.TitleLines {
		if _, err := chungthuc.ValidatePrintedText("a title line", l, chungthuc.MaxTitleLen); err != nil {
			return nil, err
		}
	}
	const (
		national = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
		motto    = "Độc lập - Tự do - Hạnh phúc"
		heading  = "PHIẾU TỪ CHỐI CHỨNG THỰC"
		sub      = "(Bản sao từ bản chính)"
		signer   = "NGƯỜI THỰC HIỆN CHỨNG THỰC"
	)
	number := fmt.Sprintf("Số: %d/%d/PTC", r.Number, r.Year)
	dated := r.Place + ", " + VietnameseDate(r.Date)
	lines := r.Lines()
	texts := append([]string{upper(r.UnitBody), r.Province, national, motto, heading, sub, signer, number, dated, r.SignerName}, lines...)
	texts = append(texts, r.TitleLines...)
	reg, err := s.regular.embeddingFor(texts...)
	if err != nil {
		return nil, err
	}
	bold, err := s.bold.embeddingFor(texts...)
	if err != nil {
		return nil, err
	}
	w := pdfdoc.New("1.7", 64<<10)
	fr, fb := reg.write(w), bold.write(w)
	c := &content{}
	c.op("0 0 0 rg")
	const left, right = 60.0, a4W - 60
	y := a4H - 70
	for _, l := range wrap(bold, upper(r.UnitBody), 11, 190) {
		c.centred(fnBold, bold, 11, left+95, y, l)
		y -= 14
	}
	if r.Province != "" {
		c.centred(fnRegular, reg, 11, left+95, y, r.Province)
		y -= 14
	}
	c.centred(fnRegular, reg, 11, left+95, y-4, number)
	c.centred(fnBold, bold, 11, right-130, a4H-70, national)
	c.centred(fnBold, bold, 11, right-130, a4H-84, motto)
	c.centred(fnRegular, reg, 11, right-130, a4H-110, dated)
	y = min(y, a4H-110) - 50
	c.centred(fnBold, bold, 14, a4W/2, y, heading)
	c.centred(fnRegular, reg, 11, a4W/2, y-16, sub)
	y -= 50
	for _, l := range lines {
		for _, part := range wrap(reg, l, 12, right-left) {
			c.text(fnRegular, reg, 12, left, y, part)
			y -= 17
		}
		y -= 4
	}
	y -= 20
	cx := right - 130
	c.centred(fnBold, bold, 12, cx, y, signer)
	y -= 16
	for _, l := range r.TitleLines {
		c.centred(fnBold, bold, 12, cx, y, l)
		y -= 16
	}
	c.centred(fnBold, bold, 12, cx, y-60, r.SignerName)
	pagesRef := w.Alloc()
	page := w.Add(pdfdoc.Dict{
		"Type": pdfdoc.Name("Page"), "Parent": pagesRef,
		"MediaBox":  pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Real(a4W), pdfdoc.Real(a4H)},
		"Resources": pdfdoc.Dict{"Font": pdfdoc.Dict{fnRegular: fr, fnBold: fb}},
		"Contents":  w.Add(pdfdoc.FlateStream(nil, c.b)),
	})
	w.Put(pagesRef, pdfdoc.Dict{"Type": pdfdoc.Name("Pages"), "Kids": pdfdoc.Array{page}, "Count": pdfdoc.Int(1)})
	root := w.Add(pdfdoc.Dict{"Type": pdfdoc.Name("Catalog"), "Pages": pagesRef, "Lang": pdfdoc.String("vi-VN")})
	info := w.Add(pdfdoc.Dict{"Title": pdfdoc.Text(heading + " " + number), "Author": pdfdoc.Text(r.UnitBody), "Producer": pdfdoc.String("chungthuc")})
	file, _, err := w.Finish(root, info)
	return file, err
}

// upper is the body's name in capitals, as headings print it (NFC).
func upper(s string) string { return norm.NFC.String(strings.ToUpper(s)) }
