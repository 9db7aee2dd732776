package signer

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testscan"
)

// TestPreview: the preview is the stamped copy without a number, without any signature (no
// key is asked, nothing is allocated) and with the preview mark on every page.
func TestPreview(t *testing.T) {
	f := newFixture("Trần Văn Nghĩa")
	in := f.request(smallScans, "Trần Văn Nghĩa")
	in.Officer, in.Seal = nil, nil // no key is needed
	allocated := false
	in.Allocate = func(context.Context, int) (*chungthuc.Allocation, error) { allocated = true; return nil, nil }
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, chungthuc.Vietnam)
	res, err := testSigner.Preview(context.Background(), in, "…", "https://chungthuc.example.vn/v/…", at)
	if err != nil {
		t.Fatal(err)
	}
	if allocated || res.Pages != 3 || res.OriginalPages != 2 || res.SHA256 != "" {
		t.Fatalf("allocated %v, pages %d/%d, hash %q", allocated, res.Pages, res.OriginalPages, res.SHA256)
	}
	if bytes.Contains(res.PDF, []byte("/ByteRange")) || bytes.Contains(res.PDF, []byte("/Contents <")) {
		t.Fatal("the preview carries a signature")
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler) not installed: the text check is skipped")
	}
	dir := os.Getenv("CHUNGTHUC_SCREENSHOTS") // to look at it
	if dir == "" {
		dir = t.TempDir()
	}
	file := filepath.Join(dir, "preview.pdf")
	if err := os.WriteFile(file, res.PDF, 0o600); err != nil {
		t.Fatal(err)
	}
	for page := 1; page <= 3; page++ {
		out, err := exec.Command("pdftotext", "-enc", "UTF-8", "-f", itoa(page), "-l", itoa(page), file, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		text := string(out)
		if !strings.Contains(text, PreviewMark) || !strings.Contains(text, "Số chứng thực … · Quyển số …") {
			t.Errorf("page %d:\n%s", page, text)
		}
		if page == 3 && !strings.Contains(text, "Số chứng thực …, quyển số …") {
			t.Errorf("statement page:\n%s", text)
		}
	}
	// A broken scan is refused as a certification would be.
	in.Scans = []chungthuc.Scan{{Name: "x.jpg", Data: []byte("not a picture")}}
	if _, err := testSigner.Preview(context.Background(), in, "…", "https://x/v/…", at); err == nil {
		t.Fatal("a broken scan previewed")
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

// BenchmarkPreview: a preview against a certification of the same scans (3 pages, 1 MB).
func BenchmarkPreview(b *testing.B) {
	scans := testscan.Scans(3, 1<<20, 200)
	f := newFixture("Trần Văn Nghĩa")
	req := f.request(scans, "Trần Văn Nghĩa")
	at := time.Now()
	b.Run("preview", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := testSigner.Preview(context.Background(), req, "…", "https://x/v/…", at); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("certify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := testSigner.MakeCopy(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
