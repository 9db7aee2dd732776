package signer

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/verify"
)

// TestLTA makes a B-LTA copy (signature time-stamps, DSS, document time-stamp), checks it
// with our verifier and pdfsig, then renews it with a second document time-stamp.
func TestLTA(t *testing.T) {
	f := newFixture("Trần Văn Nghĩa")
	srv := httptest.NewServer(f.pki.TSA())
	defer srv.Close()
	ts := &certs.TSAClient{URL: srv.URL, Timeout: 5 * time.Second}
	s, err := New(Options{Level: chungthuc.PAdESLTA, Timestamper: ts, Revocation: f.pki.Revocation()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.MakeCopy(context.Background(), f.request(smallScans, "Trần Văn Nghĩa"))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(res.PDF); hex.EncodeToString(sum[:]) != res.SHA256 {
		t.Fatal("SHA256 is not the file's hash")
	}
	if n := strings.Count(string(res.PDF), "/Type /DocTimeStamp"); n != 1 {
		t.Fatalf("%d document time-stamps", n)
	}
	if !strings.Contains(string(res.PDF), "/DSS ") {
		t.Fatal("no DSS")
	}
	// pdfsig (poppler 22) lists document time-stamps but does not verify them ("Signature
	// Type: unknown"); it must still find every CAdES signature valid.
	check := func(pdf []byte, sigs int) {
		rep, err := verify.VerifyBytes(context.Background(), pdf, verify.Options{Roots: rootPool(f)})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Valid || len(rep.Signatures) != sigs {
			t.Fatalf("verify: valid=%v, %d signatures (want %d): %s / %s", rep.Valid, len(rep.Signatures), sigs, rep.SummaryEN, summaries(rep))
		}
		if _, err := exec.LookPath("pdfsig"); err != nil {
			return
		}
		dir := t.TempDir()
		p := filepath.Join(dir, "c.pdf")
		os.WriteFile(p, pdf, 0o644)
		out, _ := exec.Command("pdfsig", "-nssdir", "sql:"+NSSDB(t, dir, f.pki.RootPEM()), p).CombinedOutput()
		if strings.Count(string(out), "Signature is Valid.") != 2 || strings.Count(string(out), "Signature #") != sigs {
			t.Fatalf("pdfsig:\n%s", out)
		}
	}
	check(res.PDF, 3)
	renewed, err := AddDocumentTimestamp(context.Background(), res.PDF, ts, f.pki.Revocation())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(renewed), string(res.PDF)) {
		t.Fatal("renewal rewrote the original bytes")
	}
	check(renewed, 4)
	if _, err := AddDocumentTimestamp(context.Background(), []byte("%PDF-1.7\nnot ours"), ts, nil); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("renewal of a foreign file: %v", err)
	}
}

func summaries(rep *verify.Report) string {
	var s []string
	for _, sig := range rep.Signatures {
		s = append(s, sig.SummaryEN)
	}
	return strings.Join(s, " | ")
}

func rootPool(f *fixture) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(f.pki.Root)
	return p
}
