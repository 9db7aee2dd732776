package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"slices"
	"strconv"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/cms"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// Long-term validation (PAdES B-LT and B-LTA) works on the finished file read back with
// pdfdoc.Reader, so the same code serves a copy being made and a stored copy being renewed.

// docTSRoom is the room kept for a document time-stamp token (DER bytes).
const docTSRoom = 12000

// AddDocumentTimestamp renews a stored copy for archiving (PAdES B-LTA): it appends the
// validation data of everything signed or time-stamped so far (DSS) and then a new document
// time-stamp over the whole file. The input is not modified; the result is a new file whose
// earlier bytes are the input's. Errors: EINVALID when pdf is not a file this service wrote
// (or lacks signatures), EUNAVAILABLE when the TSA cannot be reached.
func AddDocumentTimestamp(ctx context.Context, pdf []byte, ts chungthuc.Timestamper, rev chungthuc.RevocationSource) ([]byte, error) {
	if ts == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "renewal needs a time-stamping authority")
	}
	file, err := appendDSS(ctx, bytes.Clone(pdf), rev)
	if err != nil {
		return nil, err
	}
	return appendDocTimestamp(ctx, file, ts)
}

// signatureFields returns the signature dictionaries (values of /FT /Sig fields) of the file.
func signatureFields(r *pdfdoc.Reader, cat pdfdoc.Dict) ([]pdfdoc.Dict, error) {
	af, err := resolveDict(r, cat["AcroForm"])
	if err != nil {
		return nil, err
	}
	fields, err := resolveArray(r, af["Fields"])
	if err != nil {
		return nil, err
	}
	var out []pdfdoc.Dict
	for _, f := range fields {
		fd, err := resolveDict(r, f)
		if err != nil {
			return nil, err
		}
		if ft, _ := fd["FT"].(pdfdoc.Name); ft != "Sig" || fd["V"] == nil {
			continue
		}
		v, err := resolveDict(r, fd["V"])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// chainsOf returns the certificate chains (leaf first) of every signature and time-stamp in
// the file: each CMS signer and each TSA that signed an embedded token.
func chainsOf(r *pdfdoc.Reader, cat pdfdoc.Dict) ([][]*x509.Certificate, error) {
	sigs, err := signatureFields(r, cat)
	if err != nil {
		return nil, err
	}
	var chains [][]*x509.Certificate
	add := func(der []byte) error {
		sd, err := cms.Parse(der)
		if err != nil {
			return err
		}
		si, err := sd.Signer()
		if err != nil {
			return err
		}
		leaf, err := si.Certificate(sd)
		if err != nil {
			return err
		}
		chains = append(chains, orderChain(leaf, sd.Certificates))
		if si.TimestampToken != nil {
			tsd, err := cms.Parse(si.TimestampToken)
			if err == nil {
				if tsi, err := tsd.Signer(); err == nil {
					if tleaf, err := tsi.Certificate(tsd); err == nil {
						chains = append(chains, orderChain(tleaf, tsd.Certificates))
					}
				}
			}
		}
		return nil
	}
	for _, v := range sigs {
		c, ok := v["Contents"].(pdfdoc.Hex)
		if !ok {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "a signature has no /Contents")
		}
		if err := add(c); err != nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "a signature cannot be read: %v", err)
		}
	}
	if len(chains) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the file has no signatures")
	}
	return chains, nil
}

// orderChain orders pool into the chain of leaf by issuer (leaf first).
func orderChain(leaf *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	chain := []*x509.Certificate{leaf}
	for cur := leaf; len(chain) < 10; {
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) {
			break
		}
		var next *x509.Certificate
		for _, c := range pool {
			if bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil && !slices.Contains(chain, c) {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		chain = append(chain, next)
		cur = next
	}
	return chain
}

// appendDSS appends an incremental update that adds (or extends) the Document Security Store:
// every certificate of every chain in the file, and the OCSP responses and CRLs rev returns
// for them (PAdES B-LT). file is extended in place when it has room.
func appendDSS(ctx context.Context, file []byte, rev chungthuc.RevocationSource) ([]byte, error) {
	r, err := pdfdoc.Read(file)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "not a copy this service can extend: %v", err)
	}
	cat, err := r.Dict(r.Rev.Root)
	if err != nil {
		return nil, err
	}
	chains, err := chainsOf(r, cat)
	if err != nil {
		return nil, err
	}
	old, err := resolveDict(r, cat["DSS"])
	if err != nil {
		return nil, err
	}
	have := map[[32]byte]bool{}
	lists := map[pdfdoc.Name]pdfdoc.Array{}
	for _, k := range []pdfdoc.Name{"Certs", "OCSPs", "CRLs"} {
		a, err := resolveArray(r, old[k])
		if err != nil {
			return nil, err
		}
		for _, ref := range a {
			if rf, ok := ref.(pdfdoc.Ref); ok {
				if st, err := r.Object(rf); err == nil {
					if s, ok := st.(*pdfdoc.Stream); ok && s.Dict["Filter"] == nil {
						have[sha256.Sum256(s.Data)] = true
					}
				}
			}
		}
		lists[k] = a
	}
	w, err := pdfdoc.UpdateInPlace(file, r.Rev)
	if err != nil {
		return nil, err
	}
	put := func(k pdfdoc.Name, der []byte) {
		h := sha256.Sum256(der)
		if len(der) == 0 || have[h] {
			return
		}
		have[h] = true
		lists[k] = append(lists[k], w.Add(&pdfdoc.Stream{Dict: pdfdoc.Dict{}, Data: der}))
	}
	for _, chain := range chains {
		for _, c := range chain {
			put("Certs", c.Raw)
		}
		if rev == nil {
			continue
		}
		data, err := rev.Revocation(ctx, chain)
		if err != nil {
			return nil, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "revocation data for %s", chain[0].Subject.CommonName)
		}
		if data != nil {
			for _, o := range data.OCSP {
				put("OCSPs", o)
			}
			for _, c := range data.CRLs {
				put("CRLs", c)
			}
		}
	}
	dss := pdfdoc.Dict{"Type": pdfdoc.Name("DSS")}
	for k, a := range lists {
		if len(a) > 0 {
			dss[k] = a
		}
	}
	cat["DSS"] = w.Add(dss)
	w.Put(r.Rev.Root, cat)
	out, _, err := w.Finish(r.Rev.Root, r.Rev.Info)
	return out, err
}

// appendDocTimestamp appends a document time-stamp (SubFilter ETSI.RFC3161) whose ByteRange
// covers the whole file, in an invisible signature field on the first page.
func appendDocTimestamp(ctx context.Context, file []byte, ts chungthuc.Timestamper) ([]byte, error) {
	r, err := pdfdoc.Read(file)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "not a copy this service can extend: %v", err)
	}
	cat, err := r.Dict(r.Rev.Root)
	if err != nil {
		return nil, err
	}
	pagesRef, ok := cat["Pages"].(pdfdoc.Ref)
	if !ok {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the file has no page tree")
	}
	pages, err := r.Dict(pagesRef)
	if err != nil {
		return nil, err
	}
	kids, err := resolveArray(r, pages["Kids"])
	if err != nil || len(kids) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the file has no pages")
	}
	pageRef, ok := kids[0].(pdfdoc.Ref)
	if !ok {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the first page is not an indirect object")
	}
	page, err := r.Dict(pageRef)
	if err != nil {
		return nil, err
	}
	if t, _ := page["Type"].(pdfdoc.Name); t != "Page" {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the page tree is nested; not a copy this service wrote")
	}
	annots, err := resolveArray(r, page["Annots"])
	if err != nil {
		return nil, err
	}
	afRef, afIsRef := cat["AcroForm"].(pdfdoc.Ref)
	af, err := resolveDict(r, cat["AcroForm"])
	if err != nil {
		return nil, err
	}
	fields, err := resolveArray(r, af["Fields"])
	if err != nil {
		return nil, err
	}

	w, err := pdfdoc.UpdateInPlace(file, r.Rev)
	if err != nil {
		return nil, err
	}
	sig := w.Alloc()
	var b bytes.Buffer
	b.WriteString("<</Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161 /ByteRange ")
	brOff := b.Len()
	b.WriteString(byteRangePlaceholder)
	b.WriteString(" /Contents ")
	coOff := b.Len()
	b.WriteByte('<')
	b.Write(bytes.Repeat([]byte{'0'}, 2*docTSRoom))
	b.WriteString(">>>")
	off := w.PutRaw(sig, b.Bytes())
	p := pendingSig{brOff: off + int64(brOff), contentsOff: off + int64(coOff), contentsLen: 2 * docTSRoom}
	field := w.Add(pdfdoc.Dict{
		"Type": pdfdoc.Name("Annot"), "Subtype": pdfdoc.Name("Widget"), "FT": pdfdoc.Name("Sig"),
		"T": pdfdoc.Text("Dấu thời gian " + strconv.Itoa(len(fields)+1)), "F": pdfdoc.Int(132), "P": pageRef,
		"Rect": pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Int(0)}, "V": sig,
	})
	page["Annots"] = append(slices.Clone(annots), field)
	w.Put(pageRef, page)
	af["Fields"] = append(slices.Clone(fields), field)
	if afIsRef {
		w.Put(afRef, af)
	} else {
		cat["AcroForm"] = af
		w.Put(r.Rev.Root, cat)
	}
	out, _, err := w.Finish(r.Rev.Root, r.Rev.Info)
	if err != nil {
		return nil, err
	}
	err = p.fill(out, nil, func(digest []byte) ([]byte, error) {
		token, err := ts.Timestamp(ctx, digest, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		if len(token) > docTSRoom {
			return nil, fmt.Errorf("signer: document time-stamp token of %d bytes exceeds the %d bytes kept for it", len(token), docTSRoom)
		}
		return token, nil
	})
	return out, err
}

// resolveDict returns o as a dictionary, reading it when it is a reference; nil → empty.
func resolveDict(r *pdfdoc.Reader, o pdfdoc.Object) (pdfdoc.Dict, error) {
	switch v := o.(type) {
	case nil:
		return pdfdoc.Dict{}, nil
	case pdfdoc.Dict:
		return v, nil
	case pdfdoc.Ref:
		return r.Dict(v)
	}
	return nil, chungthuc.Errorf(chungthuc.EINVALID, "expected a dictionary, found %T", o)
}

// resolveArray returns o as an array, reading it when it is a reference; nil → empty.
func resolveArray(r *pdfdoc.Reader, o pdfdoc.Object) (pdfdoc.Array, error) {
	switch v := o.(type) {
	case nil:
		return nil, nil
	case pdfdoc.Array:
		return v, nil
	case pdfdoc.Ref:
		x, err := r.Object(v)
		if err != nil {
			return nil, err
		}
		if a, ok := x.(pdfdoc.Array); ok {
			return a, nil
		}
	}
	return nil, chungthuc.Errorf(chungthuc.EINVALID, "expected an array, found %T", o)
}
