package testscan

import (
	"fmt"
	"strings"
)

// ScriptedPDF is a one-page PDF scan that runs JavaScript when opened (OpenAction): intake
// removes the script, so the workspace asks the officer to confirm before signing.
func ScriptedPDF() []byte {
	content := "BT /F1 24 Tf 40 150 Td (Hop dong) Tj ET"
	objs := []string{
		"<</Type /Catalog /Pages 2 0 R /OpenAction 5 0 R>>",
		"<</Type /Pages /Kids [3 0 R] /Count 1>>",
		"<</Type /Page /Parent 2 0 R /MediaBox [0 0 400 300] /Contents 4 0 R /Resources <</Font <</F1 6 0 R>>>>>>",
		fmt.Sprintf("<</Length %d>>\nstream\n%s\nendstream", len(content), content),
		"<</S /JavaScript /JS (app.alert\\('x'\\))>>",
		"<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>",
	}
	var b strings.Builder
	b.WriteString("%PDF-1.7\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return []byte(b.String())
}
