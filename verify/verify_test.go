package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
)

func mustVerify(t testing.TB, pdf []byte, opt Options) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), opt)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

func dump(t testing.TB, rep *Report) string {
	b, _ := json.MarshalIndent(rep, "", "  ")
	return string(b)
}

func TestCertifiedCopyIsValid(t *testing.T) {
	for _, modern := range []bool{false, true} {
		w := basePDF(2, 3000, false)
		base := w.classic()
		if modern {
			base = w.modern()
		}
		pdf := certifiedCopy(t, base)
		rep := mustVerify(t, pdf, testOptions())
		if !rep.Valid || rep.Indication != TotalPassed || len(rep.Signatures) != 2 {
			t.Fatalf("modern=%v: want valid, got\n%s", modern, dump(t, rep))
		}
		s1, s2 := rep.Signatures[0], rep.Signatures[1]
		if s1.Kind != "certification" || s1.DocMDP == nil || s1.DocMDP.P != 2 || s2.Kind != "approval" {
			t.Errorf("kinds: %s %v %s", s1.Kind, s1.DocMDP, s2.Kind)
		}
		if s1.CoversWholeFile || !s2.CoversWholeFile || s1.ModifiedAfterSigning {
			t.Errorf("coverage: %+v", rep)
		}
		if len(s1.ChangesAfter) == 0 {
			t.Errorf("no changes listed after signature 1")
		}
		for _, c := range s1.ChangesAfter {
			if !c.Allowed || c.Category != "signature" {
				t.Errorf("change after sig 1: %+v", c)
			}
		}
		if s2.Signer == nil || s2.Signer.Subject == "" {
			t.Errorf("no signer")
		}
	}
}
