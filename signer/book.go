package signer

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// Book is the certification register book as printed (sổ chứng thực bản sao từ bản chính):
// a heading, the eight columns of the book — number; date; requester's full name; name of
// the original; signer's name and title; number of copies; fee; notes — and, for a closed
// book, the closing page with the year's total, confirmed by the signer.
type Book struct {
	UnitBody string // e.g. "Ủy ban nhân dân phường Hòa Bình"
	Province string // e.g. "tỉnh Phú Thọ"; "" = not printed
	Code     string // the book's code, e.g. "01/2026-SCTĐT/BS"
	Period   string // what the print covers, e.g. "Từ số 1 đến số 42" or "Từ ngày 01/01/2026 đến ngày 31/03/2026"
	Rows     []BookRow
	Closing  *BookClosing // nil: no closing page
}

// BookRow is one entry of the book.
type BookRow struct {
	Number    int64
	Date      time.Time
	Requester string
	Document  string
	Signer    string // name and title, e.g. "Trần Văn Nghĩa, PHÓ CHỦ TỊCH"
	Copies    int
	FeeVND    int64
	Notes     string // e.g. "Đã hủy: …", "Đã thu hồi: …"
}

// BookClosing is the year-end closing of a book: the book is closed with the count of the
// year's certifications, confirmed and signed by the signer (Decree 23/2015/NĐ-CP as amended
// by Decree 280/2025/NĐ-CP, whose annex holds the forms; see ../shared/docs/domain.md).
type BookClosing struct {
	Count      int64 // certifications of the year (issued or revoked)
	Copies     int64 // copies they made
	FeeVND     int64 // fees they charged
	First      int64 // first and last number of the book
	Last       int64
	Date       time.Time // when the book was closed
	Place      string    // địa danh
	SignerName string
	TitleLines []string
}

// Landscape A4 in points, and the book's table.
const (
	bookW, bookH = a4H, a4W
	bookMargin   = 36.0
	bookSize     = 8.5
	bookLead     = 10.5
)

// bookColumns are the eight columns: heading and width (points; they fill the page between
// the margins).
var bookColumns = []struct {
	head  string
	width float64
}{
	{"Số chứng thực", 58}, {"Ngày tháng năm chứng thực", 64}, {"Họ tên người yêu cầu chứng thực", 118},
	{"Tên bản chính giấy tờ, văn bản", 150}, {"Họ tên, chức danh người ký chứng thực", 158},
	{"Số bản sao", 44}, {"Lệ phí (đồng)", 56}, {"Ghi chú", 121.89},
}

// PrintBook renders b as a landscape A4 PDF with the embedded font. With key (the signer's
// personal key) the whole file is signed with a PAdES certification signature on the
// closing page, time-stamped as the Signer's level asks, so that the closing is evidence:
// any later change to the book's pages breaks it. Errors: EINVALID for text that cannot be
// printed (chungthuc.ValidatePrintedText), EUNAVAILABLE when the key fails.
func (s *Signer) PrintBook(ctx context.Context, b Book, key *chungthuc.SigningKey) ([]byte, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	if key != nil && (key.Signer == nil || len(key.Chain) == 0) {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the signer's key is missing")
	}
	texts := []string{b.UnitBody, b.Province, b.Code, b.Period, "SỔ CHỨNG THỰC BẢN SAO TỪ BẢN CHÍNH", "Quyển số: ", "Trang ",
		"0123456789/,.:;()-– ", "KHÓA SỔ", "NGƯỜI THỰC HIỆN CHỨNG THỰC", "(không có mục nào)"}
	for _, c := range bookColumns {
		texts = append(texts, c.head)
	}
	for _, r := range b.Rows {
		texts = append(texts, r.Requester, r.Document, r.Signer, r.Notes)
	}
	var closing []string
	if b.Closing != nil {
		closing = b.Closing.lines(b.Code)
		texts = append(texts, closing...)
		texts = append(texts, b.Closing.TitleLines...)
		texts = append(texts, b.Closing.SignerName, b.Closing.Place)
	}
	reg, err := s.regular.embeddingFor(texts...)
	if err != nil {
		return nil, err
	}
	bold, err := s.bold.embeddingFor(texts...)
	if err != nil {
		return nil, err
	}
	w := pdfdoc.New("1.7", 64<<10+len(b.Rows)*256)
	d := &document{regular: reg, bold: bold}
	d.fontR, d.fontB = reg.write(w), bold.write(w)
	fonts := pdfdoc.Dict{fnRegular: d.fontR, fnBold: d.fontB}
	pagesRef := w.Alloc()
	pages := d.bookPages(b)
	total := len(pages)
	if b.Closing != nil {
		total++
	}
	var kids pdfdoc.Array
	for i, c := range pages {
		d.footer(c, fmt.Sprintf("Quyển số: %s · Trang %d/%d", b.Code, i+1, total), bookW)
		kids = append(kids, w.Add(pdfdoc.Dict{
			"Type": pdfdoc.Name("Page"), "Parent": pagesRef,
			"MediaBox":  pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Real(bookW), pdfdoc.Real(bookH)},
			"Resources": pdfdoc.Dict{"Font": fonts},
			"Contents":  w.Add(pdfdoc.FlateStream(nil, c.b)),
		}))
	}
	d.catalog = pdfdoc.Dict{"Type": pdfdoc.Name("Catalog"), "Pages": pagesRef, "Lang": pdfdoc.String("vi-VN")}
	if b.Closing != nil {
		last := w.Alloc()
		kids = append(kids, last)
		c := &content{}
		d.closingPage(c, b, closing)
		d.footer(c, fmt.Sprintf("Quyển số: %s · Trang %d/%d", b.Code, total, total), bookW)
		page := pdfdoc.Dict{
			"Type": pdfdoc.Name("Page"), "Parent": pagesRef,
			"MediaBox":  pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Real(bookW), pdfdoc.Real(bookH)},
			"Resources": pdfdoc.Dict{"Font": fonts},
			"Contents":  w.Add(pdfdoc.FlateStream(nil, c.b)),
		}
		if key != nil {
			d.officerField = w.Alloc()
			d.officerWidget = pdfdoc.Dict{
				"Type": pdfdoc.Name("Annot"), "Subtype": pdfdoc.Name("Widget"), "FT": pdfdoc.Name("Sig"),
				"T": pdfdoc.Text("Người thực hiện chứng thực (khóa sổ)"), "F": pdfdoc.Int(132), "P": last,
				"Rect": pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Int(0)},
			}
			w.Put(d.officerField, d.officerWidget)
			page["Annots"] = pdfdoc.Array{d.officerField}
			d.catalog["AcroForm"] = pdfdoc.Dict{"Fields": pdfdoc.Array{d.officerField}, "SigFlags": pdfdoc.Int(3)}
		}
		w.Put(last, page)
	}
	w.Put(pagesRef, pdfdoc.Dict{"Type": pdfdoc.Name("Pages"), "Kids": kids, "Count": pdfdoc.Int(len(kids))})
	root := w.Add(d.catalog)
	info := w.Add(pdfdoc.Dict{
		"Title":    pdfdoc.Text("Sổ chứng thực bản sao từ bản chính, quyển số " + b.Code),
		"Author":   pdfdoc.Text(b.UnitBody),
		"Producer": pdfdoc.String("chungthuc"),
	})
	file, rev, err := w.Finish(root, info)
	if err != nil {
		return nil, err
	}
	d.file, d.rev = file, rev
	if key == nil || b.Closing == nil {
		return d.file, nil
	}
	if s.level != chungthuc.PAdESB {
		d.ts = s.ts
	}
	// One signature over the whole file (time-stamped at B-T and above): nothing is appended
	// after it, so any later byte breaks it.
	if err := d.signClosing(ctx, b, key); err != nil {
		return nil, err
	}
	return d.file, nil
}

func (b *Book) validate() error {
	check := func(field, v string, max int, optional bool) error {
		if optional && strings.TrimSpace(v) == "" {
			return nil
		}
		_, err := chungthuc.ValidatePrintedText(field, v, max)
		return err
	}
	if err := check("the body's name", b.UnitBody, chungthuc.MaxNameLen, false); err != nil {
		return err
	}
	if err := check("the province", b.Province, chungthuc.MaxPlaceLen, true); err != nil {
		return err
	}
	if err := check("the book's code", b.Code, chungthuc.MaxPlaceLen, false); err != nil {
		return err
	}
	if err := check("the period", b.Period, chungthuc.MaxNameLen, true); err != nil {
		return err
	}
	for _, r := range b.Rows {
		for _, f := range []struct {
			name, v string
			max     int
		}{{"requester", r.Requester, chungthuc.MaxNameLen}, {"document", r.Document, chungthuc.MaxDocumentLen},
			{"signer", r.Signer, 2*chungthuc.MaxNameLen + 3*chungthuc.MaxTitleLen}, {"notes", r.Notes, chungthuc.MaxNoteLen}} {
			if err := check(f.name, f.v, f.max, true); err != nil {
				return err
			}
		}
	}
	if c := b.Closing; c != nil {
		if err := check("the signer's name", c.SignerName, chungthuc.MaxNameLen, false); err != nil {
			return err
		}
		if err := check("the place name", c.Place, chungthuc.MaxPlaceLen, true); err != nil {
			return err
		}
		for _, l := range c.TitleLines {
			if err := check("a title line", l, chungthuc.MaxTitleLen, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// lines is the closing text.
func (c *BookClosing) lines(code string) []string {
	out := []string{
		fmt.Sprintf("Quyển sổ số %s được khóa sổ %s.", code, VietnameseDate(c.Date)),
		fmt.Sprintf("Tổng số việc chứng thực trong năm %d: %d (từ số %d đến số %d của quyển này).", c.Date.In(chungthuc.Vietnam).Year(), c.Count, c.First, c.Last),
		fmt.Sprintf("Tổng số bản sao: %d. Tổng lệ phí đã thu: %s đồng.", c.Copies, groupVND(c.FeeVND)),
	}
	return out
}

// groupVND writes n with '.' between thousands (Vietnamese usage): 15000 → "15.000".
func groupVND(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && r != '-' && s[i-1] != '-' {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// bookPages lays the heading and the table out on as many pages as the rows need.
func (d *document) bookPages(b Book) []*content {
	r, bo := d.regular, d.bold
	var pages []*content
	var c *content
	y := 0.0
	newPage := func() {
		c = &content{}
		pages = append(pages, c)
		c.op("0 0 0 rg 0 0 0 RG 0.5 w")
		y = bookH - bookMargin
		if len(pages) == 1 {
			c.text(fnBold, bo, 11, bookMargin, y-11, upper(b.UnitBody))
			if b.Province != "" {
				c.text(fnRegular, r, 10, bookMargin, y-25, b.Province)
			}
			c.centred(fnBold, bo, 14, bookW/2, y-50, "SỔ CHỨNG THỰC BẢN SAO TỪ BẢN CHÍNH")
			c.centred(fnRegular, r, 11, bookW/2, y-66, "Quyển số: "+b.Code)
			if b.Period != "" {
				c.centred(fnRegular, r, 10, bookW/2, y-80, b.Period)
			}
			y -= 92
		}
		y = d.bookRow(c, y, headCells(), bo, true)
	}
	newPage()
	if len(b.Rows) == 0 {
		c.centred(fnRegular, r, bookSize, bookW/2, y-14, "(không có mục nào)")
	}
	for _, row := range b.Rows {
		cells := []string{fmt.Sprint(row.Number), row.Date.In(chungthuc.Vietnam).Format("02/01/2006"), row.Requester, row.Document,
			row.Signer, fmt.Sprint(row.Copies), groupVND(row.FeeVND), row.Notes}
		if y-d.rowHeight(cells, r) < bookMargin+20 {
			newPage()
		}
		y = d.bookRow(c, y, cells, r, false)
	}
	return pages
}

func headCells() []string {
	out := make([]string, len(bookColumns))
	for i, c := range bookColumns {
		out[i] = c.head
	}
	return out
}

func (d *document) rowHeight(cells []string, e *embedding) float64 {
	n := 1
	for i, s := range cells {
		n = max(n, len(wrap(e, s, bookSize, bookColumns[i].width-6)))
	}
	return float64(n)*bookLead + 6
}

// bookRow draws one row of the table with its top at y, its cells boxed, and returns the
// row's bottom.
func (d *document) bookRow(c *content, y float64, cells []string, e *embedding, head bool) float64 {
	fn := fnRegular
	if head {
		fn = fnBold
	}
	h := d.rowHeight(cells, e)
	x := bookMargin
	for i, s := range cells {
		wd := bookColumns[i].width
		c.nums("re", x, y-h, wd, h)
		c.op("S")
		for j, l := range wrap(e, s, bookSize, wd-6) {
			ly := y - 3 - bookSize - float64(j)*bookLead
			if head || i == 0 || i == 1 || i == 5 || i == 6 {
				c.centred(fn, e, bookSize, x+wd/2, ly, l)
			} else {
				c.text(fn, e, bookSize, x+3, ly, l)
			}
		}
		x += wd
	}
	return y - h
}

// closingPage writes the closing: the total and the signer's block.
func (d *document) closingPage(c *content, b Book, lines []string) {
	r, bo := d.regular, d.bold
	c.op("0 0 0 rg")
	y := bookH - bookMargin - 11
	c.text(fnBold, bo, 11, bookMargin, y, upper(b.UnitBody))
	c.centred(fnBold, bo, 14, bookW/2, y-40, "KHÓA SỔ")
	y -= 72
	for _, l := range lines {
		for _, part := range wrap(r, l, 12, bookW-2*bookMargin) {
			c.text(fnRegular, r, 12, bookMargin+20, y, part)
			y -= 17
		}
	}
	cx := bookW - 220.0
	y -= 20
	if b.Closing.Place != "" {
		c.centred(fnRegular, r, 12, cx, y, b.Closing.Place+", "+VietnameseDate(b.Closing.Date))
		y -= 22
	}
	c.centred(fnBold, bo, 12, cx, y, "NGƯỜI THỰC HIỆN CHỨNG THỰC")
	y -= 16
	for _, l := range b.Closing.TitleLines {
		c.centred(fnBold, bo, 12, cx, y, l)
		y -= 16
	}
	c.centred(fnRegular, r, 10, cx, y-4, "(Đã ký số)")
	c.centred(fnBold, bo, 12, cx, y-60, b.Closing.SignerName)
}

// signClosing appends the signer's certification signature over the whole book.
func (d *document) signClosing(ctx context.Context, b Book, key *chungthuc.SigningKey) error {
	w, err := pdfdoc.UpdateInPlace(d.file, d.rev)
	if err != nil {
		return err
	}
	sig := w.Alloc()
	p := writeSig(w, sig, sigInfo{
		Kind: certification, DocMDP: 1,
		Name:     b.Closing.SignerName,
		Reason:   "Khóa sổ chứng thực, quyển số " + b.Code,
		Location: b.Closing.Place,
		Time:     b.Closing.Date,
	}, key.Chain, d.ts != nil)
	d.officerWidget["V"] = sig
	w.Put(d.officerField, d.officerWidget)
	d.catalog["Perms"] = pdfdoc.Dict{"DocMDP": sig}
	w.Put(d.rev.Root, d.catalog)
	file, rev, err := w.Finish(d.rev.Root, d.rev.Info)
	if err != nil {
		return err
	}
	if err := p.sign(ctx, file, key, &d.prefix, d.ts); err != nil {
		return err
	}
	d.file, d.rev = file, rev
	return nil
}
