package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	_ "modernc.org/sqlite"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/s3"
)

// issuedCopy is what a test keeps of a certification made through the API.
type issuedCopy struct {
	ID         int64
	Token      string
	AccessCode string
	SHA256     string
	PDF        []byte
}

// certifyN certifies n copies of distinct documents through the JSON API and reads each
// one back.
func (s *service) certifyN(t *testing.T, n int) []issuedCopy {
	t.Helper()
	var out []issuedCopy
	for i := range n {
		scan := testscanN(t, i)
		st, m := s.apiCertify(scan, "Giấy tờ số "+strconv.Itoa(i+1))
		if st != 201 {
			t.Fatalf("certify %d: %d %v", i, st, m)
		}
		u := m["verify_url"].(string)
		c := issuedCopy{ID: int64(m["id"].(float64)), Token: u[strings.LastIndex(u, "/")+1:], AccessCode: m["access_code"].(string), SHA256: m["sha256"].(string)}
		st, c.PDF = s.download(c.Token, c.AccessCode)
		if st != 200 {
			t.Fatalf("download %d: %d", i, st)
		}
		out = append(out, c)
	}
	return out
}

// testscanN is a scan that differs from those of other i.
func testscanN(t *testing.T, i int) []byte {
	paths := writeScans(t, t.TempDir(), 1, (150+i*7)<<10)
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// download posts the access code to the public link.
func (s *service) download(token, code string) (int, []byte) {
	res, err := http.PostForm(s.base+"/v/"+token+"/download", url.Values{"code": {code}})
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// publicStatus is the JSON verification status of a token.
func (s *service) publicStatus(token string) map[string]any {
	res, err := http.Get(s.base + "/api/v1/verify/" + token)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return m
}

// bucket opens the service's S3 bucket directly, as someone holding its keys.
func bucket(t *testing.T, env map[string]string) *minio.Client {
	ctx := context.Background()
	st, err := s3.New(ctx, s3.Config{Endpoint: env["CHUNGTHUC_S3_ENDPOINT"], Bucket: env["CHUNGTHUC_S3_BUCKET"],
		AccessKey: env["CHUNGTHUC_S3_ACCESS_KEY"], SecretKey: env["CHUNGTHUC_S3_SECRET_KEY"]})
	if err != nil {
		t.Fatal(err)
	}
	return st.Client()
}

// copyKey is where a copy of this hash is stored.
func copyKey(sum string) string { return "copies/" + sum + ".pdf" }

// fsckReportOf runs fsck with args and decodes its report.
func fsckReportOf(t *testing.T, env map[string]string, args ...string) (int, map[string]any) {
	t.Helper()
	code, out, errs := cli(t, env, append([]string{"fsck"}, args...)...)
	var rep map[string]any
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("fsck %v: exit %d, not JSON: %v\n%s\n%s", args, code, err, out, errs)
	}
	return code, rep
}

// problemKinds maps the keys fsck found problems with to their kinds.
func problemKinds(rep map[string]any, field string) map[string]string {
	out := map[string]string{}
	list, _ := rep[field].([]any)
	for _, p := range list {
		m := p.(map[string]any)
		out[m["key"].(string)] = m["kind"].(string)
	}
	return out
}

// TestStoredCopyTampering changes stored copies behind the service's back in every way the
// issue names — another citizen's PDF put in place, a 16-byte forgery, a corrupted object
// that keeps its original metadata, a plain PUT over a locked object (a new version), a
// delete (a delete marker under Object Lock) — on the file store, a MinIO bucket without
// and one with Object Lock. No download ever answers 200 with wrong bytes; the public
// status stops saying plainly "valid" once the stored copy is known to be missing, damaged,
// overwritten or deleted; fsck --deep names each case, exits 1, and deletes nothing.
func TestStoredCopyTampering(t *testing.T) {
	type tamper struct {
		name string
		do   func(t *testing.T, s *service, c, other issuedCopy)
		// What follows: the download's status (200 means the original bytes), the kind
		// fsck --deep reports and the public stored_copy afterwards.
		status int
		kind   string
	}
	fsPath := func(s *service, c issuedCopy) string {
		return filepath.Join(s.env["CHUNGTHUC_DATA"], "objects", copyKey(c.SHA256))
	}
	putRaw := func(t *testing.T, s *service, c issuedCopy, data []byte) {
		cl := bucket(t, s.env)
		ctx := context.Background()
		st, err := cl.StatObject(ctx, s.env["CHUNGTHUC_S3_BUCKET"], copyKey(c.SHA256), minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Keep the original metadata (its hash): only the bytes change.
		if _, err := cl.PutObject(ctx, s.env["CHUNGTHUC_S3_BUCKET"], copyKey(c.SHA256), bytes.NewReader(data), int64(len(data)),
			minio.PutObjectOptions{UserMetadata: map[string]string{"Sha256": st.UserMetadata["Sha256"]}, ContentType: "application/pdf"}); err != nil {
			t.Fatal(err)
		}
	}
	removeRaw := func(t *testing.T, s *service, c issuedCopy) {
		if err := bucket(t, s.env).RemoveObject(context.Background(), s.env["CHUNGTHUC_S3_BUCKET"], copyKey(c.SHA256), minio.RemoveObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	corrupt := func(b []byte) []byte { b = bytes.Clone(b); b[len(b)/2] ^= 0x20; return b }
	forged := []byte("%PDF-1.7 forged!")
	backends := []struct {
		name    string
		extra   func(t *testing.T) (string, map[string]string)
		tampers []tamper
	}{
		{"files", func(t *testing.T) (string, map[string]string) { return "embedded", nil }, []tamper{
			{"another citizen's PDF", func(t *testing.T, s *service, c, o issuedCopy) { os.WriteFile(fsPath(s, c), o.PDF, 0o640) }, 500, chungthuc.FindingDamaged},
			{"a 16-byte forgery", func(t *testing.T, s *service, c, o issuedCopy) { os.WriteFile(fsPath(s, c), forged, 0o640) }, 500, chungthuc.FindingDamaged},
			{"corrupted, metadata kept", func(t *testing.T, s *service, c, o issuedCopy) { os.WriteFile(fsPath(s, c), corrupt(c.PDF), 0o640) }, 500, chungthuc.FindingDamaged},
			{"deleted", func(t *testing.T, s *service, c, o issuedCopy) { os.Remove(fsPath(s, c)) }, 500, chungthuc.FindingMissing},
		}},
		{"minio", func(t *testing.T) (string, map[string]string) {
			if os.Getenv("CHUNGTHUC_TEST_DATABASE_URL") == "" || os.Getenv("CHUNGTHUC_TEST_S3_ENDPOINT") == "" {
				t.Skip("PostgreSQL and MinIO not both configured")
			}
			return "postgres+s3", map[string]string{"CHUNGTHUC_S3_RETENTION_YEARS": "0"}
		}, []tamper{
			{"another citizen's PDF", func(t *testing.T, s *service, c, o issuedCopy) { putRaw(t, s, c, o.PDF) }, 500, chungthuc.FindingDamaged},
			{"a 16-byte forgery", func(t *testing.T, s *service, c, o issuedCopy) { putRaw(t, s, c, forged) }, 500, chungthuc.FindingDamaged},
			{"corrupted, metadata kept", func(t *testing.T, s *service, c, o issuedCopy) { putRaw(t, s, c, corrupt(c.PDF)) }, 500, chungthuc.FindingDamaged},
			{"deleted", func(t *testing.T, s *service, c, o issuedCopy) { removeRaw(t, s, c) }, 500, chungthuc.FindingMissing},
		}},
		{"minio-object-lock", func(t *testing.T) (string, map[string]string) {
			if os.Getenv("CHUNGTHUC_TEST_DATABASE_URL") == "" || os.Getenv("CHUNGTHUC_TEST_S3_ENDPOINT") == "" {
				t.Skip("PostgreSQL and MinIO not both configured")
			}
			return "postgres+s3", nil // productionEnv: one year of Object Lock
		}, []tamper{
			{"another citizen's PDF (a new version)", func(t *testing.T, s *service, c, o issuedCopy) { putRaw(t, s, c, o.PDF) }, 200, chungthuc.FindingOverwritten},
			{"a 16-byte forgery (a new version)", func(t *testing.T, s *service, c, o issuedCopy) { putRaw(t, s, c, forged) }, 200, chungthuc.FindingOverwritten},
			{"deleted (a delete marker)", func(t *testing.T, s *service, c, o issuedCopy) { removeRaw(t, s, c) }, 200, chungthuc.FindingDeleted},
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			backend, extra := b.extra(t)
			s := newService(t, backend, extra)
			copies := s.certifyN(t, len(b.tampers)+1)
			intact := copies[len(copies)-1]
			for i, tc := range b.tampers {
				tc.do(t, s, copies[i], intact)
			}
			for i, tc := range b.tampers {
				c := copies[i]
				st, body := s.download(c.Token, c.AccessCode)
				if st != tc.status || (st == 200 && !bytes.Equal(body, c.PDF)) || (st != 200 && bytes.HasPrefix(body, []byte("%PDF"))) {
					t.Errorf("%s: download %d (%d bytes, the original: %v), want %d", tc.name, st, len(body), bytes.Equal(body, c.PDF), tc.status)
				}
			}
			code, rep := fsckReportOf(t, s.env, "--deep")
			kinds := problemKinds(rep, "problems")
			if code != 1 || rep["clean"] != false {
				t.Errorf("fsck --deep after tampering: exit %d, clean %v", code, rep["clean"])
			}
			for i, tc := range b.tampers {
				c := copies[i]
				if got := kinds[copyKey(c.SHA256)]; got != tc.kind {
					t.Errorf("%s: fsck --deep names it %q, want %q", tc.name, got, tc.kind)
				}
				if st := s.publicStatus(c.Token); st["status"] != "valid" || st["stored_copy"] != tc.kind {
					t.Errorf("%s: public status %v / %v, want valid / %s", tc.name, st["status"], st["stored_copy"], tc.kind)
				}
			}
			if _, ok := kinds[copyKey(intact.SHA256)]; ok {
				t.Errorf("the intact copy is reported: %v", kinds)
			}
			if st := s.publicStatus(intact.Token); st["stored_copy"] != "ok" {
				t.Errorf("intact copy: stored_copy %v", st["stored_copy"])
			}
			if st, body := s.download(intact.Token, intact.AccessCode); st != 200 || !bytes.Equal(body, intact.PDF) {
				t.Errorf("intact copy: download %d", st)
			}
			details, _ := json.Marshal(rep["problems"])
			t.Logf("fsck --deep: %s", details)
			// The metrics count what downloads and fsck found in this process.
			res, _ := http.Get(s.base + "/metrics")
			mb, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(mb), "chungthuc_object_integrity_failures_total") {
				t.Errorf("no integrity metric")
			}
		})
	}
}

// TestOrphansAreKept restores the embedded register from an older copy of its file (the
// restore-an-older-backup of the issue) and deletes a row behind the service's back: the
// copies made after the backup and the copy of the deleted row stay in the store; fsck
// reports them as orphans and exits 1, every time; serve logs them at ERROR, counts them
// in chungthuc_orphan_objects and shows them to the system administrator.
func TestOrphansAreKept(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	scans := writeScans(t, dir, 3, 120<<10)
	certify := func(i int) certified {
		code, out, errs := cli(t, env, "certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c"+strconv.Itoa(i)+".pdf"), scans[i])
		if code != 0 {
			t.Fatalf("certify: %d %s %s", code, out, errs)
		}
		var c certified
		json.Unmarshal([]byte(out), &c)
		return c
	}
	c1 := certify(0)
	db := filepath.Join(dir, "data", "register.db")
	backup, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	c2, c3 := certify(1), certify(2)
	// The restore.
	os.Remove(db + "-wal")
	os.Remove(db + "-shm")
	if err := os.WriteFile(db, backup, 0o640); err != nil {
		t.Fatal(err)
	}
	// And a row deleted by someone who can edit the file (its triggers dropped).
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER certifications_no_delete", "DELETE FROM certifications WHERE number = 1"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	want := []string{copyKey(c1.SHA256), copyKey(c2.SHA256), copyKey(c3.SHA256)}
	for pass := range 2 {
		code, rep := fsckReportOf(t, env, "--grace", "0s")
		orphans := problemKinds(rep, "orphans")
		if code != 1 {
			t.Fatalf("fsck pass %d: exit %d, want 1", pass, code)
		}
		for _, k := range want {
			if orphans[k] != chungthuc.FindingOrphan {
				t.Errorf("fsck pass %d: %s not reported (%v)", pass, k, orphans)
			}
			if _, err := os.Stat(filepath.Join(dir, "data", "objects", k)); err != nil {
				t.Fatalf("fsck pass %d deleted %s: %v", pass, k, err)
			}
		}
	}
	// The register is behind the public log now: serve starts, not ready, saying why.
	base, logs, _ := runServe(t, env)
	if res, err := http.Get(base + "/readyz"); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 503 || !strings.Contains(string(b), "behind the public log") {
			t.Fatalf("/readyz of a restored register: %d %s", res.StatusCode, b)
		}
	}
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(mb), "chungthuc_orphan_objects 6") { // three copies and their three scans
		t.Errorf("metrics:\n%s", mb)
	}
	_ = logs
	for _, k := range want {
		if _, err := os.Stat(filepath.Join(dir, "data", "objects", k)); err != nil {
			t.Fatalf("serve deleted %s: %v", k, err)
		}
	}
}

// TestServeRepairsPeriodically: an entry left Pending by a request that died is voided by
// serve itself once older than the grace, with the repair reason — never issued.
func TestServeRepairsPeriodically(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data"), "CHUNGTHUC_REPAIR_GRACE": "1s",
		"CHUNGTHUC_REPAIR_INTERVAL": "200ms", "CHUNGTHUC_CHECK_SAMPLE": "5"}
	startServe(t, env)
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
	u, _ := a.reg.UnitByCode(ctx, "HB")
	c := &chungthuc.Certification{UnitID: u.ID, OfficerID: 1, Token: "died-mid-request-aaaaaaaaaa", AccessCodeHash: "x",
		Title: "Giấy khai sinh", Pages: 1, FeeVND: 2000}
	if err := a.reg.Reserve(ctx, c); err != nil {
		t.Fatal(err)
	}
	sum := strings.Repeat("ab", 32)
	if err := a.reg.Seal(ctx, c.ID, sum, copyKey(sum), nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		got, err := a.reg.CertificationByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == chungthuc.StatusVoid {
			if !strings.HasPrefix(got.VoidReason, "Bị gián đoạn") {
				t.Fatalf("void reason %q", got.VoidReason)
			}
			break
		}
		if got.Status != chungthuc.StatusPending || i > 300 {
			t.Fatalf("entry is %s after %d polls", got.Status, i)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
