package signer

import (
	"context"
	"crypto/x509"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/intake"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// signOfficer appends the officer's certification signature (DocMDP P=2: later changes may
// only fill in forms and sign) as an incremental update, signed with the key held here.
func (d *document) signOfficer(ctx context.Context, req request) error {
	p, err := d.prepareOfficer(req, req.Officer.Chain)
	if err != nil {
		return err
	}
	return p.sign(ctx, d.file, req.Officer, &d.prefix, d.ts)
}

// prepareOfficer appends the officer's signature dictionary, sized for chain[0], and
// leaves d.file with its placeholders unfilled.
func (d *document) prepareOfficer(req request, chain []*x509.Certificate) (pendingSig, error) {
	w, err := pdfdoc.UpdateInPlace(d.file, d.rev)
	if err != nil {
		return pendingSig{}, err
	}
	sig := w.Alloc()
	p := writeSig(w, sig, sigInfo{
		Kind: certification, DocMDP: 2,
		Name:     req.Statement.Name,
		Reason:   req.Statement.Lines()[0] + " " + req.Statement.Lines()[1],
		Location: req.Statement.Place,
		Time:     req.Statement.Date,
	}, chain, d.ts != nil)
	d.officerWidget["V"] = sig
	w.Put(d.officerField, d.officerWidget)
	d.catalog["Perms"] = pdfdoc.Dict{"DocMDP": sig}
	w.Put(d.rev.Root, d.catalog)
	file, rev, err := w.Finish(d.rev.Root, d.rev.Info)
	if err != nil {
		return pendingSig{}, err
	}
	d.file, d.rev = file, rev
	return p, nil
}

// signSeal appends the unit's visible approval signature: the seal image with the unit's
// name and the signing time in ISO 8601 with +07:00, signed with the key held here.
func (d *document) signSeal(ctx context.Context, req request, at time.Time) error {
	p, err := d.prepareSeal(req, req.Seal.Chain, at)
	if err != nil {
		return err
	}
	return p.sign(ctx, d.file, req.Seal, &d.prefix, d.ts)
}

// prepareSeal appends the seal's signature dictionary and appearance, sized for chain[0],
// and leaves d.file with its placeholders unfilled.
func (d *document) prepareSeal(req request, chain []*x509.Certificate, at time.Time) (pendingSig, error) {
	w, err := pdfdoc.UpdateInPlace(d.file, d.rev)
	if err != nil {
		return pendingSig{}, err
	}
	sig := w.Alloc()
	p := writeSig(w, sig, sigInfo{
		Kind: approval, Name: req.UnitName, Reason: "Chữ ký số của cơ quan, tổ chức chứng thực",
		Location: req.Statement.Place, Time: at,
	}, chain, d.ts != nil)
	ap, err := d.sealAppearance(w, req, at)
	if err != nil {
		return pendingSig{}, err
	}
	d.sealWidget["V"] = sig
	d.sealWidget["AP"] = pdfdoc.Dict{"N": ap}
	w.Put(d.sealField, d.sealWidget)
	file, rev, err := w.Finish(d.rev.Root, d.rev.Info)
	if err != nil {
		return pendingSig{}, err
	}
	d.file, d.rev = file, rev
	return p, nil
}

// sealAppearance writes the appearance stream of the seal's signature widget.
func (d *document) sealAppearance(w *pdfdoc.Writer, req request, at time.Time) (pdfdoc.Ref, error) {
	wd, ht := d.sealRect[2]-d.sealRect[0], d.sealRect[3]-d.sealRect[1]
	const seal = 86.0
	xobjects := pdfdoc.Dict{}
	c := &content{}
	sy := (ht - seal) / 2
	if len(req.SealImage) > 0 {
		pages, _, err := intake.Pages([]intake.File{{Name: "seal.png", Data: req.SealImage}}, intake.Limits{MaxPixels: 4_000_000})
		if err != nil {
			return pdfdoc.Ref{}, chungthuc.Errorf(chungthuc.EINVALID, "the unit's seal image: %s", chungthuc.ErrorMessage(err))
		}
		res, body, err := pages[0].Emit(w)
		if err != nil {
			return pdfdoc.Ref{}, err
		}
		form := w.Add(pdfdoc.FlateStream(pdfdoc.Dict{
			"Type": pdfdoc.Name("XObject"), "Subtype": pdfdoc.Name("Form"), "Resources": res,
			"BBox": pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Real(pages[0].Width), pdfdoc.Real(pages[0].Height)},
		}, body))
		xobjects["CSeal"] = form
		c.nums("cm", seal/pages[0].Width, 0, 0, seal/pages[0].Height, 0, sy)
		c.op("q /CSeal Do Q")
		c.nums("cm", pages[0].Width/seal, 0, 0, pages[0].Height/seal, 0, -sy*pages[0].Height/seal)
	} else {
		d.drawSeal(c, seal/2, sy+seal/2, seal/2, req.UnitName)
	}
	// The signature's text: who signed and when, in dark red like the seal's ink.
	c.op("0.6 0 0 rg")
	x := seal + 8
	y := ht - 22.0
	for _, l := range wrap(d.bold, sealText1+req.UnitName, 9, wd-x) {
		c.text(fnBold, d.bold, 9, x, y, l)
		y -= 11
	}
	c.text(fnRegular, d.regular, 8.5, x, y-2, sealText2)
	c.text(fnRegular, d.regular, 8.5, x, y-13, isoTime(at))
	res := pdfdoc.Dict{"Font": pdfdoc.Dict{fnRegular: d.fontR, fnBold: d.fontB}}
	if len(xobjects) > 0 {
		res["XObject"] = xobjects
	}
	return w.Add(pdfdoc.FlateStream(pdfdoc.Dict{
		"Type": pdfdoc.Name("XObject"), "Subtype": pdfdoc.Name("Form"), "Resources": res,
		"BBox": pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Real(wd), pdfdoc.Real(ht)},
	}, c.b)), nil
}

// drawSeal draws the default red round seal of a unit: two rings, "ỦY BAN NHÂN DÂN" along the
// top, the unit's name along the bottom and a star in the middle.
func (d *document) drawSeal(c *content, cx, cy, r float64, unit string) {
	c.op("q 0.85 0.1 0.12 RG 0.85 0.1 0.12 rg")
	c.nums("w", 2)
	c.circle(cx, cy, r-1).op("S")
	c.nums("w", 0.8)
	c.circle(cx, cy, r-5).op("S")
	c.circle(cx, cy, r*0.42).op("S")
	c.star(cx, cy, r*0.3)
	c.arcText(fnBold, d.bold, 7, cx, cy, r-12, sealTopText, true)
	name := strings.ToUpper(unit)
	size := 7.0
	for size > 4.5 && d.bold.width(name, size) > 2.6*(r-7) {
		size -= 0.5
	}
	c.arcText(fnBold, d.bold, size, cx, cy, r-7.5, name, false)
	c.op("Q")
}
