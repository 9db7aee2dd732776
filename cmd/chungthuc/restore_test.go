package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
)

// runServe runs `chungthuc serve` in-process until stop is called; unlike startServe it
// waits only for /healthz, so a service that is up but not ready can be examined.
func runServe(t *testing.T, env map[string]string) (base string, out *syncBuffer, stop func()) {
	t.Helper()
	base, out, stop = serveOnce(t, env)
	t.Cleanup(stop)
	return base, out, stop
}

func serveOnce(t *testing.T, env map[string]string) (string, *syncBuffer, func()) {
	t.Helper()
	if env["CHUNGTHUC_ADDR"] == "" {
		base, _ := startServeAddr(t)
		env["CHUNGTHUC_ADDR"], env["CHUNGTHUC_BASE_URL"] = strings.TrimPrefix(base, "http://"), base
	}
	base := env["CHUNGTHUC_BASE_URL"]
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"serve"}, strings.NewReader(""), out, &syncBuffer{}, func(k string) string { return env[k] })
	}()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(70 * time.Second):
			t.Error("serve did not stop")
		}
	}
	for i := 0; i < 400; i++ {
		select {
		case code := <-done:
			stopped = true
			t.Fatalf("serve exited with %d:\n%s", code, out.String())
		default:
		}
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base, out, stop
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	t.Fatalf("serve did not start:\n%s", out.String())
	return "", nil, nil
}

// startServeAddr picks a free loopback address (kept for the whole test, so links stay the
// same across restarts).
func startServeAddr(t *testing.T) (string, error) {
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr, nil
}

// issued is a copy certified through the API, as its client saw it.
type issued struct {
	id         string
	number     float64
	token      string
	accessCode string
	pdf        []byte
}

func (s *service) certifyCopy(t *testing.T, scan []byte) issued {
	t.Helper()
	st, m := s.apiCertify(scan, "Giấy khai sinh")
	if st != 201 {
		t.Fatalf("API certify: %d %v", st, m)
	}
	c := issued{id: jsonID(m["id"]), number: m["number"].(float64), accessCode: m["access_code"].(string)}
	u := m["verify_url"].(string)
	c.token = u[strings.LastIndex(u, "/")+1:]
	req, _ := http.NewRequest("GET", s.base+"/api/v1/certifications/"+c.id+"/pdf", nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	c.pdf, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET pdf: %d", res.StatusCode)
	}
	return c
}

func jsonID(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// copies lists the keys under copies/ in the configured object store.
func copies(t *testing.T, env map[string]string) []string {
	t.Helper()
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(context.Background(), cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var keys []string
	if err := a.objects.List(context.Background(), "copies/", func(o chungthuc.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

// storeOrphans writes, as a certification killed between storing its copy and issuing it
// would leave them, a signed copy whose Pending row will be lost with the restore (number
// next after the register's), and a stray file under copies/ that no signature vouches for.
func storeOrphans(t *testing.T, env map[string]string, scan []byte) (signed, stray string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	u, err := a.reg.UnitByCode(ctx, "HB")
	if err != nil {
		t.Fatal(err)
	}
	o, err := a.reg.OfficerByID(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := a.keys.OfficerKey(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	sk, err := a.keys.SealKey(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	token := "k1lLed-Mid-Certification-0123456789ab"
	var entry *chungthuc.Certification
	cp, err := a.svc.Maker.MakeCopy(ctx, chungthuc.CopyRequest{
		Scans: []chungthuc.Scan{{Name: "a.jpg", Data: scan}}, Place: u.Place, UnitName: u.Name, OfficerName: o.Name, OfficerTitle: o.Title,
		DocTitle: "Giấy khai sinh", Officer: ok, Seal: sk,
		Allocate: func(ctx context.Context, pages int) (*chungthuc.Allocation, error) {
			entry = &chungthuc.Certification{UnitID: u.ID, OfficerID: o.ID, Token: token, AccessCodeHash: "x", Title: "Giấy khai sinh",
				Pages: pages, FeeVND: chungthuc.Fee(pages), CertifiedAt: time.Now()}
			if err := a.reg.Reserve(ctx, entry); err != nil {
				return nil, err
			}
			return &chungthuc.Allocation{Number: entry.Number, BookCode: entry.BookCode, CertifiedAt: entry.CertifiedAt, VerifyURL: a.svc.VerifyURL(token)}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	signed = "copies/" + cp.SHA256 + ".pdf"
	if err := a.reg.Seal(ctx, entry.ID, cp.SHA256, signed, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.objects.Put(ctx, signed, bytes.NewReader(cp.PDF), int64(len(cp.PDF)), cp.SHA256); err != nil {
		t.Fatal(err)
	}
	junk := []byte("%PDF-1.7\n% not a certified copy\n")
	sum := sha256hex(junk)
	stray = "copies/" + sum + ".pdf"
	if _, err := a.objects.Put(ctx, stray, bytes.NewReader(junk), int64(len(junk)), sum); err != nil {
		t.Fatal(err)
	}
	return signed, stray
}

// TestRestoreOlderBackup: the register is backed up, five more copies are certified (and a
// sixth is cut off between storing and issuing), the backup is restored; the service then
// refuses to certify and says why (the numbers the store knows), verification keeps
// working, nothing is deleted; `chungthuc reconcile` replays the store's log and
// re-registers the cut-off copy from its PDF; `log verify` is clean; the five copies verify
// as certified again, their access codes work, and the next number is the next unused one —
// on the embedded default (the SQLite file copied as the backup) and on PostgreSQL + MinIO
// (pg_dump, restored into a new database).
func TestRestoreOlderBackup(t *testing.T) {
	backends := []string{"embedded"}
	if os.Getenv("CHUNGTHUC_TEST_DATABASE_URL") != "" && os.Getenv("CHUNGTHUC_TEST_S3_ENDPOINT") != "" {
		backends = append(backends, "postgres+s3")
	} else {
		t.Log("PostgreSQL and MinIO not both configured: the production variant is skipped")
	}
	scan := testScan(t)
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
			if backend != "embedded" {
				for k, v := range productionEnv(t) {
					env[k] = v
				}
			}
			run := func(args ...string) (int, string) {
				t.Helper()
				code, out, errs := cli(t, env, args...)
				return code, out + errs
			}
			mustRun := func(args ...string) string {
				t.Helper()
				code, out := run(args...)
				if code != 0 {
					t.Fatalf("%v: exit %d\n%s", args, code, out)
				}
				return strings.TrimSpace(out)
			}
			if backend != "embedded" {
				mustRun("migrate")
				mustRun("unit", "add", "--code", "HB", "--name", "Phường Hòa Bình", "--place", "Hòa Bình", "--seal", testSealFile())
				mustRun("officer", "add", "--unit", "HB", "--name", "Trần Văn Nghĩa", "--title", "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH")
			}
			s := &service{t: t, env: env}
			s.token = mustRun("token", "create", "--unit", "HB", "--officer", "1")
			var stop func()
			s.base, _, stop = runServe(t, env)
			for range 3 {
				s.certifyCopy(t, scan)
			}
			// The backup.
			stop()
			var restore func()
			if backend == "embedded" {
				db := filepath.Join(env["CHUNGTHUC_DATA"], "register.db")
				b, err := os.ReadFile(db)
				if err != nil {
					t.Fatal(err)
				}
				restore = func() {
					for _, x := range []string{"-wal", "-shm"} {
						os.Remove(db + x)
					}
					if err := os.WriteFile(db, b, 0o640); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				dst := freshDatabase(t)
				dump, err := exec.Command("pg_dump", "--no-owner", "--no-privileges", "--dbname", env["CHUNGTHUC_DATABASE_URL"]).Output()
				if err != nil {
					t.Skipf("pg_dump: %v", err)
				}
				restore = func() {
					cmd := exec.Command("psql", "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", dst)
					cmd.Stdin = bytes.NewReader(dump)
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("psql: %v %s", err, out)
					}
					env["CHUNGTHUC_DATABASE_URL"] = dst
				}
			}
			s.base, _, stop = runServe(t, env)
			var after []issued
			for range 5 {
				after = append(after, s.certifyCopy(t, scan))
			}
			stop()
			cutOff, stray := storeOrphans(t, env, scan) // number 9, pending when the process died
			before := copies(t, env)
			if len(before) != 10 {
				t.Fatalf("%d copies stored before the restore, want 10", len(before))
			}

			// Restore the backup and start the service on it.
			restore()
			var out *syncBuffer
			s.base, out, stop = runServe(t, env)
			code, body := httpGet(t, s.base+"/readyz")
			if code != 503 || !strings.Contains(body, "behind the public log") || !strings.Contains(body, "HB 2026: 4–8") && !strings.Contains(body, ": 4–8") ||
				!strings.Contains(body, "chungthuc reconcile") {
				t.Fatalf("/readyz of a restored register: %d %s", code, body)
			}
			if !strings.Contains(out.String(), "CERTIFICATION IS STOPPED") {
				t.Errorf("serve did not say certification is stopped:\n%s", out.String())
			}
			if st, m := s.apiCertify(scan, "Giấy khai sinh"); st != 409 || !strings.Contains(jsonID(m), "chungthuc reconcile") {
				t.Fatalf("certify on a restored register: %d %v", st, m)
			}
			if code, body := httpGet(t, s.base+"/api/v1/verify/"+after[0].token); code != 404 {
				t.Fatalf("a copy the restored register lost: %d %s", code, body)
			}
			stop()
			if got := copies(t, env); strings.Join(got, ",") != strings.Join(before, ",") {
				t.Fatalf("objects changed while the register was behind:\nbefore %v\nafter  %v", before, got)
			}

			// Reconcile.
			code, rout := run("reconcile", "--grace", "0s")
			var rep reconcileReport
			if err := json.Unmarshal([]byte(rout[:strings.LastIndex(rout, "}")+1]), &rep); err != nil {
				t.Fatalf("reconcile output: %v\n%s", err, rout)
			}
			if code != 1 || len(rep.Log.Replayed) != 5 || len(rep.Copies.Registered) != 1 || rep.Copies.Registered[0].Key != cutOff ||
				rep.Copies.Registered[0].Entry != "HB "+time.Now().Format("2006")+" no. 9" ||
				len(rep.Copies.Unexplained) != 1 || rep.Copies.Unexplained[0].Key != stray {
				t.Fatalf("reconcile: exit %d\n%s", code, rout)
			}
			mustRun("reconcile", "--explain", stray, "--note", "Tệp thử nghiệm do kỹ thuật viên tải lên nhầm")
			if out := mustRun("reconcile", "--grace", "0s"); !strings.Contains(out, stray) {
				t.Fatalf("second reconcile does not list the explained object:\n%s", out)
			}
			if code, out := run("log", "verify"); code != 0 || !strings.Contains(out, `"clean": true`) {
				t.Fatalf("log verify after reconcile: %d\n%s", code, out)
			}
			if got := copies(t, env); strings.Join(got, ",") != strings.Join(before, ",") {
				t.Fatalf("objects changed by reconcile:\nbefore %v\nafter  %v", before, got)
			}

			// Back in service: the copies verify again, the codes work, numbering continues.
			s.base, _, stop = runServe(t, env)
			if code, body := httpGet(t, s.base+"/readyz"); code != 200 {
				t.Fatalf("/readyz after reconcile: %d %s", code, body)
			}
			for _, c := range after {
				res, err := http.Post(s.base+"/api/v1/verify", "application/pdf", bytes.NewReader(c.pdf))
				if err != nil {
					t.Fatal(err)
				}
				rb, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || !strings.Contains(string(rb), `"valid": true`) || !strings.Contains(string(rb), `"status": "certified"`) ||
					!strings.Contains(string(rb), "In the public log at index") {
					t.Fatalf("copy %v after reconcile: %d %s", c.number, res.StatusCode, rb)
				}
				if code, body := httpGet(t, s.base+"/api/v1/verify/"+c.token); code != 200 || !strings.Contains(body, `"status": "valid"`) {
					t.Fatalf("link of copy %v after reconcile: %d %s", c.number, code, body)
				}
			}
			res, err := http.PostForm(s.base+"/v/"+after[2].token+"/download", url.Values{"code": {after[2].accessCode}})
			if err != nil {
				t.Fatal(err)
			}
			pdf, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !bytes.Equal(pdf, after[2].pdf) {
				t.Fatalf("download with the original access code after reconcile: %d", res.StatusCode)
			}
			if code, body := httpGet(t, s.base+"/api/v1/verify/k1lLed-Mid-Certification-0123456789ab"); code != 200 {
				t.Fatalf("the re-registered copy's own link: %d %s", code, body)
			}
			next := s.certifyCopy(t, scan)
			if next.number != 10 {
				t.Fatalf("next certification after reconcile got number %v, want 10", next.number)
			}
			stop()
			if code, out := run("log", "verify"); code != 0 {
				t.Fatalf("log verify at the end: %d\n%s", code, out)
			}
			// The log key is outside the register: on the embedded default next to the dev PKI.
			if backend == "embedded" {
				if st, err := os.Stat(filepath.Join(env["CHUNGTHUC_DATA"], "pki", "log.key")); err != nil || st.Mode().Perm() != 0o600 {
					t.Errorf("log key: %v %v", st, err)
				}
			}
		})
	}
}

func netListen() (interface {
	Addr() net.Addr
	Close() error
}, error) {
	return net.Listen("tcp", "127.0.0.1:0")
}

// freshDatabase creates an empty PostgreSQL database, dropped when the test ends.
func freshDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("CHUNGTHUC_TEST_DATABASE_URL")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Skipf("PostgreSQL not reachable: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "chungthuc_restore_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), admin); err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}
