package signer

import (
	"context"
	"crypto/x509"
	"strings"
	"time"

	"github.com/go-fonts/liberation/liberationserifbold"
	"github.com/go-fonts/liberation/liberationserifregular"
	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/intake"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// Options configure a Signer.
type Options struct {
	Limits intake.Limits // zero fields take intake's defaults
	// Level is the PAdES baseline level of the copies (default B-B). B-T and above need
	// Timestamper; B-LT and B-LTA use Revocation (without it the DSS holds certificates only).
	Level       chungthuc.PAdESLevel
	Timestamper chungthuc.Timestamper
	Revocation  chungthuc.RevocationSource
	// CheckCertificate, when set, refuses a signer certificate (leaf first) that must not
	// sign any more — revoked, suspended — with its own error (EFORBIDDEN). The two-step
	// path (external.go) calls it when a signature is prepared and again when it completes.
	CheckCertificate func(ctx context.Context, chain []*x509.Certificate) error
	// Now is the clock of the two-step path's validity checks (time.Now when nil).
	Now func() time.Time
}

// Signer makes certified copies. It prepares what does not change from copy to copy (font
// subsets, widths, ToUnicode maps) once; it is safe for concurrent use.
type Signer struct {
	regular, bold *font
	limits        intake.Limits
	level         chungthuc.PAdESLevel
	ts            chungthuc.Timestamper
	rev           chungthuc.RevocationSource
	checkCert     func(ctx context.Context, chain []*x509.Certificate) error
	now           func() time.Time
}

// New prepares a Signer.
func New(opt Options) (*Signer, error) {
	reg, err := newFont(liberationserifregular.TTF)
	if err != nil {
		return nil, err
	}
	bold, err := newFont(liberationserifbold.TTF)
	if err != nil {
		return nil, err
	}
	switch opt.Level {
	case "":
		opt.Level = chungthuc.PAdESB
	case chungthuc.PAdESB, chungthuc.PAdEST, chungthuc.PAdESLT, chungthuc.PAdESLTA:
	default:
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "unknown PAdES level %q (B-B, B-T, B-LT or B-LTA)", opt.Level)
	}
	if opt.Level != chungthuc.PAdESB && opt.Timestamper == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "PAdES %s needs a time-stamping authority", opt.Level)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Signer{regular: reg, bold: bold, limits: opt.Limits, level: opt.Level, ts: opt.Timestamper, rev: opt.Revocation,
		checkCert: opt.CheckCertificate, now: opt.Now}, nil
}

var _ chungthuc.CopyMaker = (*Signer)(nil)

// request is one copy being made: the caller's request and its allocation.
type request struct {
	chungthuc.CopyRequest
	Statement Statement
	VerifyURL string
}

// MakeCopy makes the certified copy of req: intake of the scans, then req.Allocate for the
// number, then the stamp and the two signatures (officer, then seal at the same time).
// Each signature is the two-step mechanism of external.go run in place with the key held
// here (prepare, one Sign, embed).
// Errors: EINVALID (missing fields, corrupt scans), ETOOLARGE and EUNSUPPORTED (from intake),
// EUNAVAILABLE (a key failed to sign), and whatever Allocate returns.
func (s *Signer) MakeCopy(ctx context.Context, in chungthuc.CopyRequest) (*chungthuc.Copy, error) {
	if in.Officer == nil || in.Officer.Signer == nil || len(in.Officer.Chain) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the officer's signing key is missing")
	}
	if in.Seal == nil || in.Seal.Signer == nil || len(in.Seal.Chain) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the unit's seal key is missing")
	}
	d, req, res, err := s.start(ctx, in)
	if err != nil {
		return nil, err
	}
	sealTime := req.Statement.Date
	if err := d.signOfficer(ctx, req); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := d.signSeal(ctx, req, sealTime); err != nil {
		return nil, err
	}
	return s.finish(ctx, d, res)
}

// start checks in, takes in the scans, allocates the number and assembles the stamped
// copy (no signature yet). res has the page counts and what intake dropped.
func (s *Signer) start(ctx context.Context, in chungthuc.CopyRequest) (*document, request, *chungthuc.Copy, error) {
	var req request
	if len(in.Scans) == 0 {
		return nil, req, nil, chungthuc.Errorf(chungthuc.EINVALID, "no scan was given")
	}
	if in.Allocate == nil {
		return nil, req, nil, chungthuc.Errorf(chungthuc.EINVALID, "no number allocator")
	}
	files := make([]intake.File, len(in.Scans))
	for i, f := range in.Scans {
		files[i] = intake.File{Name: f.Name, Data: f.Data}
	}
	pages, report, err := intake.Pages(files, s.limits)
	if err != nil {
		return nil, req, nil, err
	}
	req = request{CopyRequest: in}
	req.UnitName = norm.NFC.String(in.UnitName)
	req.Statement = Statement{Place: norm.NFC.String(in.Place), Title: norm.NFC.String(in.OfficerTitle), Name: norm.NFC.String(in.OfficerName)}
	// The signer's fields are checked before a number is allocated; the rest after.
	if err := req.Statement.validateSigner(); err != nil {
		return nil, req, nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, req, nil, err
	}
	a, err := in.Allocate(ctx, len(pages))
	if err != nil {
		return nil, req, nil, err
	}
	req.Statement.Number, req.Statement.BookCode, req.Statement.Date = a.Number, a.BookCode, a.CertifiedAt
	req.VerifyURL = a.VerifyURL
	if err := req.Statement.Validate(); err != nil {
		return nil, req, nil, err
	}
	if req.VerifyURL == "" {
		return nil, req, nil, chungthuc.Errorf(chungthuc.EINVALID, "the verification URL is missing")
	}
	d, err := s.assemble(req, pages, a.CertifiedAt)
	if err != nil {
		return nil, req, nil, err
	}
	if s.level != chungthuc.PAdESB {
		d.ts = s.ts
	}
	res := &chungthuc.Copy{Pages: len(pages) + 1, OriginalPages: len(pages)}
	if report != nil {
		res.Dropped = report.Dropped
	}
	return d, req, res, nil
}

// finish adds what the PAdES level asks for after the last signature (DSS, document
// time-stamp) and returns the copy with its SHA-256.
func (s *Signer) finish(ctx context.Context, d *document, res *chungthuc.Copy) (*chungthuc.Copy, error) {
	var err error
	if s.level == chungthuc.PAdESLT || s.level == chungthuc.PAdESLTA {
		if d.file, err = appendDSS(ctx, d.file, s.rev); err != nil {
			return nil, err
		}
	}
	if s.level == chungthuc.PAdESLTA {
		if d.file, err = appendDocTimestamp(ctx, d.file, s.ts); err != nil {
			return nil, err
		}
	}
	sum, err := d.prefix.sum(d.file)
	if err != nil {
		return nil, err
	}
	res.PDF, res.SHA256 = d.file, sum
	return res, nil
}

// A4 in points.
const a4W, a4H = 595.276, 841.89

// Font resource names on our pages and appearances (intake's names start with "S").
const (
	fnRegular = "CR"
	fnBold    = "CB"
)

// document is a copy being assembled and signed.
type document struct {
	file          []byte
	rev           pdfdoc.Revision
	catalog       pdfdoc.Dict
	officerField  pdfdoc.Ref
	officerWidget pdfdoc.Dict
	sealField     pdfdoc.Ref
	sealWidget    pdfdoc.Dict
	sealRect      [4]float64
	fontR, fontB  pdfdoc.Ref
	regular, bold *embedding
	prefix        prefixHash            // hash state shared by the two signatures
	ts            chungthuc.Timestamper // nil below PAdES B-T
}

func (s *Signer) assemble(req request, pages []intake.Page, sealTime time.Time) (*document, error) {
	st := req.Statement
	lines := st.Lines()
	texts := append([]string{req.UnitName, st.Footer(len(pages)+1, len(pages)+1), req.VerifyURL,
		sealText1, sealText2, sealTopText, strings.ToUpper(req.UnitName), isoTime(sealTime)}, lines...)
	reg, err := s.regular.embeddingFor(texts...)
	if err != nil {
		return nil, err
	}
	bold, err := s.bold.embeddingFor(texts...)
	if err != nil {
		return nil, err
	}
	size := 0
	for _, f := range req.Scans {
		size += len(f.Data)
	}
	w := pdfdoc.New("1.7", size+size/16+256<<10)
	d := &document{regular: reg, bold: bold}
	d.fontR = reg.write(w)
	d.fontB = bold.write(w)
	fonts := pdfdoc.Dict{fnRegular: d.fontR, fnBold: d.fontB}
	pagesRef := w.Alloc()
	total := len(pages) + 1
	kids := make(pdfdoc.Array, 0, total)
	for i, p := range pages {
		res, body, err := p.Emit(w)
		if err != nil {
			return nil, err
		}
		if res == nil {
			res = pdfdoc.Dict{}
		}
		res["Font"] = fonts
		c := &content{b: append(append(make([]byte, 0, len(body)+256), "q\n"...), body...)}
		c.op("Q")
		d.footer(c, st.Footer(i+1, total), p.Width, true)
		ref := w.Add(pdfdoc.Dict{
			"Type": pdfdoc.Name("Page"), "Parent": pagesRef,
			"MediaBox":  pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Real(p.Width), pdfdoc.Real(p.Height)},
			"Resources": res,
			"Contents":  w.Add(pdfdoc.FlateStream(nil, c.b)),
		})
		kids = append(kids, ref)
	}

	// The statement page.
	last := w.Alloc()
	kids = append(kids, last)
	c := &content{}
	if err := d.statement(c, st, req.VerifyURL); err != nil {
		return nil, err
	}
	d.footer(c, st.Footer(total, total), a4W, false)
	d.officerField, d.sealField = w.Alloc(), w.Alloc()
	d.officerWidget = pdfdoc.Dict{
		"Type": pdfdoc.Name("Annot"), "Subtype": pdfdoc.Name("Widget"), "FT": pdfdoc.Name("Sig"),
		"T": pdfdoc.Text("Người thực hiện chứng thực"), "F": pdfdoc.Int(132), "P": last,
		"Rect": pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Int(0)},
	}
	d.sealRect = sealRect
	d.sealWidget = pdfdoc.Dict{
		"Type": pdfdoc.Name("Annot"), "Subtype": pdfdoc.Name("Widget"), "FT": pdfdoc.Name("Sig"),
		"T": pdfdoc.Text("Chữ ký số của cơ quan"), "F": pdfdoc.Int(4), "P": last,
		"Rect": pdfdoc.Array{pdfdoc.Real(sealRect[0]), pdfdoc.Real(sealRect[1]), pdfdoc.Real(sealRect[2]), pdfdoc.Real(sealRect[3])},
	}
	w.Put(d.officerField, d.officerWidget)
	w.Put(d.sealField, d.sealWidget)
	w.Put(last, pdfdoc.Dict{
		"Type": pdfdoc.Name("Page"), "Parent": pagesRef,
		"MediaBox":  pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Real(a4W), pdfdoc.Real(a4H)},
		"Resources": pdfdoc.Dict{"Font": fonts},
		"Contents":  w.Add(pdfdoc.FlateStream(nil, c.b)),
		"Annots":    pdfdoc.Array{d.officerField, d.sealField},
	})
	w.Put(pagesRef, pdfdoc.Dict{"Type": pdfdoc.Name("Pages"), "Kids": kids, "Count": pdfdoc.Int(total)})
	d.catalog = pdfdoc.Dict{
		"Type": pdfdoc.Name("Catalog"), "Pages": pagesRef, "Lang": pdfdoc.String("vi-VN"),
		"AcroForm": pdfdoc.Dict{"Fields": pdfdoc.Array{d.officerField, d.sealField}, "SigFlags": pdfdoc.Int(3)},
	}
	root := w.Add(d.catalog)
	title := "Bản sao điện tử được chứng thực"
	if req.DocTitle != "" {
		title += ": " + norm.NFC.String(req.DocTitle)
	}
	info := w.Add(pdfdoc.Dict{
		"Title":        pdfdoc.Text(title),
		"Subject":      pdfdoc.Text(st.Lines()[1]),
		"Author":       pdfdoc.Text(req.UnitName),
		"Producer":     pdfdoc.String("chungthuc"),
		"CreationDate": pdfdoc.String(pdfDate(st.Date)),
	})
	file, rev, err := w.Finish(root, info)
	if err != nil {
		return nil, err
	}
	d.file, d.rev = file, rev
	return d, nil
}

// Statement page layout (points, A4 portrait).
var sealRect = [4]float64{300, 600, 560, 690}

const (
	sealText1   = "Ký bởi: "
	sealText2   = "Thời gian ký: "
	sealTopText = "ỦY BAN NHÂN DÂN"
)

func (d *document) statement(c *content, st Statement, url string) error {
	lines := st.Lines()
	r, b := d.regular, d.bold
	const left, cx = 72.0, 430.0
	c.op("0 0 0 rg")
	c.text(fnRegular, r, 13, left, 780, lines[0])
	c.text(fnRegular, r, 13, left, 761, lines[1])
	c.centred(fnRegular, r, 13, cx, 735, lines[2])
	c.centred(fnBold, b, 12.5, cx, 716, lines[3])
	y := 700.0
	for _, l := range wrap(b, lines[4], 12.5, 250) {
		c.centred(fnBold, b, 12.5, cx, y, l)
		y -= 15
	}
	c.centred(fnRegular, r, 11, cx, y, lines[5])
	c.centred(fnBold, b, 13, cx, 580, lines[6])

	// QR code of the verification link, with its caption.
	const qx, qy, qs = 72.0, 590.0, 104.0
	if err := c.qr(url, qx, qy, qs); err != nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "the verification URL cannot be put in a QR code: %v", err)
	}
	c.text(fnRegular, r, 8, qx, qy-12, "Quét mã để kiểm tra bản sao:")
	for i, l := range splitURL(r, url, 8, 200) {
		c.text(fnRegular, r, 7, qx, qy-22-float64(i)*9, l)
	}
	return nil
}

// splitURL breaks a URL into pieces no wider than width (URLs have no spaces to wrap at).
func splitURL(e *embedding, url string, size, width float64) []string {
	var out []string
	cur := ""
	for _, ch := range url {
		if cur != "" && e.width(cur+string(ch), size) > width {
			out = append(out, cur)
			cur = ""
		}
		cur += string(ch)
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}

// footer draws the footer centred at the bottom of a page of the given width; on scans it
// sits on a white band so it stays legible over the image.
func (d *document) footer(c *content, text string, width float64, band bool) {
	const size = 8
	tw := d.regular.width(text, size)
	x := (width - tw) / 2
	if band {
		c.op("q 1 1 1 rg")
		c.nums("re", x-6, 8, tw+12, 14)
		c.op("f Q")
	}
	c.op("0 0 0 rg")
	c.text(fnRegular, d.regular, size, x, 12, text)
}

func isoTime(t time.Time) string { return t.In(chungthuc.Vietnam).Format("2006-01-02T15:04:05-07:00") }
