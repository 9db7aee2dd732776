package verify

import (
	"github.com/chungthuc/chungthuc/internal/pdf"
	"math"

	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/chungthuc/chungthuc"
)

// Verify validates every signature of the PDF in r (size bytes) and returns the report.
//
// The error is non-nil only when there is nothing to report on: ETOOLARGE when size exceeds
// opt.MaxSize, EINVALID for a negative size or an unreadable r, EUNSUPPORTED when the bytes
// are not a PDF at all. Everything else — malformed structure, broken or forged signatures,
// modifications, untrusted chains, register mismatches — is in the report, whose Valid is
// then false. Verify never panics on hostile input and bounds its memory and time by the
// limits in opt.
func Verify(ctx context.Context, r io.ReaderAt, size int64, opt Options) (*Report, error) {
	opt.defaults()
	if size < 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "negative size")
	}
	if size > opt.MaxSize {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "the file is %d bytes, more than the limit of %d", size, opt.MaxSize)
	}
	data := make([]byte, size)
	if _, err := r.ReadAt(data, 0); err != nil && !(errors.Is(err, io.EOF) && size == 0) {
		if !errors.Is(err, io.EOF) {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "cannot read the file: %v", err)
		}
	}
	return VerifyBytes(ctx, data, opt)
}

// VerifyBytes is Verify on a file already in memory. data is not modified or retained.
func VerifyBytes(ctx context.Context, data []byte, opt Options) (rep *Report, err error) {
	opt.defaults()
	if int64(len(data)) > opt.MaxSize {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "the file is %d bytes, more than the limit of %d", len(data), opt.MaxSize)
	}
	head := data[:min(len(data), 1024)]
	if !bytes.Contains(head, []byte("%PDF-")) {
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "not a PDF file")
	}
	defer func() {
		// The engine must never crash a server on hostile input; a panic here is a bug, so
		// it is reported as an internal error (and the fuzz tests hunt for it).
		if p := recover(); p != nil {
			rep, err = nil, fmt.Errorf("verify: internal error: %v", p)
		}
	}()
	e := &engine{ctx: ctx, opt: opt, data: data}
	return e.run(), nil
}

// maxSignatures bounds the signatures examined in one file.
const maxSignatures = 100

type engine struct {
	ctx  context.Context
	opt  Options
	data []byte
	f    *pdf.File
	fin  *pdf.Revision
	rep  *Report
	sigs []*sigState
	dss  *dssData
	ends []int64 // offsets just after every %%EOF
}

func (e *engine) check(name, status, format string, args ...any) {
	e.rep.Checks = append(e.rep.Checks, Check{Name: name, Status: status, Detail: fmt.Sprintf(format, args...)})
}

func (e *engine) run() *Report {
	sum := sha256.Sum256(e.data)
	e.rep = &Report{Version: ReportVersion, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(e.data)),
		CheckedAt: e.opt.Now().UTC(), Signatures: []SignatureReport{}}
	e.f = pdf.Open(e.data, pdf.Limits{MaxObjects: e.opt.MaxObjects, MaxStream: e.opt.MaxStreamSize,
		MaxDecoded: e.opt.MaxDecoded, MaxSections: 4096})

	ends := pdf.RevisionEnds(e.data)
	e.ends = ends
	finalEnd := int64(len(e.data))
	if len(ends) > 0 {
		finalEnd = ends[len(ends)-1]
	}
	trailing := e.data[finalEnd:]
	if len(bytes.Trim(trailing, "\x00\t\n\f\r ")) > 0 {
		e.check("trailing_data", CheckFailed, "%d bytes after the last %%%%EOF are not part of any revision", len(trailing))
	} else {
		e.check("trailing_data", CheckPassed, "nothing but white space after the last %%%%EOF")
	}
	fin, err := e.f.Revision(finalEnd)
	if err != nil {
		e.check("structure", CheckFailed, "the final revision cannot be read: %v", err)
		e.finish()
		return e.rep
	}
	e.fin = fin
	for _, end := range ends {
		if end <= finalEnd {
			e.rep.Revisions++
		}
	}
	e.check("structure", CheckPassed, "final revision read: %d objects, %d xref sections", fin.Len(), len(fin.Sections()))
	if fin.Trailer().Has("Encrypt") {
		e.check("encryption", CheckWarning, "the file is encrypted; object comparison works on encrypted bytes")
	}
	e.dss = e.readAllDSS()
	e.findSignatures()
	// Signing order is the order of the bytes signed, not the form's field order (Adobe
	// may sign the second prepared field first): sort on where each /ByteRange ends, as
	// far as it can be read before checkByteRange validates it.
	order := map[*sigState]int64{}
	for _, s := range e.sigs {
		order[s] = signedEnd(s.dict)
	}
	sort.SliceStable(e.sigs, func(i, j int) bool { return order[e.sigs[i]] < order[e.sigs[j]] })
	for i, s := range e.sigs {
		s.rep.Index = i + 1
	}
	for _, s := range e.sigs {
		if err := e.ctx.Err(); err != nil {
			s.fail(Indeterminate, SubTryLater, "cancelled", "%v", err)
			continue
		}
		e.checkSignature(s)
	}
	if e.ctx.Err() == nil {
		e.validateTimes()
	}
	e.checkModifications()
	e.checkDocMDP()
	for _, s := range e.sigs {
		s.summarize()
		e.rep.Signatures = append(e.rep.Signatures, *s.rep)
	}
	e.finish()
	return e.rep
}

// findSignatures collects the signed signature fields of the final revision, then those of
// every earlier revision that the final one no longer shows (removed signatures).
func (e *engine) findSignatures() {
	seen := map[[2]int64]bool{}
	e.collectSignatures(e.fin, seen, false)
	for _, end := range e.ends {
		if end >= e.fin.End() {
			continue
		}
		if r, err := e.f.Revision(end); err == nil {
			e.collectSignatures(r, seen, true)
		}
	}
	if len(e.sigs) == 0 {
		e.check("signatures", CheckFailed, "no signed signature field in the document")
	} else {
		e.check("signatures", CheckPassed, "%d signature(s) found", len(e.sigs))
	}
}

func (e *engine) collectSignatures(view *pdf.Revision, seen map[[2]int64]bool, removed bool) {
	root := view.Root()
	af := view.Dict(root.Get("AcroForm"))
	fields, _ := view.Resolve(af.Get("Fields")).(pdf.Array)
	visited := map[int]bool{}
	var walk func(o pdf.Object, parentName string, parentFT pdf.Name, depth int)
	walk = func(o pdf.Object, parentName string, parentFT pdf.Name, depth int) {
		if depth > 32 || len(e.sigs) >= maxSignatures {
			return
		}
		num := 0
		if r, ok := o.(pdf.Ref); ok {
			if visited[r.Num] {
				return
			}
			visited[r.Num] = true
			num = r.Num
		}
		fd := view.Dict(o)
		if fd == nil {
			return
		}
		name := parentName
		if t, ok := view.Resolve(fd.Get("T")).(pdf.String); ok {
			if name != "" {
				name += "."
			}
			name += decodeText(t.Value)
		}
		ft := parentFT
		if v := pdf.NameOf(view.Resolve(fd.Get("FT"))); v != "" {
			ft = v
		}
		if kids, ok := view.Resolve(fd.Get("Kids")).(pdf.Array); ok {
			for _, k := range kids {
				walk(k, name, ft, depth+1)
			}
		}
		if ft != "Sig" {
			return
		}
		v := fd.Get("V")
		if v == nil {
			return // an empty signature field
		}
		if r, ok := v.(pdf.Ref); ok {
			if val, err := view.Object(r.Num); val == nil && err == nil {
				return // a value that was freed: an empty field (a change the diff reports)
			}
		}
		s := &sigState{rep: &SignatureReport{Field: name, Integrity: "unchecked", Indication: TotalPassed},
			fieldNum: num, view: view, removed: removed}
		if r, ok := v.(pdf.Ref); ok {
			s.container, s.sigNum = r.Num, r.Num
		} else {
			s.container = num
		}
		loc := view.Location(s.container)
		key := [2]int64{int64(s.container), loc.Off<<20 ^ loc.StmOff<<8 ^ int64(loc.Index)}
		if s.container != 0 && seen[key] {
			return
		}
		seen[key] = true
		s.dict = view.Dict(v)
		e.sigs = append(e.sigs, s)
	}
	for _, f := range fields {
		walk(f, "", "", 0)
	}
}

// sigState is the engine's working state for one signature.
type sigState struct {
	rep       *SignatureReport
	fieldNum  int
	container int // object holding the signature dictionary
	sigNum    int // object number of the signature dictionary, 0 when direct
	dict      *pdf.Dict
	br        [4]int64
	end       int64 // end of the signed bytes
	intact    bool  // message digest and signature value verified
	docTS     bool
	mdp       int // DocMDP P of a certification signature, 0 otherwise
	cms       *cmsOutcome
	token     *tsTok // the token of an intact document time-stamp
	// ltvOK: a document time-stamp whose TSA was valid at the time proven for it, so it
	// proves that everything it covers existed at its time.
	ltvOK  bool
	signed *pdf.Revision
	// onlyValidationDataAfter: everything after this signature is allowed DSS data.
	onlyValidationDataAfter bool
	view                    *pdf.Revision // the revision the signature was found in
	removed                 bool          // found in an earlier revision, absent from the final one
}

func severity(ind string) int {
	switch ind {
	case TotalFailed:
		return 2
	case Indeterminate:
		return 1
	}
	return 0
}

// fail records a failed check and lowers the indication to ind (keeping the first
// sub-indication of the worst severity).
func (s *sigState) fail(ind, sub, name, format string, args ...any) {
	status := CheckFailed
	s.rep.Checks = append(s.rep.Checks, Check{Name: name, Status: status, Detail: fmt.Sprintf(format, args...)})
	if severity(ind) > severity(s.rep.Indication) {
		s.rep.Indication, s.rep.SubIndication = ind, sub
	}
}

func (s *sigState) check(name, status, format string, args ...any) {
	s.rep.Checks = append(s.rep.Checks, Check{Name: name, Status: status, Detail: fmt.Sprintf(format, args...)})
}

// checkSignature runs the structural, cryptographic and trust checks of one signature.
func (e *engine) checkSignature(s *sigState) {
	d := s.dict
	if d == nil {
		s.fail(TotalFailed, SubFormatFailure, "dictionary", "the signature value is not a dictionary")
		return
	}
	if d.Dup() {
		s.fail(TotalFailed, SubFormatFailure, "dictionary", "the signature dictionary repeats a key (readers disagree on which one counts)")
	}
	typ := pdf.NameOf(s.view.Resolve(d.Get("Type")))
	sub := string(pdf.NameOf(s.view.Resolve(d.Get("SubFilter"))))
	s.rep.SubFilter = sub
	s.rep.Kind = "approval"
	if typ == "DocTimeStamp" || sub == "ETSI.RFC3161" {
		s.docTS = true
		s.rep.Kind = "document_timestamp"
	}
	if typ != "" && typ != "Sig" && typ != "DocTimeStamp" {
		s.fail(TotalFailed, SubFormatFailure, "dictionary", "/Type is /%s, not /Sig", typ)
	}
	s.rep.Name = textOf(s.view.Resolve(d.Get("Name")))
	s.rep.Reason = textOf(s.view.Resolve(d.Get("Reason")))
	s.rep.Location = textOf(s.view.Resolve(d.Get("Location")))
	if m, ok := s.view.Resolve(d.Get("M")).(pdf.String); ok {
		if t, err := parseDate(string(m.Value)); err == nil {
			s.rep.ClaimedSigningTime = &t
		}
	}
	if p := e.docMDPOf(s.view, d); p > 0 {
		s.mdp = p
		s.rep.Kind = "certification"
		s.rep.DocMDP = &DocMDPInfo{P: p}
	}

	if s.removed {
		s.fail(TotalFailed, SubModifiedAfterSigning, "removed", "a later revision removed this signature from the document")
	}
	if !e.checkByteRange(s) {
		return
	}
	contents := d.Get("Contents").(pdf.String)
	der, err := trimDER(contents.Value)
	if err != nil {
		s.fail(TotalFailed, SubFormatFailure, "contents", "%v", err)
		return
	}
	digest := func(h crypto.Hash) []byte {
		hh := h.New()
		hh.Write(e.data[s.br[0] : s.br[0]+s.br[1]])
		hh.Write(e.data[s.br[2] : s.br[2]+s.br[3]])
		return hh.Sum(nil)
	}
	switch sub {
	case "ETSI.CAdES.detached", "adbe.pkcs7.detached", "adbe.pkcs7.sha1", "ETSI.RFC3161":
	case "":
		s.fail(TotalFailed, SubFormatFailure, "sub_filter", "no /SubFilter")
		return
	default:
		s.fail(TotalFailed, SubFormatFailure, "sub_filter", "unsupported /SubFilter %s", sub)
		return
	}
	if s.docTS {
		e.checkDocTimestamp(s, der, digest)
		return
	}
	s.cms = checkCMS(der, sub, digest)
	e.applyCMS(s)
	// Trust (time-stamps, chain, revocation) is decided by validateTimes once every
	// signature and document time-stamp of the file has been read.
}

// signedEnd returns where the /ByteRange of signature dictionary d says the signed bytes
// end, or the largest int64 when it cannot be read (such a signature fails later anyway).
func signedEnd(d *pdf.Dict) int64 {
	br, ok := d.Get("ByteRange").(pdf.Array)
	if !ok || len(br) != 4 {
		return math.MaxInt64
	}
	c, ok1 := br[2].(pdf.Int)
	l, ok2 := br[3].(pdf.Int)
	if !ok1 || !ok2 || c < 0 || l < 0 {
		return math.MaxInt64
	}
	return int64(c) + int64(l)
}

// checkByteRange checks the /ByteRange and /Contents of a signature against the file.
func (e *engine) checkByteRange(s *sigState) bool {
	d := s.dict
	size := int64(len(e.data))
	br, ok := d.Get("ByteRange").(pdf.Array)
	if !ok {
		s.fail(TotalFailed, SubFormatFailure, "byte_range", "missing or indirect /ByteRange")
		return false
	}
	if len(br) != 4 {
		s.fail(TotalFailed, SubFormatFailure, "byte_range", "/ByteRange has %d numbers, not 4", len(br))
		return false
	}
	for i, v := range br {
		n, ok := v.(pdf.Int)
		if !ok || n < 0 || int64(n) > size {
			s.fail(TotalFailed, SubFormatFailure, "byte_range", "/ByteRange element %d is not an integer inside the file", i)
			return false
		}
		s.br[i] = int64(n)
	}
	a, b, c, l := s.br[0], s.br[1], s.br[2], s.br[3]
	s.rep.ByteRange = s.br[:]
	switch {
	case a != 0:
		s.fail(TotalFailed, SubFormatFailure, "byte_range", "the signed bytes do not start at 0")
		return false
	case b <= 0 || c <= b:
		s.fail(TotalFailed, SubFormatFailure, "byte_range", "the two ranges overlap or are out of order")
		return false
	case c+l > size:
		s.fail(TotalFailed, SubFormatFailure, "byte_range", "the second range runs past the end of the file")
		return false
	}
	s.end = c + l
	s.rep.SignedBytes = b + l
	contents, ok := d.Get("Contents").(pdf.String)
	if !ok {
		s.fail(TotalFailed, SubFormatFailure, "contents", "missing, null or indirect /Contents")
		return false
	}
	if !contents.Hex || contents.Off != b || contents.End != c {
		s.fail(TotalFailed, SubFormatFailure, "byte_range", "the unsigned gap [%d,%d) is not exactly this signature's /Contents (at %d..%d)", b, c, contents.Off, contents.End)
		return false
	}
	gap := e.data[b+1 : c-1]
	for _, ch := range gap {
		if _, ok := pdf.HexDigit(ch); !ok {
			s.fail(TotalFailed, SubFormatFailure, "byte_range", "the unsigned gap holds a non-hexadecimal byte")
			return false
		}
	}
	if len(contents.Value) == 0 || len(bytes.Trim(contents.Value, "\x00")) == 0 {
		s.fail(TotalFailed, SubFormatFailure, "contents", "empty /Contents")
		return false
	}
	// The dictionary itself (with /ByteRange) must lie in the signed bytes and must be the
	// one the signed revision has: a dictionary placed or replaced after signing could
	// claim any range.
	var spanOff, spanEnd int64
	ok = false
	if s.container != 0 {
		spanOff, spanEnd, ok = s.view.Span(s.container)
	}
	if !ok {
		s.fail(TotalFailed, SubFormatFailure, "byte_range", "the signature dictionary is not a plain object in the file")
		return false
	}
	if spanOff >= b || spanEnd > s.end || spanEnd <= c {
		s.fail(TotalFailed, SubFormatFailure, "byte_range", "the signature dictionary (bytes %d..%d) is not inside the bytes it signs", spanOff, spanEnd)
		return false
	}
	if !pdf.EndsRevision(e.data, s.end) {
		s.fail(TotalFailed, SubFormatFailure, "byte_range", "the signed bytes end at %d, which is not the end of a revision", s.end)
		return false
	}
	sr, err := e.f.Revision(s.end)
	if err != nil {
		s.fail(TotalFailed, SubFormatFailure, "signed_revision", "the signed revision cannot be read: %v", err)
		return false
	}
	if sr.Location(s.container) != s.view.Location(s.container) {
		s.fail(TotalFailed, SubFormatFailure, "byte_range", "the signature dictionary was replaced after signing")
		return false
	}
	s.signed = sr
	for _, end := range e.ends {
		if end <= s.end {
			s.rep.Revision++
		}
	}
	s.check("byte_range", CheckPassed, "[%d %d %d %d] covers everything but this signature's /Contents, up to the end of revision %d", a, b, c, l, s.rep.Revision)
	return true
}

// trimDER returns the DER object at the start of b, refusing anything but zero padding
// after it. A BER object of indefinite length (30 80 …) is returned with its padding:
// cms.Parse finds where it ends and checks that only zeros follow.
func trimDER(b []byte) ([]byte, error) {
	if len(b) > 2 && b[0] == 0x30 && b[1] == 0x80 {
		return b, nil
	}
	n, err := derLen(b)
	if err != nil {
		return nil, fmt.Errorf("/Contents is not a DER object: %v", err)
	}
	if len(bytes.Trim(b[n:], "\x00")) != 0 {
		return nil, fmt.Errorf("/Contents has data after the signature object")
	}
	return b[:n], nil
}

// derLen returns the length of the DER TLV at the start of b.
func derLen(b []byte) (int, error) {
	if len(b) < 2 || b[0] != 0x30 {
		return 0, fmt.Errorf("not a SEQUENCE")
	}
	l := int(b[1])
	hdr := 2
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, fmt.Errorf("bad length")
		}
		l = 0
		for _, c := range b[2 : 2+k] {
			l = l<<8 | int(c)
		}
		hdr += k
	}
	if l < 0 || hdr+l > len(b) {
		return 0, fmt.Errorf("truncated")
	}
	return hdr + l, nil
}

// finish computes the overall indication, validity, register status and summaries.
func (e *engine) finish() {
	r := e.rep
	r.Indication = TotalPassed
	if p := primary(r); p != nil {
		r.Indication, r.SubIndication = p.Indication, p.SubIndication
	}
	structureOK := true
	for _, c := range r.Checks {
		if c.Status == CheckFailed && c.Name != "signatures" {
			structureOK = false
		}
	}
	if len(r.Signatures) == 0 {
		if !structureOK {
			r.Indication, r.SubIndication = TotalFailed, SubFormatFailure
		} else {
			r.Indication, r.SubIndication = Indeterminate, SubNoSignature
		}
	} else if !structureOK && r.Indication == TotalPassed {
		r.Indication, r.SubIndication = TotalFailed, SubModifiedAfterSigning
	}
	lastCovers := false
	if n := len(e.sigs); n > 0 {
		last := e.sigs[n-1]
		lastCovers = last.rep.CoversWholeFile || last.onlyValidationDataAfter
	}
	r.Valid = r.Indication == TotalPassed && len(r.Signatures) > 0 && lastCovers
	for _, sg := range r.Signatures {
		if !sg.Trusted || sg.Integrity != "intact" {
			r.Valid = false
		}
	}
	if e.opt.Lookup != nil {
		r.Register = e.lookup()
		if r.Register.Status != "certified" {
			r.Valid = false
		}
	}
	r.SummaryVI, r.SummaryEN = summarize(r)
}

// decodeText decodes a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, or
// PDFDocEncoding, approximated by Latin-1).
func decodeText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xfe && b[1] == 0xff {
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16Decode(u))
	}
	if len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf {
		return strings.ToValidUTF8(string(b[3:]), "\uFFFD")
	}
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

func textOf(o pdf.Object) string {
	if s, ok := o.(pdf.String); ok {
		return decodeText(s.Value)
	}
	return ""
}
