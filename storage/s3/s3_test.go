package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/objecttest"
)

// testConfig returns the configuration of the test MinIO (scripts/minio.sh) with a fresh
// bucket name, or skips the test.
func testConfig(t testing.TB) Config {
	t.Helper()
	ep := os.Getenv("CHUNGTHUC_TEST_S3_ENDPOINT")
	if ep == "" {
		t.Skip("MinIO not configured (CHUNGTHUC_TEST_S3_ENDPOINT unset): S3 integration tests skipped; eval \"$(scripts/minio.sh)\" to run them")
	}
	host, _, _ := parseEndpoint(ep, false)
	conn, err := net.DialTimeout("tcp", host, 2*time.Second)
	if err != nil {
		t.Skipf("MinIO not reachable at %s (%v): S3 integration tests skipped", ep, err)
	}
	conn.Close()
	return Config{
		Endpoint:  ep,
		Bucket:    "chungthuc-test-" + randHex(6),
		AccessKey: os.Getenv("CHUNGTHUC_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("CHUNGTHUC_TEST_S3_SECRET_KEY"),
	}
}

// newTestStore opens cfg and removes the bucket at the end (bypassing GOVERNANCE
// retention; buckets holding COMPLIANCE objects stay, in the throw-away MinIO).
func newTestStore(t testing.TB, cfg Config) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { removeBucket(t, s) })
	return s
}

func removeBucket(t testing.TB, s *Store) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := s.Client()
	for obj := range c.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true, WithVersions: true}) {
		if obj.Err != nil {
			t.Logf("cleanup: listing %s: %v", s.bucket, obj.Err)
			return
		}
		err := c.RemoveObject(ctx, s.bucket, obj.Key, minio.RemoveObjectOptions{VersionID: obj.VersionID, GovernanceBypass: true})
		if err != nil {
			t.Logf("cleanup: bucket %s stays: %v", s.bucket, err)
			return
		}
	}
	if err := c.RemoveBucket(ctx, s.bucket); err != nil {
		t.Logf("cleanup: bucket %s stays: %v", s.bucket, err)
	}
}

func TestConformance(t *testing.T) {
	s := newTestStore(t, testConfig(t))
	objecttest.Run(t, s, tamperer{s})
}

// The same contract holds on a versioned bucket with Object Lock, where a plain PUT makes a
// new version and a plain DELETE a delete marker: the recorded version still reads.
func TestConformanceObjectLock(t *testing.T) {
	cfg := testConfig(t)
	cfg.RetentionYears = 1
	cfg.RetentionMode = Governance
	s := newTestStore(t, cfg)
	if !s.Versioned() {
		t.Fatal("a bucket with Object Lock is not reported as versioned")
	}
	objecttest.Run(t, s, tamperer{s})
}

// tamperer writes into the bucket with the raw client, as someone holding the bucket's
// keys could: an unconditional PUT that keeps the original metadata hash, a plain DELETE.
type tamperer struct{ s *Store }

func (x tamperer) Overwrite(ctx context.Context, key string, data []byte) error {
	st, err := x.s.Client().StatObject(ctx, x.s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return err
	}
	opts := minio.PutObjectOptions{UserMetadata: map[string]string{metaSHA256: metaHash(st.UserMetadata)}}
	_, err = x.s.Client().PutObject(ctx, x.s.bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	return err
}
func (x tamperer) Remove(ctx context.Context, key string) error {
	return x.s.Client().RemoveObject(ctx, x.s.bucket, key, minio.RemoveObjectOptions{})
}
func (x tamperer) Versioned() bool { return x.s.Versioned() }

// TestProbeUnderObjectLock: the probe works on a COMPLIANCE bucket (whose objects could
// never be deleted) and leaves no object, version or incomplete upload behind.
func TestProbeUnderObjectLock(t *testing.T) {
	cfg := testConfig(t)
	cfg.Bucket = "chungthuc-test-probe-" + randHex(4)
	cfg.RetentionYears = 1
	s := newTestStore(t, cfg)
	ctx := context.Background()
	for range 5 {
		if err := s.Probe(ctx); err != nil {
			t.Fatalf("Probe: %v", err)
		}
	}
	for obj := range s.Client().ListObjects(ctx, s.bucket, minio.ListObjectsOptions{WithVersions: true, Recursive: true}) {
		t.Errorf("the probe left %q (version %q, err %v)", obj.Key, obj.VersionID, obj.Err)
	}
	res, err := minio.Core{Client: s.Client()}.ListMultipartUploads(ctx, s.bucket, "", "", "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Uploads) != 0 {
		t.Errorf("the probe left %d incomplete uploads", len(res.Uploads))
	}
}

// Objects larger than PartSize go in parts; the hash is still checked before the upload
// is completed.
func TestMultipart(t *testing.T) {
	cfg := testConfig(t)
	cfg.PartSize = 5 << 20
	cfg.RetentionYears = 1
	cfg.RetentionMode = Governance
	s := newTestStore(t, cfg)
	ctx := context.Background()
	data := randBytes(12 << 20)
	if _, err := s.Put(ctx, "big/ok", bytes.NewReader(data), int64(len(data)), hexSum(data)); err != nil {
		t.Fatalf("multipart Put: %v", err)
	}
	wantObject(t, s, "big/ok", data)
	if until, mode := retention(t, s, "big/ok"); mode != minio.Governance || until.Before(time.Now().AddDate(1, 0, -2)) {
		t.Errorf("retention = %s until %v, want GOVERNANCE for a year", mode, until)
	}

	// Write-once holds for multipart uploads too (If-None-Match on completion).
	if _, err := s.Put(ctx, "big/ok", bytes.NewReader(data), int64(len(data)), hexSum(data)); err != nil {
		t.Errorf("multipart Put of the same content again: %v", err)
	}
	other := randBytes(11 << 20)
	if _, err := s.Put(ctx, "big/ok", bytes.NewReader(other), int64(len(other)), hexSum(other)); chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		t.Errorf("multipart Put of other content under an existing key = %v, want ECONFLICT", err)
	}
	wantObject(t, s, "big/ok", data)

	bad := bytes.Clone(data)
	bad[len(bad)-1] ^= 1
	_, err := s.Put(ctx, "big/bad", bytes.NewReader(bad), int64(len(bad)), hexSum(data))
	if chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("multipart Put of content with the wrong hash = %v, want EINVALID", err)
	}
	if _, err := s.Stat(ctx, "big/bad"); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("after a rejected multipart Put, Stat = %v, want ENOTFOUND", err)
	}
	// Exactly PartSize × 2 bytes: the mismatch is found without an extra read at the end.
	exact := data[:10<<20]
	_, err = s.Put(ctx, "big/exact", bytes.NewReader(exact), int64(len(exact)), hexSum(data))
	if chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("multipart Put of 2 whole parts with the wrong hash = %v, want EINVALID", err)
	}
	if _, err := s.Stat(ctx, "big/exact"); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("after a rejected multipart Put, Stat = %v, want ENOTFOUND", err)
	}
	for up := range s.Client().ListIncompleteUploads(ctx, s.bucket, "big/", true) {
		t.Errorf("incomplete upload left behind: %+v", up)
	}
}

// The server itself refuses content that does not match the x-amz-checksum-sha256 Put
// sends (the client-side check is bypassed here).
func TestServerVerifiesHash(t *testing.T) {
	s := newTestStore(t, testConfig(t))
	ctx := context.Background()
	data := randBytes(100_000)
	wrong := hexSum([]byte("something else"))
	_, err := s.Client().PutObject(ctx, s.bucket, "direct", bytes.NewReader(data), int64(len(data)), s.putOptions("direct", wrong, int64(len(data))))
	if err == nil {
		t.Fatalf("the server accepted content that does not match x-amz-checksum-sha256")
	}
	t.Logf("server refused: %v", err)
	if _, err := s.Stat(ctx, "direct"); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("Stat after the refused PUT = %v, want ENOTFOUND", err)
	}
}

func TestObjectLock(t *testing.T) {
	cfg := testConfig(t)
	cfg.RetentionYears = 1
	cfg.RetentionMode = Governance
	s := newTestStore(t, cfg)
	ctx := context.Background()
	data := []byte("%PDF-1.7 a certified copy under retention")
	key := "copies/" + hexSum(data) + ".pdf"
	put, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), hexSum(data))
	if err != nil {
		t.Fatal(err)
	}
	if put.Version == "" || put.ETag == "" {
		t.Errorf("Put in a versioned bucket reports version %q, ETag %q", put.Version, put.ETag)
	}
	until, mode := retention(t, s, key)
	if mode != minio.Governance || until.Before(time.Now().AddDate(1, 0, -2)) || until.After(time.Now().AddDate(1, 0, 2)) {
		t.Errorf("retention = %s until %v, want GOVERNANCE for one year", mode, until)
	}
	// Deleting the version itself is refused by the retention.
	err = s.Client().RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{VersionID: put.Version})
	if err == nil {
		t.Fatalf("the retained version was deleted")
	}
	t.Logf("deleting the retained version: %v", err)
	wantObject(t, s, key, data)
}

// The default mode is COMPLIANCE. Its object cannot be deleted by anyone for a year, so
// this test's bucket stays in the (throw-away) test MinIO.
func TestObjectLockComplianceDefault(t *testing.T) {
	cfg := testConfig(t)
	cfg.Bucket = "chungthuc-test-compliance-" + randHex(4)
	cfg.RetentionYears = 1
	s := newTestStore(t, cfg)
	ctx := context.Background()
	data := []byte("compliance")
	if _, err := s.Put(ctx, "c", bytes.NewReader(data), int64(len(data)), hexSum(data)); err != nil {
		t.Fatal(err)
	}
	if _, mode := retention(t, s, "c"); mode != minio.Compliance {
		t.Errorf("retention mode = %s, want COMPLIANCE", mode)
	}
	err := s.Client().RemoveObject(ctx, s.bucket, "c", minio.RemoveObjectOptions{VersionID: stat(t, s, "c").VersionID, GovernanceBypass: true})
	if err == nil {
		t.Errorf("the root account deleted a COMPLIANCE object with governance bypass")
	}
}

func TestRetentionNeedsObjectLock(t *testing.T) {
	cfg := testConfig(t)
	newTestStore(t, cfg) // creates the bucket without Object Lock
	cfg.RetentionYears = 1
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := New(ctx, cfg)
	if chungthuc.ErrorCode(err) != chungthuc.EINVALID || !strings.Contains(err.Error(), "Object Lock") {
		t.Errorf("New with retention on a bucket without Object Lock = %v, want EINVALID", err)
	}
}

// Objects written by other tools (no hash metadata) are still handled.
func TestForeignObject(t *testing.T) {
	s := newTestStore(t, testConfig(t))
	ctx := context.Background()
	data := []byte("uploaded by mc cp")
	if _, err := s.Client().PutObject(ctx, s.bucket, "foreign", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(ctx, "foreign")
	if err != nil || info.SHA256 != "" || info.Size != int64(len(data)) {
		t.Errorf("Stat = %+v, %v; want the size and an unknown hash", info, err)
	}
	if _, err := s.Put(ctx, "foreign", bytes.NewReader(data), int64(len(data)), hexSum(data)); err != nil {
		t.Errorf("Put of the same content = %v, want success", err)
	}
	other := []byte("different")
	if _, err := s.Put(ctx, "foreign", bytes.NewReader(other), int64(len(other)), hexSum(other)); chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		t.Errorf("Put of other content = %v, want ECONFLICT", err)
	}
}

// Get fails at the end of a stream whose content does not match the stored hash.
func TestGetDetectsCorruption(t *testing.T) {
	s := newTestStore(t, testConfig(t))
	ctx := context.Background()
	data := randBytes(300_000)
	opts := minio.PutObjectOptions{UserMetadata: map[string]string{metaSHA256: hexSum([]byte("what it should be"))}}
	if _, err := s.Client().PutObject(ctx, s.bucket, "rotten", bytes.NewReader(data), int64(len(data)), opts); err != nil {
		t.Fatal(err)
	}
	rc, _, err := s.Get(ctx, "rotten", "")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	if chungthuc.ErrorCode(err) != chungthuc.EINTERNAL || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("reading a corrupt object: %d bytes, %v; want EINTERNAL \"corrupt\" at the end", n, err)
	}
}

// A server that is down answers EUNAVAILABLE within the context's time, naming the
// endpoint and never the secret key.
func TestServerDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	secret := "very-secret-key-" + randHex(4)
	_, err = New(ctx, Config{Endpoint: addr, Bucket: "chungthuc", AccessKey: "user", SecretKey: secret})
	if chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("New against a closed port = %v, want EUNAVAILABLE", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, addr) || !strings.Contains(msg, "chungthuc") || strings.Contains(msg, secret) {
		t.Errorf("message %q should name the endpoint and bucket, never the secret", msg)
	}
	// The dial error is the cause, not part of the message.
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("errors.Is(err, ECONNREFUSED) = false for %v", err)
	}
	if m := chungthuc.ErrorMessage(err); strings.Contains(m, "connection refused") || strings.Contains(m, "dial") {
		t.Errorf("message %q carries the low-level error", m)
	}
}

// A server that goes away after start-up: every operation answers EUNAVAILABLE.
func TestServerGoesAway(t *testing.T) {
	cfg := testConfig(t)
	target, _ := url.Parse("http://" + cfg.Endpoint)
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	direct := newTestStore(t, cfg) // creates the bucket, removes it at the end
	viaProxy := cfg
	viaProxy.Endpoint = proxy.Listener.Addr().String()
	s, err := New(context.Background(), viaProxy)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("before the outage")
	if _, err := s.Put(context.Background(), "k", bytes.NewReader(data), int64(len(data)), hexSum(data)); err != nil {
		t.Fatalf("Put through the proxy: %v", err)
	}
	proxy.Close()
	_ = direct

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	checks := map[string]error{
		"Put": func() error {
			_, err := s.Put(ctx, "k2", bytes.NewReader(data), int64(len(data)), hexSum(data))
			return err
		}(),
		"Stat":  func() error { _, err := s.Stat(ctx, "k"); return err }(),
		"Get":   func() error { _, _, err := s.Get(ctx, "k", ""); return err }(),
		"List":  s.List(ctx, "", func(chungthuc.ObjectInfo) error { return nil }),
		"Probe": s.Probe(ctx),
	}
	for op, err := range checks {
		if chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE || !strings.Contains(err.Error(), viaProxy.Endpoint) {
			t.Errorf("%s with the server gone = %v, want EUNAVAILABLE naming %s", op, err, viaProxy.Endpoint)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	good := Config{Endpoint: "127.0.0.1:1", Bucket: "chungthuc", AccessKey: "a", SecretKey: "s3cr3t-" + randHex(4)}
	cases := map[string]func(*Config){
		"no endpoint":     func(c *Config) { c.Endpoint = "" },
		"endpoint path":   func(c *Config) { c.Endpoint = "http://host:9000/bucket" },
		"endpoint scheme": func(c *Config) { c.Endpoint = "ftp://host:9000" },
		"bad bucket":      func(c *Config) { c.Bucket = "Not_A_Bucket" },
		"no bucket":       func(c *Config) { c.Bucket = "" },
		"half creds":      func(c *Config) { c.SecretKey = "" },
		"mode":            func(c *Config) { c.RetentionMode = "FOREVER" },
		"years":           func(c *Config) { c.RetentionYears = -1 },
		"small parts":     func(c *Config) { c.PartSize = 1 << 20 },
	}
	for name, mutate := range cases {
		cfg := good
		mutate(&cfg)
		if _, err := New(ctx, cfg); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("%s: New = %v, want EINVALID", name, err)
		}
	}
	ep, secure, err := parseEndpoint("https://s3.example.vn", false)
	if err != nil || ep != "s3.example.vn" || !secure {
		t.Errorf("parseEndpoint(https URL) = %q, %v, %v", ep, secure, err)
	}
}

func TestHashingReader(t *testing.T) {
	data := randBytes(1000)
	read := func(r io.Reader, size int64, sum string) error {
		hr := newHashingReader(r, "k", size, sum)
		_, err := io.Copy(io.Discard, hr)
		return hr.failure(err)
	}
	if err := read(bytes.NewReader(data), 1000, hexSum(data)); err != nil {
		t.Errorf("good content: %v", err)
	}
	for name, err := range map[string]error{
		"wrong hash": read(bytes.NewReader(data), 1000, hexSum(data[:999])),
		"short":      read(bytes.NewReader(data[:999]), 1000, hexSum(data)),
		"long":       read(bytes.NewReader(data), 999, hexSum(data[:999])),
	} {
		if chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

const benchSize = 1 << 20

func benchStore(b *testing.B) *Store {
	return newTestStore(b, testConfig(b))
}

// BenchmarkS3PutGet1MB: our Put (verified, conditional) then Get (verified) of 1 MiB.
func BenchmarkS3PutGet1MB(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	data := randBytes(benchSize)
	buf := make([]byte, 64<<10)
	b.SetBytes(2 * benchSize)
	for b.Loop() {
		rand.Read(data[:16])
		key := "bench/" + hex.EncodeToString(data[:16])
		if _, err := s.Put(ctx, key, bytes.NewReader(data), benchSize, hexSum(data)); err != nil {
			b.Fatal(err)
		}
		rc, _, err := s.Get(ctx, key, "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, rc, buf); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}

// BenchmarkS3Put1MB: our Put alone (the caller has the hash already).
func BenchmarkS3Put1MB(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	data := randBytes(benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		rand.Read(data[:16])
		if _, err := s.Put(ctx, "bench/"+hex.EncodeToString(data[:16]), bytes.NewReader(data), benchSize, hexSum(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMinioBarePut1MB: minio-go PutObject of the same bytes with default options —
// no hash, no condition, no verification: the floor for our Put.
func BenchmarkMinioBarePut1MB(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	data := randBytes(benchSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		rand.Read(data[:16])
		if _, err := s.Client().PutObject(ctx, s.bucket, "bench/"+hex.EncodeToString(data[:16]), bytes.NewReader(data), benchSize, minio.PutObjectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMinioBarePutGet1MB: bare PutObject then GetObject, the floor for PutGet.
func BenchmarkMinioBarePutGet1MB(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	data := randBytes(benchSize)
	buf := make([]byte, 64<<10)
	b.SetBytes(2 * benchSize)
	for b.Loop() {
		rand.Read(data[:16])
		key := "bench/" + hex.EncodeToString(data[:16])
		if _, err := s.Client().PutObject(ctx, s.bucket, key, bytes.NewReader(data), benchSize, minio.PutObjectOptions{}); err != nil {
			b.Fatal(err)
		}
		obj, err := s.Client().GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, obj, buf); err != nil {
			b.Fatal(err)
		}
		obj.Close()
	}
}

func wantObject(t *testing.T, s *Store, key string, data []byte) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), key, "")
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("Get(%q) = %d bytes, %v; want the %d bytes put", key, len(got), err, len(data))
	}
	if info.SHA256 != hexSum(data) || info.Size != int64(len(data)) {
		t.Errorf("Get(%q) info = %+v", key, info)
	}
}

func retention(t *testing.T, s *Store, key string) (time.Time, minio.RetentionMode) {
	t.Helper()
	mode, until, err := s.Client().GetObjectRetention(context.Background(), s.bucket, key, "")
	if err != nil {
		t.Fatalf("GetObjectRetention(%q): %v", key, err)
	}
	if mode == nil || until == nil {
		t.Fatalf("object %q has no retention", key)
	}
	return *until, *mode
}

func stat(t *testing.T, s *Store, key string) minio.ObjectInfo {
	t.Helper()
	st, err := s.Client().StatObject(context.Background(), s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func randHex(n int) string { return hex.EncodeToString(randBytes(n)) }
