package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/chungthuc/chungthuc/translog"
)

// TestLogCommands: log key and log checkpoint print what verifiers need; log verify is
// clean on an honest register, checks an older checkpoint for consistency (and names one
// that is not the log's), and names an edit made behind the service's back with exit 1.
func TestLogCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data"), "CHUNGTHUC_BASE_URL": "https://ct.example.vn"}
	scan := writeScans(t, dir, 1, 60<<10)[0]
	certifyOne := func() {
		t.Helper()
		if code, out, errs := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c.pdf"), scan); code != 0 {
			t.Fatalf("certify: %d %s %s", code, out, errs)
		}
	}
	certifyOne()
	code, vkey, _ := cli(t, env, "log", "key")
	pub, _ := os.ReadFile(filepath.Join(env["CHUNGTHUC_DATA"], "pki", "log.pub"))
	if code != 0 || !strings.HasPrefix(vkey, "ct.example.vn/log+") || vkey != string(pub) {
		t.Fatalf("log key: %d %q (log.pub %q)", code, vkey, pub)
	}
	code, old, _ := cli(t, env, "log", "checkpoint")
	if code != 0 || !strings.HasPrefix(old, "ct.example.vn/log\n1\n") {
		t.Fatalf("log checkpoint: %d %q", code, old)
	}
	oldFile := filepath.Join(dir, "old.txt")
	os.WriteFile(oldFile, []byte(old), 0o644)
	certifyOne()
	certifyOne()
	code, out, errs := cli(t, env, "log", "verify", "--checkpoint", oldFile)
	var rep translog.VerifyReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.Clean || rep.LogSize != 3 || rep.CheckpointSize != 3 || rep.Rows != 3 {
		t.Fatalf("log verify --checkpoint: %d\n%s%s", code, out, errs)
	}

	// A checkpoint of another log (another key) is named.
	_, other, err := translog.GenerateKey("ct.example.vn/log")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := translog.Sign(translog.Checkpoint{Origin: "ct.example.vn/log", Size: 1, Time: time.Now()}, other)
	if err != nil {
		t.Fatal(err)
	}
	forgedFile := filepath.Join(dir, "forged.txt")
	os.WriteFile(forgedFile, forged, 0o644)
	if code, out, _ := cli(t, env, "log", "verify", "--checkpoint", forgedFile); code != 1 || !strings.Contains(out, `"kind": "consistency"`) {
		t.Fatalf("log verify with another log's checkpoint: %d\n%s", code, out)
	}

	// An officer's name changed in the file itself, its trigger dropped first (anyone who
	// can write the file can).
	db, err := sql.Open("sqlite", filepath.Join(env["CHUNGTHUC_DATA"], "register.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER certifications_immutable`, `UPDATE certifications SET officer_name = 'Lê Văn Giả' WHERE number = 2`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	code, out, _ = cli(t, env, "log", "verify")
	if code != 1 || !strings.Contains(out, "the officer's name is \\\"Lê Văn Giả\\\" in the register but \\\"Trần Văn Nghĩa\\\" in leaf 1") {
		t.Fatalf("log verify after an edit: %d\n%s", code, out)
	}
	if code, _, _ := cli(t, env, "log", "frobnicate"); code != 2 {
		t.Fatalf("unknown log subcommand: %d", code)
	}
}
