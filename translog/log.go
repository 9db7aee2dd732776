package translog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/chungthuc/chungthuc"
)

// KeyLister is implemented by object stores that can list the keys after a given one
// (storage/s3 with S3's StartAfter, storage/fs): Refresh then reads only the checkpoints
// written since the last one it saw, instead of listing them all.
type KeyLister interface {
	// ListAfter calls fn, in key order, for every object whose key starts with prefix and
	// sorts after the key after.
	ListAfter(ctx context.Context, prefix, after string, fn func(chungthuc.ObjectInfo) error) error
}

// Options configure a Log. Register, Store and Key are required.
type Options struct {
	Register chungthuc.RegisterLog
	Store    chungthuc.ObjectStore
	Key      *Key
	Now      chungthuc.Clock // time.Now when nil
	Logger   *slog.Logger    // slog.Default() when nil
	// Attempts is how often Publish tries to store a checkpoint before giving up (3 when 0).
	Attempts int
	// PublishTimeout bounds the wait of the Appended hook (20 s when 0).
	PublishTimeout time.Duration
	// Writers is how many checkpoint writes may be under way at once (2 when 0): a caller
	// that arrives while one is being stored starts the next at once instead of waiting for
	// it, which halves the wait; callers that arrive while all are busy share the next one.
	Writers int
}

// Log is this process's side of the transparency log: the newest checkpoint stored in the
// object store, the publishing of new ones, and the guard that keeps a register that is
// behind the store from issuing anything. It is safe for concurrent use.
type Log struct {
	opt Options

	mu       sync.Mutex
	newest   *stored // newest checkpoint known to be in the store; nil when none
	verified int64   // the register's tree agrees with newest up to this size
	blocked  error   // why the register may not change (behind or forked), nil when it may
	forked   bool    // two signed checkpoints of one size disagree: only an operator can lift this
	read     bool    // Refresh has read the store at least once
	lastKey  string  // the greatest checkpoint key Refresh has seen

	front  *frontier // the stored tree's complete-subtree roots at the newest checkpoint this process wrote
	flight *flight   // the group of Publish callers waiting for the next write
	// recent are leaves this process committed and no stored checkpoint covers yet, by
	// index: the next checkpoint is made from them without reading the register.
	recent  map[int64]chungthuc.LogLeaf
	running int // writers at work (at most Options.Writers)

	// Published counts checkpoints this process stored; Failures counts Publish calls that
	// gave up (the next checkpoint covers their leaves).
	Published, Failures atomic.Int64
}

type stored struct {
	cp     Checkpoint
	signed []byte
}

type flight struct {
	done chan struct{}
	err  error
}

// New returns a Log. Call Refresh and Check before use, so that it knows the store's newest
// checkpoint and whether the register agrees with it.
func New(opt Options) (*Log, error) {
	if opt.Register == nil || opt.Store == nil || opt.Key == nil {
		return nil, errors.New("translog: Register, Store and Key are required")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Attempts <= 0 {
		opt.Attempts = 3
	}
	if opt.PublishTimeout <= 0 {
		opt.PublishTimeout = 20 * time.Second
	}
	if opt.Writers <= 0 {
		opt.Writers = 1
	}
	return &Log{opt: opt, blocked: errNotRead, recent: map[int64]chungthuc.LogLeaf{}}, nil
}

// errNotRead blocks the register until the store's checkpoints have been read once: a
// register restored from an older backup must not certify before the store was consulted.
var errNotRead = chungthuc.Errorf(chungthuc.EUNAVAILABLE,
	"The public log's checkpoints in the object store have not been read yet, so the service cannot tell whether the register is current; certification waits until the object store answers.")

// Key returns the log's key.
func (l *Log) Key() *Key { return l.opt.Key }

// Newest returns the newest checkpoint known to be stored and its signed form (false when
// none is).
func (l *Log) Newest() (Checkpoint, []byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.newest == nil {
		return Checkpoint{}, nil, false
	}
	return l.newest.cp, l.newest.signed, true
}

// Blocked returns why the register may not change (behind the store, or disagreeing with
// it), or nil.
func (l *Log) Blocked() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.blocked
}

// Hooks returns the hooks to install in the register.
func (l *Log) Hooks() chungthuc.LogHooks {
	return chungthuc.LogHooks{Guard: l.Guard, Appended: l.appended}
}

func (l *Log) appended(ctx context.Context, leaves []chungthuc.LogLeaf) {
	l.mu.Lock()
	if len(l.recent) > MaxBundle { // nobody publishes them: let the register answer
		clear(l.recent)
	}
	for _, lf := range leaves {
		l.recent[lf.Index] = lf
	}
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.opt.PublishTimeout)
	defer cancel()
	if err := l.Publish(ctx); err != nil {
		l.opt.Logger.Error("transparency log: no checkpoint stored for committed leaves; the next one will cover them", "err", err)
	}
}

// HashReader reads the register's stored hashes.
func (l *Log) HashReader(ctx context.Context) tlog.HashReader {
	return hashReader(ctx, l.opt.Register)
}

func hashReader(ctx context.Context, r chungthuc.RegisterLog) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		hs, err := r.LogHashes(ctx, idx)
		if err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(hs))
		for i, h := range hs {
			out[i] = tlog.Hash(h)
		}
		return out, nil
	})
}

// Refresh reads the checkpoints stored since the last one seen and adopts the newest whose
// signature verifies with the log key. Objects under log/checkpoints/ that are not valid
// bundles signed by the key are logged at ERROR and ignored. Two valid checkpoints of one
// size with different roots block the register (a fork). Errors: those of the store and,
// on the first call, of the register.
//
// With a store that lists keys after a given one, the first call does not list every
// checkpoint ever stored: it lists those after the register's log size minus 1, 4, 16, …
// until it finds a valid one (a store ahead of the register shows at once); later calls
// list only the keys after the last one seen.
func (l *Log) Refresh(ctx context.Context) error {
	l.mu.Lock()
	after, first := l.lastKey, !l.read
	l.mu.Unlock()
	kl, ok := l.opt.Store.(KeyLister)
	switch {
	case !ok:
		if _, err := l.refreshFrom(ctx, func(fn func(chungthuc.ObjectInfo) error) error {
			return l.opt.Store.List(ctx, CheckpointPrefix, fn)
		}, ""); err != nil {
			return err
		}
	case !first:
		if _, err := l.refreshFrom(ctx, func(fn func(chungthuc.ObjectInfo) error) error {
			return kl.ListAfter(ctx, CheckpointPrefix, after, fn)
		}, after); err != nil {
			return err
		}
	default:
		n, err := l.opt.Register.LogSize(ctx)
		if err != nil {
			return err
		}
		for d := int64(1); ; d *= 4 {
			from := ""
			if n-d >= 0 {
				from = CheckpointKey(n - d)
			}
			found, err := l.refreshFrom(ctx, func(fn func(chungthuc.ObjectInfo) error) error {
				return kl.ListAfter(ctx, CheckpointPrefix, from, fn)
			}, from)
			if err != nil {
				return err
			}
			if found || from == "" {
				break
			}
		}
	}
	l.mu.Lock()
	l.read = true
	l.mu.Unlock()
	return nil
}

// refreshFrom adopts the newest valid checkpoint among the keys list yields after the key
// after, and reports whether it found one.
func (l *Log) refreshFrom(ctx context.Context, list func(func(chungthuc.ObjectInfo) error) error, after string) (bool, error) {
	var keys []string
	if err := list(func(o chungthuc.ObjectInfo) error {
		if _, ok := SizeOfKey(o.Key); ok && o.Key > after {
			keys = append(keys, o.Key)
		}
		return nil
	}); err != nil {
		return false, err
	}
	if len(keys) == 0 {
		return false, nil
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	found := false
	for _, k := range keys {
		b, cp, err := l.fetch(ctx, k)
		if chungthuc.ErrorCode(err) == chungthuc.EINVALID {
			l.opt.Logger.Error("transparency log: ignoring an object that is not a checkpoint signed by the log key", "key", k, "err", err)
			continue
		} else if err != nil {
			return false, err
		}
		l.adopt(cp, []byte(b.Checkpoint), false)
		found = true
		break
	}
	l.mu.Lock()
	if keys[0] > l.lastKey {
		l.lastKey = keys[0]
	}
	l.mu.Unlock()
	return found, nil
}

// fetch reads and opens the bundle stored under key.
func (l *Log) fetch(ctx context.Context, key string) (*Bundle, Checkpoint, error) {
	rc, _, err := l.opt.Store.Get(ctx, key, "")
	if err != nil {
		return nil, Checkpoint{}, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 256<<20))
	if err != nil {
		return nil, Checkpoint{}, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "cannot read checkpoint %s", key)
	}
	b, cp, err := OpenBundle(data, l.opt.Key.Verifier)
	if err != nil {
		return nil, Checkpoint{}, err
	}
	if n, _ := SizeOfKey(key); n != cp.Size {
		return nil, Checkpoint{}, chungthuc.Errorf(chungthuc.EINVALID, "object %s holds the checkpoint of size %d", key, cp.Size)
	}
	return b, cp, nil
}

// adopt makes cp the newest known checkpoint when it is newer; ours says whether this
// process computed its root from the register (then the register agrees with it).
func (l *Log) adopt(cp Checkpoint, signed []byte, ours bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.newest == nil || cp.Size > l.newest.cp.Size:
		l.newest = &stored{cp: cp, signed: signed}
		if ours {
			l.verified = cp.Size
		}
	case cp.Size == l.newest.cp.Size && cp.Root != l.newest.cp.Root:
		l.forked = true
		l.blocked = chungthuc.Errorf(chungthuc.ECONFLICT,
			"The object store holds two checkpoints of the public log at size %d with different root hashes, both signed with the log key: the log has forked (a second register writing to this bucket with the same key, or a stolen key). Certification is stopped; compare the registers and run `chungthuc log verify`.", cp.Size)
	}
	if k := CheckpointKey(cp.Size); k > l.lastKey {
		l.lastKey = k
	}
}

// Check compares the register with the newest stored checkpoint: when the store knows more
// leaves than the register, or a different tree at its size, the register is blocked with
// an error that names the difference and the recovery; when they agree, a previous block
// is lifted. It returns the block (nil when none) or an error reading the register.
func (l *Log) Check(ctx context.Context) error {
	l.mu.Lock()
	cur, forked, read := l.newest, l.forked, l.read
	l.mu.Unlock()
	if !read || forked {
		return l.Blocked()
	}
	if cur == nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.newest == nil {
			l.blocked = nil // an empty store: nothing to be behind of
		}
		return l.blocked
	}
	n, err := l.opt.Register.LogSize(ctx)
	if err != nil {
		return err
	}
	var block error
	if cur.cp.Size > n {
		block = l.behind(ctx, n, cur)
	} else {
		h, err := tlog.TreeHash(cur.cp.Size, l.HashReader(ctx))
		if err != nil {
			return err
		}
		if h != cur.cp.Root {
			block = divergedError(cur.cp.Size)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.newest != cur {
		return l.blocked // a newer checkpoint arrived meanwhile; the next Check judges it
	}
	l.blocked = block
	if block == nil && l.verified < cur.cp.Size {
		l.verified = cur.cp.Size
	}
	if block != nil {
		l.opt.Logger.Error("transparency log: certification stopped", "err", block)
	}
	return block
}

func divergedError(size int64) error {
	return chungthuc.Errorf(chungthuc.ECONFLICT,
		"The register's public log differs from the newest checkpoint in the object store at size %d: the register was changed behind the service's back or belongs to another bucket. Certification is stopped so that nothing contradicts the published log; run `chungthuc log verify` to see the difference.", size)
}

// behindError is the brief form of the block (the guard has no time to read bundles).
// It is ECONFLICT, not EUNAVAILABLE: the state forbids certifying until an operator acts,
// and the message (shown to officers and on /readyz) says what to do.
func behindError(store, reg int64) error {
	return chungthuc.Errorf(chungthuc.ECONFLICT,
		"The register is behind the public log in the object store (the store's newest checkpoint covers %d log entries, the register %d): it was probably restored from an older backup. Certification is stopped so that no number is issued twice; run `chungthuc reconcile` (README, \"Backup and restore\").", store, reg)
}

// behind describes a register that is behind the store: sizes, the numbers per unit and
// year the store knows and the register does not, and the recovery.
func (l *Log) behind(ctx context.Context, n int64, cur *stored) error {
	leaves, err := l.chain(ctx, cur, n)
	if err != nil {
		l.opt.Logger.Error("transparency log: cannot read the bundles the register lacks", "err", err)
		return behindError(cur.cp.Size, n)
	}
	missing := map[string][]int64{}
	var order []string
	for i := n; i < cur.cp.Size; i++ {
		lf, err := ParseLeaf(leaves[i].Data)
		if err != nil || (lf.Event != EventIssued && lf.Event != EventVoid) {
			continue
		}
		k := fmt.Sprintf("%s %d", lf.Unit, lf.Year)
		if _, ok := missing[k]; !ok {
			order = append(order, k)
		}
		missing[k] = append(missing[k], lf.Number)
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, k+": "+ranges(missing[k]))
	}
	nums := "none (the missing entries are revocations, versions or book closings)"
	if len(parts) > 0 {
		nums = strings.Join(parts, "; ")
	}
	return chungthuc.Errorf(chungthuc.ECONFLICT,
		"The register is behind the public log in the object store: the store's newest checkpoint (%s) covers %d log entries, the register only %d — it was probably restored from an older backup. Numbers the store knows and the register does not: %s. Certification is stopped so that no number is issued twice; verification keeps working. Recovery: stop the service and run `chungthuc reconcile` (README, \"Backup and restore\"); nothing has been deleted.",
		FormatTime(cur.cp.Time), cur.cp.Size, n, nums)
}

// ranges writes sorted numbers as "46–50, 52".
func ranges(ns []int64) string {
	sort.Slice(ns, func(i, j int) bool { return ns[i] < ns[j] })
	var b strings.Builder
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		if j > i {
			fmt.Fprintf(&b, "%d–%d", ns[i], ns[j])
		} else {
			fmt.Fprintf(&b, "%d", ns[i])
		}
		i = j + 1
	}
	return b.String()
}

// chain reads the bundles from cur back until they cover index from, and returns the
// leaves [from, cur size) by index. Overlapping bundles must agree.
func (l *Log) chain(ctx context.Context, cur *stored, from int64) (map[int64]BundleEntry, error) {
	out := map[int64]BundleEntry{}
	b, cp, err := l.fetch(ctx, CheckpointKey(cur.cp.Size))
	if err != nil {
		return nil, err
	}
	for {
		for i, e := range b.Leaves {
			idx := b.From + int64(i)
			if idx < from {
				continue
			}
			if prev, ok := out[idx]; ok && !bytes.Equal(prev.Data, e.Data) {
				return nil, chungthuc.Errorf(chungthuc.EINVALID, "the stored bundles disagree about leaf %d", idx)
			}
			out[idx] = e
		}
		if b.From <= from {
			return out, nil
		}
		next, ncp, err := l.fetch(ctx, CheckpointKey(b.From))
		if err != nil {
			return nil, fmt.Errorf("translog: the bundle of checkpoint %d names checkpoint %d: %w", cp.Size, b.From, err)
		}
		b, cp = next, ncp
	}
}

// Guard is the register's guard (chungthuc.LogHooks.Guard): it refuses a change while the
// register is blocked, or when its log is shorter than the newest stored checkpoint, or
// when its tree at that size is not the checkpoint's (checked once per checkpoint).
func (l *Log) Guard(sizeOf func() (int64, error), treeHash func(int64) ([32]byte, error)) error {
	l.mu.Lock()
	block, cur, verified := l.blocked, l.newest, l.verified
	l.mu.Unlock()
	if block != nil {
		return block
	}
	if cur == nil {
		return nil
	}
	// The size is read after the checkpoint was noted: every leaf it covers was committed
	// before, so a register that is not behind shows at least as many.
	size, err := sizeOf()
	if err != nil {
		return err
	}
	if cur.cp.Size > size {
		return behindError(cur.cp.Size, size)
	}
	if cur.cp.Size <= verified {
		return nil
	}
	h, err := treeHash(cur.cp.Size)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if tlog.Hash(h) != cur.cp.Root {
		l.blocked = divergedError(cur.cp.Size)
		return l.blocked
	}
	if l.verified < cur.cp.Size {
		l.verified = cur.cp.Size
	}
	return nil
}

// Publish returns once a checkpoint covering every leaf committed before the call is
// stored. Concurrent callers share one write (group commit): a caller joins the next write
// that has not yet read the register's size. Errors: the block (register behind or forked),
// or the store's error after Options.Attempts tries.
func (l *Log) Publish(ctx context.Context) error {
	l.mu.Lock()
	if l.flight == nil {
		l.flight = &flight{done: make(chan struct{})}
	}
	f := l.flight
	if l.running < l.opt.Writers {
		l.running++
		go l.run()
	}
	l.mu.Unlock()
	select {
	case <-f.done:
		if f.err != nil {
			l.Failures.Add(1)
		}
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run writes checkpoints while callers wait for one.
func (l *Log) run() {
	for {
		l.mu.Lock()
		f := l.flight
		l.flight = nil
		if f == nil {
			l.running--
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), l.opt.PublishTimeout)
		f.err = l.publishRetrying(ctx)
		cancel()
		close(f.done)
	}
}

func (l *Log) publishRetrying(ctx context.Context) error {
	var err error
	wait := 100 * time.Millisecond
	for attempt := 0; attempt < l.opt.Attempts; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return err
			}
			wait *= 4
		}
		more := true
		for more && err == nil {
			more, err = l.publishOnce(ctx)
		}
		if err == nil || chungthuc.ErrorCode(err) == chungthuc.ECONFLICT || l.Blocked() != nil {
			return err
		}
		l.opt.Logger.Warn("transparency log: storing a checkpoint failed", "attempt", attempt+1, "err", err)
	}
	return err
}

// MaxBundle bounds the leaves of one checkpoint's bundle: a register far ahead of the store
// (a new bucket, a long outage) is published in several checkpoints.
const MaxBundle = 50000

// publishOnce signs and stores a checkpoint of the register's current log, with the leaves
// since the newest stored checkpoint (at most MaxBundle: more is true when leaves remain).
// It never signs a tree that does not extend that checkpoint.
func (l *Log) publishOnce(ctx context.Context) (more bool, err error) {
	if err := l.Blocked(); err != nil {
		return false, err
	}
	l.mu.Lock()
	base, verified := l.newest, l.verified
	l.mu.Unlock()
	var from int64
	if base != nil {
		from = base.cp.Size
	}
	// The leaves since the newest stored checkpoint tell the log's size too. Those this
	// process committed are at hand; when they run without a gap from the checkpoint to the
	// last of them, every waiting caller's leaf is among them and the register need not be
	// read.
	leaves := l.recentFrom(from)
	if leaves == nil {
		if leaves, err = l.opt.Register.LogLeaves(ctx, from, from+MaxBundle); err != nil {
			return false, err
		}
	}
	for i, lf := range leaves {
		if lf.Index != from+int64(i) {
			leaves = leaves[:i] // never happens: appends are serialised and commit in order
			break
		}
	}
	n := from + int64(len(leaves))
	if cur, _, ok := l.Newest(); ok && cur.Size >= n && len(leaves) > 0 {
		return false, nil // another writer stored a checkpoint covering them meanwhile
	}
	if len(leaves) == 0 {
		if size, err := l.opt.Register.LogSize(ctx); err != nil {
			return false, err
		} else if size < from {
			if err := l.Check(ctx); err != nil {
				return false, err
			}
			return false, behindError(from, size)
		}
		return false, nil
	}
	hr := l.HashReader(ctx)
	if base != nil && verified < from {
		h, err := tlog.TreeHash(from, hr)
		if err != nil {
			return false, err
		}
		if h != base.cp.Root {
			l.mu.Lock()
			l.blocked = divergedError(from)
			l.mu.Unlock()
			return false, l.Blocked()
		}
	}
	// The new root is computed from the leaves' own data, extending the frontier of the
	// stored tree (kept from the last checkpoint, else read once): no stored hash of the new
	// leaves is trusted, and no query is needed.
	l.mu.Lock()
	fr := l.front
	l.mu.Unlock()
	if fr == nil || fr.size != from {
		if fr, err = readFrontier(from, hr); err != nil {
			return false, err
		}
	}
	mem := fr.extend()
	for i, lf := range leaves {
		if err := mem.append(from+int64(i), lf.Data); err != nil {
			return false, err
		}
	}
	root, err := tlog.TreeHash(n, mem)
	if err != nil {
		return false, err
	}
	next, err := readFrontier(n, mem)
	if err != nil {
		return false, err
	}
	defer func() {
		if err == nil {
			l.mu.Lock()
			if l.front == nil || l.front.size < n {
				l.front = next
			}
			l.mu.Unlock()
		}
	}()
	cp := Checkpoint{Origin: l.opt.Key.Origin(), Size: n, Root: root, Time: l.opt.Now()}
	signed, err := Sign(cp, l.opt.Key)
	if err != nil {
		return false, err
	}
	b := &Bundle{V: BundleVersion, From: from, Checkpoint: string(signed), Leaves: make([]BundleEntry, len(leaves))}
	for i, lf := range leaves {
		b.Leaves[i] = BundleEntry{Data: lf.Data, Private: lf.Private}
	}
	data, sum, err := b.Encode()
	if err != nil {
		return false, err
	}
	key := CheckpointKey(n)
	_, err = l.opt.Store.Put(ctx, key, bytes.NewReader(data), int64(len(data)), sum)
	if chungthuc.ErrorCode(err) == chungthuc.ECONFLICT {
		// Another instance stored this size first: fine if it is the same tree, signed by us.
		other, ocp, ferr := l.fetch(ctx, key)
		if ferr != nil {
			return false, fmt.Errorf("translog: checkpoint %s exists and cannot be read: %w", key, ferr)
		}
		if ocp.Root != root {
			l.mu.Lock()
			l.blocked = divergedError(n)
			l.mu.Unlock()
			return false, l.Blocked()
		}
		l.adopt(ocp, []byte(other.Checkpoint), true)
		return len(leaves) == MaxBundle, nil
	}
	if err != nil {
		return false, err
	}
	l.Published.Add(1)
	l.adopt(cp, signed, true)
	return len(leaves) == MaxBundle, nil
}

// recentFrom returns the leaves this process committed from index from on, when they run
// without a gap from from to the last of them; nil otherwise (read the register).
func (l *Log) recentFrom(from int64) []chungthuc.LogLeaf {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last int64 = -1
	for i := range l.recent {
		if i < from {
			delete(l.recent, i)
		} else if i > last {
			last = i
		}
	}
	if last < from || last-from+1 > MaxBundle {
		return nil
	}
	out := make([]chungthuc.LogLeaf, 0, last-from+1)
	for i := from; i <= last; i++ {
		lf, ok := l.recent[i]
		if !ok {
			return nil
		}
		out = append(out, lf)
	}
	return out
}

// Run keeps the log current until ctx ends: every interval it reads the checkpoints other
// instances stored, re-checks the register against the newest (lifting or setting the
// block) and stores a checkpoint for leaves no checkpoint covers yet (a publish that failed,
// or an instance killed between its commit and its checkpoint).
func (l *Log) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := l.Sync(ctx); err != nil && ctx.Err() == nil {
				l.opt.Logger.Warn("transparency log: periodic check", "err", err)
			}
		}
	}
}

// Sync is one round of Run: Refresh, Check and, when the register has leaves no stored
// checkpoint covers, Publish.
func (l *Log) Sync(ctx context.Context) error {
	if err := l.Refresh(ctx); err != nil {
		return err
	}
	if err := l.Check(ctx); err != nil {
		return err
	}
	n, err := l.opt.Register.LogSize(ctx)
	if err != nil {
		return err
	}
	if cp, _, ok := l.Newest(); !ok || cp.Size < n {
		return l.Publish(ctx)
	}
	return nil
}
