// Package logtest is the conformance suite of the registers' transparency log
// (chungthuc.RegisterLog, translog.Restorer): storage/sqlite and storage/postgres run the
// same tests, from their own test files, against a real object store (storage/fs) and a
// real log key. It covers publishing and proofs, group commit, a second instance, foreign
// objects in the store, every insider edit of issue 10 (done in SQL with the permanent-record
// triggers bypassed) and what `chungthuc log verify` names for each, a rewritten and
// rehashed audit chain, and the restore-from-an-older-backup cycle with Reconcile.
package logtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/fs"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
	"github.com/chungthuc/chungthuc/storage/registertest"
	"github.com/chungthuc/chungthuc/translog"
)

// Register is what the suite needs of a register: the register, its audit log and log, and
// the test hooks of its export_test.go.
type Register interface {
	chungthuc.Register
	chungthuc.AuditLog
	translog.Restorer
	registertest.RawSQL
	// AuditEntries returns the whole audit log in ID order.
	AuditEntries(ctx context.Context) ([]*chungthuc.AuditEntry, error)
	// TimeSQL writes a time as an SQL literal of this database.
	TimeSQL(t time.Time) string
	// Migrate applies pending migrations and builds the log of a register without one.
	Migrate(ctx context.Context) error
}

// Harness opens registers for the suite.
type Harness struct {
	// Open returns a fresh, empty, migrated register; the suite closes it.
	Open func(t *testing.T) Register
	// Backup takes a backup of reg now, as an operator would (a file copy, pg_dump), and
	// returns a function that restores it into a new register and opens that.
	Backup func(t *testing.T, reg Register) (restore func(t *testing.T) Register)
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	t.Run("PublishProve", func(t *testing.T) { testPublishProve(t, h) })
	t.Run("GroupCommit", func(t *testing.T) { testGroupCommit(t, h) })
	t.Run("SecondInstance", func(t *testing.T) { testSecondInstance(t, h) })
	t.Run("ForeignObject", func(t *testing.T) { testForeignObject(t, h) })
	t.Run("GuardSnapshot", func(t *testing.T) { testGuardSnapshot(t, h) })
	t.Run("FirstRefresh", func(t *testing.T) { testFirstRefresh(t, h) })
	t.Run("InsiderEdits", func(t *testing.T) { testInsiderEdits(t, h) })
	t.Run("LeafEdit", func(t *testing.T) { testLeafEdit(t, h) })
	t.Run("AuditRewrite", func(t *testing.T) { testAuditRewrite(t, h) })
	t.Run("Backfill", func(t *testing.T) { testBackfill(t, h) })
	if h.Backup != nil {
		t.Run("Restore", func(t *testing.T) { testRestore(t, h) })
	}
}

var ctx = context.Background()

// world is a register with its log, an object store and a key.
type world struct {
	reg   Register
	store chungthuc.ObjectStore
	key   *translog.Key
	log   *translog.Log
	unit  *chungthuc.Unit
	off   *chungthuc.Officer
	clock time.Time
	mu    sync.Mutex
}

func (w *world) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.clock = w.clock.Add(time.Second)
	return w.clock
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func open(t *testing.T, h Harness) Register {
	t.Helper()
	r := h.Open(t)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func newStore(t *testing.T) chungthuc.ObjectStore {
	t.Helper()
	s, err := fs.New(filepath.Join(t.TempDir(), "objects"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newKey(t *testing.T) *translog.Key {
	t.Helper()
	_, k, err := translog.GenerateKey("ct.example.vn/log")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// attach makes a Log over reg, store and key, installs its hooks and runs its start-up
// checks; it returns the block (nil when none).
func attach(t *testing.T, reg Register, store chungthuc.ObjectStore, key *translog.Key) (*translog.Log, error) {
	t.Helper()
	l, err := translog.New(translog.Options{Register: reg, Store: store, Key: key, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	block := l.Check(ctx)
	reg.SetLogHooks(l.Hooks())
	return l, block
}

func newWorld(t *testing.T, h Harness) *world {
	t.Helper()
	w := &world{reg: open(t, h), store: newStore(t), key: newKey(t), clock: time.Date(2026, 3, 2, 8, 0, 0, 0, chungthuc.Vietnam)}
	var err error
	if w.log, err = attach(t, w.reg, w.store, w.key); err != nil {
		t.Fatal(err)
	}
	w.unit = &chungthuc.Unit{Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	must(t, "CreateUnit", w.reg.CreateUnit(ctx, w.unit))
	w.off = &chungthuc.Officer{UnitID: w.unit.ID, Name: "Trần Văn Nghĩa", Title: "PHÓ CHỦ TỊCH", Role: chungthuc.RoleOfficer, Active: true}
	must(t, "CreateOfficer", w.reg.CreateOfficer(ctx, w.off))
	return w
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func token() string {
	b := make([]byte, 20)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// reserve records a Pending entry.
func (w *world) reserve(t *testing.T) *chungthuc.Certification {
	t.Helper()
	c := &chungthuc.Certification{UnitID: w.unit.ID, OfficerID: w.off.ID, Token: token(), AccessCodeHash: sum([]byte(token())),
		Title: "Giấy khai sinh", Issuer: "UBND xã Tân Lập", Requester: "Nguyễn Thị Hồng Nhung", Pages: 3, Copies: 2,
		FeeVND: chungthuc.FeeFor(3, 2), CertifiedAt: w.now()}
	must(t, "Reserve", w.reg.Reserve(ctx, c))
	return c
}

// certify records, stores and issues an entry, as certify.Service does.
func (w *world) certify(t *testing.T) *chungthuc.Certification {
	t.Helper()
	c := w.reserve(t)
	pdf := []byte("%PDF-1.7 copy " + c.Token)
	key := "copies/" + sum(pdf) + ".pdf"
	must(t, "Seal", w.reg.Seal(ctx, c.ID, sum(pdf), key, nil))
	info, err := w.store.Put(ctx, key, bytes.NewReader(pdf), int64(len(pdf)), sum(pdf))
	must(t, "Put", err)
	must(t, "Issue", w.reg.Issue(ctx, c.ID, info.Version, info.ETag))
	got, err := w.reg.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	return got
}

func (w *world) void(t *testing.T) *chungthuc.Certification {
	t.Helper()
	c := w.reserve(t)
	must(t, "Void", w.reg.Void(ctx, c.ID, "Kho lưu trữ không ghi được bản sao"))
	got, err := w.reg.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	return got
}

func (w *world) revoke(t *testing.T, c *chungthuc.Certification) {
	t.Helper()
	must(t, "Revoke", w.reg.Revoke(ctx, c.ID, "Cấp nhầm người yêu cầu", w.now()))
}

func (w *world) version(t *testing.T, c *chungthuc.Certification) {
	t.Helper()
	pdf := []byte("%PDF-1.7 renewed " + c.Token)
	key := "versions/" + sum(pdf) + ".pdf"
	_, err := w.store.Put(ctx, key, bytes.NewReader(pdf), int64(len(pdf)), sum(pdf))
	must(t, "Put", err)
	must(t, "AddVersion", w.reg.AddVersion(ctx, c.ID, sum(pdf), key))
}

// published fails unless the newest stored checkpoint covers the whole register log.
func (w *world) published(t *testing.T) translog.Checkpoint {
	t.Helper()
	n, err := w.reg.LogSize(ctx)
	must(t, "LogSize", err)
	cp, _, ok := w.log.Newest()
	if !ok || cp.Size != n {
		t.Fatalf("newest checkpoint %+v, register log %d leaves", cp, n)
	}
	if f := w.log.Failures.Load(); f != 0 {
		t.Fatalf("%d publishes failed", f)
	}
	return cp
}

func verify(t *testing.T, w *world, older []byte) *translog.VerifyReport {
	t.Helper()
	rep, err := translog.VerifyRegister(ctx, w.log, w.reg, older)
	must(t, "VerifyRegister", err)
	return rep
}

func wantClean(t *testing.T, rep *translog.VerifyReport) {
	t.Helper()
	if !rep.Clean || len(rep.Findings) != 0 {
		t.Fatalf("log verify is not clean: %+v", rep.Findings)
	}
}

// wantFinding fails unless rep has a finding of this kind about subject whose detail
// contains each of the words.
func wantFinding(t *testing.T, rep *translog.VerifyReport, kind, subject string, words ...string) {
	t.Helper()
	for _, f := range rep.Findings {
		if f.Kind != kind || f.Subject != subject {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(f.Detail, w)
		}
		if ok {
			return
		}
	}
	t.Errorf("no finding %s about %q with %q; findings:\n%s", kind, subject, words, findings(rep))
}

func findings(rep *translog.VerifyReport) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "  %s %s: %s\n", f.Kind, f.Subject, f.Detail)
	}
	return b.String()
}

func name(c *chungthuc.Certification) string { return fmt.Sprintf("HB %d no. %d", c.Year, c.Number) }

// testPublishProve: every change is answered only once a stored checkpoint covers it; the
// leaves of an entry are proven against it; consistency proofs check; log verify is clean.
func testPublishProve(t *testing.T, h Harness) {
	w := newWorld(t, h)
	a := w.certify(t)
	cp1 := w.published(t)
	_, signed1, _ := w.log.Newest()
	if cp1.Size != 1 || cp1.Origin != "ct.example.vn/log" {
		t.Fatalf("first checkpoint %+v", cp1)
	}
	b := w.certify(t)
	w.void(t)
	w.revoke(t, a)
	w.version(t, b)
	_, err := w.reg.OpenBook(ctx, w.unit.ID, 2026, w.now()) // closes book 01
	must(t, "OpenBook", err)
	cp := w.published(t)
	if cp.Size != 6 {
		t.Fatalf("checkpoint of %d leaves, want 6 (issued, issued, void, revoked, version, book_closed)", cp.Size)
	}
	leaves, err := w.reg.LogLeavesOf(ctx, a.ID)
	must(t, "LogLeavesOf", err)
	if len(leaves) != 2 {
		t.Fatalf("entry a has %d leaves, want issued and revoked", len(leaves))
	}
	p, err := w.log.Prove(ctx, leaves)
	must(t, "Prove", err)
	got, err := translog.CheckEntryProof(p, w.key.Verifier)
	must(t, "CheckEntryProof", err)
	if got.Size != cp.Size || !p.Leaves[0].Included || p.Leaves[1].Leaf.Event != translog.EventRevoked ||
		p.Leaves[0].Leaf.TokenSHA256 != translog.TokenHash(a.Token) || strings.Contains(string(p.Leaves[0].Data), a.Token) {
		t.Fatalf("proof %+v", p)
	}
	// A proof for another leaf, or with a flipped hash, does not check.
	bad := *p
	bad.Leaves = append([]translog.LeafProof(nil), p.Leaves...)
	bad.Leaves[0].Index = 2
	if _, err := translog.CheckEntryProof(&bad, w.key.Verifier); err == nil {
		t.Fatal("a proof moved to another index checked")
	}
	if _, err := translog.CheckEntryProof(p, newKey(t).Verifier); err == nil {
		t.Fatal("a proof checked with another log's key")
	}
	cons, err := w.log.Consistency(ctx, 1, cp.Size)
	must(t, "Consistency", err)
	_, signed, _ := w.log.Newest()
	must(t, "CheckConsistency", translog.CheckConsistency(signed1, signed, cons.Proof, w.key.Verifier))
	if _, err := w.log.Consistency(ctx, 0, cp.Size); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("Consistency(0, n): %v", err)
	}
	if _, err := w.log.Consistency(ctx, 2, cp.Size+1); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("Consistency beyond the newest checkpoint: %v", err)
	}
	wantClean(t, verify(t, w, signed1))
	// The private part of a leaf opens its commitments; the bundle in the store carries it.
	if o, err := translog.ParseOpening(leaves[0].Private); err != nil || o.Token != a.Token || o.AccessCodeHash != a.AccessCodeHash {
		t.Fatalf("opening %+v, %v", o, err)
	}
}

// slowStore holds checkpoint writes until released, and counts them.
type slowStore struct {
	chungthuc.ObjectStore
	mu      sync.Mutex
	puts    int
	hold    chan struct{}
	waiting chan struct{}
}

func (s *slowStore) Put(ctx context.Context, key string, r io.Reader, size int64, sum string) (*chungthuc.ObjectInfo, error) {
	if strings.HasPrefix(key, translog.CheckpointPrefix) {
		s.mu.Lock()
		s.puts++
		hold := s.hold
		s.mu.Unlock()
		if hold != nil {
			s.waiting <- struct{}{}
			<-hold
		}
	}
	return s.ObjectStore.Put(ctx, key, r, size, sum)
}

// testGroupCommit: callers that arrive while a checkpoint is being written share the next
// write: one write for all of them, not one each.
func testGroupCommit(t *testing.T, h Harness) {
	w := newWorld(t, h)
	slow := &slowStore{ObjectStore: w.store, waiting: make(chan struct{}, 1)}
	var err error
	w.log, err = attach(t, w.reg, slow, w.key)
	must(t, "attach", err)
	w.certify(t)
	slow.mu.Lock()
	slow.puts, slow.hold = 0, make(chan struct{})
	slow.mu.Unlock()
	// A first certification's checkpoint is being written (held)…
	first := make(chan *chungthuc.Certification)
	go func() { first <- w.certify(t) }()
	<-slow.waiting
	// …while eight more are committed and wait for theirs.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.certify(t)
		}()
	}
	// The eight are committed once their leaves are in the register.
	for deadline := time.Now().Add(30 * time.Second); ; {
		n, err := w.reg.LogSize(ctx)
		must(t, "LogSize", err)
		if n == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d leaves committed", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	slow.mu.Lock()
	hold := slow.hold
	slow.hold = nil
	slow.mu.Unlock()
	close(hold)
	<-first
	wg.Wait()
	w.published(t)
	slow.mu.Lock()
	defer slow.mu.Unlock()
	if slow.puts != 2 {
		t.Fatalf("%d checkpoint writes for two groups of callers, want 2", slow.puts)
	}
}

// testSecondInstance: two processes on one register and bucket; both may write the same
// size; each sees the other's checkpoints.
func testSecondInstance(t *testing.T, h Harness) {
	w := newWorld(t, h)
	w.certify(t)
	other, err := translog.New(translog.Options{Register: w.reg, Store: w.store, Key: w.key, Logger: quiet()})
	must(t, "New", err)
	if err := other.Publish(ctx); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("Publish before the store was read: %v", err)
	}
	if err := other.Guard(func() (int64, error) { return 1, nil }, nil); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("Guard before the store was read: %v", err)
	}
	must(t, "Refresh", other.Refresh(ctx))
	must(t, "Check", other.Check(ctx))
	w.certify(t)
	// other knows only size 1 and writes the checkpoint of size 2 again: same tree, fine.
	must(t, "Publish by the second instance", other.Publish(ctx))
	if cp, _, _ := other.Newest(); cp.Size != 2 {
		t.Fatalf("second instance adopted %+v", cp)
	}
	must(t, "Refresh", other.Refresh(ctx))
	must(t, "Check", other.Check(ctx))
	w.certify(t)
	must(t, "Sync", other.Sync(ctx))
	if cp, _, _ := other.Newest(); cp.Size != 3 {
		t.Fatalf("second instance sees %+v after Sync, want size 3", cp)
	}
}

// testGuardSnapshot: a transaction whose snapshot predates a checkpoint published while it
// runs (PostgreSQL READ COMMITTED, concurrent certifications) is not taken for a register
// that is behind: the guard notes the checkpoint before the size is read.
func testGuardSnapshot(t *testing.T, h Harness) {
	w := newWorld(t, h)
	w.certify(t)
	err := w.log.Guard(func() (int64, error) {
		n, err := w.reg.LogSize(ctx)
		w.certify(t) // commits leaf n and publishes the checkpoint of n+1 meanwhile
		return n, err
	}, func(size int64) ([32]byte, error) {
		return [32]byte{}, fmt.Errorf("not needed: size %d is verified", size)
	})
	if err != nil {
		t.Fatalf("guard with a snapshot older than the newest checkpoint: %v", err)
	}
	if cp, _, _ := w.log.Newest(); cp.Size != 2 {
		t.Fatalf("newest checkpoint %+v", cp)
	}
	// A register that really is behind is refused.
	if err := w.log.Guard(func() (int64, error) { return 1, nil }, nil); chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		t.Fatalf("guard of a register behind: %v", err)
	}
}

// countingLister counts the keys a store lists after a given one.
type countingLister struct {
	chungthuc.ObjectStore
	listed int
}

func (c *countingLister) ListAfter(ctx context.Context, prefix, after string, fn func(chungthuc.ObjectInfo) error) error {
	return c.ObjectStore.(translog.KeyLister).ListAfter(ctx, prefix, after, func(o chungthuc.ObjectInfo) error {
		c.listed++
		return fn(o)
	})
}

// testFirstRefresh: a process starting on a long log does not list every checkpoint ever
// stored to find the newest.
func testFirstRefresh(t *testing.T, h Harness) {
	w := newWorld(t, h)
	for range 40 {
		w.certify(t)
	}
	w.published(t)
	c := &countingLister{ObjectStore: w.store}
	l, block := attach(t, w.reg, c, w.key)
	must(t, "Check", block)
	if cp, _, _ := l.Newest(); cp.Size != 40 {
		t.Fatalf("newest after the first refresh: %+v", cp)
	}
	if c.listed > 2 {
		t.Fatalf("the first refresh listed %d checkpoints of 40", c.listed)
	}
}

// testForeignObject: an object under log/checkpoints/ that is not signed by the log key is
// ignored (not adopted: it cannot block certification), and log verify names it.
func testForeignObject(t *testing.T, h Harness) {
	w := newWorld(t, h)
	w.certify(t)
	other := newKey(t)
	cp := translog.Checkpoint{Origin: other.Origin(), Size: 999, Time: time.Now()}
	signed, err := translog.Sign(cp, other)
	must(t, "Sign", err)
	b := &translog.Bundle{V: translog.BundleVersion, From: 999, Checkpoint: string(signed), Leaves: []translog.BundleEntry{}}
	data, s, err := b.Encode()
	must(t, "Encode", err)
	_, err = w.store.Put(ctx, translog.CheckpointKey(999), bytes.NewReader(data), int64(len(data)), s)
	must(t, "Put", err)
	must(t, "Refresh", w.log.Refresh(ctx))
	if cp, _, _ := w.log.Newest(); cp.Size != 1 {
		t.Fatalf("adopted a foreign checkpoint: %+v", cp)
	}
	must(t, "Check", w.log.Check(ctx))
	w.certify(t)
	rep := verify(t, w, nil)
	wantFinding(t, rep, "checkpoint", translog.CheckpointKey(999), "not a checkpoint signed by the log key")
}

// testInsiderEdits performs each insider edit of issue 10 directly in SQL, with the
// permanent-record triggers bypassed, and checks that log verify names each.
func testInsiderEdits(t *testing.T, h Harness) {
	w := newWorld(t, h)
	var cs []*chungthuc.Certification
	for range 12 {
		cs = append(cs, w.certify(t))
	}
	v := w.void(t)
	r := cs[11]
	w.revoke(t, r)
	wantClean(t, verify(t, w, nil))
	raw := func(q string, args ...any) {
		t.Helper()
		must(t, q, w.reg.Tamper(ctx, fmt.Sprintf(q, args...)))
	}
	now := w.reg.TimeSQL(time.Now())
	raw(`UPDATE certifications SET status = 'revoked', revoke_reason = 'x', revoked_at = %s WHERE id = %d`, now, cs[0].ID)
	raw(`UPDATE certifications SET access_code_hash = '%s' WHERE id = %d`, sum([]byte("insider's code")), cs[1].ID)
	raw(`UPDATE certifications SET officer_name = 'Lê Văn Giả' WHERE id = %d`, cs[2].ID)
	raw(`UPDATE certifications SET officer_title = 'CHỦ TỊCH' WHERE id = %d`, cs[3].ID)
	raw(`UPDATE certifications SET fee_vnd = 1 WHERE id = %d`, cs[4].ID)
	raw(`UPDATE certifications SET pages = 99, copies = 5 WHERE id = %d`, cs[5].ID)
	raw(`UPDATE certifications SET void_reason = 'Người yêu cầu bỏ về' WHERE id = %d`, v.ID)
	raw(`UPDATE certifications SET book_code = '09/2026-SCTĐT/BS' WHERE id = %d`, cs[6].ID)
	raw(`INSERT INTO certifications (unit_id, book_id, book_code, year, number, token, access_code_hash, title, issuer,
		requester, search, officer_id, officer_name, officer_title, pages, fee_vnd, sha256, object_key, scan_keys, status,
		certified_at, created_at)
		SELECT unit_id, book_id, book_code, year, 100, '%s', access_code_hash, title, issuer, requester, search, officer_id,
		officer_name, officer_title, pages, fee_vnd, NULL, NULL, scan_keys, 'issued', certified_at, created_at
		FROM certifications WHERE id = %d`, token(), cs[7].ID)
	raw(`UPDATE number_counters SET last_number = 2`)
	raw(`UPDATE certifications SET status = 'issued', revoke_reason = '', revoked_at = NULL WHERE id = %d`, r.ID)
	raw(`UPDATE certifications SET number = 200 WHERE id = %d`, cs[8].ID)
	raw(`UPDATE certifications SET title = 'Bằng tốt nghiệp' WHERE id = %d`, cs[9].ID)
	raw(`UPDATE certifications SET token = '%s' WHERE id = %d`, token(), cs[10].ID)

	rep := verify(t, w, nil)
	wantFinding(t, rep, "status", name(cs[0]), "revoked", "no revocation leaf")
	wantFinding(t, rep, "private_field", name(cs[1]), "access-code hash")
	wantFinding(t, rep, "field", name(cs[2]), "officer's name", "Lê Văn Giả")
	wantFinding(t, rep, "field", name(cs[3]), "officer's title", "CHỦ TỊCH")
	wantFinding(t, rep, "field", name(cs[4]), "fee", `"1"`)
	wantFinding(t, rep, "field", name(cs[5]), "pages", `"99"`)
	wantFinding(t, rep, "field", name(cs[5]), "copies", `"5"`)
	wantFinding(t, rep, "field", name(v), "void reason", "Người yêu cầu bỏ về")
	wantFinding(t, rep, "field", name(cs[6]), "book code", "09/2026-SCTĐT/BS")
	wantFinding(t, rep, "row_without_leaf", "HB 2026 no. 100", "issued", "no leaf")
	wantFinding(t, rep, "counter", "HB 2026", "says 2", "number 13")
	wantFinding(t, rep, "status", name(r), "un-revoked")
	wantFinding(t, rep, "leaf_without_row", name(cs[8]), "no such row")
	wantFinding(t, rep, "row_without_leaf", "HB 2026 no. 200")
	wantFinding(t, rep, "private_field", name(cs[9]), "title")
	wantFinding(t, rep, "field", name(cs[10]), "token was changed")
	if rep.Clean {
		t.Fatal("report says clean")
	}
	// Nothing else is named: the untouched entry is not.
	for _, f := range rep.Findings {
		if f.Subject == name(cs[7]) {
			t.Errorf("untouched entry named: %+v", f)
		}
	}
}

// testLeafEdit: editing a leaf (or its stored hashes) contradicts the signed checkpoint.
func testLeafEdit(t *testing.T, h Harness) {
	w := newWorld(t, h)
	c := w.certify(t)
	w.certify(t)
	w.published(t)
	leaves, err := w.reg.LogLeavesOf(ctx, c.ID)
	must(t, "LogLeavesOf", err)
	edited := strings.Replace(string(leaves[0].Data), `"pages":3`, `"pages":4`, 1)
	must(t, "Tamper", w.reg.Tamper(ctx, fmt.Sprintf(`UPDATE log_leaves SET data = %s WHERE idx = 0`, blobSQL(w.reg, []byte(edited)))))
	rep := verify(t, w, nil)
	wantFinding(t, rep, "stored_hash", "stored hash 0", "not the hash of the leaves")
	wantFinding(t, rep, "log_diverged", "log", "do not hash to the root of the signed checkpoint")
	wantFinding(t, rep, "field", name(c), "pages")
}

func blobSQL(r Register, b []byte) string {
	if strings.Contains(r.TimeSQL(time.Time{}), "timestamptz") {
		return `'\x` + hex.EncodeToString(b) + `'::bytea`
	}
	return `X'` + hex.EncodeToString(b) + `'`
}

// testAuditRewrite: one audit entry rewritten and the whole chain after it rehashed passes
// the chain check, but not the anchors in the log.
func testAuditRewrite(t *testing.T, h Harness) {
	w := newWorld(t, h)
	var cs []*chungthuc.Certification
	for range 4 {
		cs = append(cs, w.certify(t))
	}
	entries, err := w.reg.AuditEntries(ctx)
	must(t, "AuditEntries", err)
	// Rewrite the reservation of the second entry: its officer, as an insider would.
	k := -1
	for i, e := range entries {
		if e.Action == ledger.ActionReserve && e.Subject == ledger.Subject("certification", cs[1].ID) {
			k = i
		}
	}
	if k < 0 {
		t.Fatal("reservation audit entry not found")
	}
	entries[k].Actor = "officer:999"
	prev := ""
	if k > 0 {
		prev = entries[k-1].Hash
	}
	for _, e := range entries[k:] {
		e.PrevHash = prev
		e.Hash = ledger.Hash(e)
		prev = e.Hash
		must(t, "Tamper", w.reg.Tamper(ctx, fmt.Sprintf(`UPDATE audit_log SET actor = '%s', prev_hash = '%s', hash = '%s' WHERE id = %d`,
			e.Actor, e.PrevHash, e.Hash, e.ID)))
	}
	broken, _, err := w.reg.VerifyChain(ctx)
	must(t, "VerifyChain", err)
	if broken != 0 {
		t.Fatalf("the rehashed chain should look intact, broken at %d", broken)
	}
	rep := verify(t, w, nil)
	found := false
	for _, f := range rep.Findings {
		found = found || (f.Kind == "audit_anchor" && strings.Contains(f.Detail, "rewritten"))
	}
	if !found {
		t.Fatalf("rewritten audit chain not named:\n%s", findings(rep))
	}
}

// testBackfill: a register with history but no log (migrated from before the log existed)
// gets its log built from the audit log by Migrate, each leaf anchored to the original audit
// entry; it publishes and verifies clean.
func testBackfill(t *testing.T, h Harness) {
	w := newWorld(t, h)
	a := w.certify(t)
	w.certify(t)
	w.void(t)
	w.revoke(t, a)
	w.version(t, a)
	_, err := w.reg.OpenBook(ctx, w.unit.ID, 2026, w.now())
	must(t, "OpenBook", err)
	w.certify(t)
	before, err := w.reg.LogLeaves(ctx, 0, 100)
	must(t, "LogLeaves", err)
	must(t, "Tamper", w.reg.Tamper(ctx, `DELETE FROM log_hashes`))
	must(t, "Tamper", w.reg.Tamper(ctx, `DELETE FROM log_leaves`))
	must(t, "Migrate", w.reg.Migrate(ctx))
	after, err := w.reg.LogLeaves(ctx, 0, 100)
	must(t, "LogLeaves", err)
	if len(after) != len(before) || len(after) != 7 {
		t.Fatalf("backfilled %d leaves, the register had %d", len(after), len(before))
	}
	for i := range after {
		b, _ := translog.ParseLeaf(before[i].Data)
		g, err := translog.ParseLeaf(after[i].Data)
		if err != nil || g.Event != b.Event || g.Number != b.Number || g.Audit != b.Audit || g.CopySHA256 != b.CopySHA256 || !sameCommitments(g.Private, b.Private) {
			t.Errorf("leaf %d backfilled as %+v, was %+v", i, g, b)
		}
	}
	must(t, "Migrate again", w.reg.Migrate(ctx)) // a register with a log is left alone
	if n, _ := w.reg.LogSize(ctx); n != 7 {
		t.Fatalf("second Migrate changed the log: %d leaves", n)
	}
	// A fresh bucket: the backfilled log is published and verifies.
	store := newStore(t)
	l, block := attach(t, w.reg, store, w.key)
	must(t, "Check", block)
	must(t, "Publish", l.Publish(ctx))
	wantClean(t, verify(t, &world{reg: w.reg, log: l}, nil))
}

// objects lists every key of the store.
func objects(t *testing.T, s chungthuc.ObjectStore) []string {
	t.Helper()
	var keys []string
	must(t, "List", s.List(ctx, "", func(o chungthuc.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	}))
	sort.Strings(keys)
	return keys
}

// testRestore: a register restored from an older backup is detected (the service refuses to
// allocate numbers, naming the numbers the store knows), Reconcile replays the missing
// leaves exactly, nothing is deleted, log verify is clean and the next number is unused.
func testRestore(t *testing.T, h Harness) {
	w := newWorld(t, h)
	a := w.certify(t)
	b := w.certify(t)
	w.certify(t)
	w.revoke(t, b)
	w.version(t, a)
	restore := h.Backup(t, w.reg)
	w.reserve(t) // number 4: its request never finished (no leaf, no copy)
	var after []*chungthuc.Certification
	for range 5 {
		after = append(after, w.certify(t))
	}
	w.revoke(t, a)
	w.version(t, after[0])
	_, err := w.reg.OpenBook(ctx, w.unit.ID, 2026, w.now())
	must(t, "OpenBook", err)
	late := w.certify(t) // number 10, in book 02
	void := w.void(t)    // number 11
	w.published(t)
	before := objects(t, w.store)

	old := restore(t)
	t.Cleanup(func() { _ = old.Close() })
	l, block := attach(t, old, w.store, w.key)
	if chungthuc.ErrorCode(block) != chungthuc.ECONFLICT || !strings.Contains(block.Error(), "HB 2026: 5–11") ||
		!strings.Contains(block.Error(), "chungthuc reconcile") || !strings.Contains(block.Error(), "restored from an older backup") {
		t.Fatalf("start-up check of the restored register: %v", block)
	}
	c := &chungthuc.Certification{UnitID: w.unit.ID, OfficerID: w.off.ID, Token: token(), AccessCodeHash: "x", Title: "Giấy khai sinh", CertifiedAt: w.now()}
	if err := old.Reserve(ctx, c); chungthuc.ErrorCode(err) != chungthuc.ECONFLICT || !strings.Contains(err.Error(), "reconcile") {
		t.Fatalf("Reserve on a register behind the store: %v", err)
	}
	ow := &world{reg: old, store: w.store, key: w.key, log: l, unit: w.unit, off: w.off, clock: w.now()}
	rep, err := translog.Reconcile(ctx, l, old, "restored from the backup of test")
	must(t, "Reconcile", err)
	if rep.RegisterSize != 5 || rep.StoreSize != 15 || len(rep.Replayed) != 10 || rep.Size != 16 {
		t.Fatalf("reconcile report %+v", rep)
	}
	for _, r := range rep.Replayed {
		if r.Placeholders {
			t.Errorf("leaf %d restored with placeholders: %+v", r.Index, r)
		}
	}
	if err := l.Blocked(); err != nil {
		t.Fatalf("still blocked after reconcile: %v", err)
	}
	// Before the gaps are closed the counter is behind what the log records.
	if vr := verify(t, &world{reg: old, log: l}, nil); vr.Clean {
		t.Fatal("log verify is clean with the counter behind the log")
	}
	voided, err := old.CloseGaps(ctx, "restored from the backup of test")
	must(t, "CloseGaps", err)
	if len(voided) != 1 || voided[0] != "HB 2026 no. 4" {
		t.Fatalf("CloseGaps voided %v, want number 4", voided)
	}
	if again, err := old.CloseGaps(ctx, "again"); err != nil || len(again) != 0 {
		t.Fatalf("second CloseGaps: %v %v", again, err)
	}
	vr := verify(t, ow, nil)
	wantClean(t, vr)
	if !strings.Contains(strings.Join(vr.Notes, "\n"), "replayed from the object store") {
		t.Errorf("notes do not say audit anchors were lost: %v", vr.Notes)
	}
	// The rows are back as they were: token, access code, status, book.
	for _, want := range append(after, a, late, void) {
		want, err := w.reg.CertificationByID(ctx, want.ID)
		must(t, "CertificationByID", err)
		got, err := old.CertificationByToken(ctx, want.Token)
		must(t, "CertificationByToken on the restored register", err)
		if got.Number != want.Number || got.Status != want.Status || got.AccessCodeHash != want.AccessCodeHash ||
			got.Title != want.Title || got.Requester != want.Requester || got.SHA256 != want.SHA256 || got.BookCode != want.BookCode ||
			got.ObjectKey != want.ObjectKey || got.RevokeReason != want.RevokeReason || got.VoidReason != want.VoidReason ||
			got.Copies != want.Copies || got.FeeVND != want.FeeVND {
			t.Errorf("restored %+v\nwant %+v", got, want)
		}
	}
	if _, err := old.CertificationBySHA256(ctx, sum([]byte("%PDF-1.7 renewed "+after[0].Token))); err != nil {
		t.Errorf("restored version not found: %v", err)
	}
	next := ow.certify(t)
	if next.Number != 12 || next.BookCode != "02/2026-SCTĐT/BS" {
		t.Fatalf("next certification after reconcile: no. %d in %s, want 12 in 02", next.Number, next.BookCode)
	}
	afterKeys := objects(t, w.store)
	for _, k := range before {
		if i := sort.SearchStrings(afterKeys, k); i >= len(afterKeys) || afterKeys[i] != k {
			t.Errorf("object %s was deleted", k)
		}
	}
	wantClean(t, verify(t, ow, nil))
}

func sameCommitments(a, b *translog.Commitments) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
