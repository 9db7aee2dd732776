package certify

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// TestIdempotencyKey: a retry with the same key gets the first outcome — the issued entry
// without its access code, or the void entry with its reason, or "in progress" while the
// first request runs — and a key reused with another request is refused.
func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := e.input()
	in.IdempotencyKey = "one-stop-2026-000123"
	first, err := e.svc.Certify(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.Certify(ctx, in)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if !again.Replayed || again.Certification.ID != first.Certification.ID || again.AccessCode != "" || again.PDF != nil ||
		again.VerifyURL != first.VerifyURL {
		t.Fatalf("retry: %+v", again)
	}
	other := in
	other.Requester = "Người khác"
	if _, err := e.svc.Certify(ctx, other); !errors.Is(err, ErrKeyReused) || chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("the key with another request: %v", err)
	}
	if _, err := e.svc.Certify(ctx, Input{UnitCode: "HB", OfficerID: e.off.ID, Scans: in.Scans, IdempotencyKey: "has space"}); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("a malformed key: %v", err)
	}

	// A failed request: the retry gets the void entry and its reason, not a new number.
	e.store.fail = true
	in.IdempotencyKey = "one-stop-2026-000124"
	if _, err := e.svc.Certify(ctx, in); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("with the store down: %v", err)
	}
	e.store.fail = false
	_, err = e.svc.Certify(ctx, in)
	var o *Outcome
	if !errors.As(err, &o) || chungthuc.ErrorCode(err) != chungthuc.ECONFLICT || o.Certification.Status != chungthuc.StatusVoid ||
		o.InProgress() || !strings.Contains(chungthuc.ErrorMessage(err), "kho không phản hồi") {
		t.Fatalf("retry of a failed request: %v", err)
	}
	// In progress: an entry Pending under the key.
	p := &chungthuc.Certification{UnitID: e.unit.ID, Token: "tok-pending-ccccccccccccccc", OfficerID: e.off.ID, Pages: 1,
		Title: "Giấy khai sinh", IdempotencyKey: "one-stop-2026-000125", RequestHash: requestFingerprint(e.off.ID, "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", e.input())}
	if err := e.reg.Reserve(ctx, p); err != nil {
		t.Fatal(err)
	}
	in = e.input()
	in.IdempotencyKey = "one-stop-2026-000125"
	_, err = e.svc.Certify(ctx, in)
	if !errors.As(err, &o) || !o.InProgress() || o.Certification.ID != p.ID {
		t.Fatalf("retry while the first runs: %v", err)
	}
	// No further number was used by the retries.
	_, total, _ := e.reg.Certifications(ctx, chungthuc.CertificationFilter{UnitID: e.unit.ID})
	if total != 3 {
		t.Fatalf("%d entries, want 3", total)
	}
}

// TestConcurrentRetries: many simultaneous requests with one key make one entry.
func TestConcurrentRetries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := e.input()
	in.IdempotencyKey = "same-key"
	type res struct {
		out *Output
		err error
	}
	results := make(chan res, 4)
	for range 4 {
		go func() { out, err := e.svc.Certify(ctx, in); results <- res{out, err} }()
	}
	issued, replayed := 0, 0
	for range 4 {
		r := <-results
		var o *Outcome
		switch {
		case r.err == nil && !r.out.Replayed:
			issued++
		case r.err == nil:
			replayed++
		case errors.As(r.err, &o) && o.InProgress():
		default:
			t.Errorf("concurrent retry: %v", r.err)
		}
	}
	_, total, _ := e.reg.Certifications(ctx, chungthuc.CertificationFilter{UnitID: e.unit.ID})
	if issued != 1 || total != 1 {
		t.Fatalf("%d issued, %d replayed, %d entries; want one entry issued once", issued, replayed, total)
	}
}

// flakyRegister fails Void (as a database that refuses connections) a number of times, and
// can run a hook before Issue.
type flakyRegister struct {
	chungthuc.Register
	voidFailures atomic.Int32
	beforeIssue  func(id int64)
}

func (f *flakyRegister) Void(ctx context.Context, id int64, reason string) error {
	if f.voidFailures.Add(-1) >= 0 {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "PostgreSQL not reachable")
	}
	return f.Register.Void(ctx, id, reason)
}

func (f *flakyRegister) Issue(ctx context.Context, id int64, version, etag string) error {
	if f.beforeIssue != nil {
		f.beforeIssue(id)
	}
	return f.Register.Issue(ctx, id, version, etag)
}

// TestVoidRetriedInBackground: when the void itself fails, it is retried until it succeeds;
// the entry never stays Pending and is never issued.
func TestVoidRetriedInBackground(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fr := &flakyRegister{Register: e.reg}
	fr.voidFailures.Store(3)
	e.svc.Register = fr
	e.store.fail = true
	if _, err := e.svc.Certify(ctx, e.input()); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("err = %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := e.reg.CertificationByID(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status == chungthuc.StatusVoid {
			if c.VoidReason != "Không lưu được bản sao vào kho lưu trữ (kho không phản hồi)" {
				t.Fatalf("void reason %q", c.VoidReason)
			}
			break
		}
		if c.Status != chungthuc.StatusPending || time.Now().After(deadline) {
			t.Fatalf("entry is %s, want void after the retries", c.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for e.svc.PendingVoids() != 0 {
		time.Sleep(5 * time.Millisecond)
	}
}

// TestIssueAfterRepairVoided: fsck --grace 0s voids a live request's entry; the request
// then fails cleanly (the void outcome), and nothing is issued.
func TestIssueAfterRepairVoided(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fr := &flakyRegister{Register: e.reg}
	fr.beforeIssue = func(int64) {
		e.now = e.now.Add(time.Second) // the entry is older than "now - 0s"
		if _, err := e.svc.Repair(ctx, 0); err != nil {
			t.Error(err)
		}
	}
	e.svc.Register = fr
	in := e.input()
	in.IdempotencyKey = "k-1"
	_, err := e.svc.Certify(ctx, in)
	var o *Outcome
	if !errors.As(err, &o) || o.Certification.Status != chungthuc.StatusVoid || o.Certification.VoidReason != RepairReason {
		t.Fatalf("certify racing repair: %v", err)
	}
	fr.beforeIssue = nil
	if _, err := e.svc.Certify(ctx, in); !errors.As(err, &o) || o.Certification.Status != chungthuc.StatusVoid {
		t.Fatalf("retry: %v", err)
	}
}

// TestNoNumberWhileStoreDown: when the store is known down, the request is refused before
// a number is reserved.
func TestNoNumberWhileStoreDown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.svc.StoreReady = func(context.Context) error { return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "store down") }
	for range 5 {
		if _, err := e.svc.Certify(ctx, e.input()); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
			t.Fatalf("err = %v", err)
		}
	}
	if _, total, _ := e.reg.Certifications(ctx, chungthuc.CertificationFilter{UnitID: e.unit.ID}); total != 0 {
		t.Fatalf("%d numbers used while the store was down", total)
	}
}

// TestReadCopy: a stored copy is handed out only when its bytes hash to the register's
// SHA-256: another entry's copy put in its place, a 16-byte forgery and a missing file are
// each refused, recorded as a finding and counted; the good copy reads.
func TestReadCopy(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.svc.Certify(ctx, e.input())
	if err != nil {
		t.Fatal(err)
	}
	in := e.input()
	in.DocTitle = "Bằng tốt nghiệp"
	b, err := e.svc.Certify(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := e.svc.ReadCopy(ctx, a.Certification)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(cp)
	cp.Close()
	if string(got) != string(a.PDF) {
		t.Fatal("the copy read back differs")
	}
	path := filepath.Join(e.dir, a.Certification.ObjectKey)
	cases := []struct {
		name   string
		tamper func()
		kind   string
		detail string
	}{
		{"another entry's copy", func() { os.WriteFile(path, b.PDF, 0o640) }, chungthuc.FindingDamaged, "đã bị tráo"},
		{"a 16-byte forgery", func() { os.WriteFile(path, []byte("%PDF-1.7 forged!"), 0o640) }, chungthuc.FindingDamaged, "16 byte"},
		{"a deleted file", func() { os.Remove(path) }, chungthuc.FindingMissing, "Không tìm thấy"},
	}
	for _, tc := range cases {
		tc.tamper()
		_, err := e.svc.ReadCopy(ctx, a.Certification)
		var f *CopyFault
		if !errors.As(err, &f) || f.Kind != tc.kind || !strings.Contains(f.Detail, tc.detail) || chungthuc.ErrorCode(err) != chungthuc.EINTERNAL {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if msg := chungthuc.ErrorMessage(err); strings.Contains(msg, "copies/") || strings.Contains(msg, a.Certification.SHA256) {
			t.Errorf("%s: the user's message names the object: %q", tc.name, msg)
		}
		fs, _ := e.reg.Findings(ctx, a.Certification.ObjectKey)
		if len(fs) != 1 || fs[0].Kind != tc.kind || fs[0].CertificationID != a.Certification.ID {
			t.Fatalf("%s: findings %+v", tc.name, fs)
		}
		if state, _ := e.svc.StoredCopyState(ctx, a.Certification); state != tc.kind {
			t.Errorf("%s: stored copy state %q", tc.name, state)
		}
	}
	if n := e.svc.IntegrityFailures(); n[chungthuc.FindingDamaged] != 2 || n[chungthuc.FindingMissing] != 1 {
		t.Fatalf("failures counted: %v", n)
	}
	// Put back, a deep check clears the finding.
	os.WriteFile(path, a.PDF, 0o640)
	rep, err := e.svc.Check(ctx, CheckOptions{Deep: true})
	if err != nil || !rep.Clean() || len(rep.Cleared) != 1 {
		t.Fatalf("deep check after the repair: %+v %v", rep, err)
	}
	if state, _ := e.svc.StoredCopyState(ctx, a.Certification); state != "ok" {
		t.Errorf("stored copy state after repair %q", state)
	}
}

// TestCheckFindsOrphansAndKeepsThem: an object no entry refers to — a row deleted behind the
// service's back — is reported, recorded and kept; the report is not clean until it is
// explained, and a young object is left alone.
func TestCheckFindsOrphansAndKeepsThem(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.svc.Certify(ctx, e.input())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("%PDF-1.7 a copy whose row was deleted")
	sum := sha256hex(data)
	if _, err := e.store.Put(ctx, "copies/"+sum+".pdf", strings.NewReader(string(data)), int64(len(data)), sum); err != nil {
		t.Fatal(err)
	}
	e.now = time.Now() // the store's times are the real clock's
	rep, err := e.svc.Check(ctx, CheckOptions{Orphans: true, Grace: time.Hour})
	if err != nil || !rep.Clean() {
		t.Fatalf("a young object reported: %+v %v", rep, err)
	}
	e.now = time.Now().Add(48 * time.Hour)
	for pass := range 2 {
		rep, err = e.svc.Check(ctx, CheckOptions{Orphans: true, Grace: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Clean() || len(rep.Orphans) != 1 || rep.Orphans[0].Key != "copies/"+sum+".pdf" || rep.ListedObjects != 3 {
			t.Fatalf("pass %d: %+v", pass, rep)
		}
	}
	if _, err := e.store.Stat(ctx, "copies/"+sum+".pdf"); err != nil {
		t.Fatalf("the orphan was removed: %v", err)
	}
	if n := e.svc.OpenFindings(); n[chungthuc.FindingOrphan] != 1 {
		t.Fatalf("open findings %v", n)
	}
	_ = out
}

// TestDeepCheckNamesCases: fsck --deep reads back every stored copy and scan and names what
// is wrong with each.
func TestDeepCheckNamesCases(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var outs []*Output
	for i := range 4 {
		in := e.input()
		in.DocTitle = strings.Repeat("Giấy ", i+1)
		out, err := e.svc.Certify(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	os.WriteFile(filepath.Join(e.dir, outs[0].Certification.ObjectKey), outs[1].PDF, 0o640)
	os.Remove(filepath.Join(e.dir, outs[2].Certification.ObjectKey))
	os.WriteFile(filepath.Join(e.dir, outs[3].Certification.ScanKeys[0]), []byte("not the scan"), 0o640)
	rep, err := e.svc.Check(ctx, CheckOptions{Deep: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range rep.Problems {
		got[p.Key] = p.Kind
	}
	want := map[string]string{
		outs[0].Certification.ObjectKey:   chungthuc.FindingDamaged,
		outs[2].Certification.ObjectKey:   chungthuc.FindingMissing,
		outs[3].Certification.ScanKeys[0]: chungthuc.FindingDamaged,
	}
	// The four entries share one scan: the damaged scan is reported for each of them.
	if len(got) != len(want) || rep.CheckedCopies != 4 {
		t.Fatalf("deep check: %+v", rep)
	}
	for k, kind := range want {
		if got[k] != kind {
			t.Errorf("%s: %q, want %q", k, got[k], kind)
		}
	}
	// A rolling sample of 3 walks on and starts over.
	rep1, _ := e.svc.Check(ctx, CheckOptions{Sample: 3})
	rep2, _ := e.svc.Check(ctx, CheckOptions{Sample: 3})
	if rep1.CheckedCopies != 3 || rep2.CheckedCopies != 3 {
		t.Fatalf("samples checked %d and %d copies", rep1.CheckedCopies, rep2.CheckedCopies)
	}
}
