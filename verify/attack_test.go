package verify

import (
	ipdf "github.com/chungthuc/chungthuc/internal/pdf"

	"bytes"
	"crypto"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/digitorus/pkcs7"
)

// The attack suite: one forged file per known attack class on PDF signatures. Every one
// must come out not valid, with the document's indication failed or indeterminate and the
// attacked signature not passed. Set VERIFY_WRITE_ATTACKS=dir to keep the files (the
// pdfsig agreement test reads them).
//
// Object numbers of basePDF(2, 3000, true): 1 catalog, 2 pages, 3 font, 4 image,
// 5 page 1, 6 its content, 7 page 2, 8 its content, 9 a text field on page 1.

const (
	objCatalog = 1
	objPages   = 2
	objFont    = 3
	objImage   = 4
	objPage1   = 5
	objContent = 6
	objPage2   = 7
	objField   = 9
)

var fakeText = []byte("BT /F1 24 Tf 72 720 Td (Giay khai sinh - Ho ten: KE GIA MAO) Tj ET")

func attackBase() *pdfWriter { return basePDF(2, 3000, true) }

// signedCopy is the victim: our certified copy of attackBase.
func signedCopy(t testing.TB) []byte { return certifiedCopy(t, attackBase().classic()) }

// withDict rewrites the dictionary of the current catalog/page/field in a later update.
func redefine(t testing.TB, pdf []byte, num int, edit func(d *ipdf.Dict)) []byte {
	r := docView(t, pdf)
	v, err := r.Object(num)
	if err != nil {
		t.Fatal(err)
	}
	nd := v.(*ipdf.Dict).Clone()
	edit(nd)
	return appendUpdate(t, pdf, map[int][]byte{num: []byte(serialize(nd))}, updateOpts{})
}

// lastSigSpan returns the byte span of the last signature dictionary object.
func lastSigSpan(pdf []byte) (int, int) {
	i := bytes.LastIndex(pdf, []byte("/Type /Sig "))
	start := bytes.LastIndex(pdf[:i], []byte(" obj"))
	end := i + bytes.Index(pdf[i:], []byte("endobj"))
	return start, end
}

// replaceInLastSig replaces the first match of re in the last signature dictionary by
// repl, padded with spaces to keep every offset valid.
func replaceInLastSig(t testing.TB, pdf []byte, re, repl string) []byte {
	t.Helper()
	out := append([]byte{}, pdf...)
	a, b := lastSigSpan(out)
	loc := regexp.MustCompile(re).FindIndex(out[a:b])
	if loc == nil {
		t.Fatalf("no %s in the last signature", re)
	}
	n := loc[1] - loc[0]
	if len(repl) > n {
		t.Fatalf("replacement longer than %s", re)
	}
	copy(out[a+loc[0]:], repl+strings.Repeat(" ", n-len(repl)))
	return out
}

type attack struct {
	name  string
	build func(t testing.TB) []byte
	// target is the signature (1-based) that must not pass; 0 means any/document level.
	target int
}

func attacks() []attack {
	p := getPKI()
	return []attack{
		// ---- Incremental saving ----
		{"isa_content_replaced", func(t testing.TB) []byte {
			return appendUpdate(t, signedCopy(t), map[int][]byte{objContent: streamObj("", fakeText)}, updateOpts{})
		}, 2},
		{"isa_content_replaced_xref_stream", func(t testing.TB) []byte {
			return appendUpdate(t, signedCopy(t), map[int][]byte{objContent: streamObj("", fakeText)}, updateOpts{xrefStream: true})
		}, 2},
		{"isa_content_appended_without_xref", func(t testing.TB) []byte {
			return appendUpdate(t, signedCopy(t), map[int][]byte{objContent: streamObj("", fakeText)}, updateOpts{noXref: true})
		}, 2},
		{"isa_content_on_modern_file", func(t testing.TB) []byte {
			pdf := certifiedCopy(t, attackBase().modern())
			return appendUpdate(t, pdf, map[int][]byte{objContent: streamObj("", fakeText)}, updateOpts{xrefStream: true})
		}, 2},
		{"isa_page_added", func(t testing.TB) []byte {
			pdf := signedCopy(t)
			n := sizeOf(docView(t, pdf))
			return appendUpdate(t, pdf, map[int][]byte{
				n:        []byte(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", n+1)),
				n + 1:    streamObj("", fakeText),
				objPages: []byte(fmt.Sprintf("<< /Type /Pages /Kids [5 0 R 7 0 R %d 0 R] /Count 3 >>", n)),
			}, updateOpts{})
		}, 2},
		{"isa_page_removed", func(t testing.TB) []byte {
			return appendUpdate(t, signedCopy(t), map[int][]byte{objPages: []byte("<< /Type /Pages /Kids [5 0 R] /Count 1 >>")}, updateOpts{})
		}, 2},
		{"isa_annotation_added", func(t testing.TB) []byte {
			pdf := signedCopy(t)
			n := sizeOf(docView(t, pdf))
			pdf = appendUpdate(t, pdf, map[int][]byte{n: []byte("<< /Type /Annot /Subtype /FreeText /Rect [72 700 400 740] /Contents (KE GIA MAO) /DA (/F1 24 Tf 0 g) >>")}, updateOpts{})
			return redefine(t, pdf, objPage1, func(d *ipdf.Dict) {
				a, _ := d.Get("Annots").(ipdf.Array)
				d.Set("Annots", append(append(ipdf.Array{}, a...), ipdf.Ref{Num: n}))
			})
		}, 2},
		{"isa_form_value_changed", func(t testing.TB) []byte {
			return redefine(t, signedCopy(t), objField, func(d *ipdf.Dict) { d.Set("V", ipdf.String{Value: []byte("Le Van C")}) })
		}, 2},
		{"isa_font_replaced", func(t testing.TB) []byte {
			return appendUpdate(t, signedCopy(t), map[int][]byte{objFont: []byte("<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>")}, updateOpts{})
		}, 2},
		{"isa_image_replaced", func(t testing.TB) []byte {
			return appendUpdate(t, signedCopy(t), map[int][]byte{objImage: streamObj("/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceRGB /BitsPerComponent 8", []byte{255, 0, 0})}, updateOpts{})
		}, 2},
		{"isa_open_action_added", func(t testing.TB) []byte {
			return redefine(t, signedCopy(t), objCatalog, func(d *ipdf.Dict) {
				oa := &ipdf.Dict{}
				oa.Set("S", ipdf.Name("JavaScript"))
				oa.Set("JS", ipdf.String{Value: []byte("app.alert(1)")})
				d.Set("OpenAction", oa)
			})
		}, 2},
		{"isa_content_freed", func(t testing.TB) []byte {
			return appendUpdate(t, signedCopy(t), nil, updateOpts{free: []int{objContent}})
		}, 2},
		{"isa_seal_appearance_replaced", func(t testing.TB) []byte {
			pdf := signedCopy(t)
			r := docView(t, pdf)
			var ap int
			for _, n := range r.Numbers() {
				if v, _ := r.Object(n); v != nil {
					if s, ok := v.(*ipdf.Stream); ok && ipdf.NameOf(s.Dict.Get("Subtype")) == "Form" {
						ap = n
					}
				}
			}
			return appendUpdate(t, pdf, map[int][]byte{ap: streamObj("/Type /XObject /Subtype /Form /BBox [0 0 595 842]", []byte("q 1 1 1 rg 0 0 595 842 re f Q"))}, updateOpts{})
		}, 2},
		{"isa_unsigned_signature_field_overlay", func(t testing.TB) []byte {
			pdf := signedCopy(t)
			r := docView(t, pdf)
			n := sizeOf(r)
			pdf = appendUpdate(t, pdf, map[int][]byte{
				n:     []byte(fmt.Sprintf("<< /FT /Sig /T (Overlay) /Type /Annot /Subtype /Widget /Rect [0 0 595 842] /F 4 /P 5 0 R /AP << /N %d 0 R >> >>", n+1)),
				n + 1: streamObj("/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>", append([]byte("q 1 1 1 rg 0 0 595 842 re f Q "), fakeText...)),
			}, updateOpts{})
			pdf = redefine(t, pdf, objPage1, func(d *ipdf.Dict) {
				a, _ := d.Get("Annots").(ipdf.Array)
				d.Set("Annots", append(append(ipdf.Array{}, a...), ipdf.Ref{Num: n}))
			})
			return redefine(t, pdf, objCatalog, func(d *ipdf.Dict) {
				af := d.Get("AcroForm").(*ipdf.Dict)
				f := af.Get("Fields").(ipdf.Array)
				af.Set("Fields", append(append(ipdf.Array{}, f...), ipdf.Ref{Num: n}))
			})
		}, 2},
		{"isa_untrusted_signature_with_overlay", func(t testing.TB) []byte {
			return signPDF(t, signedCopy(t), signOpts{key: p.stranger, visible: true, field: "Mallory"})
		}, 3},
		{"isa_docmdp_p1_then_signature", func(t testing.TB) []byte {
			one := signPDF(t, attackBase().classic(), signOpts{key: p.officer, certify: 1, field: "Officer"})
			return signPDF(t, one, signOpts{key: p.seal, visible: true, field: "Seal"})
		}, 1},
		{"isa_certification_not_first", func(t testing.TB) []byte {
			one := signPDF(t, attackBase().classic(), signOpts{key: p.officer, field: "Officer"})
			return signPDF(t, one, signOpts{key: p.seal, certify: 2, field: "Seal"})
		}, 2},

		// ---- Signature wrapping ----
		{"swa_gap_extended_past_contents", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{afterBR: func(_ []byte, br *[4]int64) { br[2] += 40; br[3] -= 40 }})
		}, 1},
		{"swa_byterange_relocated", func(t testing.TB) []byte {
			// /Contents before /ByteRange; the attacker inserts a new /ByteRange and moves
			// the original second part behind injected objects.
			pdf := signPDF(t, attackBase().classic(), signOpts{sigDict: contentsFirst})
			rep := mustVerify(t, pdf, testOptions())
			br := rep.Signatures[0].ByteRange
			c := br[2]
			inject := func(cp int64) string {
				return fmt.Sprintf(" /ByteRange [0 %010d %010d %010d] >>\nendobj\n6 0 obj\n%s\nendobj\n%% ", br[1], cp, br[3], streamObj("", fakeText))
			}
			n := int64(len(inject(0)))
			evil := append(append(append([]byte{}, pdf[:c]...), inject(c+n)...), pdf[c:]...)
			return evil
		}, 1},
		{"swa_duplicate_byterange", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{sigDict: func(d string) string {
				return strings.Replace(d, brPlaceholder, "/ByteRange [0 10 20 30] "+brPlaceholder, 1)
			}})
		}, 1},
		{"swa_duplicate_contents", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{sigDict: func(d string) string {
				return strings.Replace(d, brPlaceholder, "/Contents <3003020100> "+brPlaceholder, 1)
			}})
		}, 1},
		{"swa_signature_dictionary_redefined", func(t testing.TB) []byte {
			pdf := signedCopy(t)
			r := docView(t, pdf)
			a, b := lastSigSpan(pdf)
			num := 0
			fmt.Sscanf(string(pdf[bytes.LastIndexByte(pdf[:a], '\n')+1:a]), "%d", &num)
			v, _ := r.Object(num)
			_ = b
			return appendUpdate(t, pdf, map[int][]byte{num: []byte(serialize(v))}, updateOpts{})
		}, 2},
		{"swa_byterange_not_from_zero", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{afterBR: func(_ []byte, br *[4]int64) { br[0] = 10; br[1] -= 10 }})
		}, 1},
		{"swa_byterange_overlapping", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{afterBR: func(_ []byte, br *[4]int64) { br[1] = br[2] + 10 }})
		}, 1},
		{"swa_byterange_past_end", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{afterBR: func(_ []byte, br *[4]int64) { br[3] += 1000 }})
		}, 1},

		// ---- Universal signature forgery ----
		{"usf_contents_missing", func(t testing.TB) []byte {
			return replaceInLastSig(t, signedCopy(t), `/Contents <[0-9a-f]*>`, "")
		}, 2},
		{"usf_contents_empty", func(t testing.TB) []byte {
			return replaceInLastSig(t, signedCopy(t), `/Contents <[0-9a-f]*>`, "/Contents <>")
		}, 2},
		{"usf_contents_null", func(t testing.TB) []byte {
			return replaceInLastSig(t, signedCopy(t), `/Contents <[0-9a-f]*>`, "/Contents null")
		}, 2},
		{"usf_contents_zeros", func(t testing.TB) []byte {
			return signPDF(t, signPDF(t, attackBase().classic(), signOpts{certify: 2}), signOpts{key: p.seal, cms: func([]byte) []byte { return nil }})
		}, 2},
		{"usf_byterange_missing", func(t testing.TB) []byte {
			return replaceInLastSig(t, signedCopy(t), `/ByteRange \[[0-9 ]*\]`, "")
		}, 2},
		{"usf_byterange_null", func(t testing.TB) []byte {
			return replaceInLastSig(t, signedCopy(t), `/ByteRange \[[0-9 ]*\]`, "/ByteRange null")
		}, 2},
		{"usf_byterange_empty", func(t testing.TB) []byte {
			return replaceInLastSig(t, signedCopy(t), `/ByteRange \[[0-9 ]*\]`, "/ByteRange []")
		}, 2},
		{"usf_byterange_zeros", func(t testing.TB) []byte {
			return replaceInLastSig(t, signedCopy(t), `/ByteRange \[[0-9 ]*\]`, "/ByteRange [0 0 0 0]")
		}, 2},
		{"usf_cert_x509_rsa_sha1", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{sigDict: func(d string) string {
				return strings.Replace(d, "/SubFilter /ETSI.CAdES.detached", fmt.Sprintf("/SubFilter /adbe.x509.rsa_sha1 /Cert <%x>", p.officer.cert.Raw), 1)
			}})
		}, 1},
		{"usf_cms_garbage", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{cms: func(der []byte) []byte {
				g := bytes.Repeat([]byte{0x42}, 300)
				return append([]byte{0x30, 0x82, 0x01, 0x2c}, g...)
			}})
		}, 1},
		{"usf_cms_truncated", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{cms: func(der []byte) []byte { return der[:len(der)/2] }})
		}, 1},
		{"usf_cms_no_signer", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{cms: func([]byte) []byte {
				sd, _ := pkcs7.NewSignedData(nil)
				sd.AddCertificate(p.officer.cert)
				sd.Detach()
				der, _ := sd.Finish()
				return der
			}})
		}, 1},
		{"usf_cms_wrong_key", func(t testing.TB) []byte {
			k := testKey{cert: p.officer.cert, key: p.stranger.key}
			return signPDF(t, attackBase().classic(), signOpts{key: k})
		}, 1},
		{"usf_cms_other_content", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{content: func(c []byte) []byte { return append(c, 'x') }})
		}, 1},

		// ---- Shadow attacks ----
		{"shadow_hide_content", func(t testing.TB) []byte {
			w := attackBase()
			w.shadow = [][]byte{[]byte(fmt.Sprintf("%d 0 obj\n%s\nendobj", objContent, streamObj("", fakeText)))}
			pdf := certifiedCopy(t, w.classic())
			return appendUpdate(t, pdf, nil, updateOpts{offsets: map[int]int{objContent: w.shadowOffs[0]}})
		}, 2},
		{"shadow_replace_font", func(t testing.TB) []byte {
			w := attackBase()
			w.shadow = [][]byte{[]byte(fmt.Sprintf("%d 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Symbol >>\nendobj", objFont))}
			pdf := certifiedCopy(t, w.classic())
			return appendUpdate(t, pdf, nil, updateOpts{offsets: map[int]int{objFont: w.shadowOffs[0]}})
		}, 2},
		{"shadow_replace_form_value", func(t testing.TB) []byte {
			w := attackBase()
			w.shadow = [][]byte{[]byte(fmt.Sprintf("%d 0 obj\n<< /FT /Tx /T (name) /V (Le Van C) /Type /Annot /Subtype /Widget /Rect [72 600 300 630] /P 5 0 R /DA (/F1 12 Tf 0 g) >>\nendobj", objField))}
			pdf := certifiedCopy(t, w.classic())
			return appendUpdate(t, pdf, nil, updateOpts{offsets: map[int]int{objField: w.shadowOffs[0]}})
		}, 2},
		{"shadow_hide_and_replace_catalog", func(t testing.TB) []byte {
			w := attackBase()
			w.shadow = [][]byte{
				[]byte("60 0 obj\n<< /Type /Pages /Kids [61 0 R] /Count 1 >>\nendobj"),
				[]byte("61 0 obj\n<< /Type /Page /Parent 60 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 62 0 R >>\nendobj"),
				[]byte(fmt.Sprintf("62 0 obj\n%s\nendobj", streamObj("", fakeText))),
			}
			pdf := certifiedCopy(t, w.classic())
			// The update only rewrites the catalog's /Pages and points xref back at the
			// shadow objects signed earlier.
			r := docView(t, pdf)
			cat := r.Root()
			nc := cat.Clone()
			nc.Set("Pages", ipdf.Ref{Num: 60})
			return appendUpdate(t, pdf, map[int][]byte{objCatalog: []byte(serialize(nc))},
				updateOpts{offsets: map[int]int{60: w.shadowOffs[0], 61: w.shadowOffs[1], 62: w.shadowOffs[2]}, size: 63})
		}, 2},
		{"shadow_hide_and_replace_root", func(t testing.TB) []byte {
			w := attackBase()
			w.shadow = [][]byte{
				[]byte("59 0 obj\n<< /Type /Catalog /Pages 60 0 R >>\nendobj"),
				[]byte("60 0 obj\n<< /Type /Pages /Kids [61 0 R] /Count 1 >>\nendobj"),
				[]byte("61 0 obj\n<< /Type /Page /Parent 60 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 62 0 R >>\nendobj"),
				[]byte(fmt.Sprintf("62 0 obj\n%s\nendobj", streamObj("", fakeText))),
			}
			pdf := certifiedCopy(t, w.classic())
			return appendUpdate(t, pdf, nil, updateOpts{root: 59, size: 63,
				offsets: map[int]int{59: w.shadowOffs[0], 60: w.shadowOffs[1], 61: w.shadowOffs[2], 62: w.shadowOffs[3]}})
		}, 0},

		// ---- The last signature stops short of the end ----
		{"short_junk_appended", func(t testing.TB) []byte {
			return append(signedCopy(t), []byte("6 0 obj\n<< /Length 20 >>\nstream\nBT (FAKE) Tj ET    \nendstream\nendobj\n")...)
		}, 2},
		{"short_comment_and_eof_appended", func(t testing.TB) []byte {
			return append(signedCopy(t), []byte("% 6 0 obj (FAKE)\n%%EOF\n")...)
		}, 2},
		{"short_metadata_update", func(t testing.TB) []byte {
			pdf := signedCopy(t)
			n := sizeOf(docView(t, pdf))
			return appendUpdate(t, pdf, map[int][]byte{n: []byte("<< /Title (Ban sao gia mao) >>")}, updateOpts{trailer: fmt.Sprintf(" /Info %d 0 R", n)})
		}, 2},
		{"short_second_range_stops_early", func(t testing.TB) []byte {
			return signPDF(t, attackBase().classic(), signOpts{afterBR: func(_ []byte, br *[4]int64) { br[3] -= 30 }})
		}, 1},
	}
}

func contentsFirst(d string) string {
	i := strings.Index(d, "/Contents <")
	j := i + strings.Index(d[i:], ">") + 1
	contents := d[i:j]
	d = d[:i] + d[j:]
	return strings.Replace(d, brPlaceholder, contents+" "+brPlaceholder, 1)
}

func TestAttacks(t *testing.T) {
	dir := os.Getenv("VERIFY_WRITE_ATTACKS")
	for _, a := range attacks() {
		t.Run(a.name, func(t *testing.T) {
			pdf := a.build(t)
			if dir != "" {
				os.MkdirAll(dir, 0o755)
				os.WriteFile(filepath.Join(dir, a.name+".pdf"), pdf, 0o644)
			}
			rep := mustVerify(t, pdf, testOptions())
			if rep.Valid || rep.Indication == TotalPassed {
				t.Fatalf("attack passed:\n%s", dump(t, rep))
			}
			if a.target > 0 {
				if len(rep.Signatures) < a.target {
					// The attacked signature may legitimately vanish (e.g. unparseable),
					// but then the document must have failed.
					if rep.Indication != TotalFailed {
						t.Fatalf("signature %d missing and document not failed:\n%s", a.target, dump(t, rep))
					}
					return
				}
				if s := rep.Signatures[a.target-1]; s.Indication == TotalPassed {
					t.Fatalf("attacked signature %d passed:\n%s", a.target, dump(t, rep))
				}
			}
			reason := ""
			for _, s := range rep.Signatures {
				for _, c := range s.Checks {
					if c.Status == CheckFailed && reason == "" {
						reason = fmt.Sprintf("sig %d %s: %s", s.Index, c.Name, c.Detail)
					}
				}
			}
			for _, c := range rep.Checks {
				if c.Status == CheckFailed && reason == "" {
					reason = c.Name + ": " + c.Detail
				}
			}
			t.Logf("%s/%s: %s [%s]", rep.Indication, rep.SubIndication, rep.SummaryEN, reason)
		})
	}
}

var _ = crypto.SHA256
