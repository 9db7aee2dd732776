package verify

import (
	ipdf "github.com/chungthuc/chungthuc/internal/pdf"

	"bytes"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chungthuc/chungthuc/internal/bertest"
)

// The sneaky-overlay suite and its clean counterpart. Each case is built on our own
// certified copy (officer's certification P=2 + the seal's visible approval) of
// attackBase: page 1 is the "scan" (text at 72,720 and an image at 72..272 × 400..600),
// page 2 the last page (text at 72,720; the seal's box at 350..550 × 50..120). A bank
// holding a certificate under the same root countersigns it.

var (
	bankOnce sync.Once
	bankKey  testKey
)

func bank() testKey {
	bankOnce.Do(func() {
		bankKey = issue(&getPKI().root, "Ngân hàng Thương mại", mustKey(true, 0), false, []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, nil)
	})
	return bankKey
}

// overlayChange returns the first disallowed "paints over" change of a signature.
func overlayChange(s SignatureReport) *Change {
	for i, c := range s.ChangesAfter {
		if !c.Allowed && strings.Contains(c.Detail, "paints over content of the signed revision") {
			return &s.ChangesAfter[i]
		}
	}
	return nil
}

// fieldObj returns the object number of the last field of the final revision's form.
func fieldObj(t testing.TB, pdf []byte) int {
	r := docView(t, pdf)
	fields := r.Array(r.Dict(r.Root().Get("AcroForm")).Get("Fields"))
	return fields[len(fields)-1].(ipdf.Ref).Num
}

// sneakyOverlay is one painted-over countersignature of our certified copy.
type sneakyOverlay struct {
	name  string
	build func(t testing.TB) []byte
	// painted[i]: signature i+1 is painted over (TOTAL_FAILED/MODIFIED_AFTER_SIGNING)
	painted []bool
}

func sneakyOverlays() []sneakyOverlay {
	counter := func(t testing.TB, o signOpts) []byte {
		o.key, o.field, o.visible = bank(), "Bank", true
		return signPDF(t, signedCopy(t), o)
	}
	return []sneakyOverlay{
		{"opaque_widget_over_statement_page", func(t testing.TB) []byte {
			return counter(t, signOpts{rect: "[40 700 560 770]"})
		}, []bool{true, true, false}},
		{"opaque_widget_over_scan_page", func(t testing.TB) []byte {
			return counter(t, signOpts{rect: "[100 420 250 580]", page: objPage1})
		}, []bool{true, true, false}},
		{"huge_rect_off_page_covering_everything", func(t testing.TB) []byte {
			return counter(t, signOpts{rect: "[-100000 -100000 100000 100000]"})
		}, []bool{true, true, false}},
		{"widget_over_the_seal_appearance", func(t testing.TB) []byte {
			// Only the seal painted there: the officer's revision had nothing at that spot.
			return counter(t, signOpts{rect: "[400 60 500 100]"})
		}, []bool{false, true, false}},
		{"widget_over_text_in_a_form_xobject", func(t testing.TB) []byte {
			// The statement drawn through a form XObject, then painted over.
			base := attackBase()
			base.objs[20] = streamObj("/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>", []byte("BT /F1 12 Tf 1 0 0 1 300 300 Tm (LOI CHUNG) Tj ET"))
			base.objs[7] = bytes.Replace(base.objs[7], []byte("/Resources << "), []byte("/Resources << /XObject << /St 20 0 R >> "), 1)
			base.objs[8] = streamObj("", []byte("q 1 0 0 1 0 0 cm /St Do Q"))
			return signPDF(t, certifiedCopy(t, base.classic()), signOpts{key: bank(), field: "Bank", visible: true, rect: "[310 295 400 320]"})
		}, []bool{true, true, false}},
		{"hidden_widget_later_made_visible", func(t testing.TB) []byte {
			hidden := counter(t, signOpts{rect: "[40 700 560 770]", flags: 2 | 4})
			// Hidden: nothing is painted, all three signatures stand.
			rep := mustVerify(t, hidden, testOptions())
			if !rep.Valid {
				t.Fatalf("a hidden countersignature widget should be harmless:\n%s", dump(t, rep))
			}
			// A fourth signature's update reveals it (/F 6 → 4).
			num := fieldObj(t, hidden)
			d := docView(t, hidden).Dict(ipdf.Ref{Num: num}).Clone()
			d.Set("F", ipdf.Int(4))
			return signPDF(t, hidden, signOpts{key: bank(), field: "Bank2", extra: map[int][]byte{num: []byte(serialize(d))}})
		}, []bool{true, true, true, false}},
	}
}

func TestSneakyOverlay(t *testing.T) {
	cases := sneakyOverlays()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pdf := c.build(t)
			writeAttack(t, "overlay_"+c.name, pdf)
			rep := mustVerify(t, pdf, testOptions())
			if rep.Valid {
				t.Fatalf("painted-over copy reported valid:\n%s", dump(t, rep))
			}
			if len(rep.Signatures) != len(c.painted) {
				t.Fatalf("%d signatures, want %d:\n%s", len(rep.Signatures), len(c.painted), dump(t, rep))
			}
			for i, s := range rep.Signatures {
				ch := overlayChange(s)
				if c.painted[i] {
					if s.Indication != TotalFailed || s.SubIndication != SubModifiedAfterSigning || !s.ModifiedAfterSigning || ch == nil {
						t.Fatalf("signature %d (%s) not reported painted over: %s/%s\n%s", s.Index, s.Field, s.Indication, s.SubIndication, dump(t, rep))
					}
					if s.DocMDP != nil && !s.DocMDP.Violated {
						t.Errorf("signature %d: DocMDP not marked violated", s.Index)
					}
				} else if s.Indication != TotalPassed {
					t.Fatalf("signature %d (%s) should pass: %s/%s\n%s", s.Index, s.Field, s.Indication, s.SubIndication, dump(t, rep))
				}
			}
		})
	}
}

// TestHarmlessWidgets: visible countersignature widgets that paint over nothing the signed
// revisions painted, and invisible ones wherever they are, leave every signature passed.
func TestHarmlessWidgets(t *testing.T) {
	victim := signedCopy(t)
	for _, c := range []struct {
		name string
		o    signOpts
	}{
		{"blank_area_of_last_page", signOpts{rect: "[350 150 550 220]"}},
		{"blank_area_of_scan_page", signOpts{rect: "[350 150 550 220]", page: objPage1}},
		{"off_every_page", signOpts{rect: "[1000 1000 1200 1070]"}},
		{"zero_size", signOpts{rect: "[72 720 72 720]"}},
		{"noview_over_text", signOpts{rect: "[40 700 560 770]", flags: 32 | 4}},
		{"white_box_in_blank_area", signOpts{rect: "[72 300 300 380]", apOps: "q 1 1 1 rg 0 0 200 70 re f Q"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.key, o.field, o.visible = bank(), "Bank", true
			rep := mustVerify(t, signPDF(t, victim, o), testOptions())
			if !rep.Valid || len(rep.Signatures) != 3 {
				t.Fatalf("not valid:\n%s", dump(t, rep))
			}
		})
	}
}

// cleanCountersigned is our certified copy of a document with an outline and an
// OpenAction pointing at the last page, countersigned the way other producers do:
// a %iText comment line before startxref, BER CMS, AcroForm /DR with a new font, catalog
// /Version 2.0, a visible widget in a blank area of the page the outline points to.
func cleanCountersigned(t testing.TB, ber bool) []byte {
	base := attackBase()
	base.objs[1] = bytes.Replace(base.objs[1], []byte("/Pages 2 0 R"), []byte("/Pages 2 0 R /Outlines 20 0 R /OpenAction [7 0 R /Fit] /PageMode /UseOutlines"), 1)
	base.objs[20] = []byte("<< /Type /Outlines /First 21 0 R /Last 21 0 R /Count 1 >>")
	base.objs[21] = []byte("<< /Title (Loi chung) /Parent 20 0 R /Dest [7 0 R /XYZ 0 842 0] >>")
	copy := certifiedCopy(t, base.classic())
	fontNum := sizeOf(docView(t, copy)) + 3 // after the signature, field and appearance
	keep := func(path []byte) bool { return bytes.Equal(path, bertest.SignerInfoSignedAttrs) }
	toBER := func(d []byte) []byte { return bertest.Encode(d, bertest.Options{KeepDER: keep}) }
	if !ber {
		toBER = nil
	}
	return signPDF(t, copy, signOpts{
		key: bank(), field: "Bank", visible: true, rect: "[350 150 550 220]",
		comment: "iText-5.5.13.3",
		cms:     toBER,
		extra:   map[int][]byte{fontNum: []byte("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")},
		acroForm: func(_ *ipdf.Revision, d *ipdf.Dict) {
			fonts := &ipdf.Dict{}
			fonts.Set("Helv", ipdf.Ref{Num: fontNum})
			dr := &ipdf.Dict{}
			dr.Set("Font", fonts)
			d.Set("DR", dr)
		},
		catalog: func(_ *ipdf.Revision, d *ipdf.Dict) { d.Set("Version", ipdf.Name("2.0")) },
	})
}

func TestCleanForeignCountersignature(t *testing.T) {
	pdf := cleanCountersigned(t, true)
	for _, want := range []string{"%iText-5.5.13.3\nstartxref", "/Version /2.0", "/DR", "/OpenAction"} {
		if !bytes.Contains(pdf, []byte(want)) {
			t.Fatalf("fixture lacks %q", want)
		}
	}
	rep := mustVerify(t, pdf, testOptions())
	if !rep.Valid || len(rep.Signatures) != 3 {
		t.Fatalf("not valid:\n%s", dump(t, rep))
	}
	for _, s := range rep.Signatures {
		if s.Indication != TotalPassed {
			t.Fatalf("signature %d is %s/%s:\n%s", s.Index, s.Indication, s.SubIndication, dump(t, rep))
		}
	}
	if !hasCheck(rep.Signatures[2], "cms", CheckWarning, "BER") {
		t.Errorf("the countersignature's BER CMS was not noticed:\n%s", dump(t, rep))
	}
	// Each habit alone must not be what lets it pass: a /DR that redefines an existing
	// font name, a /DA that changes, or bytes after the signature without an update fail.
	bad := redefine(t, pdf, objCatalog, func(d *ipdf.Dict) {
		af := d.Get("AcroForm").(*ipdf.Dict)
		af.Set("DA", ipdf.String{Value: []byte("/Helv 30 Tf 1 0 0 rg")})
	})
	bad = signPDF(t, bad, signOpts{key: bank(), field: "Bank2"})
	if rep := mustVerify(t, bad, testOptions()); rep.Valid || rep.Signatures[0].Indication != TotalFailed {
		t.Errorf("changing the form's existing /DA was accepted:\n%s", dump(t, rep))
	}

	// A comment is accepted as a comment, not as a hiding place for structure.
	sneaky := signPDF(t, signedCopy(t), signOpts{key: bank(), field: "Bank", comment: "6 0 obj << /Length 20 >> stream BT (FAKE) Tj ET endstream endobj"})
	if rep := mustVerify(t, sneaky, testOptions()); rep.Valid || rep.Signatures[0].Indication != TotalFailed {
		t.Errorf("a comment holding an object was accepted:\n%s", dump(t, rep))
	}

	// pdfsig (poppler 22.12 with NSS) checks the same files: our two signatures valid
	// and trusted; it does not validate the BER countersignature ("Unknown Validation
	// Failure"), so the third is compared on the same update written in DER.
	if _, err := exec.LookPath("pdfsig"); err != nil {
		t.Skip("pdfsig not installed")
	}
	nss := nssDB(t)
	for _, ber := range []bool{true, false} {
		f := pdf
		if !ber {
			f = cleanCountersigned(t, false)
			if rep := mustVerify(t, f, testOptions()); !rep.Valid {
				t.Fatalf("DER variant not valid:\n%s", dump(t, rep))
			}
		}
		file := filepath.Join(t.TempDir(), "clean.pdf")
		if err := os.WriteFile(file, f, 0o644); err != nil {
			t.Fatal(err)
		}
		v := runPdfsig(t, nss, file)
		want := 3
		if ber {
			want = 2
		}
		if v.sigs != 3 || v.valid < want || v.trusted < want || !v.lastTotal || !strings.Contains(v.raw, "Signature #1:") {
			t.Fatalf("pdfsig disagrees (BER %v): %s\n%s", ber, v, v.raw)
		}
	}
}

// writeAttack keeps a built file when VERIFY_WRITE_ATTACKS is set (as TestAttacks does).
func writeAttack(t testing.TB, name string, pdf []byte) {
	if dir := os.Getenv("VERIFY_WRITE_ATTACKS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, name+".pdf"), pdf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSeparateWidgetSignatureField: a countersignature whose field keeps its widget as a
// separate annotation in an indirect /Kids array (as pyHanko can write) is an allowed
// signature field; a /Kids that adopts an existing annotation, or an unsigned visible one,
// is not.
func TestSeparateWidgetSignatureField(t *testing.T) {
	victim := signedCopy(t)
	r := docView(t, victim)
	size := sizeOf(r)
	sigNum, fieldNum, apNum, widgetNum, kidsNum := size, size+1, size+2, size+3, size+4
	page := objPage2
	build := func(kids string, withV bool) []byte {
		pd := r.Dict(ipdf.Ref{Num: page}).Clone()
		annots := append(ipdf.Array{}, r.Array(pd.Get("Annots"))...)
		pd.Set("Annots", append(annots, ipdf.Ref{Num: widgetNum}))
		v := fmt.Sprintf(" /V %d 0 R", sigNum)
		if !withV {
			v = ""
		}
		return signPDF(t, victim, signOpts{key: bank(), field: "Bank", visible: true, extra: map[int][]byte{
			fieldNum:  []byte(fmt.Sprintf("<< /FT /Sig /T (Bank)%s /Kids %d 0 R >>", v, kidsNum)),
			kidsNum:   []byte(kids),
			widgetNum: []byte(fmt.Sprintf("<< /Type /Annot /Subtype /Widget /Rect [350 150 550 220] /F 4 /P %d 0 R /AP << /N %d 0 R >> >>", page, apNum)),
			page:      []byte(serialize(pd)),
		}})
	}
	rep := mustVerify(t, build(fmt.Sprintf("[%d 0 R]", widgetNum), true), testOptions())
	if !rep.Valid || len(rep.Signatures) != 3 {
		t.Fatalf("separate widget field not accepted:\n%s", dump(t, rep))
	}
	rep = mustVerify(t, build(fmt.Sprintf("[%d 0 R %d 0 R]", widgetNum, objField), true), testOptions())
	if rep.Valid || rep.Signatures[0].Indication != TotalFailed {
		t.Fatalf("a /Kids adopting the existing text field was accepted:\n%s", dump(t, rep))
	}
}
