package verify

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Agreement with poppler's pdfsig on our own outputs and on the attack files. pdfsig must
// accept what we accept; where it accepts what we reject, the case is recorded (REPORT.md
// lists them). Set VERIFY_AGREEMENT_OUT=file to write the table.

// nssDB makes an NSS database trusting the test root, for pdfsig -nssdir.
func nssDB(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("certutil"); err != nil {
		t.Skip("certutil (libnss3-tools) not installed")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root.pem")
	os.WriteFile(root, getPKI().rootPEM, 0o600)
	for _, args := range [][]string{
		{"-N", "-d", "sql:" + dir, "--empty-password"},
		{"-A", "-d", "sql:" + dir, "-n", "root", "-t", "C,C,C", "-i", root},
	} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	return "sql:" + dir
}

// pdfsigVerdict runs pdfsig and summarises: every signature "Signature is Valid.", every
// certificate trusted, and the last signature covering the whole document.
type pdfsigVerdict struct {
	sigs, valid, trusted int
	lastTotal            bool
	raw                  string
}

func (v pdfsigVerdict) accepts() bool {
	return v.sigs > 0 && v.valid == v.sigs && v.trusted == v.sigs && v.lastTotal
}

func (v pdfsigVerdict) String() string {
	if v.sigs == 0 {
		return "no signature found / error"
	}
	cov := "last not total"
	if v.lastTotal {
		cov = "last total"
	}
	return fmt.Sprintf("%d/%d sig valid, %d trusted, %s", v.valid, v.sigs, v.trusted, cov)
}

func runPdfsig(t testing.TB, nss, file string) pdfsigVerdict {
	out, _ := exec.Command("pdfsig", "-nssdir", nss, file).CombinedOutput()
	v := pdfsigVerdict{raw: string(out)}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Signature #"):
			v.sigs++
			v.lastTotal = false
		case line == "- Signature Validation: Signature is Valid.":
			v.valid++
		case line == "- Certificate Validation: Certificate is Trusted.":
			v.trusted++
		case line == "- Total document signed":
			v.lastTotal = true
		}
	}
	return v
}

func TestPdfsigAgreement(t *testing.T) {
	if _, err := exec.LookPath("pdfsig"); err != nil {
		t.Skip("pdfsig (poppler-utils) not installed")
	}
	if testing.Short() {
		t.Skip("short")
	}
	nss := nssDB(t)
	dir := t.TempDir()
	p := getPKI()
	base := attackBase()
	own := map[string][]byte{
		"own_certified_copy_classic": certifiedCopy(t, base.classic()),
		"own_certified_copy_modern":  certifiedCopy(t, base.modern()),
		"own_with_timestamps": signPDF(t, signPDF(t, base.classic(), signOpts{key: p.officer, certify: 2, tsa: true}),
			signOpts{key: p.seal, visible: true, tsa: true}),
		"own_clean_foreign_countersignature": cleanCountersigned(t, false),
	}
	var table strings.Builder
	table.WriteString("| file | ours | pdfsig | agreement |\n|---|---|---|---|\n")
	lenient := 0
	check := func(name string, pdf []byte) {
		file := filepath.Join(dir, name+".pdf")
		os.WriteFile(file, pdf, 0o644)
		rep := mustVerify(t, pdf, testOptions())
		ps := runPdfsig(t, nss, file)
		ours := "not valid: " + rep.Indication + "/" + rep.SubIndication
		if rep.Valid {
			ours = "valid"
		}
		agree := "agree"
		switch {
		case rep.Valid && !ps.accepts():
			agree = "pdfsig STRICTER"
			t.Errorf("%s: we accept, pdfsig does not: %s\n%s", name, ps, ps.raw)
		case !rep.Valid && ps.accepts():
			agree = "**pdfsig more lenient**"
			lenient++
		case !rep.Valid && ps.sigs > 0 && ps.valid == ps.sigs && ps.trusted == ps.sigs:
			agree = "pdfsig: every signature \"valid\", only flags coverage"
			lenient++
		}
		fmt.Fprintf(&table, "| %s | %s | %s | %s |\n", name, ours, ps, agree)
	}
	for name, pdf := range own {
		check(name, pdf)
	}
	for _, a := range attacks() {
		check(a.name, a.build(t))
	}
	for _, o := range sneakyOverlays() {
		check("overlay_"+o.name, o.build(t))
	}
	t.Logf("pdfsig more lenient than us on %d files\n%s", lenient, table.String())
	if out := os.Getenv("VERIFY_AGREEMENT_OUT"); out != "" {
		os.WriteFile(out, []byte(table.String()), 0o644)
	}
}
