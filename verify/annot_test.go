package verify

import (
	ipdf "github.com/chungthuc/chungthuc/internal/pdf"

	"fmt"
	"strings"
	"testing"
)

// Comments (markup annotations) added after a certification signature. DocMDP P=3 lets a
// reader add, change and delete comments (ISO 32000-1 12.8.2.2); P=2 and approval
// signatures do not. At every level the overlay rule stands: a comment whose appearance
// paints over what the signed revision painted is a modification.
//
// Each case adds the comment in an unsigned update and then lets the bank countersign
// (invisible widget), so that the final revision is signed and only the comment is judged.

// commentedCopy is our certified copy (certification at level p, then the seal) of
// attackBase with a comment added to page (0: the statement page) and countersigned by the
// bank. annot is the annotation dictionary without /Rect, /AP and /P; names, when set,
// is written as the catalog's /Names dictionary in the same update.
func commentedCopy(t testing.TB, p int, page int, annot, rect, apOps, names string) []byte {
	t.Helper()
	pdf := addComment(t, certifiedCopyP(t, p), page, annot, rect, apOps, names)
	return signPDF(t, pdf, signOpts{key: bank(), field: "Bank"})
}

// addComment appends an unsigned update adding a comment to page (0: the last page) of
// pdf; see commentedCopy.
func addComment(t testing.TB, pdf []byte, page int, annot, rect, apOps, names string) []byte {
	t.Helper()
	r := docView(t, pdf)
	if page == 0 {
		pages := pagesOf(r)
		page = pages[len(pages)-1]
	}
	n := sizeOf(r)
	objs := map[int][]byte{
		n:     []byte(fmt.Sprintf("<< /Type /Annot %s /Rect %s /AP << /N %d 0 R >> /P %d 0 R /F 4 >>", annot, rect, n+1, page)),
		n + 1: streamObj("/Type /XObject /Subtype /Form /BBox [0 0 200 70] /Resources << >>", []byte(apOps)),
	}
	if apOps == "" {
		// No appearance stream: the viewer draws the comment itself.
		objs[n] = []byte(fmt.Sprintf("<< /Type /Annot %s /Rect %s /P %d 0 R /F 4 >>", annot, rect, page))
	}
	pd := r.Dict(ipdf.Ref{Num: page}).Clone()
	annots, _ := r.Resolve(pd.Get("Annots")).(ipdf.Array)
	pd.Set("Annots", append(append(ipdf.Array{}, annots...), ipdf.Ref{Num: n}))
	objs[page] = []byte(serialize(pd))
	if names != "" {
		root := r.Trailer().Get("Root").(ipdf.Ref)
		objs[n+2] = []byte(names)
		objs[n+3] = streamObj("/Type /XObject /Subtype /Form /BBox [0 0 24 24] /Resources << >>", []byte("q 1 1 0 rg 0 0 24 24 re f Q"))
		c := r.Root().Clone()
		c.Set("Names", ipdf.Ref{Num: n + 2})
		objs[root.Num] = []byte(serialize(c))
	}
	return appendUpdate(t, pdf, objs, updateOpts{})
}

// TestCommentWithoutAppearance: a viewer draws a comment without an appearance stream
// (a note icon, FreeText from /DA and /Contents) and an open popup as a window, so those
// count as painting their /Rect; a closed popup paints nothing.
func TestCommentWithoutAppearance(t *testing.T) {
	over, blank := "[40 700 560 770]", "[350 150 550 220]"
	for _, c := range []struct {
		name, dict, rect string
		valid            bool
	}{
		{"freetext_over_statement", commentKinds[1].dict, over, false},
		{"note_over_statement", "/Subtype /Text /Name /Comment /Contents (DA HUY)", over, false},
		{"note_in_blank_area", "/Subtype /Text /Name /Comment", blank, true},
		{"open_popup_over_statement", "/Subtype /Popup /Open true", over, false},
		{"closed_popup_over_statement", "/Subtype /Popup /Open false", over, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := mustVerify(t, commentedCopy(t, 3, 0, c.dict, c.rect, "", ""), testOptions())
			if rep.Valid != c.valid {
				t.Fatalf("valid=%v, want %v:\n%s", rep.Valid, c.valid, dump(t, rep))
			}
			if !c.valid && overlayChange(rep.Signatures[0]) == nil {
				t.Fatalf("no paints-over change:\n%s", dump(t, rep))
			}
		})
	}
}

// TestSignedCommentChanged: a comment that was on the statement page when the officer
// certified at P=3 (in a blank area) may be edited in place, but moving or enlarging it
// over the statement paints over signed content.
func TestSignedCommentChanged(t *testing.T) {
	pk := getPKI()
	base := addComment(t, attackBase().classic(), 0, commentKinds[1].dict, "[350 150 550 220]", opaqueBox, "")
	r := docView(t, base)
	pages := pagesOf(r)
	annots := r.Array(r.Dict(ipdf.Ref{Num: pages[len(pages)-1]}).Get("Annots"))
	num := annots[len(annots)-1].(ipdf.Ref).Num
	one := signPDF(t, base, signOpts{key: pk.officer, certify: 3, field: "Officer"})
	signed := signPDF(t, one, signOpts{key: pk.seal, visible: true, field: "Seal", rect: "[350 20 550 90]"})
	for _, c := range []struct {
		name  string
		rect  [4]int
		valid bool
	}{
		{"edited_in_place", [4]int{350, 150, 550, 220}, true},
		{"shrunk", [4]int{360, 160, 540, 210}, true},
		{"enlarged_over_statement", [4]int{40, 150, 560, 770}, false},
		{"moved_over_statement", [4]int{40, 700, 240, 770}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			pdf := redefine(t, signed, num, func(d *ipdf.Dict) {
				d.Set("Contents", ipdf.String{Value: []byte("DA HUY")})
				d.Set("Rect", ipdf.Array{ipdf.Int(c.rect[0]), ipdf.Int(c.rect[1]), ipdf.Int(c.rect[2]), ipdf.Int(c.rect[3])})
			})
			pdf = signPDF(t, pdf, signOpts{key: bank(), field: "Bank"})
			rep := mustVerify(t, pdf, testOptions())
			if rep.Valid != c.valid {
				t.Fatalf("valid=%v, want %v:\n%s", rep.Valid, c.valid, dump(t, rep))
			}
			if !c.valid && overlayChange(rep.Signatures[0]) == nil {
				t.Fatalf("no paints-over change:\n%s", dump(t, rep))
			}
		})
	}
}

const opaqueBox = "q 1 1 1 rg 0 0 200 70 re f 0 0 1 RG 2 w 10 10 m 190 60 l S Q"

// commentKinds are the comment subtypes a reader's tools create, each with an appearance.
var commentKinds = []struct{ name, dict string }{
	{"Square", "/Subtype /Square /C [1 0 0] /IC [1 1 1] /T (Nguoi doc)"},
	{"FreeText", "/Subtype /FreeText /DA (0 g /Helv 12 Tf) /Contents (DA HUY) /T (Nguoi doc)"},
	{"Stamp", "/Subtype /Stamp /Name /Approved /T (Nguoi doc)"},
	{"Ink", "/Subtype /Ink /InkList [[50 710 500 760]] /T (Nguoi doc)"},
}

// TestCommentOverStatement: a comment of every kind whose appearance covers the statement
// (text at 72,720 on the last page) is a modification of the officer's and the seal's
// signatures, at P=2 and at P=3 (where comments as such are allowed).
func TestCommentOverStatement(t *testing.T) {
	for _, p := range []int{2, 3} {
		for _, k := range commentKinds {
			t.Run(fmt.Sprintf("P%d_%s", p, k.name), func(t *testing.T) {
				pdf := commentedCopy(t, p, 0, k.dict, "[40 700 560 770]", opaqueBox, "")
				writeAttack(t, fmt.Sprintf("comment_over_statement_p%d_%s", p, k.name), pdf)
				rep := mustVerify(t, pdf, testOptions())
				if rep.Valid || len(rep.Signatures) != 3 {
					t.Fatalf("painted-over copy reported valid:\n%s", dump(t, rep))
				}
				for _, s := range rep.Signatures[:2] {
					if s.Indication != TotalFailed || s.SubIndication != SubModifiedAfterSigning || overlayChange(s) == nil {
						t.Fatalf("signature %d (%s) not reported painted over: %s/%s\n%s", s.Index, s.Field, s.Indication, s.SubIndication, dump(t, rep))
					}
				}
				if s := rep.Signatures[0]; s.DocMDP == nil || !s.DocMDP.Violated || s.DocMDP.P != p {
					t.Errorf("officer's DocMDP P=%d not marked violated: %+v", p, s.DocMDP)
				}
				if s := rep.Signatures[2]; s.Indication != TotalPassed {
					t.Errorf("the bank's signature covers the whole file: %s/%s", s.Indication, s.SubIndication)
				}
			})
		}
	}
}

// TestCommentInBlankArea: the same comments placed where the signed revision painted
// nothing. P=3 allows them (reported as allowed annotation changes); P=2 does not.
func TestCommentInBlankArea(t *testing.T) {
	for _, k := range commentKinds {
		t.Run("P3_"+k.name, func(t *testing.T) {
			rep := mustVerify(t, commentedCopy(t, 3, 0, k.dict, "[350 150 550 220]", opaqueBox, ""), testOptions())
			if !rep.Valid {
				t.Fatalf("a comment in a blank area of a P=3 document is allowed:\n%s", dump(t, rep))
			}
			if !hasChange(rep.Signatures[0], "annotation", true, msgAnnotP3) {
				t.Errorf("the comment is not reported as an allowed annotation change:\n%s", dump(t, rep))
			}
			// The summaries say so: the copy was not left untouched.
			if !strings.Contains(rep.SummaryEN, commentsNoteEN) || !strings.Contains(rep.SummaryVI, commentsNoteVI) ||
				!strings.Contains(rep.Signatures[0].SummaryVI, commentsNoteVI) || strings.Contains(rep.SummaryEN, "nothing was changed") {
				t.Errorf("summaries do not mention the comments: %q / %q / %q", rep.SummaryEN, rep.SummaryVI, rep.Signatures[0].SummaryVI)
			}
			if strings.Contains(rep.Signatures[2].SummaryEN, commentsNoteEN) {
				t.Errorf("the countersignature covers the comment: %q", rep.Signatures[2].SummaryEN)
			}
		})
		t.Run("P2_"+k.name, func(t *testing.T) {
			rep := mustVerify(t, commentedCopy(t, 2, 0, k.dict, "[350 150 550 220]", opaqueBox, ""), testOptions())
			if rep.Valid {
				t.Fatalf("P=2 forbids comments:\n%s", dump(t, rep))
			}
			s := rep.Signatures[0]
			if s.Indication != TotalFailed || s.SubIndication != SubModifiedAfterSigning || !s.DocMDP.Violated || overlayChange(s) != nil {
				t.Fatalf("officer's signature: %s/%s\n%s", s.Indication, s.SubIndication, dump(t, rep))
			}
			if !hasChange(s, "annotation", false, "annotation shown on a page") {
				t.Errorf("the comment is not reported as a disallowed annotation change:\n%s", dump(t, rep))
			}
		})
	}
	// On the scan page too.
	rep := mustVerify(t, commentedCopy(t, 3, objPage1, commentKinds[0].dict, "[350 150 550 220]", opaqueBox, ""), testOptions())
	if !rep.Valid {
		t.Fatalf("a comment in a blank area of the scan page, P=3:\n%s", dump(t, rep))
	}
	// Over the scan's image: painted over.
	rep = mustVerify(t, commentedCopy(t, 3, objPage1, commentKinds[0].dict, "[100 420 250 580]", opaqueBox, ""), testOptions())
	if rep.Valid || overlayChange(rep.Signatures[0]) == nil {
		t.Fatalf("a comment over the scan image, P=3:\n%s", dump(t, rep))
	}
}

// TestP3OnlyComments: P=3 allows comments, not links, actions or attachments, and the
// catalog's /Names may gain named appearances (/AP) but nothing else.
func TestP3OnlyComments(t *testing.T) {
	blank := "[350 150 550 220]"
	for _, c := range []struct {
		name, dict, names string
		valid             bool
		detail            string
	}{
		{"link", "/Subtype /Link /A << /S /URI /URI (https://example.invalid/) >>", "", false, "DocMDP P=3 allows comments only"},
		{"comment_with_action", "/Subtype /Square /AA << /E << /S /JavaScript /JS (app.alert(1)) >> >>", "", false, "DocMDP P=3 allows comments only"},
		{"file_attachment", "/Subtype /FileAttachment /FS (x.exe)", "", false, "DocMDP P=3 allows comments only"},
		{"named_appearances", "/Subtype /Text /Name /Comment", "", true, msgAnnotP3},
		{"names_javascript", "/Subtype /Text /Name /Comment", "", false, "catalog /Names entry /JavaScript changed"},
		{"names_embedded_files", "/Subtype /Text /Name /Comment", "", false, "catalog /Names entry /EmbeddedFiles changed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			names := ""
			switch c.name {
			case "named_appearances":
				names = "<< /AP << /Names [(~iconComment) %d 0 R] >> >>"
			case "names_javascript":
				names = "<< /AP << /Names [(~iconComment) %d 0 R] >> /JavaScript << /Names [(a) << /S /JavaScript /JS (app.alert(1)) >>] >> >>"
			case "names_embedded_files":
				names = "<< /EmbeddedFiles << /Names [(x.exe) << /Type /Filespec /F (x.exe) >>] >> >>"
			}
			if names != "" {
				// the named appearance is the object after the names dictionary
				n := sizeOf(docView(t, certifiedCopyP(t, 3)))
				names = strings.ReplaceAll(names, "%d", fmt.Sprint(n+3))
			}
			rep := mustVerify(t, commentedCopy(t, 3, 0, c.dict, blank, opaqueBox, names), testOptions())
			if rep.Valid != c.valid {
				t.Fatalf("valid=%v, want %v:\n%s", rep.Valid, c.valid, dump(t, rep))
			}
			if !hasChange(rep.Signatures[0], "", c.valid, c.detail) {
				t.Errorf("no %v change %q:\n%s", c.valid, c.detail, dump(t, rep))
			}
		})
	}
	// At P=2 the named appearances are a disallowed annotation change.
	n := sizeOf(docView(t, certifiedCopyP(t, 2)))
	rep := mustVerify(t, commentedCopy(t, 2, 0, "/Subtype /Text /Name /Comment", "[0 0 0 0]", opaqueBox,
		fmt.Sprintf("<< /AP << /Names [(~iconComment) %d 0 R] >> >>", n+3)), testOptions())
	if rep.Valid || !hasChange(rep.Signatures[0], "annotation", false, msgNamedAP) {
		t.Fatalf("named appearances at P=2:\n%s", dump(t, rep))
	}
}

// certifiedCopyP is commentedCopy's signed base (certification at level p, then the seal).
func certifiedCopyP(t testing.TB, p int) []byte {
	t.Helper()
	pk := getPKI()
	one := signPDF(t, attackBase().classic(), signOpts{key: pk.officer, certify: p, field: "Officer"})
	return signPDF(t, one, signOpts{key: pk.seal, visible: true, field: "Seal"})
}

// hasChange reports whether s lists a change with this category ("" any), allowed flag and
// detail substring.
func hasChange(s SignatureReport, cat string, allowed bool, detail string) bool {
	for _, c := range s.ChangesAfter {
		if (cat == "" || c.Category == cat) && c.Allowed == allowed && strings.Contains(c.Detail, detail) {
			return true
		}
	}
	return false
}

// BenchmarkVerifyComment verifies a P=3 certified copy with a comment in a blank area of
// the statement page, countersigned (the comment rule and the overlay rule both run for
// the officer's and the seal's signatures), next to the same copy countersigned without
// the comment (BenchmarkVerifyComment/none) as its peer in the same run.
func BenchmarkVerifyComment(b *testing.B) {
	with := commentedCopy(b, 3, 0, commentKinds[1].dict, "[350 150 550 220]", opaqueBox, "")
	without := signPDF(b, certifiedCopyP(b, 3), signOpts{key: bank(), field: "Bank"})
	for _, c := range []struct {
		name string
		pdf  []byte
	}{{"none", without}, {"comment", with}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rep := mustVerify(b, c.pdf, testOptions())
				if !rep.Valid {
					b.Fatal("not valid")
				}
			}
		})
	}
}
