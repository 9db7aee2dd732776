package verify

import (
	"github.com/chungthuc/chungthuc/internal/pdf"

	"bytes"
	"fmt"
	"slices"
)

// checkModifications decides, for every signature, whether the file was changed after it.
func (e *engine) checkModifications() {
	finalEnd := e.fin.End()
	trailingJunk := len(bytes.Trim(e.data[finalEnd:], "\x00\t\n\f\r ")) > 0
	paint := newPaintCache()
	// DocMDP P=3 of the document's certification lets readers comment (ISO 32000-1
	// 12.8.2.2): it governs the changes after every signature of the document.
	annots := len(e.sigs) > 0 && e.sigs[0].mdp == 3
	for i, s := range e.sigs {
		if s.signed == nil {
			continue
		}
		s.rep.CoversWholeFile = len(bytes.Trim(e.data[s.end:], "\x00\t\n\f\r ")) == 0
		if s.rep.CoversWholeFile {
			s.check("modifications", CheckPassed, "the signature covers the whole file")
			continue
		}
		later := map[int]bool{}
		for _, t := range e.sigs[i+1:] {
			if t.intact && t.end > s.end && t.container != 0 {
				later[t.container] = true
			}
		}
		var changes []Change
		if trailingJunk {
			changes = append(changes, Change{Category: "structure", Detail: "data appended after the last revision"})
		}
		if !slices.ContainsFunc(e.fin.Sections(), func(x *pdf.Section) bool { return x.Off == s.signed.StartXref() }) {
			changes = append(changes, Change{Category: "structure", Detail: "the final cross-reference chain does not include the signed revision"})
		}
		if msg := accountAppended(e.fin, s.end, finalEnd); msg != "" {
			changes = append(changes, Change{Category: "structure", Detail: msg})
		}
		for _, n := range e.fin.Ambiguous() {
			changes = append(changes, Change{Object: n, Category: "structure", Detail: "a hybrid cross-reference lists this object twice, differently"})
		}
		changes = append(changes, diffRevisions(s.signed, e.fin, later, paint, annots)...)
		s.rep.ChangesAfter = changes
		bad := 0
		onlyDSS := true
		for _, c := range changes {
			if !c.Allowed {
				bad++
			}
			if !c.Allowed || c.Category != "dss" {
				onlyDSS = false
			}
		}
		s.onlyValidationDataAfter = onlyDSS
		if bad > 0 {
			s.rep.ModifiedAfterSigning = true
			first := changes[slices.IndexFunc(changes, func(c Change) bool { return !c.Allowed })]
			s.fail(TotalFailed, SubModifiedAfterSigning, "modifications", "%d change(s) after signing alter the document, e.g. %s: %s", bad, first.Category, first.Detail)
		} else {
			s.check("modifications", CheckPassed, "only allowed changes after signing (%s)", summarizeChanges(changes))
		}
	}
	// The last signature must cover the whole file: only validation data (DSS) may follow.
	if n := len(e.sigs); n > 0 {
		last := e.sigs[n-1]
		if last.signed != nil && !last.rep.CoversWholeFile && !last.onlyValidationDataAfter {
			last.fail(TotalFailed, SubModifiedAfterSigning, "coverage", "the file continues after the last signature (%d more bytes) with more than validation data", int64(len(e.data))-last.end)
			e.check("coverage", CheckFailed, "the last signature does not cover the whole file")
		} else if last.signed != nil {
			e.check("coverage", CheckPassed, "the last signature covers the whole file (or only validation data follows)")
		}
	}
}

func summarizeChanges(cs []Change) string {
	n := map[string]int{}
	var order []string
	for _, c := range cs {
		if n[c.Category] == 0 {
			order = append(order, c.Category)
		}
		n[c.Category]++
	}
	if len(order) == 0 {
		return "no object changed"
	}
	var b bytes.Buffer
	for i, k := range order {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s ×%d", k, n[k])
	}
	return b.String()
}

// docMDPOf returns the DocMDP permission level of a signature dictionary (0 if it is not a
// certification signature).
func (e *engine) docMDPOf(view *pdf.Revision, d *pdf.Dict) int {
	refs, _ := view.Resolve(d.Get("Reference")).(pdf.Array)
	for _, x := range refs {
		rd := view.Dict(x)
		if pdf.NameOf(view.Resolve(rd.Get("TransformMethod"))) != "DocMDP" {
			continue
		}
		tp := view.Dict(rd.Get("TransformParams"))
		p, ok := pdf.IntOf(view.Resolve(tp.Get("P")))
		if !ok {
			return 2 // the default
		}
		if p < 1 || p > 3 {
			return 1 // an invalid value is read as the strictest
		}
		return int(p)
	}
	return 0
}

// checkDocMDP enforces the permissions of the certification signature.
func (e *engine) checkDocMDP() {
	perms := e.fin.Dict(e.fin.Root().Get("Perms"))
	permRef, hasPerm := perms.Get("DocMDP").(pdf.Ref)
	for i, s := range e.sigs {
		if s.mdp == 0 {
			if hasPerm && s.sigNum == permRef.Num && s.dict != nil {
				// Named by /Perms but without a DocMDP reference: default permissions.
				s.mdp = 2
				s.rep.Kind = "certification"
				s.rep.DocMDP = &DocMDPInfo{P: 2}
			} else {
				continue
			}
		}
		if !hasPerm || permRef.Num != s.sigNum {
			s.check("docmdp", CheckWarning, "the catalog's /Perms does not name this certification signature")
		}
		if i != 0 {
			s.rep.DocMDP.Violated = true
			s.fail(TotalFailed, SubModifiedAfterSigning, "docmdp", "a certification signature must be the first signature of the document")
			continue
		}
		var violation string
		for _, t := range e.sigs[i+1:] {
			if s.mdp == 1 && !t.docTS {
				violation = "P=1 forbids any later signature, but signature " + fmt.Sprint(t.rep.Index) + " follows"
				break
			}
		}
		for _, c := range s.rep.ChangesAfter {
			if violation != "" {
				break
			}
			switch {
			case !c.Allowed:
				violation = fmt.Sprintf("%s changed (%s)", c.Category, c.Detail)
			case s.mdp == 1 && c.Category != "dss" && c.Category != "signature":
				violation = fmt.Sprintf("P=1 forbids %s changes", c.Category)
			}
		}
		if violation != "" {
			s.rep.DocMDP.Violated = true
			s.fail(TotalFailed, SubModifiedAfterSigning, "docmdp", "DocMDP P=%d violated: %s", s.mdp, violation)
		} else {
			s.check("docmdp", CheckPassed, "DocMDP P=%d respected by every later revision", s.mdp)
		}
	}
	if hasPerm && !slices.ContainsFunc(e.sigs, func(s *sigState) bool { return s.sigNum == permRef.Num }) {
		e.check("docmdp", CheckFailed, "the catalog's /Perms names a certification signature that is not in the form")
	}
}
