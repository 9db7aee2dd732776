package certify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer"
)

// The state of an entry waiting for an external signature (waitState) is kept in the
// register between the steps, so that any instance continues any entry after a restart.
// Its bulk is the prepared file, and most of that file is the citizen's scans, embedded
// byte for byte (JPEG) — scans that are already in the object store under their SHA-256
// (KeepScans). So the register holds the file with those runs cut out and a reference to
// each (scanRef); loading the state puts them back, from this process's cache of scans or
// from the object store, verified against the hash in their key. A 3-page copy of 1 MB
// scans keeps ~100 KB in the register instead of 3.3 MB, written twice and read twice.
// Scans not kept, or not embedded verbatim (PNG, PDF), stay in the literal part: correct,
// only bigger.

// waitState is the workflow's state between the steps. It holds no key. AccessCode is the
// citizen's code, returned once when the copy is issued: the register drops the state
// when the wait closes.
type waitState struct {
	Version    int
	Pending    *signer.Pending // its PDF is not in the head: see marshal
	ScanKeys   []string
	AccessCode string
	// Refs are the runs of the prepared file that are stored scans, in file order; Size is
	// the whole file's length. Both empty in version 1 (the file stored whole).
	Refs []scanRef `json:",omitempty"`
	Size int64     `json:",omitempty"`

	literal []byte            // the file without Refs' runs (as loaded), until assembled
	scans   map[string][]byte // the stored scans' bytes, by key, when known
}

// scanRef is a run of the prepared file equal to the stored scan Key.
type scanRef struct {
	Key string
	At  int64
}

// Stored states start with a magic, then the length of the JSON head (4 bytes,
// big-endian), the head, then the file's bytes as they are (no base64, no JSON scanning of
// megabytes): "CTW1" the whole file, "CTW2" the file without the referenced runs.
const (
	stateMagic1 = "CTW1"
	stateMagic2 = "CTW2"
)

// revisionRoom is the spare capacity given to an assembled file for the revisions the next
// steps append.
const revisionRoom = 512 << 10

// minScanRef is the smallest scan worth a reference instead of its bytes.
const minScanRef = 4 << 10

// marshal encodes st for the register, cutting the stored scans it knows (st.scans) out of
// the prepared file.
func (st *waitState) marshal() ([]byte, error) {
	p := *st.Pending
	pdf := p.PDF
	p.PDF = nil
	head := &waitState{Version: 2, Pending: &p, ScanKeys: st.ScanKeys, AccessCode: st.AccessCode, Size: int64(len(pdf))}
	// A loaded state's runs stay where they were (later steps only fill in and append).
	if head.Refs = st.Refs; !refsHold(pdf, head.Refs, st.scans) {
		head.Refs = findScans(pdf, st.ScanKeys, st.scans)
	}
	h, err := json.Marshal(head)
	if err != nil {
		return nil, err
	}
	cut := int64(0)
	for _, r := range head.Refs {
		cut += int64(len(st.scans[r.Key]))
	}
	out := make([]byte, 0, len(stateMagic2)+4+len(h)+len(pdf)-int(cut))
	out = append(out, stateMagic2...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(h)))
	out = append(out, h...)
	at := int64(0)
	for _, r := range head.Refs {
		out = append(out, pdf[at:r.At]...)
		at = r.At + int64(len(st.scans[r.Key]))
	}
	return append(out, pdf[at:]...), nil
}

// findScans finds each scan of keys (whose bytes are in scans) in pdf, verbatim; the runs
// found, in file order, without overlaps.
func findScans(pdf []byte, keys []string, scans map[string][]byte) []scanRef {
	var refs []scanRef
	for _, k := range keys {
		data := scans[k]
		if len(data) < minScanRef {
			continue
		}
		probe := data[:512]
		for from := 0; from < len(pdf); {
			i := bytes.Index(pdf[from:], probe)
			if i < 0 {
				break
			}
			at := from + i
			if at+len(data) <= len(pdf) && bytes.Equal(pdf[at:at+len(data)], data) {
				refs = append(refs, scanRef{Key: k, At: int64(at)})
				break
			}
			from = at + 1
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].At < refs[j].At })
	kept := refs[:0]
	end := int64(0)
	for _, r := range refs {
		if r.At >= end {
			kept = append(kept, r)
			end = r.At + int64(len(scans[r.Key]))
		}
	}
	return kept
}

// refsHold reports whether refs (non-empty) are runs of pdf equal to the scans they name.
func refsHold(pdf []byte, refs []scanRef, scans map[string][]byte) bool {
	if len(refs) == 0 {
		return false
	}
	end := int64(0)
	for _, r := range refs {
		data, ok := scans[r.Key]
		if !ok || r.At < end || r.At+int64(len(data)) > int64(len(pdf)) || !bytes.Equal(pdf[r.At:r.At+int64(len(data))], data) {
			return false
		}
		end = r.At + int64(len(data))
	}
	return true
}

// unmarshalState decodes a stored state's head; the file stays unassembled (st.literal)
// until assemble. The literal part shares data's memory.
func unmarshalState(data []byte) (*waitState, error) {
	if len(data) < len(stateMagic1)+4 {
		return nil, errors.New("not a signing state")
	}
	magic := string(data[:len(stateMagic1)])
	if magic != stateMagic1 && magic != stateMagic2 {
		return nil, errors.New("not a signing state")
	}
	n := int(binary.BigEndian.Uint32(data[len(stateMagic1):]))
	rest := data[len(stateMagic1)+4:]
	if n > len(rest) {
		return nil, errors.New("truncated signing state")
	}
	var st waitState
	if err := json.Unmarshal(rest[:n], &st); err != nil || st.Pending == nil {
		return nil, errors.New("damaged signing state")
	}
	st.literal = rest[n:len(rest):len(rest)]
	if magic == stateMagic1 {
		st.Refs, st.Size = nil, int64(len(st.literal))
	}
	return &st, nil
}

// assemble rebuilds the prepared file of a loaded state (st.Pending.PDF), reading the
// referenced scans from the cache or the object store (verified against their key's hash).
func (s *Service) assemble(ctx context.Context, st *waitState) error {
	if st.Pending.PDF != nil {
		return nil
	}
	if len(st.Refs) == 0 {
		if int64(len(st.literal)) != st.Size {
			return errors.New("damaged signing state (size)")
		}
		st.Pending.PDF = append(make([]byte, 0, len(st.literal)+revisionRoom), st.literal...)
		return nil
	}
	st.scans = make(map[string][]byte, len(st.Refs))
	// Room for what the next steps append in place (the seal's revision, the validation
	// data and document time-stamp): without it the first append copies the whole file.
	out := fileBuffer(int(st.Size) + revisionRoom)
	lit := st.literal
	at := int64(0)
	for _, r := range st.Refs {
		data, err := s.storedScan(ctx, r.Key)
		if err != nil {
			return err
		}
		st.scans[r.Key] = data
		n := r.At - at
		if n < 0 || n > int64(len(lit)) {
			return errors.New("damaged signing state (runs)")
		}
		out = append(append(out, lit[:n]...), data...)
		lit = lit[n:]
		at = r.At + int64(len(data))
	}
	out = append(out, lit...)
	if int64(len(out)) != st.Size {
		return errors.New("damaged signing state (size)")
	}
	st.Pending.PDF = out
	return nil
}

// fileBuffers keeps a few buffers of assembled files whose step is recorded (the officer's
// file once the seal step is stored), for the next file to be assembled: a fresh megabyte
// buffer costs more in page faults than the copy into it. Unlike a sync.Pool it survives
// garbage collections, which a stream of megabyte files causes every few copies.
var fileBuffers struct {
	sync.Mutex
	free [][]byte
}

// Bounds of fileBuffers: how many buffers it keeps, and the largest it keeps.
const (
	keptBuffers   = 4
	keptBufferCap = 16 << 20
)

// fileBuffer returns an empty buffer with capacity of at least n.
func fileBuffer(n int) []byte {
	fileBuffers.Lock()
	defer fileBuffers.Unlock()
	for i, b := range fileBuffers.free {
		if cap(b) >= n {
			last := len(fileBuffers.free) - 1
			fileBuffers.free[i] = fileBuffers.free[last]
			fileBuffers.free = fileBuffers.free[:last]
			return b[:0]
		}
	}
	return make([]byte, 0, n)
}

// recycle gives back a buffer that nothing refers to any more.
func recycle(b []byte) {
	if cap(b) == 0 || cap(b) > keptBufferCap {
		return
	}
	fileBuffers.Lock()
	defer fileBuffers.Unlock()
	if len(fileBuffers.free) < keptBuffers {
		fileBuffers.free = append(fileBuffers.free, b)
	}
}

// storedScan returns the bytes of stored scan key ("scans/<sha256>.<ext>"): from the
// process's cache, or read from the object store and checked against the hash in the key.
func (s *Service) storedScan(ctx context.Context, key string) ([]byte, error) {
	if b := s.scanCache.get(key); b != nil {
		return b, nil
	}
	sum, ok := keyHash(key)
	if !ok {
		return nil, fmt.Errorf("signing state refers to %q, not a stored scan", key)
	}
	rc, _, err := s.Objects.Get(ctx, key, "")
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, defaultMaxCopy+1))
	if err != nil {
		return nil, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "the stored scan %s cannot be read", key)
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
		return nil, chungthuc.Errorf(chungthuc.EINTERNAL, "the stored scan %s does not match its hash", key)
	}
	s.scanCache.put(key, b)
	return b, nil
}

// keyHash is the SHA-256 (hex) a scan key names.
func keyHash(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "scans/")
	if !ok {
		return "", false
	}
	sum, _, _ := strings.Cut(rest, ".")
	if len(sum) != 64 {
		return "", false
	}
	if _, err := hex.DecodeString(sum); err != nil {
		return "", false
	}
	return sum, true
}

// scanCacheBytes bounds the scans a Service keeps in memory for the entries waiting for a
// signature (the oldest go first). Scans are named by their hash, so a cached one is never
// stale; a miss costs a read from the object store and a hash.
const scanCacheBytes = 64 << 20

// scanCache keeps stored scans' bytes by key, up to scanCacheBytes. The zero value is ready.
// Cached slices are never written to.
type scanCache struct {
	mu    sync.Mutex
	m     map[string][]byte
	order []string
	size  int
}

func (c *scanCache) get(key string) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *scanCache) put(key string, b []byte) {
	if len(b) > scanCacheBytes/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return
	}
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	for c.size+len(b) > scanCacheBytes && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.size -= len(c.m[old])
		delete(c.m, old)
	}
	c.m[key] = b
	c.order = append(c.order, key)
	c.size += len(b)
}
