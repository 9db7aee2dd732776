package signer

import (
	"bytes"
	"context"
	"crypto/x509"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/cms"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// Two-step (external) signing: the key is not here. See EXTERNAL.md for the design.
//
//	p, _ := s.PrepareCopy(ctx, req)          // stamp, officer's signature dictionary → p.Digest
//	sig := officerDevice.Sign(p.Digest)       // outside this process
//	signed, _, _ := s.Complete(ctx, p, sig, officerChain)
//	q, _ := s.PrepareSeal(ctx, signed, sealChain, time.Now())
//	sig = sealDevice.Sign(q.Digest)
//	_, copy, _ := s.Complete(ctx, q, sig, sealChain)  // + time-stamps, DSS as the level asks
//
// MakeCopy is the same mechanism with the keys held here (pendingSig.sign).

// Step names the signature a Pending waits for.
type Step string

// Steps of a certified copy: the officer's certification signature, then the unit's seal.
const (
	StepOfficer Step = "officer"
	StepSeal    Step = "seal"
)

// AlgorithmSHA256 is the digest algorithm of every signature this package prepares. The
// signature over Pending.Digest is RSASSA-PKCS1-v1_5 with the SHA-256 DigestInfo for an
// RSA key (sha256WithRSAEncryption) and ECDSA (DER Ecdsa-Sig-Value, or raw r||s) for an EC
// key (ecdsa-with-SHA256).
const AlgorithmSHA256 = "SHA-256"

// Pending is a copy waiting for one external signature. It holds no secret and is plain
// data (it round-trips through encoding/json), so the caller can store it — in the
// register, next to the entry's state "awaiting officer signature" / "awaiting seal" —
// and complete it in another request or process. Only Digest (or SignedAttrs, for devices
// that sign data) and Algorithm go to the signer; the rest stays with the service, which
// must keep it where only it can write: Complete trusts PDF and the offsets as prepared.
type Pending struct {
	Step Step
	// PDF is the prepared file: the new revision with its signature dictionary, /ByteRange
	// filled in, /Contents still zeros.
	PDF             []byte
	ByteRangeOffset int64 // of the /ByteRange array
	ContentsOffset  int64 // of the '<' of /Contents
	ContentsLength  int   // hex digits between '<' and '>'
	// ContentDigest is the SHA-256 over the ByteRange (the whole file but /Contents).
	ContentDigest []byte
	// SignedAttrs are the DER CMS signed attributes (content-type, message-digest =
	// ContentDigest, signing-certificate-v2 of Certificate); Digest is their SHA-256 —
	// what the signer's key signs.
	SignedAttrs []byte
	Digest      []byte
	Algorithm   string // AlgorithmSHA256
	// Certificate is the DER of the certificate expected to sign (the officer's or the
	// seal's registered one); Chain its registered chain, leaf first (DER).
	Certificate []byte
	Chain       [][]byte
	// PrefixState and PrefixLength are the SHA-256 state after the file's first
	// PrefixLength bytes (no later step changes them), so the copy's hash and the next
	// signature do not hash the scans again.
	PrefixState  []byte
	PrefixLength int64
	Copy         CopyState
}

// CopyState is what the steps after the officer's signature need to know about the copy.
type CopyState struct {
	Number        int64
	BookCode      string
	UnitName      string // NFC
	UnitBody      string // NFC, validated: the body named by the drawn seal
	Province      string // NFC, validated; "" = none
	Place         string // NFC
	SealImage     []byte // PNG; nil = the drawn seal
	SealSizeMM    float64
	SealDemo      bool
	ScanScale     float64 // the smallest scale a scan was placed at (chungthuc.Copy.ScanScale)
	SealField     pdfdoc.Ref
	FontRegular   pdfdoc.Ref
	FontBold      pdfdoc.Ref
	Pages         int
	OriginalPages int
	Dropped       []string
}

// Signed is a copy whose officer's signature is complete (with its signature time-stamp
// at PAdES B-T and above), waiting for PrepareSeal. Plain data like Pending.
type Signed struct {
	PDF          []byte
	PrefixState  []byte
	PrefixLength int64
	Copy         CopyState
}

// PrepareCopy is MakeCopy up to the officer's signature, for an officer whose key is
// elsewhere: intake, Allocate, the stamp, and the officer's certification signature
// dictionary with its /ByteRange and reserved /Contents. in.Officer.Chain must hold the
// officer's registered certificate (leaf first); in.Officer.Signer and in.Seal are not
// used. The certificate is checked (validity now, Options.CheckCertificate) before a
// number is allocated.
//
// Errors: those of MakeCopy; EFORBIDDEN for an expired, not yet valid or revoked
// certificate; EINVALID for a certificate whose key cannot sign copies.
func (s *Signer) PrepareCopy(ctx context.Context, in chungthuc.CopyRequest) (*Pending, error) {
	if in.Officer == nil || len(in.Officer.Chain) == 0 || in.Officer.Chain[0] == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the officer's registered certificate is missing")
	}
	chain := in.Officer.Chain
	if err := s.checkSignerCert(ctx, chain, "the officer"); err != nil {
		return nil, err
	}
	if _, _, err := cms.PrepareSignedAttributes(make([]byte, 32), cms.SignOptions{Chain: chain}); err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the officer's certificate cannot sign copies: %v", err)
	}
	d, req, res, err := s.start(ctx, in, false)
	if err != nil {
		return nil, err
	}
	ps, err := d.prepareOfficer(req, chain)
	if err != nil {
		return nil, err
	}
	st := CopyState{
		Number: req.Statement.Number, BookCode: req.Statement.BookCode,
		UnitName: req.UnitName, UnitBody: req.body, Province: req.province, Place: req.Statement.Place,
		SealImage: bytes.Clone(req.SealImage), SealSizeMM: req.sealMM, SealDemo: req.SealDemo, ScanScale: res.ScanScale,
		SealField: d.sealField, FontRegular: d.fontR, FontBold: d.fontB,
		Pages: res.Pages, OriginalPages: res.OriginalPages, Dropped: res.Dropped,
	}
	return pending(StepOfficer, d, ps, chain, st)
}

// PrepareSeal prepares the unit's seal signature on an officer-signed copy: the seal's
// visible signature (appearance with the signing time at) and its dictionary, sized for
// seal[0], the unit's registered seal certificate (leaf first). The certificate is checked
// like the officer's.
//
// The file is not copied (a copy of the scans costs more than the rest of the step): the
// seal's revision is written into sd.PDF's spare capacity and the returned Pending's PDF
// shares its memory, so sd is spent: PrepareSeal sets sd.PDF to nil. To prepare the seal
// again, start from another copy of sd (a stored one). A refusal leaves sd as it was.
//
// Errors: EINVALID when sd is not a copy prepared here or seal is missing; EFORBIDDEN as
// in PrepareCopy.
func (s *Signer) PrepareSeal(ctx context.Context, sd *Signed, seal []*x509.Certificate, at time.Time) (*Pending, error) {
	if sd == nil || len(sd.PDF) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no officer-signed copy to seal")
	}
	if len(seal) == 0 || seal[0] == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the unit's registered seal certificate is missing")
	}
	if err := s.checkSignerCert(ctx, seal, "the unit's seal"); err != nil {
		return nil, err
	}
	st := sd.Copy
	d, err := s.reopen(sd.PDF, st, sd.PrefixState, sd.PrefixLength, at)
	if err != nil {
		return nil, err
	}
	req := request{CopyRequest: chungthuc.CopyRequest{UnitName: st.UnitName, Place: st.Place, SealImage: st.SealImage, SealDemo: st.SealDemo},
		body: st.UnitBody, province: st.Province, sealMM: st.SealSizeMM}
	req.Statement.Place = st.Place
	if len(st.SealImage) > 0 {
		if req.seal, err = pngImage("the unit's seal image", st.SealImage); err != nil {
			return nil, err
		}
	}
	ps, err := d.prepareSeal(req, seal, at)
	if err != nil {
		return nil, err
	}
	q, err := pending(StepSeal, d, ps, seal, st)
	if err != nil {
		return nil, err
	}
	sd.PDF = nil
	return q, nil
}

// pending fills the ByteRange of ps in d.file and returns the state waiting for the
// signature of chain[0].
func pending(step Step, d *document, ps pendingSig, chain []*x509.Certificate, st CopyState) (*Pending, error) {
	ts, err := ps.prepare(d.file, &d.prefix, chain)
	if err != nil {
		return nil, err
	}
	p := &Pending{
		Step: step, PDF: d.file,
		ByteRangeOffset: ps.brOff, ContentsOffset: ps.contentsOff, ContentsLength: ps.contentsLen,
		ContentDigest: ts.contentDigest, SignedAttrs: ts.attrs, Digest: ts.digest, Algorithm: AlgorithmSHA256,
		Certificate: bytes.Clone(chain[0].Raw),
		PrefixState: d.prefix.state, PrefixLength: d.prefix.n,
		Copy: st,
	}
	for _, c := range chain {
		p.Chain = append(p.Chain, bytes.Clone(c.Raw))
	}
	return p, nil
}

// reopen rebuilds the part of a document the seal step needs from an officer-signed file.
func (s *Signer) reopen(file []byte, st CopyState, prefix []byte, n int64, at time.Time) (*document, error) {
	bad := func(what string) error {
		return chungthuc.Errorf(chungthuc.EINVALID, "not an officer-signed copy prepared here: %s", what)
	}
	r, err := pdfdoc.Read(file)
	if err != nil {
		return nil, bad(err.Error())
	}
	widget, err := r.Dict(st.SealField)
	if err != nil {
		return nil, bad("no seal field")
	}
	if ft, _ := widget["FT"].(pdfdoc.Name); ft != "Sig" || widget["V"] != nil {
		return nil, bad("the seal field is not an empty signature field")
	}
	// The fonts in the file hold every glyph of the seal's texts (assemble put them in);
	// glyph ids are the face's own, so an embedding of the same face draws them.
	top, bottom := sealArcs(st.UnitBody, st.Province)
	texts := []string{top, bottom, demoMark}
	rect, ok := rectOf(widget["Rect"])
	if !ok {
		return nil, bad("the seal field has no rectangle")
	}
	reg, err := s.regular.embeddingFor(texts...)
	if err != nil {
		return nil, err
	}
	bold, err := s.bold.embeddingFor(texts...)
	if err != nil {
		return nil, err
	}
	d := &document{
		file: file, rev: r.Rev, sealField: st.SealField, sealWidget: widget, sealRect: rect,
		fontR: st.FontRegular, fontB: st.FontBold, regular: reg, bold: bold,
		prefix: prefixHash{state: prefix, n: n},
	}
	if s.level != chungthuc.PAdESB {
		d.ts = s.ts
	}
	return d, nil
}

// Complete embeds the signature value sig, made outside this process over p.Digest by the
// key of chain[0], into a copy of p.PDF. Before anything is produced it checks that
// chain[0] is p.Certificate (the registered certificate; a nil chain means the registered
// chain), that it is valid now and passes Options.CheckCertificate, that p is consistent,
// and that sig verifies over p.Digest with that certificate's key. Then it adds the
// signature time-stamp (PAdES B-T and above).
//
// A refused signature changes nothing: every check is made before anything is written,
// so the right signature can still complete p. An accepted one is written into p.PDF's
// placeholder without copying the file: the result takes over p.PDF's memory and p.PDF is
// set to nil (p is spent; complete a stored copy of it to sign again).
//
// For StepOfficer it returns the officer-signed copy, for PrepareSeal. For StepSeal it
// also adds what the level asks after the last signature (DSS at B-LT, a document
// time-stamp at B-LTA) and returns the finished copy.
//
// Errors: EINVALID when sig does not verify (another key, another digest, not a
// signature) or p is damaged; EFORBIDDEN when chain[0] is not the registered certificate,
// is expired or not yet valid, or CheckCertificate refuses it (revoked); EUNAVAILABLE
// when the TSA or the revocation source fails.
func (s *Signer) Complete(ctx context.Context, p *Pending, sig []byte, chain []*x509.Certificate) (*Signed, *chungthuc.Copy, error) {
	if p == nil || (p.Step != StepOfficer && p.Step != StepSeal) || p.Algorithm != AlgorithmSHA256 {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "not a signature prepared here")
	}
	if len(p.PDF) == 0 {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "the prepared signature was already completed")
	}
	who := "the officer"
	if p.Step == StepSeal {
		who = "the unit's seal"
	}
	if len(chain) == 0 {
		for _, der := range p.Chain {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "the prepared signature's chain cannot be read: %v", err)
			}
			chain = append(chain, c)
		}
	}
	if len(chain) == 0 || chain[0] == nil || !bytes.Equal(chain[0].Raw, p.Certificate) {
		return nil, nil, chungthuc.Errorf(chungthuc.EFORBIDDEN, "the signing certificate is not the registered certificate of %s", who)
	}
	if err := s.checkSignerCert(ctx, chain, who); err != nil {
		return nil, nil, err
	}
	attrs, digest, err := cms.PrepareSignedAttributes(p.ContentDigest, cms.SignOptions{Chain: chain})
	if err != nil || !bytes.Equal(attrs, p.SignedAttrs) || !bytes.Equal(digest, p.Digest) {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "the prepared signature is damaged")
	}
	file := p.PDF
	ps := pendingSig{brOff: p.ByteRangeOffset, contentsOff: p.ContentsOffset, contentsLen: p.ContentsLength}
	if ps.contentsOff < 0 || ps.contentsLen <= 0 || ps.contentsOff+int64(ps.contentsLen)+2 > int64(len(file)) ||
		file[ps.contentsOff] != '<' || file[ps.contentsOff+int64(ps.contentsLen)+1] != '>' {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "the prepared signature is damaged")
	}
	var tsa chungthuc.Timestamper
	if s.level != chungthuc.PAdESB {
		tsa = s.ts
	}
	if err := ps.embed(ctx, file, &toSign{contentDigest: p.ContentDigest, attrs: attrs, digest: digest}, sig, chain, tsa); err != nil {
		return nil, nil, err
	}
	if p.Step == StepOfficer {
		p.PDF = nil
		return &Signed{PDF: file, PrefixState: p.PrefixState, PrefixLength: p.PrefixLength, Copy: p.Copy}, nil, nil
	}
	d := &document{file: file, prefix: prefixHash{state: p.PrefixState, n: p.PrefixLength}}
	res, err := s.finish(ctx, d, &chungthuc.Copy{Pages: p.Copy.Pages, OriginalPages: p.Copy.OriginalPages, Dropped: p.Copy.Dropped, ScanScale: p.Copy.ScanScale})
	if err != nil {
		return nil, nil, err // p stays usable: a retry writes the same placeholder again
	}
	p.PDF = nil
	return nil, res, nil
}

// checkSignerCert refuses a certificate that is not valid now or that CheckCertificate
// refuses.
func (s *Signer) checkSignerCert(ctx context.Context, chain []*x509.Certificate, who string) error {
	now := s.now()
	c := chain[0]
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return chungthuc.Errorf(chungthuc.EFORBIDDEN, "the certificate of %s (%s) is valid only from %s to %s",
			who, c.Subject.CommonName, c.NotBefore.In(chungthuc.Vietnam).Format("2006-01-02 15:04"), c.NotAfter.In(chungthuc.Vietnam).Format("2006-01-02 15:04"))
	}
	if s.checkCert != nil {
		if err := s.checkCert(ctx, chain); err != nil {
			return err
		}
	}
	return nil
}

// rectOf reads a PDF rectangle [x0 y0 x1 y1] of numbers.
func rectOf(v any) ([4]float64, bool) {
	var r [4]float64
	a, ok := v.(pdfdoc.Array)
	if !ok || len(a) != 4 {
		return r, false
	}
	for i, x := range a {
		switch n := x.(type) {
		case pdfdoc.Int:
			r[i] = float64(n)
		case pdfdoc.Real:
			r[i] = float64(n)
		default:
			return r, false
		}
	}
	return r, r[2] > r[0] && r[3] > r[1]
}
