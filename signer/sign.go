package signer

import (
	"context"
	"crypto/x509"
	"time"

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

// sealAppearance writes the appearance stream of the seal's signature widget (Decree
// 30/2020 Appendix I): the registered seal image in red at its true size (the widget's
// rectangle, laid out over the left third of the officer's signature), or the drawn
// demonstration seal; a demonstration seal is marked "MẪU – DEMO". The agency's name and the
// signing time are printed under the officer's name (layoutStatement).
func (d *document) sealAppearance(w *pdfdoc.Writer, req request, _ time.Time) (pdfdoc.Ref, error) {
	D := d.sealRect[2] - d.sealRect[0]
	xobjects := pdfdoc.Dict{}
	c := &content{}
	if req.seal != nil {
		form, err := imageForm(w, *req.seal)
		if err != nil {
			return pdfdoc.Ref{}, err
		}
		xobjects["CSeal"] = form
		// The seal image's width is the seal's true size.
		b := req.seal.ImageBox
		s := D / (b[2] - b[0])
		c.op("q")
		c.nums("cm", s, 0, 0, s, -b[0]*s, (D-(b[3]-b[1])*s)/2-b[1]*s)
		c.op("/CSeal Do Q")
	} else {
		top, bottom := sealArcs(req.body, req.province)
		d.drawSeal(c, D/2, D/2, D/2, top, bottom)
	}
	if req.SealDemo || req.seal == nil {
		d.demoMark(c, D)
	}
	res := pdfdoc.Dict{"Font": pdfdoc.Dict{fnRegular: d.fontR, fnBold: d.fontB}}
	if len(xobjects) > 0 {
		res["XObject"] = xobjects
	}
	return w.Add(pdfdoc.FlateStream(pdfdoc.Dict{
		"Type": pdfdoc.Name("XObject"), "Subtype": pdfdoc.Name("Form"), "Resources": res,
		"BBox": pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Real(D), pdfdoc.Real(D)},
	}, c.b)), nil
}

// demoMark writes "MẪU – DEMO" across the middle of a seal of diameter D, on a white band,
// so that nobody takes a demonstration seal for a registered one.
func (d *document) demoMark(c *content, D float64) {
	size := 11.0
	for size > 5 && d.bold.width(demoMark, size) > D*0.8 {
		size -= 0.5
	}
	tw := d.bold.width(demoMark, size)
	c.op("q 1 1 1 rg")
	c.nums("re", (D-tw)/2-2, D/2-size*0.45, tw+4, size*1.2)
	c.op("f 0.85 0.1 0.12 rg")
	c.text(fnBold, d.bold, size, (D-tw)/2, D/2-size*0.2, demoMark)
	c.op("Q")
}

// drawSeal draws a red round seal: two rings, top along the top, bottom along the bottom and
// a star in the middle (sealArcs chooses the texts so that none is repeated).
func (d *document) drawSeal(c *content, cx, cy, r float64, top, bottom string) {
	c.op("q 0.85 0.1 0.12 RG 0.85 0.1 0.12 rg")
	c.nums("w", 2)
	c.circle(cx, cy, r-1).op("S")
	c.nums("w", 0.8)
	c.circle(cx, cy, r-5).op("S")
	c.circle(cx, cy, r*0.42).op("S")
	c.star(cx, cy, r*0.3)
	fit := func(s string, maxW float64) float64 {
		size := 7.5
		for size > 4 && d.bold.width(s, size) > maxW {
			size -= 0.25
		}
		return size
	}
	// The top text spans at most about 190° of its circle, the bottom one about 150°.
	c.arcText(fnBold, d.bold, fit(top, 3.3*(r-12)), cx, cy, r-12, top, true)
	if bottom != "" {
		c.arcText(fnBold, d.bold, fit(bottom, 2.6*(r-7.5)), cx, cy, r-7.5, bottom, false)
	}
	c.op("Q")
}
