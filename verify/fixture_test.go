package verify

import (
	ipdf "github.com/chungthuc/chungthuc/internal/pdf"

	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// This file builds the test world: a PKI, small PDFs written by hand, and incremental
// signatures written the way a PAdES signer writes them, with hooks to forge them.

var testNow = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

type testKey struct {
	cert *x509.Certificate
	key  crypto.Signer
}

type testPKI struct {
	root, officer, seal, tsa, rsa1024, stranger testKey
	strangerRoot                                testKey
	pool                                        *x509.CertPool
	rootPEM                                     []byte
}

var (
	pkiOnce sync.Once
	pkiVal  *testPKI
)

func mustKey(ec bool, bits int) crypto.Signer {
	if ec {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

var serial int64 = 100

func issue(parent *testKey, cn string, key crypto.Signer, ca bool, eku []x509.ExtKeyUsage, mod func(*x509.Certificate)) testKey {
	serial++
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Chứng thực thử nghiệm"}, Country: []string{"VN"}},
		NotBefore:             testNow.AddDate(-1, 0, 0),
		NotAfter:              testNow.AddDate(2, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
		IsCA:                  ca,
	}
	if ca {
		tpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	}
	if mod != nil {
		mod(tpl)
	}
	signerCert, signerKey := tpl, key
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, signerCert, key.Public(), signerKey)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return testKey{cert: c, key: key}
}

func getPKI() *testPKI {
	pkiOnce.Do(func() {
		p := &testPKI{}
		docEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}
		p.root = issue(nil, "Test Root CA", mustKey(true, 0), true, nil, nil)
		p.officer = issue(&p.root, "Nguyễn Văn An", mustKey(false, 2048), false, docEKU, nil)
		p.seal = issue(&p.root, "UBND Phường Hòa Bình", mustKey(true, 0), false, docEKU, nil)
		p.tsa = issue(&p.root, "Test TSA", mustKey(true, 0), false, []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, nil)
		p.rsa1024 = issue(&p.root, "Weak RSA", mustKey(false, 1024), false, docEKU, nil)
		p.strangerRoot = issue(nil, "Stranger Root", mustKey(true, 0), true, nil, nil)
		p.stranger = issue(&p.strangerRoot, "Mallory", mustKey(true, 0), false, docEKU, nil)
		p.pool = x509.NewCertPool()
		p.pool.AddCert(p.root.cert)
		p.rootPEM = pemCert(p.root.cert)
		pkiVal = p
	})
	return pkiVal
}

func pemCert(c *x509.Certificate) []byte {
	var b bytes.Buffer
	b.WriteString("-----BEGIN CERTIFICATE-----\n")
	s := base64.StdEncoding.EncodeToString(c.Raw)
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s + "\n-----END CERTIFICATE-----\n")
	return b.Bytes()
}

func testOptions() Options {
	return Options{Roots: getPKI().pool, Now: func() time.Time { return testNow }}
}

// ---- Writing PDFs ----

// pdfWriter writes a classic PDF (or one with an xref stream and an object stream).
type pdfWriter struct {
	objs map[int][]byte // body between "obj" and "endobj"
	root int
	// shadow objects are written into the file but listed in no xref (shadow attacks);
	// classic records their offsets.
	shadow     [][]byte
	shadowOffs []int
}

func streamObj(dict string, data []byte) []byte {
	return []byte(fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data))
}

func flate(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// basePDF returns a document of n pages with text, a shared font and (optionally) an
// image of about imgBytes bytes on page 1, plus a text form field when withForm.
func basePDF(n int, imgBytes int, withForm bool) *pdfWriter {
	w := &pdfWriter{objs: map[int][]byte{}, root: 1}
	font := 3
	w.objs[font] = []byte("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	next := 4
	var kids []string
	img := 0
	if imgBytes > 0 {
		img = next
		next++
		side := 1
		for side*side*3 < imgBytes {
			side++
		}
		data := make([]byte, side*side*3)
		for i := range data {
			data[i] = byte(i*7 + i/13)
		}
		w.objs[img] = streamObj(fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8", side, side), data)
	}
	for i := 0; i < n; i++ {
		page, content := next, next+1
		next += 2
		text := fmt.Sprintf("BT /F1 24 Tf 72 720 Td (Giay khai sinh - trang %d - Ho ten: Tran Thi B) Tj ET", i+1)
		res := fmt.Sprintf("/Font << /F1 %d 0 R >>", font)
		if img != 0 && i == 0 {
			text += " q 200 0 0 200 72 400 cm /Im1 Do Q"
			res += fmt.Sprintf(" /XObject << /Im1 %d 0 R >>", img)
		}
		w.objs[content] = streamObj("", []byte(text))
		w.objs[page] = []byte(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << %s >> /Contents %d 0 R >>", res, content))
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
	}
	w.objs[2] = []byte(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	cat := "<< /Type /Catalog /Pages 2 0 R"
	if withForm {
		field := next
		// A text field with a widget on page 1, value "Nguyen Van A".
		w.objs[field] = []byte(fmt.Sprintf("<< /FT /Tx /T (name) /V (Nguyen Van A) /Type /Annot /Subtype /Widget /Rect [72 600 300 630] /P %d 0 R /DA (/F1 12 Tf 0 g) >>", firstPage(w)))
		pg := w.objs[firstPage(w)]
		w.objs[firstPage(w)] = bytes.Replace(pg, []byte("/Contents"), []byte(fmt.Sprintf("/Annots [%d 0 R] /Contents", field)), 1)
		cat += fmt.Sprintf(" /AcroForm << /Fields [%d 0 R] /DA (/F1 12 Tf 0 g) >>", field)
	}
	w.objs[1] = []byte(cat + " >>")
	return w
}

func firstPage(w *pdfWriter) int {
	if img := w.objs[4]; bytes.Contains(img, []byte("/Image")) {
		return 5
	}
	return 4
}

// classic writes the document with an xref table.
func (w *pdfWriter) classic() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	nums := w.nums()
	offs := map[int]int{}
	for _, n := range nums {
		offs[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, w.objs[n])
	}
	w.shadowOffs = nil
	for _, sh := range w.shadow {
		w.shadowOffs = append(w.shadowOffs, b.Len())
		b.Write(sh)
		b.WriteString("\n")
	}
	size := nums[len(nums)-1] + 1
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", size)
	for i := 1; i < size; i++ {
		if o, ok := offs[i]; ok {
			fmt.Fprintf(&b, "%010d 00000 n \n", o)
		} else {
			b.WriteString("0000000000 65535 f \n")
		}
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n", size, w.root, strings.Repeat("ab", 16), strings.Repeat("ab", 16), xref)
	return b.Bytes()
}

func (w *pdfWriter) nums() []int {
	var nums []int
	for n := range w.objs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	return nums
}

// modern writes the document with every non-stream object in one object stream and a
// compressed xref stream with PNG predictors.
func (w *pdfWriter) modern() []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	nums := w.nums()
	maxNum := nums[len(nums)-1]
	stm, xr := maxNum+1, maxNum+2
	type ent struct{ typ, a, b int }
	ents := map[int]ent{}
	var inStm []int
	for _, n := range nums {
		if bytes.Contains(w.objs[n], []byte("stream\n")) {
			ents[n] = ent{1, b.Len(), 0}
			fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, w.objs[n])
		} else {
			inStm = append(inStm, n)
		}
	}
	var hdr, body bytes.Buffer
	for i, n := range inStm {
		fmt.Fprintf(&hdr, "%d %d ", n, body.Len())
		body.Write(w.objs[n])
		body.WriteString("\n")
		ents[n] = ent{2, stm, i}
	}
	data := append(hdr.Bytes(), body.Bytes()...)
	ents[stm] = ent{1, b.Len(), 0}
	z := flate(data)
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n", stm, len(inStm), hdr.Len(), len(z), z)
	ents[xr] = ent{1, b.Len(), 0}
	size := xr + 1
	// Rows with PNG "Up" prediction, W [1 4 2].
	var rows []byte
	prev := make([]byte, 7)
	for i := 0; i < size; i++ {
		e, ok := ents[i]
		row := make([]byte, 7)
		if ok {
			row[0] = byte(e.typ)
			row[1], row[2], row[3], row[4] = byte(e.a>>24), byte(e.a>>16), byte(e.a>>8), byte(e.a)
			row[5], row[6] = byte(e.b>>8), byte(e.b)
		} else {
			row[5], row[6] = 0xff, 0xff
		}
		rows = append(rows, 2)
		for j := range row {
			rows = append(rows, row[j]-prev[j])
		}
		prev = row
	}
	z = flate(rows)
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root %d 0 R /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 7 >> /Length %d >>\nstream\n%s\nendstream\nendobj\n", xr, size, w.root, len(z), z)
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", ents[xr].a)
	return b.Bytes()
}

// ---- Incremental updates ----

// updateOpts control how an incremental update is written.
type updateOpts struct {
	xrefStream bool // write a cross-reference stream instead of a table
	noXref     bool // append the objects only, with no xref, trailer or startxref
	trailer    string
	// offsets overrides the xref offset of objects (shadow attacks pointing back).
	offsets map[int]int
	free    []int  // objects listed as free
	root    int    // a new /Root object number
	size    int    // a larger /Size
	comment string // a comment line before startxref (as iText and PDFBox write)
}

// appendUpdate appends objs as an incremental update of pdf.
func appendUpdate(t testing.TB, pdf []byte, objs map[int][]byte, o updateOpts) []byte {
	t.Helper()
	f := ipdf.Open(pdf, ipdf.Limits{MaxObjects: 1 << 20, MaxStream: 1 << 26, MaxDecoded: 1 << 28, MaxSections: 100})
	ends := ipdf.RevisionEnds(pdf)
	r, err := f.Revision(ends[len(ends)-1])
	if err != nil {
		t.Fatalf("appendUpdate: base unreadable: %v", err)
	}
	size, _ := ipdf.IntOf(r.Trailer().Get("Size"))
	var b bytes.Buffer
	b.Write(pdf)
	if pdf[len(pdf)-1] != '\n' {
		b.WriteByte('\n')
	}
	offs := map[int]int{}
	var nums []int
	for n := range objs {
		nums = append(nums, n)
		if int64(n) >= size {
			size = int64(n) + 1
		}
	}
	for n, off := range o.offsets {
		if _, ok := objs[n]; !ok {
			nums = append(nums, n)
		}
		offs[n] = off
	}
	nums = append(nums, o.free...)
	if int64(o.size) > size {
		size = int64(o.size)
	}
	sort.Ints(nums)
	for _, n := range nums {
		if _, ok := objs[n]; !ok {
			continue
		}
		if _, ok := offs[n]; !ok {
			offs[n] = b.Len()
		}
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, objs[n])
	}
	if o.noXref {
		return b.Bytes()
	}
	root := r.Trailer().Get("Root").(ipdf.Ref)
	if o.root != 0 {
		root.Num = o.root
	}
	extra := o.trailer
	if id := r.Trailer().Get("ID"); id != nil {
		extra += " /ID " + serialize(id)
	}
	if !o.xrefStream {
		xref := b.Len()
		b.WriteString("xref\n")
		for i := 0; i < len(nums); {
			j := i
			for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
				j++
			}
			fmt.Fprintf(&b, "%d %d\n", nums[i], j-i+1)
			for k := i; k <= j; k++ {
				if slices.Contains(o.free, nums[k]) {
					b.WriteString("0000000000 00001 f \n")
				} else {
					fmt.Fprintf(&b, "%010d 00000 n \n", offs[nums[k]])
				}
			}
			i = j + 1
		}
		fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /Prev %d%s >>\n%sstartxref\n%d\n%%%%EOF\n", size, root.Num, r.StartXref(), extra, commentLine(o.comment), xref)
		return b.Bytes()
	}
	xr := int(size)
	size++
	offs[xr] = b.Len()
	nums = append(nums, xr)
	var rows []byte
	var index []string
	for _, n := range nums {
		rows = append(rows, 1, byte(offs[n]>>24), byte(offs[n]>>16), byte(offs[n]>>8), byte(offs[n]), 0, 0)
		index = append(index, fmt.Sprintf("%d 1", n))
	}
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%s] /Root %d 0 R /Prev %d%s /Length %d >>\nstream\n%s\nendstream\nendobj\n",
		xr, size, strings.Join(index, " "), root.Num, r.StartXref(), extra, len(rows), rows)
	fmt.Fprintf(&b, "%sstartxref\n%d\n%%%%EOF\n", commentLine(o.comment), offs[xr])
	return b.Bytes()
}

func commentLine(c string) string {
	if c == "" {
		return ""
	}
	return "%" + c + "\n"
}

// serialize writes a parsed object back as PDF syntax.
func serialize(o ipdf.Object) string {
	switch v := o.(type) {
	case nil:
		return "null"
	case ipdf.Bool:
		return strconv.FormatBool(bool(v))
	case ipdf.Int:
		return strconv.FormatInt(int64(v), 10)
	case ipdf.Real:
		return strconv.FormatFloat(float64(v), 'f', -1, 64)
	case ipdf.Name:
		var b strings.Builder
		b.WriteByte('/')
		for _, c := range []byte(v) {
			if c <= ' ' || c >= 0x7f || ipdf.IsDelim(c) || c == '#' {
				fmt.Fprintf(&b, "#%02x", c)
			} else {
				b.WriteByte(c)
			}
		}
		return b.String()
	case ipdf.String:
		return "<" + hex.EncodeToString(v.Value) + ">"
	case ipdf.Ref:
		return fmt.Sprintf("%d %d R", v.Num, v.Gen)
	case ipdf.Array:
		var parts []string
		for _, x := range v {
			parts = append(parts, serialize(x))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case *ipdf.Dict:
		var b strings.Builder
		b.WriteString("<<")
		for k, x := range v.All() {
			b.WriteString(" " + serialize(k) + " " + serialize(x))
		}
		b.WriteString(" >>")
		return b.String()
	}
	panic(fmt.Sprintf("serialize %T", o))
}

// docView reads the final revision of pdf for test code.
func docView(t testing.TB, pdf []byte) *ipdf.Revision {
	t.Helper()
	f := ipdf.Open(pdf, ipdf.Limits{MaxObjects: 1 << 20, MaxStream: 1 << 26, MaxDecoded: 1 << 28, MaxSections: 100})
	ends := ipdf.RevisionEnds(pdf)
	r, err := f.Revision(ends[len(ends)-1])
	if err != nil {
		t.Fatalf("docView: %v", err)
	}
	return r
}

func pagesOf(r *ipdf.Revision) []int {
	var out []int
	var walk func(o ipdf.Object, depth int)
	walk = func(o ipdf.Object, depth int) {
		if depth > 20 {
			return
		}
		d := r.Dict(o)
		if kids, ok := r.Resolve(d.Get("Kids")).(ipdf.Array); ok {
			for _, k := range kids {
				walk(k, depth+1)
			}
			return
		}
		if ref, ok := o.(ipdf.Ref); ok {
			out = append(out, ref.Num)
		}
	}
	walk(r.Root().Get("Pages"), 0)
	return out
}

func sizeOf(r *ipdf.Revision) int {
	n, _ := ipdf.IntOf(r.Trailer().Get("Size"))
	return int(n)
}

// ---- Signing ----

type signOpts struct {
	key        testKey
	field      string
	certify    int // DocMDP P for a certification signature; 0 = approval
	visible    bool
	subFilter  string
	hash       crypto.Hash
	contentLen int // bytes reserved for the CMS
	xrefStream bool
	tsa        bool // add a signature timestamp
	docTS      bool // a document timestamp instead of a signature
	noESS      bool // omit the signing-certificate-v2 attribute
	revocation []byte
	// forge hooks
	cms      func(der []byte) []byte        // rewrite the CMS before embedding
	sigDict  func(dict string) string       // rewrite the signature dictionary text
	afterBR  func(pdf []byte, br *[4]int64) // rewrite the byte range (and file) before hashing
	content  func(content []byte) []byte    // rewrite what gets signed
	noUpdate bool                           // for tests that need the raw pieces
	// another producer's habits
	rect     string                               // the widget's /Rect when visible (default [350 50 550 120])
	page     int                                  // the widget's page object (default: the last page)
	flags    int                                  // the widget's /F (default 132)
	apOps    string                               // the appearance's content (default an opaque red box)
	extra    map[int][]byte                       // more objects written in the same update
	catalog  func(r *ipdf.Revision, d *ipdf.Dict) // edit the catalog written by the update
	acroForm func(r *ipdf.Revision, d *ipdf.Dict) // edit the form dictionary written by the update
	comment  string                               // a comment line written before startxref
}

const brPlaceholder = "/ByteRange [0 0000000000 0000000000 0000000000]"

// signPDF appends a signature (field, widget, dictionary, catalog and page updates) to pdf
// as one incremental update, the way a PAdES signer does.
func signPDF(t testing.TB, pdf []byte, o signOpts) []byte {
	t.Helper()
	if o.key.cert == nil {
		o.key = getPKI().officer
	}
	if o.field == "" {
		o.field = fmt.Sprintf("Sig%d", bytes.Count(pdf, []byte("/FT /Sig"))+1)
	}
	if o.subFilter == "" {
		o.subFilter = "ETSI.CAdES.detached"
		if o.docTS {
			o.subFilter = "ETSI.RFC3161"
		}
	}
	if o.hash == 0 {
		o.hash = crypto.SHA256
	}
	if o.contentLen == 0 {
		o.contentLen = 8192
	}
	r := docView(t, pdf)
	size := sizeOf(r)
	sigNum, fieldNum, apNum := size, size+1, size+2
	pages := pagesOf(r)
	page := pages[len(pages)-1]
	objs := map[int][]byte{}

	typ := "/Type /Sig /Filter /Adobe.PPKLite"
	if o.docTS {
		typ = "/Type /DocTimeStamp /Filter /Adobe.PPKLite"
	}
	dict := fmt.Sprintf("<< %s /SubFilter /%s %s /Contents <%s>", typ, o.subFilter, brPlaceholder, strings.Repeat("0", 2*o.contentLen))
	if !o.docTS {
		dict += " /M (D:20260310160000+07'00') /Name (" + asciiName(o.key.cert.Subject.CommonName) + ") /Reason (Chung thuc ban sao)"
	}
	if o.certify > 0 {
		dict += fmt.Sprintf(" /Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P %d /V /1.2 >> >>]", o.certify)
	}
	dict += " >>"
	if o.sigDict != nil {
		dict = o.sigDict(dict)
	}
	objs[sigNum] = []byte(dict)
	if o.page != 0 {
		page = o.page
	}
	rect := "[0 0 0 0]"
	ap := ""
	if o.visible {
		rect = "[350 50 550 120]"
		if o.rect != "" {
			rect = o.rect
		}
		ops := "q 1 0 0 rg 0 0 200 70 re f Q"
		if o.apOps != "" {
			ops = o.apOps
		}
		objs[apNum] = streamObj("/Type /XObject /Subtype /Form /BBox [0 0 200 70] /Resources << >>", []byte(ops))
		ap = fmt.Sprintf(" /AP << /N %d 0 R >>", apNum)
	}
	flags := 132
	if o.flags != 0 {
		flags = o.flags
	}
	objs[fieldNum] = []byte(fmt.Sprintf("<< /FT /Sig /T (%s) /V %d 0 R /Type /Annot /Subtype /Widget /Rect %s /F %d /P %d 0 R%s >>", o.field, sigNum, rect, flags, page, ap))
	for n, b := range o.extra {
		objs[n] = b
	}

	// The page gains the widget.
	pd := r.Dict(ipdf.Ref{Num: page})
	np := pd.Clone()
	annots, _ := r.Resolve(pd.Get("Annots")).(ipdf.Array)
	annots = append(append(ipdf.Array{}, annots...), ipdf.Ref{Num: fieldNum})
	np.Set("Annots", annots)
	objs[page] = []byte(serialize(np))

	// The catalog gains (or updates) the form, and /Perms for a certification.
	root := r.Trailer().Get("Root").(ipdf.Ref)
	cat := r.Root()
	nc := cat.Clone()
	af := r.Dict(cat.Get("AcroForm"))
	naf := af.Clone()
	fields, _ := r.Resolve(naf.Get("Fields")).(ipdf.Array)
	naf.Set("Fields", append(append(ipdf.Array{}, fields...), ipdf.Ref{Num: fieldNum}))
	naf.Set("SigFlags", ipdf.Int(3))
	if o.acroForm != nil {
		o.acroForm(r, naf)
	}
	if afRef, ok := cat.Get("AcroForm").(ipdf.Ref); ok {
		objs[afRef.Num] = []byte(serialize(naf))
	} else {
		nc.Set("AcroForm", naf)
	}
	if o.certify > 0 {
		perms := &ipdf.Dict{}
		perms.Set("DocMDP", ipdf.Ref{Num: sigNum})
		nc.Set("Perms", perms)
	}
	if o.catalog != nil {
		o.catalog(r, nc)
	}
	objs[root.Num] = []byte(serialize(nc))

	out := appendUpdate(t, pdf, objs, updateOpts{xrefStream: o.xrefStream, comment: o.comment})
	if o.noUpdate {
		return out
	}
	return fillSignature(t, out, len(pdf), o)
}

func asciiName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 128 && r != '(' && r != ')' && r != '\\' {
			b.WriteRune(r)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// fillSignature computes the byte range of the last placeholder after from and embeds the
// CMS signature.
func fillSignature(t testing.TB, out []byte, from int, o signOpts) []byte {
	t.Helper()
	i := bytes.LastIndex(out, []byte(brPlaceholder))
	if i < from {
		t.Fatalf("no placeholder")
	}
	ci := bytes.Index(out[i:], []byte("/Contents <"))
	var cStart, cEnd int
	if ci >= 0 {
		cStart = i + ci + len("/Contents ")
		cEnd = cStart + bytes.IndexByte(out[cStart:], '>') + 1
	} else {
		// The dictionary hook moved /Contents before /ByteRange.
		j := bytes.LastIndex(out[:i], []byte("/Contents <"))
		cStart = j + len("/Contents ")
		cEnd = cStart + bytes.IndexByte(out[cStart:], '>') + 1
	}
	br := [4]int64{0, int64(cStart), int64(cEnd), int64(len(out) - cEnd)}
	if o.afterBR != nil {
		o.afterBR(out, &br)
	}
	brText := fmt.Sprintf("/ByteRange [%d %010d %010d %010d]", br[0], br[1], br[2], br[3])
	if len(brText) != len(brPlaceholder) {
		brText = fmt.Sprintf("/ByteRange [%d %d %d %d]", br[0], br[1], br[2], br[3])
		brText += strings.Repeat(" ", len(brPlaceholder)-len(brText))
	}
	copy(out[i:], brText)
	content := make([]byte, 0, len(out))
	if br[0]+br[1] <= int64(len(out)) && br[2]+br[3] <= int64(len(out)) {
		content = append(content, out[br[0]:br[0]+br[1]]...)
		content = append(content, out[br[2]:br[2]+br[3]]...)
	}
	if o.content != nil {
		content = o.content(content)
	}
	var der []byte
	if o.docTS {
		der = tsToken(t, o.hash, hashBytes(o.hash, content))
	} else {
		der = makeCMS(t, content, o)
	}
	if o.cms != nil {
		der = o.cms(der)
	}
	h := hex.EncodeToString(der)
	if len(h) > cEnd-cStart-2 {
		t.Fatalf("signature of %d bytes does not fit", len(der))
	}
	copy(out[cStart+1:], h)
	return out
}

func hashBytes(h crypto.Hash, b []byte) []byte {
	hh := h.New()
	hh.Write(b)
	return hh.Sum(nil)
}

var oidByHash = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {1, 3, 14, 3, 2, 26},
	crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
	crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
	crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
}

// makeCMS signs content (detached) the way a PAdES B-B signer does.
func makeCMS(t testing.TB, content []byte, o signOpts) []byte {
	t.Helper()
	data := content
	if o.subFilter == "adbe.pkcs7.sha1" {
		data = hashBytes(crypto.SHA1, content)
	}
	sd, err := pkcs7.NewSignedData(data)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(oidByHash[o.hash])
	var cfg pkcs7.SignerInfoConfig
	if !o.noESS {
		certHash := sha256.Sum256(o.key.cert.Raw)
		ess, _ := asn1.Marshal(struct{ Certs []struct{ Hash []byte } }{Certs: []struct{ Hash []byte }{{certHash[:]}}})
		cfg.ExtraSignedAttributes = append(cfg.ExtraSignedAttributes, pkcs7.Attribute{Type: oidSigningCertV2, Value: asn1.RawValue{FullBytes: ess}})
	}
	if o.revocation != nil {
		cfg.ExtraSignedAttributes = append(cfg.ExtraSignedAttributes, pkcs7.Attribute{Type: oidAdbeRevocation, Value: asn1.RawValue{FullBytes: o.revocation}})
	}
	parent := getPKI().root.cert
	if o.key.cert.CheckSignatureFrom(parent) != nil {
		parent = getPKI().strangerRoot.cert
	}
	if err := sd.AddSignerChain(o.key.cert, o.key.key, []*x509.Certificate{parent}, cfg); err != nil {
		t.Fatal(err)
	}
	if o.subFilter != "adbe.pkcs7.sha1" {
		sd.Detach()
	}
	if o.tsa {
		si := sd.GetSignedData().SignerInfos[0]
		tok := tsToken(t, o.hash, hashBytes(o.hash, si.EncryptedDigest))
		if err := sd.GetSignedData().SignerInfos[0].SetUnauthenticatedAttributes([]pkcs7.Attribute{{Type: oidTimestampToken, Value: asn1.RawValue{FullBytes: tok}}}); err != nil {
			t.Fatal(err)
		}
	}
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// tsToken issues an RFC 3161 token over digest from the test TSA.
func tsToken(t testing.TB, h crypto.Hash, digest []byte) []byte {
	t.Helper()
	p := getPKI()
	ts := timestamp.Timestamp{HashAlgorithm: h, HashedMessage: digest, Time: testNow.Add(time.Minute),
		Policy: asn1.ObjectIdentifier{1, 2, 3}, SerialNumber: big.NewInt(7), AddTSACertificate: true}
	resp, err := ts.CreateResponseWithOpts(p.tsa.cert, p.tsa.key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := timestamp.ParseResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	return parsed.RawToken
}

// certifiedCopy is what our signer produces: a certification signature (P=2) by the
// officer, then a visible approval signature by the unit's seal.
func certifiedCopy(t testing.TB, base []byte) []byte {
	t.Helper()
	p := getPKI()
	one := signPDF(t, base, signOpts{key: p.officer, certify: 2, field: "Officer"})
	return signPDF(t, one, signOpts{key: p.seal, visible: true, field: "Seal"})
}
