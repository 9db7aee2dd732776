package verify

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// BenchmarkVerify verifies a doubly signed (certification + visible approval) copy of a
// 1 MB scan. When pdfsig is installed it also times whole pdfsig processes on the same
// file in the same run and reports pdfsig-ns/op and pdfsig/ours (how many times faster
// we are than spawning pdfsig).
func BenchmarkVerify(b *testing.B) {
	pdf := certifiedCopy(b, basePDF(3, 1<<20, false).classic())
	opt := testOptions()
	var pdfsigNs float64
	if _, err := exec.LookPath("pdfsig"); err == nil {
		nss := nssDB(b)
		file := filepath.Join(b.TempDir(), "copy.pdf")
		os.WriteFile(file, pdf, 0o644)
		var runs []time.Duration
		for range 9 {
			start := time.Now()
			if out, err := exec.Command("pdfsig", "-nssdir", nss, file).CombinedOutput(); err != nil || !bytes.Contains(out, []byte("Total document signed")) {
				b.Fatalf("pdfsig: %v\n%s", err, out)
			}
			runs = append(runs, time.Since(start))
		}
		sort.Slice(runs, func(i, j int) bool { return runs[i] < runs[j] })
		pdfsigNs = float64(runs[len(runs)/2].Nanoseconds())
	}
	b.Run("1MB", func(b *testing.B) {
		b.SetBytes(int64(len(pdf)))
		b.ReportAllocs()
		for b.Loop() {
			rep, err := Verify(context.Background(), bytes.NewReader(pdf), int64(len(pdf)), opt)
			if err != nil || !rep.Valid {
				b.Fatalf("not valid: %v", err)
			}
		}
		if pdfsigNs > 0 {
			ours := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(pdfsigNs, "pdfsig-ns/op")
			b.ReportMetric(pdfsigNs/ours, "pdfsig/ours")
		}
	})
}
