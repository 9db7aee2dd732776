package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// TestKillMidCertification kills the real binary with SIGKILL at random moments of a
// certification, many times, then runs fsck and audit verify: the register must be gapless
// (every number issued or void, none pending), every issued entry's copy must be stored with
// its hash, and the audit chain intact. It runs on the embedded default, and on PostgreSQL and
// MinIO when the test services are configured.
func TestKillMidCertification(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a process 100 times")
	}
	backends := map[string]func(t *testing.T) map[string]string{"embedded": func(t *testing.T) map[string]string { return map[string]string{} }}
	if url := os.Getenv("CHUNGTHUC_TEST_DATABASE_URL"); url != "" && os.Getenv("CHUNGTHUC_TEST_S3_ENDPOINT") != "" {
		backends["postgres+s3"] = productionEnv
	} else {
		t.Log("PostgreSQL and MinIO not both configured (CHUNGTHUC_TEST_DATABASE_URL, CHUNGTHUC_TEST_S3_ENDPOINT): the production variant is skipped")
	}
	bin := buildBinary(t)
	for name, envf := range backends {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := envf(t)
			env["CHUNGTHUC_DATA"] = filepath.Join(dir, "data")
			scans := writeScans(t, dir, 2, 400<<10)
			run := func(ctx context.Context, args ...string) *exec.Cmd {
				cmd := exec.CommandContext(ctx, bin, args...)
				cmd.Env = os.Environ()
				for k, v := range env {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
				return cmd
			}
			// Set up (seed, migrate) once so that kills land in certifications.
			if out, err := run(context.Background(), "migrate").CombinedOutput(); err != nil {
				t.Fatalf("migrate: %v\n%s", err, out)
			}
			if name != "embedded" {
				if out, err := run(context.Background(), "unit", "add", "--code", "HB", "--name", "Phường Hòa Bình", "--place", "Hòa Bình", "--seal", testSealFile()).CombinedOutput(); err != nil {
					t.Fatalf("unit add: %v\n%s", err, out)
				}
				if out, err := run(context.Background(), "officer", "add", "--unit", "HB", "--name", "Trần Văn Nghĩa", "--title", "PHÓ CHỦ TỊCH").CombinedOutput(); err != nil {
					t.Fatalf("officer add: %v\n%s", err, out)
				}
			}
			// Measure one certification to spread the kills over its duration.
			start := time.Now()
			if out, err := run(context.Background(), append([]string{"certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c0.pdf")}, scans...)...).CombinedOutput(); err != nil {
				t.Fatalf("certify: %v\n%s", err, out)
			}
			span := time.Since(start)
			rng := rand.New(rand.NewSource(1))
			killed := 0
			for i := 1; i <= 100; i++ {
				cmd := run(context.Background(), append([]string{"certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, fmt.Sprintf("c%d.pdf", i))}, scans...)...)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(rng.Int63n(int64(span) + 1)))
				if cmd.Process.Kill() == nil {
					killed++
				}
				cmd.Wait()
			}
			t.Logf("%d of 100 runs killed (a certification takes about %v)", killed, span.Round(time.Millisecond))

			out, err := run(context.Background(), "fsck", "--grace", "0s").CombinedOutput()
			if err != nil {
				t.Fatalf("fsck: %v\n%s", err, out)
			}
			t.Logf("fsck: %s", strings.Join(strings.Fields(string(out)), " "))
			if out, err := run(context.Background(), "audit", "verify").CombinedOutput(); err != nil || !strings.Contains(string(out), `"intact": true`) {
				t.Fatalf("audit verify: %v\n%s", err, out)
			}
			// A second fsck finds nothing left to do.
			out, err = run(context.Background(), "fsck", "--grace", "0s").Output()
			var rep fsckReport
			if err != nil || json.Unmarshal(out, &rep) != nil || len(rep.Voided) != 0 || !rep.Clean {
				t.Fatalf("second fsck not clean: %v\n%s", err, out)
			}
			checkGapless(t, env)
		})
	}
}

// checkGapless opens the register and checks numbers 1..N are all issued or void, and every
// issued entry's copy is stored with the recorded hash.
func checkGapless(t *testing.T, env map[string]string) {
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := openApp(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	u, err := a.reg.UnitByCode(ctx, "HB")
	if err != nil {
		t.Fatal(err)
	}
	list, total, err := a.reg.Certifications(ctx, chungthuc.CertificationFilter{UnitID: u.ID, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(list) {
		t.Fatalf("listed %d of %d", len(list), total)
	}
	seen := map[int64]bool{}
	issued, void := 0, 0
	for _, c := range list {
		if seen[c.Number] {
			t.Fatalf("number %d twice", c.Number)
		}
		seen[c.Number] = true
		switch c.Status {
		case chungthuc.StatusIssued:
			issued++
			info, err := a.objects.Stat(ctx, c.ObjectKey)
			if err != nil || (info.SHA256 != "" && info.SHA256 != c.SHA256) {
				t.Fatalf("issued entry %d: copy %s: %+v %v", c.Number, c.ObjectKey, info, err)
			}
		case chungthuc.StatusVoid:
			void++
			if c.VoidReason == "" {
				t.Fatalf("void entry %d without a reason", c.Number)
			}
		default:
			t.Fatalf("entry %d is %s after fsck", c.Number, c.Status)
		}
	}
	for n := int64(1); n <= int64(len(list)); n++ {
		if !seen[n] {
			t.Fatalf("number %d missing: the register has a gap", n)
		}
	}
	t.Logf("register: %d entries, %d issued, %d void, numbers 1..%d without a gap", len(list), issued, void, len(list))
}

// buildBinary builds chungthuc into a temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chungthuc")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
