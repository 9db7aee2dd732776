package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// minioProc is a MinIO server of the test's own, so that the test may freeze (SIGSTOP) or
// kill it without disturbing the shared one.
type minioProc struct {
	t        *testing.T
	bin, dir string
	addr     string
	user     string
	pass     string
	cmd      *exec.Cmd
}

// privateMinIO starts a MinIO server from CHUNGTHUC_TEST_MINIO_BIN (scripts/minio.sh
// exports it), or skips the test.
func privateMinIO(t *testing.T) *minioProc {
	t.Helper()
	bin := os.Getenv("CHUNGTHUC_TEST_MINIO_BIN")
	if bin == "" {
		if p, err := filepath.Abs("../../.tools/bin/minio"); err == nil {
			bin = p
		}
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skip("no MinIO binary (CHUNGTHUC_TEST_MINIO_BIN, or .tools/bin/minio from scripts/minio.sh): fault tests skipped")
	}
	b := make([]byte, 8)
	rand.Read(b)
	m := &minioProc{t: t, bin: bin, dir: t.TempDir(), addr: freeAddr(t), user: "fault-" + hex.EncodeToString(b[:3]), pass: hex.EncodeToString(b)}
	m.start()
	t.Cleanup(func() {
		if m.cmd != nil {
			m.cmd.Process.Signal(syscall.SIGCONT)
			m.cmd.Process.Kill()
			m.cmd.Wait()
		}
	})
	return m
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (m *minioProc) start() {
	m.t.Helper()
	m.cmd = exec.Command(m.bin, "server", m.dir, "--quiet", "--address", m.addr, "--console-address", freeAddr(m.t))
	m.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+m.user, "MINIO_ROOT_PASSWORD="+m.pass, "MINIO_BROWSER=off", "MINIO_UPDATE=off")
	if err := m.cmd.Start(); err != nil {
		m.t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + m.addr + "/minio/health/live")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("MinIO did not start on %s", m.addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// freeze stops the process (SIGSTOP): connections are accepted by the kernel and never answered.
func (m *minioProc) freeze() { m.t.Helper(); m.signal(syscall.SIGSTOP) }
func (m *minioProc) thaw()   { m.t.Helper(); m.signal(syscall.SIGCONT) }

func (m *minioProc) signal(s syscall.Signal) {
	if err := m.cmd.Process.Signal(s); err != nil {
		m.t.Fatal(err)
	}
}

// env is the configuration that points chungthuc at this server with a fresh bucket.
func (m *minioProc) env(retentionYears int) map[string]string {
	b := make([]byte, 4)
	rand.Read(b)
	return map[string]string{
		"CHUNGTHUC_S3_ENDPOINT": m.addr, "CHUNGTHUC_S3_BUCKET": "fault-" + hex.EncodeToString(b),
		"CHUNGTHUC_S3_ACCESS_KEY": m.user, "CHUNGTHUC_S3_SECRET_KEY": m.pass, "CHUNGTHUC_S3_USE_SSL": "false",
		"CHUNGTHUC_S3_RETENTION_YEARS": fmt.Sprint(retentionYears),
	}
}

// postgresEnv makes a fresh PostgreSQL database (dropped at the end) and returns its URL, or
// skips the test.
func postgresEnv(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("CHUNGTHUC_TEST_DATABASE_URL")
	if admin == "" {
		t.Skip("PostgreSQL not configured (CHUNGTHUC_TEST_DATABASE_URL)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Skipf("PostgreSQL not reachable: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	name := "chungthuc_fault_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			c.Exec(context.Background(), "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true")
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

// refuseConnections makes PostgreSQL refuse new connections to the database of dbURL and
// ends the open ones (as a database that went away), or accepts them again.
func refuseConnections(t *testing.T, dbURL string, refuse bool) {
	t.Helper()
	u, _ := url.Parse(dbURL)
	name := strings.TrimPrefix(u.Path, "/")
	admin := os.Getenv("CHUNGTHUC_TEST_DATABASE_URL")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %t", name, !refuse)); err != nil {
		t.Fatal(err)
	}
	if refuse {
		if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
			t.Fatal(err)
		}
	}
}

// adminQuery runs SQL on the test database as the PostgreSQL superuser.
func adminQuery(t *testing.T, dbURL string, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// pgCount counts rows of the test database as the superuser.
func pgCount(t *testing.T, dbURL, q string, args ...any) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestFaultStoreFrozenAndDatabaseRefusing is the fault of issue 10: N API certifications are
// in flight when the object store freezes (SIGSTOP) and, while they wait on it, the
// database starts refusing connections. Every client gets an error; after both come back
// and repair runs — even fsck --grace 0s — none of their entries is issued, every number
// is void with a reason, and a retry with the same Idempotency-Key gets that outcome.
func TestFaultStoreFrozenAndDatabaseRefusing(t *testing.T) {
	if testing.Short() {
		t.Skip("freezes a MinIO server")
	}
	db := postgresEnv(t)
	m := privateMinIO(t)
	extra := m.env(0)
	extra["CHUNGTHUC_DATABASE_URL"] = db
	extra["CHUNGTHUC_STORE_TIMEOUT"] = "3s"
	extra["CHUNGTHUC_RATE_LIMIT"] = "100000"
	extra["CHUNGTHUC_REPAIR_INTERVAL"] = "1h"
	// All n requests must be inside the workflow at once (the certification budget would
	// otherwise queue the others and answer them 503 after a short wait).
	extra["CHUNGTHUC_MAX_CONCURRENT_CERTIFY"] = "8"
	s := newService(t, "custom", extra)
	scan := testScan(t)
	if st, _ := s.apiCertify(scan, "Giấy khai sinh"); st != 201 {
		t.Fatalf("certify before the fault: %d", st)
	}
	const n = 4
	m.freeze()
	frozen := true
	defer func() {
		if frozen {
			m.thaw()
		}
	}()
	type result struct {
		status int
		body   map[string]any
	}
	results := make(chan result, n)
	client := &http.Client{Timeout: 2 * time.Minute}
	for i := range n {
		go func() {
			st, body := s.apiCertifyKey(scan, "Giấy tờ "+fmt.Sprint(i), fmt.Sprintf("fault-%d", i), client)
			results <- result{st, body}
		}()
	}
	// Wait until all N hold a number (they are stuck in the frozen store), then take the
	// database away too.
	deadline := time.Now().Add(60 * time.Second)
	for pgCount(t, db, "SELECT count(*) FROM certifications WHERE status = 'pending'") < n {
		if time.Now().After(deadline) {
			t.Fatal("the requests did not reserve their numbers")
		}
		time.Sleep(20 * time.Millisecond)
	}
	refuseConnections(t, db, true)
	start := time.Now()
	for range n {
		r := <-results
		if r.status < 500 || r.status == 599 {
			t.Errorf("a client got %d %v, want a 5xx error", r.status, r.body)
		}
		if msg := fmt.Sprint(r.body); strings.Contains(msg, m.addr) || strings.Contains(msg, "dial tcp") {
			t.Errorf("the error shows where the store is: %s", msg)
		}
	}
	t.Logf("the %d requests answered %v after the database went away (store time-out 3s)", n, time.Since(start).Round(time.Millisecond))
	// Readiness says so, within its bound.
	rstart := time.Now()
	res, err := http.Get(s.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 {
		t.Errorf("/readyz with the store frozen and the database refusing: %d", res.StatusCode)
	}
	t.Logf("/readyz answered %d in %v", res.StatusCode, time.Since(rstart).Round(time.Millisecond))

	// Both come back; repair with no grace at all.
	m.thaw()
	frozen = false
	refuseConnections(t, db, false)
	code, out, errs := cli(t, s.env, "fsck", "--grace", "0s")
	if code != 0 {
		t.Fatalf("fsck --grace 0s: exit %d\n%s\n%s", code, out, errs)
	}
	time.Sleep(2 * time.Second) // let background voids that were already on their way settle
	if got := pgCount(t, db, "SELECT count(*) FROM certifications WHERE idempotency_key LIKE 'fault-%' AND status = 'issued'"); got != 0 {
		t.Fatalf("%d entries of failed requests were issued", got)
	}
	if got := pgCount(t, db, "SELECT count(*) FROM certifications WHERE idempotency_key LIKE 'fault-%' AND status = 'void' AND void_reason <> ''"); got != n {
		t.Fatalf("%d of %d entries of failed requests are void with a reason", got, n)
	}
	if got := pgCount(t, db, "SELECT count(*) FROM certifications WHERE void_reason LIKE '%Internal error%' OR void_reason LIKE '%object store%'"); got != 0 {
		t.Fatalf("%d void reasons in Go or English words", got)
	}
	for i := range n {
		st, body := s.apiCertifyKey(scan, "Giấy tờ "+fmt.Sprint(i), fmt.Sprintf("fault-%d", i), client)
		cert, _ := body["certification"].(map[string]any)
		if st != 409 || body["outcome"] != "void" || cert == nil || cert["void_reason"] == "" {
			t.Errorf("retry %d: %d %v", i, st, body)
		}
	}
	// The service works again, with the next number.
	if st, body := s.apiCertify(scan, "Giấy khai sinh"); st != 201 || body["number"] != float64(n+2) {
		t.Fatalf("certify after the fault: %d %v", st, body)
	}
}

// TestFaultNoLateIssue: while the database is taken away and given back at random moments
// under load, no request that was answered with an error finds its entry issued later (after
// repair with no grace), and every retry with the same Idempotency-Key gets the first
// outcome: the same entry for a success, its void for a failure.
func TestFaultNoLateIssue(t *testing.T) {
	if testing.Short() {
		t.Skip("takes the database away repeatedly")
	}
	db := postgresEnv(t)
	m := privateMinIO(t)
	extra := m.env(0)
	extra["CHUNGTHUC_DATABASE_URL"] = db
	extra["CHUNGTHUC_RATE_LIMIT"] = "100000"
	extra["CHUNGTHUC_REPAIR_INTERVAL"] = "1h"
	s := newService(t, "custom", extra)
	scan := testScan(t)
	type outcome struct {
		status int
		id     float64
	}
	var mu sync.Mutex
	outcomes := map[string]outcome{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 2 * time.Minute}
	for c := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("late-%d-%d", c, i)
				st, body := s.apiCertifyKey(scan, "Giấy khai sinh", key, client)
				id, _ := body["id"].(float64)
				mu.Lock()
				outcomes[key] = outcome{st, id}
				mu.Unlock()
			}
		})
	}
	rng := time.Now().UnixNano()
	for round := range 6 {
		time.Sleep(time.Duration(200+(rng>>uint(round))%300) * time.Millisecond)
		refuseConnections(t, db, true)
		time.Sleep(time.Duration(100+(rng>>uint(round+3))%400) * time.Millisecond)
		refuseConnections(t, db, false)
	}
	close(stop)
	wg.Wait()
	code, out, errs := cli(t, s.env, "fsck", "--grace", "0s")
	if code != 0 {
		t.Fatalf("fsck --grace 0s: exit %d\n%s\n%s", code, out, errs)
	}
	// Give the background voids a moment; then nothing may be pending.
	deadline := time.Now().Add(90 * time.Second)
	for pgCount(t, db, "SELECT count(*) FROM certifications WHERE status = 'pending'") > 0 {
		if time.Now().After(deadline) {
			t.Fatal("entries still pending")
		}
		time.Sleep(200 * time.Millisecond)
	}
	failed, ok := 0, 0
	for key, o := range outcomes {
		issued := pgCount(t, db, "SELECT count(*) FROM certifications WHERE idempotency_key = $1 AND status = 'issued'", key)
		switch {
		case o.status == 201:
			ok++
			if issued != 1 {
				t.Errorf("%s: answered 201 but not issued", key)
			}
		default:
			failed++
			if issued != 0 {
				t.Errorf("%s: answered %d, yet its entry is issued", key, o.status)
			}
		}
	}
	if failed == 0 || ok == 0 {
		t.Logf("outcomes: %d ok, %d failed (the faults may have missed the requests)", ok, failed)
	}
	// Retries get the first outcome.
	checked := 0
	for key, o := range outcomes {
		if checked >= 20 {
			break
		}
		exists := pgCount(t, db, "SELECT count(*) FROM certifications WHERE idempotency_key = $1", key)
		st, body := s.apiCertifyKey(scan, "Giấy khai sinh", key, client)
		switch {
		case o.status == 201:
			if st != 200 || body["id"] != o.id {
				t.Errorf("%s: retry of a success = %d %v", key, st, body)
			}
		case exists == 1:
			if st != 409 || body["outcome"] != "void" {
				t.Errorf("%s: retry of a failure with an entry = %d %v", key, st, body)
			}
		}
		checked++
	}
	t.Logf("%d requests: %d issued, %d failed; none of the failed ones issued after repair", len(outcomes), ok, failed)
}

// TestFaultOutageBurnsFewNumbers: with the readiness gate in front of the reservation, a
// 10 s outage of the object store (killed, then frozen) uses only the numbers of the
// requests already in flight when it began, not one per attempt. Default time limits.
func TestFaultOutageBurnsFewNumbers(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10 s outage, twice")
	}
	db := postgresEnv(t)
	m := privateMinIO(t)
	extra := m.env(0)
	extra["CHUNGTHUC_DATABASE_URL"] = db
	extra["CHUNGTHUC_RATE_LIMIT"] = "100000"
	extra["CHUNGTHUC_REPAIR_INTERVAL"] = "1h"
	extra["CHUNGTHUC_STORE_TIMEOUT"] = "5s"
	s := newService(t, "custom", extra)
	scan := testScan(t)
	const clients = 4
	for _, mode := range []string{"killed", "frozen"} {
		before := pgCount(t, db, "SELECT count(*) FROM certifications WHERE status = 'void'")
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var attempts, refused atomic.Int64
		client := &http.Client{Timeout: 2 * time.Minute}
		for range clients {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					st, _ := s.apiCertifyKey(scan, "Giấy khai sinh", "", client)
					attempts.Add(1)
					if st == 503 {
						refused.Add(1)
						time.Sleep(20 * time.Millisecond) // a client that retries at once
					}
				}
			})
		}
		time.Sleep(time.Second)
		switch mode {
		case "killed":
			m.cmd.Process.Kill()
			m.cmd.Wait()
			time.Sleep(10 * time.Second)
			m.start()
		case "frozen":
			m.freeze()
			time.Sleep(10 * time.Second)
			m.thaw()
		}
		time.Sleep(3 * time.Second) // the gate notices the store is back
		close(stop)
		wg.Wait()
		burned := pgCount(t, db, "SELECT count(*) FROM certifications WHERE status = 'void'") - before
		t.Logf("store %s for 10 s with %d clients: %d attempts, %d refused with 503, %d numbers voided", mode, clients, attempts.Load(), refused.Load(), burned)
		if burned > 2*clients {
			t.Errorf("store %s for 10 s burned %d numbers, want at most %d", mode, burned, 2*clients)
		}
		if refused.Load() == 0 {
			t.Errorf("store %s: no request was refused: the gate did not act", mode)
		}
	}
}

// TestTwoRoles: `migrate` runs as the schema's owner (CHUNGTHUC_MIGRATE_DATABASE_URL) and
// grants the serving role (CHUNGTHUC_DATABASE_URL) what the service needs; the service and
// its commands then work as that role, which cannot alter the tables or disable triggers.
func TestTwoRoles(t *testing.T) {
	db := postgresEnv(t)
	admin := os.Getenv("CHUNGTHUC_TEST_DATABASE_URL")
	b := make([]byte, 4)
	rand.Read(b)
	owner, serve := "ct_owner_"+hex.EncodeToString(b), "ct_serve_"+hex.EncodeToString(b)
	u, _ := url.Parse(db)
	name := strings.TrimPrefix(u.Path, "/")
	adminQuery(t, admin, "CREATE ROLE "+owner+" LOGIN")
	adminQuery(t, admin, "CREATE ROLE "+serve+" LOGIN")
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		for _, r := range []string{owner, serve} {
			c.Exec(context.Background(), "DROP OWNED BY "+r)
			c.Exec(context.Background(), "DROP ROLE "+r)
		}
	})
	adminQuery(t, admin, "ALTER DATABASE "+name+" OWNER TO "+owner)
	u.User = url.User(owner)
	ownerURL := u.String()
	u.User = url.User(serve)
	serveURL := u.String()
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data"), "CHUNGTHUC_DATABASE_URL": serveURL,
		"CHUNGTHUC_MIGRATE_DATABASE_URL": ownerURL}
	run := func(args ...string) string {
		code, out, errs := cli(t, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
		return out
	}
	run("migrate")
	run("unit", "add", "--code", "HB", "--name", "Phường Hòa Bình", "--place", "Hòa Bình", "--seal", testSealFile())
	run("officer", "add", "--unit", "HB", "--name", "Trần Văn Nghĩa", "--title", "PHÓ CHỦ TỊCH")
	scans := writeScans(t, dir, 1, 100<<10)
	run(append([]string{"certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c.pdf")}, scans...)...)
	run("fsck", "--deep")
	run("audit", "verify")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, serveURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{"ALTER TABLE certifications DISABLE TRIGGER USER", "TRUNCATE audit_log",
		"DELETE FROM certifications", "UPDATE certifications SET fee_vnd = 0"} {
		if _, err := conn.Exec(ctx, q); err == nil {
			t.Errorf("as the serving role, %s: allowed", q)
		}
	}
	// Migrating again (a new release) keeps the grants right.
	run("migrate")
	run(append([]string{"certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Thị Hồng Nhung", "--out", filepath.Join(dir, "c2.pdf")}, scans...)...)
}
