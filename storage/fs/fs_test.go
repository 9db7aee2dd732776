package fs_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/fs"
	"github.com/chungthuc/chungthuc/storage/objecttest"
)

func newStore(t testing.TB) (*fs.Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "objects")
	s, err := fs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func TestConformance(t *testing.T) {
	s, dir := newStore(t)
	objecttest.Run(t, s, tamperer{dir})
}

// tamperer writes into the directory behind the store's back.
type tamperer struct{ dir string }

// Overwrite writes in place (O_TRUNC): the inode and its recorded hash stay, as after cp.
func (x tamperer) Overwrite(_ context.Context, key string, data []byte) error {
	return os.WriteFile(filepath.Join(x.dir, key), data, 0o640)
}
func (x tamperer) Remove(_ context.Context, key string) error {
	return os.Remove(filepath.Join(x.dir, key))
}
func (tamperer) Versioned() bool { return false }

// TestProbeFailsOnReadOnlyRoot: a directory that cannot be written is not ready.
func TestProbeFailsOnReadOnlyRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions do not stop writes")
	}
	s, dir := newStore(t)
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o750)
	if err := s.Probe(context.Background()); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Errorf("Probe of a read-only root = %v, want EUNAVAILABLE", err)
	}
}

// TestVersionStamp: the stamp changes when the file is replaced (rename over it) or
// rewritten in place, and stays while the file is untouched.
func TestVersionStamp(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	data := []byte("%PDF- a copy")
	info := put(t, s, "c/obj", data)
	if info.Version == "" {
		t.Fatal("Put reports no version stamp")
	}
	if st, _ := s.Stat(ctx, "c/obj"); st.Version != info.Version {
		t.Fatalf("stamp changed without a write: %q, then %q", info.Version, st.Version)
	}
	time.Sleep(10 * time.Millisecond)
	tmp := filepath.Join(dir, "c", "other")
	os.WriteFile(tmp, []byte("forged"), 0o640)
	if err := os.Rename(tmp, filepath.Join(dir, "c", "obj")); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stat(ctx, "c/obj")
	if err != nil || st.Version == info.Version {
		t.Fatalf("after a rename over the object: %+v, %v; want another stamp", st, err)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := fs.New(""); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("New(\"\") = %v, want EINVALID", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := fs.New(file); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Errorf("New(a file) = %v, want EUNAVAILABLE", err)
	}
	if _, err := fs.New(filepath.Join(file, "below")); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Errorf("New(below a file) = %v, want EUNAVAILABLE", err)
	}
}

func TestLayoutAndPermissions(t *testing.T) {
	s, dir := newStore(t)
	data := []byte("%PDF-1.7 a signed copy")
	sum := hexSum(data)
	key := "copies/" + sum[:2] + "/" + sum + ".pdf"
	put(t, s, key, data)
	path := filepath.Join(dir, "copies", sum[:2], sum+".pdf")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("object not at %s: %v", path, err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("file mode = %v, want 0640", fi.Mode().Perm())
	}
	for _, d := range []string{filepath.Join(dir, "copies"), filepath.Dir(path)} {
		di, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if di.Mode().Perm() != 0o750 {
			t.Errorf("directory %s mode = %v, want 0750", d, di.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after Put, want 1 (no temporary file left)", len(entries))
	}
}

func TestLeftoverTempFiles(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	put(t, s, "copies/ab/real.pdf", []byte("real"))
	old := filepath.Join(dir, "copies", "ab", ".tmp-0123abcd")
	young := filepath.Join(dir, "copies", "ab", ".tmp-4567ef01")
	for _, p := range []string{old, young} {
		if err := os.WriteFile(p, []byte("half a crashed upload"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	os.Chtimes(old, past, past)

	var keys []string
	s.List(ctx, "", func(oi chungthuc.ObjectInfo) error { keys = append(keys, oi.Key); return nil })
	if len(keys) != 1 || keys[0] != "copies/ab/real.pdf" {
		t.Errorf("List = %q, want only the real object", keys)
	}
	n, err := s.Cleanup(ctx, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("Cleanup = %d, %v; want 1 removed", n, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("old temporary file still there: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("young temporary file (maybe a Put in progress) was removed: %v", err)
	}
	if _, err := s.Stat(ctx, "copies/ab/real.pdf"); err != nil {
		t.Errorf("Cleanup touched a real object: %v", err)
	}
}

func TestVerify(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	data := bytes.Repeat([]byte("bản sao "), 1000)
	put(t, s, "a/obj", data)
	info, err := s.Verify(ctx, "a/obj")
	if err != nil {
		t.Fatalf("Verify of an intact object: %v", err)
	}
	if info.SHA256 != hexSum(data) || info.Size != int64(len(data)) {
		t.Errorf("Verify = %+v", info)
	}

	// Flip one byte in place (the inode and its recorded hash stay).
	f, err := os.OpenFile(filepath.Join(dir, "a", "obj"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{'X'}, 100)
	f.Close()
	if _, err := s.Verify(ctx, "a/obj"); chungthuc.ErrorCode(err) != chungthuc.EINTERNAL || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("Verify of a corrupt object = %v, want EINTERNAL \"corrupt\"", err)
	}
	// Stat does not read content: it still reports the recorded hash.
	if info, err := s.Stat(ctx, "a/obj"); err != nil || info.SHA256 != hexSum(data) {
		t.Errorf("Stat = %+v, %v", info, err)
	}
	if _, err := s.Verify(ctx, "a/missing"); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("Verify of a missing key = %v, want ENOTFOUND", err)
	}
	if _, err := s.Verify(ctx, "../x"); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("Verify of a bad key = %v, want EINVALID", err)
	}
}

// A file restored without its extended attribute: the hash is unknown to Stat, Verify
// computes it, and write-once still compares content.
func TestWithoutRecordedHash(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	data := []byte("restored from a backup without xattrs")
	if err := os.MkdirAll(filepath.Join(dir, "r"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "r", "obj"), data, 0o640); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(ctx, "r/obj")
	if err != nil || info.SHA256 != "" || info.Size != int64(len(data)) {
		t.Errorf("Stat = %+v, %v; want size %d and an unknown hash", info, err, len(data))
	}
	if info, err := s.Verify(ctx, "r/obj"); err != nil || info.SHA256 != hexSum(data) {
		t.Errorf("Verify = %+v, %v; want the computed hash", info, err)
	}
	put(t, s, "r/obj", data)
	other := []byte("something else")
	if _, err := s.Put(ctx, "r/obj", bytes.NewReader(other), int64(len(other)), hexSum(other)); chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		t.Errorf("Put of other content = %v, want ECONFLICT", err)
	}
}

// Symbolic links planted under the root cannot lead outside it.
func TestSymlinkEscape(t *testing.T) {
	s, dir := newStore(t)
	ctx := context.Background()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	os.WriteFile(secret, []byte("outside the store"), 0o600)
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if rc, _, err := s.Get(ctx, "link/secret", ""); err == nil {
		rc.Close()
		t.Errorf("Get through a symlink to outside the root succeeded")
	}
	data := []byte("x")
	if _, err := s.Put(ctx, "link/new", bytes.NewReader(data), 1, hexSum(data)); err == nil {
		t.Errorf("Put through a symlink to outside the root succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); !os.IsNotExist(err) {
		t.Errorf("a file was written outside the root")
	}
}

// TestDiskErrorsAreUnavailable: a write the file system refuses (a read-only root) is
// EUNAVAILABLE. Root ignores permission bits, and CI runs as root: there the test runs
// again in a subprocess as the unprivileged user nobody (runAsNobody).
func TestDiskErrorsAreUnavailable(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestDiskErrorsAreUnavailable")
		return
	}
	s, dir := newStore(t)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = os.Chmod(dir, 0o750) }()
	data := []byte("x")
	if _, err := s.Put(context.Background(), "a/b", bytes.NewReader(data), 1, hexSum(data)); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Errorf("Put into a read-only root = %v, want EUNAVAILABLE", err)
	}
}

func BenchmarkFSPut1MB(b *testing.B) {
	s, _ := newStore(b)
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		rand.Read(data[:16])
		if _, err := s.Put(context.Background(), "bench/"+hex.EncodeToString(data[:16]), bytes.NewReader(data), int64(len(data)), hexSum(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareFileWrite1MB is the floor for BenchmarkFSPut1MB: write a file, fsync it,
// rename it into place and fsync the directory, with no hashing nor checks.
func BenchmarkBareFileWrite1MB(b *testing.B) {
	dir := b.TempDir()
	data := make([]byte, 1<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rand.Read(data[:16])
		name := filepath.Join(dir, hex.EncodeToString(data[:16]))
		f, err := os.Create(name + ".tmp")
		if err != nil {
			b.Fatal(err)
		}
		f.Write(data)
		f.Sync()
		f.Close()
		if err := os.Rename(name+".tmp", name); err != nil {
			b.Fatal(err)
		}
		d, _ := os.Open(dir)
		d.Sync()
		d.Close()
	}
}

func BenchmarkFSGet1MB(b *testing.B) {
	s, _ := newStore(b)
	data := make([]byte, 1<<20)
	rand.Read(data)
	put(b, s, "bench/obj", data)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rc, _, err := s.Get(context.Background(), "bench/obj", "")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, rc, buf); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}

func put(t testing.TB, s *fs.Store, key string, data []byte) *chungthuc.ObjectInfo {
	t.Helper()
	info, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), hexSum(data))
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
