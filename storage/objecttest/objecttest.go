// Package objecttest is the conformance suite for chungthuc.ObjectStore: storage/fs and
// storage/s3 both run it, so the workflow can rely on the same behaviour from either.
package objecttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// Tamperer is the test hook a store's test offers to change objects behind the store's
// back, as someone with write access to the directory or bucket could.
type Tamperer interface {
	// Overwrite writes data over key unconditionally, leaving whatever metadata the store
	// keeps (the recorded hash) as it was when it can.
	Overwrite(ctx context.Context, key string, data []byte) error
	// Remove deletes key the plain way (in a versioned bucket: a delete marker).
	Remove(ctx context.Context, key string) error
	// Versioned reports whether the store keeps earlier versions.
	Versioned() bool
}

// Run checks store against the ObjectStore contract. The store must be writable. Every
// key the suite writes lies under "objecttest/<random>/", so a store that already holds
// objects can be used, and two runs do not collide. With a non-nil tamper the suite also
// checks what reads of a recorded version return after the object was changed behind the
// store's back.
func Run(t *testing.T, store chungthuc.ObjectStore, tamper Tamperer) {
	base := "objecttest/" + randHex(8) + "/"
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, store, base+"roundtrip/") })
	t.Run("UpperCaseHash", func(t *testing.T) { testUpperCaseHash(t, store, base+"upper/") })
	t.Run("EmptyObject", func(t *testing.T) { testEmpty(t, store, base+"empty/") })
	t.Run("BadContentRejected", func(t *testing.T) { testBadContent(t, store, base+"bad/") })
	t.Run("BadArguments", func(t *testing.T) { testBadArguments(t, store, base+"badargs/") })
	t.Run("WriteOnce", func(t *testing.T) { testWriteOnce(t, store, base+"once/") })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, store, base+"missing/") })
	t.Run("List", func(t *testing.T) { testList(t, store, base+"list/") })
	t.Run("ListAfter", func(t *testing.T) { testListAfter(t, store, base+"listafter/") })
	t.Run("Versions", func(t *testing.T) { testVersions(t, store, base+"versions/") })
	t.Run("Probe", func(t *testing.T) { testProbe(t, store) })
	if tamper != nil {
		t.Run("TamperedOverwrite", func(t *testing.T) { testTamperedOverwrite(t, store, tamper, base+"tampered/") })
		t.Run("TamperedRemove", func(t *testing.T) { testTamperedRemove(t, store, tamper, base+"removed/") })
	}
	t.Run("Keys", func(t *testing.T) { testKeys(t, store, base+"keys/") })
	t.Run("ReaderFails", func(t *testing.T) { testReaderFails(t, store, base+"readerr/") })
	t.Run("Canceled", func(t *testing.T) { testCanceled(t, store, base+"canceled/") })
	t.Run("ConcurrentSame", func(t *testing.T) { testConcurrentSame(t, store, base+"concsame/") })
	t.Run("ConcurrentDifferent", func(t *testing.T) { testConcurrentDifferent(t, store, base+"concdiff/") })
	t.Run("Stream20MB", func(t *testing.T) { testStream(t, store, base+"stream/", 20<<20) })
}

func testRoundTrip(t *testing.T, s chungthuc.ObjectStore, p string) {
	ctx := context.Background()
	data := randBytes(100_000)
	key := p + "copies/ab/" + hexSum(data) + ".pdf"
	mustPut(t, s, key, data)

	info, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	wantInfo(t, "Stat", info, key, data)

	rc, info, err := s.Get(ctx, key, "")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading Get: %v", err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("Get returned %d bytes that differ from the %d put", len(got), len(data))
	}
	wantInfo(t, "Get", info, key, data)

	var listed []chungthuc.ObjectInfo
	if err := s.List(ctx, p, func(oi chungthuc.ObjectInfo) error { listed = append(listed, oi); return nil }); err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(listed) != 1 {
		t.Fatalf("List(%q) = %v, want one object", p, listed)
	}
	wantInfo(t, "List", &listed[0], key, data)
}

func testUpperCaseHash(t *testing.T, s chungthuc.ObjectStore, p string) {
	data := randBytes(1000)
	key := p + "x.bin"
	if _, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), strings.ToUpper(hexSum(data))); err != nil {
		t.Fatalf("Put with an upper-case hash: %v", err)
	}
	info, err := s.Stat(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	wantInfo(t, "Stat", info, key, data) // hashes are reported in lower case
}

func testEmpty(t *testing.T, s chungthuc.ObjectStore, p string) {
	key := p + "empty"
	mustPut(t, s, key, nil)
	rc, info, err := s.Get(context.Background(), key, "")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || len(got) != 0 {
		t.Errorf("Get of an empty object = %d bytes, %v", len(got), err)
	}
	wantInfo(t, "Get", info, key, nil)
}

func testBadContent(t *testing.T, s chungthuc.ObjectStore, p string) {
	ctx := context.Background()
	data := randBytes(50_000)
	other := randBytes(50_000)
	cases := []struct {
		name   string
		body   []byte
		size   int64
		sha256 string
	}{
		{"wrong hash", data, int64(len(data)), hexSum(other)},
		{"short content", data[:len(data)-1], int64(len(data)), hexSum(data)},
		{"long content", append(slices.Clone(data), 'x'), int64(len(data)), hexSum(data)},
		{"hash of a prefix", data, int64(len(data) - 10), hexSum(data)},
	}
	for i, c := range cases {
		key := fmt.Sprintf("%sobj%d", p, i)
		_, err := s.Put(ctx, key, bytes.NewReader(c.body), c.size, c.sha256)
		if code := chungthuc.ErrorCode(err); code != chungthuc.EINVALID {
			t.Errorf("%s: Put = %v (code %q), want EINVALID", c.name, err, code)
		}
		if _, err := s.Stat(ctx, key); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
			t.Errorf("%s: after a rejected Put, Stat = %v, want ENOTFOUND", c.name, err)
		}
	}
	wantListed(t, s, p, "", nil)
	// The key stays usable for the right content.
	key := p + "obj0"
	mustPut(t, s, key, data)
	wantContent(t, s, key, data)
}

func testBadArguments(t *testing.T, s chungthuc.ObjectStore, p string) {
	ctx := context.Background()
	data := []byte("content")
	for _, sum := range []string{"", "abc", strings.Repeat("g", 64), hexSum(data) + "00", hexSum(data)[:63] + " "} {
		_, err := s.Put(ctx, p+"x", bytes.NewReader(data), int64(len(data)), sum)
		if chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("Put with sha256 %q = %v, want EINVALID", sum, err)
		}
	}
	if _, err := s.Put(ctx, p+"x", bytes.NewReader(data), -1, hexSum(data)); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("Put with size -1 = %v, want EINVALID", err)
	}
	wantListed(t, s, p, "", nil)
}

func testWriteOnce(t *testing.T, s chungthuc.ObjectStore, p string) {
	ctx := context.Background()
	data := randBytes(10_000)
	key := p + "obj"
	mustPut(t, s, key, data)
	mustPut(t, s, key, data) // the same content again: success
	other := randBytes(10_000)
	_, err := s.Put(ctx, key, bytes.NewReader(other), int64(len(other)), hexSum(other))
	if code := chungthuc.ErrorCode(err); code != chungthuc.ECONFLICT {
		t.Errorf("Put of different content under an existing key = %v (code %q), want ECONFLICT", err, code)
	}
	// Different content with a wrong hash under an existing key is refused too.
	_, err = s.Put(ctx, key, bytes.NewReader(other), int64(len(other)), hexSum(randBytes(5)))
	if code := chungthuc.ErrorCode(err); code != chungthuc.ECONFLICT && code != chungthuc.EINVALID {
		t.Errorf("Put of bad content under an existing key = %v (code %q), want ECONFLICT or EINVALID", err, code)
	}
	wantContent(t, s, key, data)
}

func testNotFound(t *testing.T, s chungthuc.ObjectStore, p string) {
	ctx := context.Background()
	key := p + "nothing/here.pdf"
	if _, err := s.Stat(ctx, key); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("Stat of a missing key = %v, want ENOTFOUND", err)
	}
	rc, info, err := s.Get(ctx, key, "")
	if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("Get of a missing key = %v, want ENOTFOUND", err)
	}
	if rc != nil || info != nil {
		t.Errorf("Get of a missing key returned a reader or info along with the error")
	}
	// A "directory" is not an object.
	mustPut(t, s, p+"dir/obj", []byte("x"))
	if _, err := s.Stat(ctx, p+"dir"); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("Stat of a key prefix = %v, want ENOTFOUND", err)
	}
	// An object is not a "directory".
	if _, err := s.Stat(ctx, p+"dir/obj/deeper"); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("Stat below an object = %v, want ENOTFOUND", err)
	}
}

func testList(t *testing.T, s chungthuc.ObjectStore, p string) {
	ctx := context.Background()
	keys := []string{"a/1", "a/2", "ab/3", "b/4", "top"}
	for _, k := range keys {
		mustPut(t, s, p+k, []byte(k))
	}
	wantListed(t, s, p, "", keys)
	wantListed(t, s, p, "a", []string{"a/1", "a/2", "ab/3"})
	wantListed(t, s, p, "a/", []string{"a/1", "a/2"})
	wantListed(t, s, p, "a/1", []string{"a/1"})
	wantListed(t, s, p, "t", []string{"top"})
	wantListed(t, s, p, "zz/", nil)
	wantListed(t, s, p, "top/", nil)

	// An error from fn stops the listing and comes back unchanged.
	stop := errors.New("stop here")
	calls := 0
	err := s.List(ctx, p, func(chungthuc.ObjectInfo) error { calls++; return stop })
	if !errors.Is(err, stop) {
		t.Errorf("List with a failing fn = %v, want the fn's error", err)
	}
	if calls != 1 {
		t.Errorf("List called fn %d times after it failed, want 1", calls)
	}
	for _, bad := range []string{"/abs", "../", "a/../", "a\x00", `a\b`} {
		if err := s.List(ctx, bad, func(chungthuc.ObjectInfo) error { return nil }); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("List(%q) = %v, want EINVALID", bad, err)
		}
	}
}

// testVersions: Put reports the version and ETag the store recorded (the same as Stat and
// List report, and the existing object's on a repeated Put), and Get of that version
// returns the content.
func testVersions(t *testing.T, s chungthuc.ObjectStore, p string) {
	ctx := context.Background()
	data := randBytes(5000)
	key := p + "obj"
	put, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), hexSum(data))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if put == nil {
		t.Fatal("Put returned no info")
	}
	wantInfo(t, "Put", put, key, data)
	st, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != put.Version || st.ETag != put.ETag {
		t.Errorf("Stat reports version %q etag %q, Put reported %q %q", st.Version, st.ETag, put.Version, put.ETag)
	}
	again, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), hexSum(data))
	if err != nil {
		t.Fatal(err)
	}
	if again.Version != put.Version || again.ETag != put.ETag {
		t.Errorf("a repeated Put reports version %q etag %q, the first %q %q", again.Version, again.ETag, put.Version, put.ETag)
	}
	rc, info, err := s.Get(ctx, key, put.Version)
	if err != nil {
		t.Fatalf("Get of version %q: %v", put.Version, err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get of version %q returned %d bytes, %v", put.Version, len(got), err)
	}
	if info.Version != put.Version {
		t.Errorf("Get of version %q reports version %q", put.Version, info.Version)
	}
	var listed []chungthuc.ObjectInfo
	if err := s.List(ctx, p, func(oi chungthuc.ObjectInfo) error { listed = append(listed, oi); return nil }); err != nil {
		t.Fatal(err)
	}
	// A listing may leave Version empty (S3 lists current versions without their IDs).
	if len(listed) != 1 || (listed[0].Version != "" && listed[0].Version != put.Version) {
		t.Errorf("List reports %+v, want version %q or none", listed, put.Version)
	}
}

// testProbe: Probe succeeds on a writable store and leaves nothing a listing shows.
func testProbe(t *testing.T, s chungthuc.ObjectStore) {
	ctx := context.Background()
	count := func() int {
		n := 0
		if err := s.List(ctx, "", func(chungthuc.ObjectInfo) error { n++; return nil }); err != nil {
			t.Fatalf("List: %v", err)
		}
		return n
	}
	before := count()
	for range 3 {
		if err := s.Probe(ctx); err != nil {
			t.Fatalf("Probe of a writable store: %v", err)
		}
	}
	if after := count(); after != before {
		t.Errorf("Probe left objects behind: %d objects before, %d after", before, after)
	}
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Probe(ctx); err == nil {
		t.Errorf("Probe with a canceled context succeeded")
	}
}

// testTamperedOverwrite: after the object was overwritten behind the store's back, a read
// of the recorded version returns the original bytes (a versioned store) or says it is
// another version or ETag — never the new bytes under the recorded version's name.
func testTamperedOverwrite(t *testing.T, s chungthuc.ObjectStore, x Tamperer, p string) {
	ctx := context.Background()
	data := randBytes(3000)
	key := p + "obj"
	put, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), hexSum(data))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // a coarse clock must still tell the two writes apart
	forged := []byte("0123456789abcdef")
	if err := x.Overwrite(ctx, key, forged); err != nil {
		t.Fatalf("Overwrite: %v", err)
	}
	rc, info, err := s.Get(ctx, key, put.Version)
	if err != nil {
		t.Fatalf("Get of the recorded version after an overwrite: %v", err)
	}
	got, rerr := io.ReadAll(rc)
	rc.Close()
	if x.Versioned() {
		if rerr != nil || !bytes.Equal(got, data) || info.Version != put.Version {
			t.Errorf("versioned store: the recorded version reads %d bytes (version %q, %v), want the original %d (version %q)",
				len(got), info.Version, rerr, len(data), put.Version)
		}
	} else if info.Version == put.Version && info.ETag == put.ETag && bytes.Equal(got, forged) {
		t.Errorf("the forged bytes are returned under the recorded version %q and ETag %q", put.Version, put.ETag)
	}
	if cur, err := s.Stat(ctx, key); err != nil || (cur.Version == put.Version && cur.ETag == put.ETag) {
		t.Errorf("Stat after an overwrite = %+v, %v; want a new version or ETag", cur, err)
	}
}

// testTamperedRemove: after a plain delete, a versioned store still reads the recorded
// version while Stat says the object is gone; an unversioned store has nothing left.
func testTamperedRemove(t *testing.T, s chungthuc.ObjectStore, x Tamperer, p string) {
	ctx := context.Background()
	data := randBytes(3000)
	key := p + "obj"
	put, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), hexSum(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Remove(ctx, key); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := s.Stat(ctx, key); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("Stat after a delete = %v, want ENOTFOUND", err)
	}
	rc, _, err := s.Get(ctx, key, put.Version)
	if !x.Versioned() {
		if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
			t.Errorf("unversioned store: Get after a delete = %v, want ENOTFOUND", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("versioned store: Get of the recorded version under a delete marker: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("versioned store: the recorded version reads %d bytes, %v", len(got), err)
	}
	if _, _, err := s.Get(ctx, key, ""); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("Get of the current version under a delete marker = %v, want ENOTFOUND", err)
	}
}

// BadKeys are keys every ObjectStore rejects with EINVALID.
var BadKeys = []string{
	"",
	"/abs/olute",
	"../escape",
	"a/../../escape",
	"a/./b",
	"..",
	".",
	"a//b",
	"trailing/",
	`back\slash`,
	"nul\x00byte",
	"new\nline",
	"tab\there",
	"del\x7f",
	".hidden",
	"dir/.tmp-123456",
	"not-utf8-\xff",
	"Vie\u0302\u0323t-nfd",    // "Việt" decomposed: keys must be NFC
	strings.Repeat("k", 1025), // too long
	"long/" + strings.Repeat("s", 256),
}

// GoodKeys are unusual keys every ObjectStore accepts and returns unchanged.
var GoodKeys = []string{
	"Bản sao chứng thực – Nguyễn Văn Ĩnh (1).pdf",
	"a+b=c&d?e#f%20g;h,i@j!k$l'm~n.pdf",
	"space in name/and in dir",
	"x..y/z..",
	"UPPER/lower/MiXeD",
	"日本語/中文",
	"deep/a/b/c/d/e/f/g/h/i/j",
}

func testKeys(t *testing.T, s chungthuc.ObjectStore, p string) {
	ctx := context.Background()
	data := []byte("odd key content")
	for _, k := range BadKeys {
		key := p + k
		if k == "" || k[0] == '/' {
			key = k // these are bad only on their own
		}
		if _, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), hexSum(data)); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("Put(%q) = %v, want EINVALID", key, err)
		}
		if _, err := s.Stat(ctx, key); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("Stat(%q) = %v, want EINVALID", key, err)
		}
		if _, _, err := s.Get(ctx, key, ""); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
			t.Errorf("Get(%q) = %v, want EINVALID", key, err)
		}
	}
	var want []string
	for _, k := range GoodKeys {
		mustPut(t, s, p+k, []byte(k))
		wantContent(t, s, p+k, []byte(k))
		want = append(want, k)
	}
	wantListed(t, s, p, "", want)
}

func testReaderFails(t *testing.T, s chungthuc.ObjectStore, p string) {
	data := randBytes(300_000)
	key := p + "obj"
	boom := errors.New("scanner unplugged")
	r := io.MultiReader(bytes.NewReader(data[:100_000]), errReader{boom})
	if _, err := s.Put(context.Background(), key, r, int64(len(data)), hexSum(data)); err == nil {
		t.Fatalf("Put from a failing reader succeeded")
	}
	if _, err := s.Stat(context.Background(), key); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("after a failed Put, Stat = %v, want ENOTFOUND", err)
	}
	wantListed(t, s, p, "", nil)
}

func testCanceled(t *testing.T, s chungthuc.ObjectStore, p string) {
	data := randBytes(1000)
	key := p + "obj"
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), hexSum(data)); err == nil {
		t.Fatalf("Put with a canceled context succeeded")
	}
	if _, err := s.Stat(context.Background(), key); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("after a canceled Put, Stat = %v, want ENOTFOUND", err)
	}
	// A context canceled in the middle of the copy.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	big := randBytes(2 << 20)
	r := io.MultiReader(bytes.NewReader(big[:1<<20]), cancelReader{cancel}, bytes.NewReader(big[1<<20:]))
	if _, err := s.Put(ctx, key, r, int64(len(big)), hexSum(big)); err == nil {
		t.Fatalf("Put whose context was canceled mid-copy succeeded")
	}
	if _, err := s.Stat(context.Background(), key); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Errorf("after a canceled Put, Stat = %v, want ENOTFOUND", err)
	}
}

func testConcurrentSame(t *testing.T, s chungthuc.ObjectStore, p string) {
	data := randBytes(200_000)
	key := p + "obj"
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), hexSum(data))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Put %d of the same content: %v", i, err)
		}
	}
	wantContent(t, s, key, data)
	wantListed(t, s, p, "", []string{"obj"})
}

func testConcurrentDifferent(t *testing.T, s chungthuc.ObjectStore, p string) {
	key := p + "obj"
	const n = 8
	datas := make([][]byte, n)
	for i := range datas {
		datas[i] = randBytes(200_000)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Put(context.Background(), key, bytes.NewReader(datas[i]), int64(len(datas[i])), hexSum(datas[i]))
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch chungthuc.ErrorCode(err) {
		case "":
			if winner >= 0 {
				t.Errorf("concurrent Puts %d and %d of different content both succeeded", winner, i)
			}
			winner = i
		case chungthuc.ECONFLICT:
		default:
			t.Errorf("concurrent Put %d: %v, want success or ECONFLICT", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no concurrent Put succeeded")
	}
	wantContent(t, s, key, datas[winner])
}

// testStream puts and gets size bytes of generated content and checks that neither
// direction holds the object in memory.
func testStream(t *testing.T, s chungthuc.ObjectStore, p string, size int64) {
	ctx := context.Background()
	seed := mrand.Uint64()
	h := sha256.New()
	_, _ = io.Copy(h, newGen(seed, size)) // a hash never fails to write; newGen never fails to read
	sum := hex.EncodeToString(h.Sum(nil))
	key := p + "big.bin"

	var alloc uint64
	measure(&alloc, func() {
		if _, err := s.Put(ctx, key, newGen(seed, size), size, sum); err != nil {
			t.Fatalf("Put of %d bytes: %v", size, err)
		}
	})
	if alloc > uint64(size)/2 {
		t.Errorf("Put of %d bytes allocated %d bytes: the object is being held in memory", size, alloc)
	}

	measure(&alloc, func() {
		rc, info, err := s.Get(ctx, key, "")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		defer rc.Close()
		if info.Size != size || info.SHA256 != sum {
			t.Errorf("Get info = %+v, want size %d sha256 %s", info, size, sum)
		}
		h := sha256.New()
		n, err := io.CopyBuffer(h, rc, make([]byte, 64<<10))
		if err != nil {
			t.Fatalf("reading %d bytes: %v", n, err)
		}
		if n != size || hex.EncodeToString(h.Sum(nil)) != sum {
			t.Errorf("Get returned %d bytes hashing to %x, want %d bytes hashing to %s", n, h.Sum(nil), size, sum)
		}
	})
	if alloc > uint64(size)/2 {
		t.Errorf("Get of %d bytes allocated %d bytes: the object is being held in memory", size, alloc)
	}
}

// measure runs f and stores the bytes allocated on the heap meanwhile (by any goroutine:
// run it when nothing else is busy).
func measure(alloc *uint64, f func()) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	*alloc = after.TotalAlloc - before.TotalAlloc
}

// gen produces n deterministic pseudo-random bytes without holding them.
type gen struct {
	rng  *mrand.ChaCha8
	left int64
}

func newGen(seed uint64, n int64) *gen {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return &gen{rng: mrand.NewChaCha8(s), left: n}
}

func (g *gen) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, _ := g.rng.Read(p)
	g.left -= int64(n)
	return n, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// cancelReader cancels a context when reached, then reads as empty.
type cancelReader struct{ cancel context.CancelFunc }

func (c cancelReader) Read([]byte) (int, error) {
	c.cancel()
	time.Sleep(10 * time.Millisecond) // let the cancellation reach transports
	return 0, io.EOF
}

func mustPut(t *testing.T, s chungthuc.ObjectStore, key string, data []byte) {
	t.Helper()
	if _, err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), hexSum(data)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func wantInfo(t *testing.T, op string, info *chungthuc.ObjectInfo, key string, data []byte) {
	t.Helper()
	if info == nil {
		t.Fatalf("%s returned nil info", op)
	}
	want := chungthuc.ObjectInfo{Key: key, Size: int64(len(data)), SHA256: hexSum(data)}
	// The modification time is when the object was written: set, and not in the future or
	// the distant past (the stores' clocks may differ a little from ours).
	if got := info.ModTime; got.IsZero() || time.Since(got) > time.Hour || time.Until(got) > time.Minute {
		t.Errorf("%s info ModTime = %v, want about now", op, got)
	}
	got := *info
	got.ModTime, got.Version, got.ETag = time.Time{}, "", ""
	if got != want {
		t.Errorf("%s info = %+v, want %+v", op, got, want)
	}
}

func wantContent(t *testing.T, s chungthuc.ObjectStore, key string, data []byte) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), key, "")
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("Get(%q) returned %d bytes (sha256 %s), want %d bytes (sha256 %s)", key, len(got), hexSum(got), len(data), hexSum(data))
	}
	wantInfo(t, "Get", info, key, data)
}

// wantListed checks that List(base+rel) reports exactly the keys base+want.
func wantListed(t *testing.T, s chungthuc.ObjectStore, base, rel string, want []string) {
	t.Helper()
	prefix := base + rel
	var got []string
	err := s.List(context.Background(), prefix, func(oi chungthuc.ObjectInfo) error {
		got = append(got, strings.TrimPrefix(oi.Key, base))
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("List(%q) = %q, want %q", prefix, got, want)
	}
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
