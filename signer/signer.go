package signer

import (
	"bytes"
	"context"
	"crypto/x509"
	"strings"
	"time"

	"github.com/go-fonts/liberation/liberationserifbold"
	"github.com/go-fonts/liberation/liberationserifregular"

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
	// ScanQualityGate turns on the scan quality gate (checkResolution: refuse below
	// RefuseBelowDPI, warn below WarnBelowDPI). Off by default only because the fixtures of
	// api/, certify/, cmd/ and verify/ are 72–100 dpi scans; serve should turn it on once
	// they are 200 dpi (issue #11).
	ScanQualityGate bool
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
	gate          bool
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
		checkCert: opt.CheckCertificate, now: opt.Now, gate: opt.ScanQualityGate}, nil
}

var _ chungthuc.CopyMaker = (*Signer)(nil)

// request is one copy being made: the caller's request and its allocation.
type request struct {
	chungthuc.CopyRequest
	Statement Statement
	VerifyURL string
	body      string       // the agency's full name (UnitBody, else UnitName), validated
	province  string       // validated; "" = none
	sealMM    float64      // the seal's true size
	seal      *intake.Page // the registered seal image; nil = the drawn demonstration seal
	signature *intake.Page // the officer's signature image; nil = none
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
	d, req, res, err := s.start(ctx, in, false)
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
// With preview, the number is left out (Statement.Preview) and PreviewMark is printed on
// every page.
func (s *Signer) start(ctx context.Context, in chungthuc.CopyRequest, preview bool) (*document, request, *chungthuc.Copy, error) {
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
	// Everything printed, the seal and signature images and the scan quality are checked
	// before a number is allocated; the number, book and date after.
	if err := s.prepare(&req, pages); err != nil {
		return nil, req, nil, err
	}
	req.Statement.Preview = preview
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
	res := &chungthuc.Copy{Pages: len(pages) + 1, OriginalPages: len(pages), ScanScale: d.scanScale}
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
	layout        statementLayout
	scanScale     float64 // the smallest scale a scan page was drawn at
	fontR, fontB  pdfdoc.Ref
	regular, bold *embedding
	prefix        prefixHash            // hash state shared by the two signatures
	ts            chungthuc.Timestamper // nil below PAdES B-T
}

func (s *Signer) assemble(req request, pages []intake.Page, sealTime time.Time) (*document, error) {
	st := req.Statement
	info := sealInfo(req.body, req.province, isoTime(sealTime))
	top, bottom := sealArcs(req.body, req.province)
	texts := append([]string{req.UnitName, st.Footer(len(pages)+1, len(pages)+1), req.VerifyURL,
		top, bottom, demoMark, qrCaption, PreviewMark}, st.Lines()...)
	texts = append(texts, info...)
	reg, err := s.regular.embeddingFor(texts...)
	if err != nil {
		return nil, err
	}
	bold, err := s.bold.embeddingFor(texts...)
	if err != nil {
		return nil, err
	}
	size := len(req.SignatureImage) + len(req.SealImage)
	for _, f := range req.Scans {
		size += len(f.Data)
	}
	w := pdfdoc.New("1.7", size+size/16+256<<10)
	d := &document{regular: reg, bold: bold, scanScale: 1}
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
		// The scan goes inside the safe area, clipped to its own page, so that the footer
		// never covers any of it.
		scale, tx, ty := scanPlacement(p.Width, p.Height)
		d.scanScale = min(d.scanScale, scale)
		c := &content{b: make([]byte, 0, len(body)+256)}
		c.op("q")
		c.nums("cm", scale, 0, 0, scale, tx, ty)
		c.nums("re", 0, 0, p.Width, p.Height).op("W n")
		c.b = append(c.b, body...)
		c.op("Q")
		d.footer(c, st.Footer(i+1, total), p.Width)
		if st.Preview {
			d.previewMark(c, p.Width, p.Height)
		}
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
	d.layout = d.layoutStatement(st, req.VerifyURL, info, req.sealMM)
	c := &content{}
	pageRes := pdfdoc.Dict{"Font": fonts}
	if req.signature != nil {
		form, err := imageForm(w, *req.signature)
		if err != nil {
			return nil, err
		}
		pageRes["XObject"] = pdfdoc.Dict{"CSig": form}
	}
	if err := d.statement(c, req.VerifyURL, req.signature); err != nil {
		return nil, err
	}
	d.footer(c, st.Footer(total, total), a4W)
	if st.Preview {
		d.previewMark(c, a4W, a4H)
	}
	d.officerField, d.sealField = w.Alloc(), w.Alloc()
	d.officerWidget = pdfdoc.Dict{
		"Type": pdfdoc.Name("Annot"), "Subtype": pdfdoc.Name("Widget"), "FT": pdfdoc.Name("Sig"),
		"T": pdfdoc.Text("Người thực hiện chứng thực"), "F": pdfdoc.Int(132), "P": last,
		"Rect": pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Int(0)},
	}
	sr := d.layout.seal
	d.sealRect = [4]float64{sr.X0, sr.Y0, sr.X1, sr.Y1}
	d.sealWidget = pdfdoc.Dict{
		"Type": pdfdoc.Name("Annot"), "Subtype": pdfdoc.Name("Widget"), "FT": pdfdoc.Name("Sig"),
		"T": pdfdoc.Text("Chữ ký số của cơ quan"), "F": pdfdoc.Int(4), "P": last,
		"Rect": pdfdoc.Array{pdfdoc.Real(sr.X0), pdfdoc.Real(sr.Y0), pdfdoc.Real(sr.X1), pdfdoc.Real(sr.Y1)},
	}
	w.Put(d.officerField, d.officerWidget)
	w.Put(d.sealField, d.sealWidget)
	w.Put(last, pdfdoc.Dict{
		"Type": pdfdoc.Name("Page"), "Parent": pagesRef,
		"MediaBox":  pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Real(a4W), pdfdoc.Real(a4H)},
		"Resources": pageRes,
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
		title += ": " + req.DocTitle
	}
	info2 := w.Add(pdfdoc.Dict{
		"Title":        pdfdoc.Text(title),
		"Subject":      pdfdoc.Text(st.Lines()[1]),
		"Author":       pdfdoc.Text(req.body),
		"Producer":     pdfdoc.String("chungthuc"),
		"CreationDate": pdfdoc.String(pdfDate(st.Date)),
		// The smallest scale at which a scan page was drawn to keep it clear of the footer.
		"ScanScale": pdfdoc.Real(d.scanScale),
	})
	file, rev, err := w.Finish(root, info2)
	if err != nil {
		return nil, err
	}
	d.file, d.rev = file, rev
	return d, nil
}

const (
	sealTopText = "ỦY BAN NHÂN DÂN"
	demoMark    = "MẪU – DEMO"
)

// statement draws the statement page as laid out in d.layout.
func (d *document) statement(c *content, url string, signature *intake.Page) error {
	L := d.layout
	for _, l := range L.lines {
		e := d.regular
		if l.fn == fnBold {
			e = d.bold
		}
		if l.red {
			c.op("0.75 0.05 0.1 rg")
		} else {
			c.op("0 0 0 rg")
		}
		c.text(l.fn, e, l.size, l.x, l.y, l.s)
	}
	if signature != nil {
		// The signature image fitted into its box, keeping its proportions.
		b, ib := L.sig, signature.ImageBox
		s := min((b.X1-b.X0)/(ib[2]-ib[0]), (b.Y1-b.Y0)/(ib[3]-ib[1]))
		iw, ih := (ib[2]-ib[0])*s, (ib[3]-ib[1])*s
		c.op("q")
		c.nums("cm", s, 0, 0, s, (b.X0+b.X1-iw)/2-ib[0]*s, (b.Y0+b.Y1-ih)/2-ib[1]*s)
		c.op("/CSig Do Q")
	}
	if err := c.qr(url, L.qr.X0, L.qr.Y0, L.qr.X1-L.qr.X0); err != nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "the verification URL cannot be put in a QR code: %v", err)
	}
	return nil
}

// imageForm wraps an image page in a Form XObject (so that its resource names cannot clash
// with the page's), clipped to the image itself when it is an image page.
func imageForm(w *pdfdoc.Writer, p intake.Page) (pdfdoc.Ref, error) {
	res, body, err := p.Emit(w)
	if err != nil {
		return pdfdoc.Ref{}, err
	}
	bbox := pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Real(p.Width), pdfdoc.Real(p.Height)}
	if b := p.ImageBox; b[2] > b[0] && b[3] > b[1] {
		bbox = pdfdoc.Array{pdfdoc.Real(b[0]), pdfdoc.Real(b[1]), pdfdoc.Real(b[2]), pdfdoc.Real(b[3])}
	}
	return w.Add(pdfdoc.FlateStream(pdfdoc.Dict{
		"Type": pdfdoc.Name("XObject"), "Subtype": pdfdoc.Name("Form"), "Resources": res,
		"BBox": bbox,
	}, body)), nil
}

// prepare checks and normalises everything printed under the signatures (defence in depth:
// certify validates too), decodes the headers of the seal and signature images within a
// pixel budget, and applies the scan quality gate — all before a number is allocated.
func (s *Signer) prepare(req *request, pages []intake.Page) error {
	in := req.CopyRequest
	var err error
	if req.UnitName, err = chungthuc.ValidatePrintedText("the unit's name", in.UnitName, maxPrinted); err != nil {
		return err
	}
	req.body = req.UnitName
	if in.UnitBody != "" {
		if req.body, err = chungthuc.ValidatePrintedText("the unit's body name", in.UnitBody, maxPrinted); err != nil {
			return err
		}
	}
	if in.Province != "" {
		if req.province, err = chungthuc.ValidatePrintedText("the province", in.Province, maxPrinted); err != nil {
			return err
		}
	}
	if in.DocTitle != "" {
		if req.DocTitle, err = chungthuc.ValidatePrintedText("the document's name", in.DocTitle, maxPrinted); err != nil {
			return err
		}
	}
	st := Statement{Place: in.Place, Title: in.OfficerTitle, TitleLines: in.TitleLines, Name: in.OfficerName, Signed: len(in.SignatureImage) > 0}
	if err := st.validateSigner(); err != nil {
		return err
	}
	st.Place, _ = chungthuc.ValidatePrintedText("", st.Place, 0)
	st.Name, _ = chungthuc.ValidatePrintedText("", st.Name, 0)
	if len(st.TitleLines) > 0 {
		st.TitleLines = make([]string, len(in.TitleLines))
		for i, l := range in.TitleLines {
			st.TitleLines[i], _ = chungthuc.ValidatePrintedText("", l, 0)
		}
	} else {
		st.Title, _ = chungthuc.ValidatePrintedText("", st.Title, 0)
	}
	for _, v := range append([]string{req.UnitName, req.body, req.province, st.Place, st.Title, st.Name}, st.TitleLines...) {
		if l := strings.ToLower(v); strings.Contains(l, "số chứng thực") || strings.Contains(l, "quyển số") {
			return chungthuc.Errorf(chungthuc.EINVALID, "%q: chỉ số và quyển của sổ chứng thực được in trên lời chứng (a printed field must not name a certification number or book)", v)
		}
	}
	req.Statement = st
	if req.sealMM, err = sealMillimetres(in.SealSizeMM); err != nil {
		return err
	}
	if len(in.SealImage) > 0 {
		if req.seal, err = pngImage("the unit's seal image", in.SealImage); err != nil {
			return err
		}
	}
	if len(in.SignatureImage) > 0 {
		if req.signature, err = pngImage("the officer's signature image", in.SignatureImage); err != nil {
			return err
		}
	}
	if !s.gate {
		return nil
	}
	return checkResolution(pages, in.ConfirmLowResolution)
}

// Seal and signature images: PNG only, at most this many pixels and bytes (checked from the
// header before anything is decoded).
const (
	maxMarkPixels = 4_000_000
	maxMarkBytes  = 4 << 20
)

func pngImage(what string, data []byte) (*intake.Page, error) {
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s must be a PNG image (with a transparent background)", what)
	}
	pages, _, err := intake.Pages([]intake.File{{Name: "image.png", Data: data}}, intake.Limits{MaxPixels: maxMarkPixels, MaxTotalBytes: maxMarkBytes, MaxPages: 1})
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s: %s", what, chungthuc.ErrorMessage(err))
	}
	return &pages[0], nil
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

// footer draws the footer centred at the bottom of a page of the given width, below the
// scan's safe area (scanMarginBottom).
func (d *document) footer(c *content, text string, width float64) {
	tw := d.regular.width(text, footerSize)
	c.op("0 0 0 rg")
	c.text(fnRegular, d.regular, footerSize, (width-tw)/2, footerBaseline, text)
}

// PreviewMark is printed in red across the top of every page of a preview.
const PreviewMark = "BẢN XEM TRƯỚC – CHƯA KÝ"

// previewMark draws PreviewMark centred near the top of a page, in red bold over the page
// (no background: the preview must not hide any of the scan).
func (d *document) previewMark(c *content, width, height float64) {
	const size = 16.0
	tw := d.bold.width(PreviewMark, size)
	c.op("q").op("0.8 0 0 rg")
	c.text(fnBold, d.bold, size, (width-tw)/2, height-28, PreviewMark)
	c.op("Q")
}

// Preview assembles the copy exactly as MakeCopy stamps it — the scans as taken in,
// footers, the statement page with the seal and signature images — without a number (the
// statement and footers print "…"), without any signature (no key is used: Officer and
// Seal may be nil) and with PreviewMark on every page. in.Allocate is not called: nothing
// is reserved. bookCode and verifyURL are what the page will show (the open book; a link
// that is not yet valid). The same intake limits bound it as a certification.
func (s *Signer) Preview(ctx context.Context, in chungthuc.CopyRequest, bookCode, verifyURL string, at time.Time) (*chungthuc.Copy, error) {
	in.Allocate = func(context.Context, int) (*chungthuc.Allocation, error) {
		return &chungthuc.Allocation{BookCode: bookCode, CertifiedAt: at, VerifyURL: verifyURL}, nil
	}
	d, _, res, err := s.start(ctx, in, true)
	if err != nil {
		return nil, err
	}
	res.PDF = d.file
	return res, nil
}

func isoTime(t time.Time) string { return t.In(chungthuc.Vietnam).Format("2006-01-02T15:04:05-07:00") }
