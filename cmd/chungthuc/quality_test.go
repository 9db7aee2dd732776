package main

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc/internal/testscan"
)

// TestScanQualityGate drives the binary's entry point on the embedded default, where the
// gate is on by default: a 60×85 px scan (≈7 dpi on A4) is refused even when the officer
// confirms; a 170 dpi scan is refused until the officer confirms; neither refusal uses a
// number (the confirmed copy is number 1); CHUNGTHUC_SCAN_QUALITY_GATE=off turns the gate off.
func TestScanQualityGate(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tiny := write("tiny.png", testscan.PNG(image.NewGray(image.Rect(0, 0, 60, 85)), 0))
	low := write("low.jpg", testscan.Scans(1, 300<<10, 170)[0])
	certify := func(env map[string]string, scan string, extra ...string) (int, string, string) {
		args := append([]string{"certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Văn An",
			"--out", filepath.Join(dir, "copy.pdf")}, extra...)
		return cli(t, env, append(args, scan)...)
	}
	for _, c := range []struct {
		scan  string
		extra []string
		want  string
	}{
		{tiny, nil, "dpi"},
		{tiny, []string{"--confirm-low-resolution"}, "150 dpi"},
		{low, nil, "200 dpi"},
	} {
		code, stdout, stderr := certify(env, c.scan, c.extra...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Fatalf("certify %s %v: exit %d, want a refusal naming %q\n%s%s", filepath.Base(c.scan), c.extra, code, c.want, stdout, stderr)
		}
	}
	code, stdout, stderr := certify(env, low, "--confirm-low-resolution")
	if code != 0 {
		t.Fatalf("confirmed 170 dpi scan: exit %d\n%s%s", code, stdout, stderr)
	}
	var out struct {
		Number int64 `json:"number"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || out.Number != 1 {
		t.Fatalf("the confirmed copy is number %d (%v), want 1: the refusals must not use numbers\n%s", out.Number, err, stdout)
	}
	off := map[string]string{"CHUNGTHUC_DATA": env["CHUNGTHUC_DATA"], "CHUNGTHUC_SCAN_QUALITY_GATE": "off"}
	if code, stdout, stderr := certify(off, tiny); code != 0 {
		t.Fatalf("with the gate off: exit %d\n%s%s", code, stdout, stderr)
	}
	bad := map[string]string{"CHUNGTHUC_DATA": env["CHUNGTHUC_DATA"], "CHUNGTHUC_SCAN_QUALITY_GATE": "maybe"}
	if code, _, stderr := certify(bad, low); code == 0 || !strings.Contains(stderr, "CHUNGTHUC_SCAN_QUALITY_GATE") {
		t.Fatalf("a bad setting: exit %d %s", code, stderr)
	}
}
