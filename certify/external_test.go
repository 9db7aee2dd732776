package certify

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/internal/cpubench"
	"github.com/chungthuc/chungthuc/internal/testpki"
	"github.com/chungthuc/chungthuc/internal/testscan"
	"github.com/chungthuc/chungthuc/storage/sqlite"
)

// extEnv is env with signing outside the service: the officer's certificate and the unit's
// seal certificate registered; the "devices" are in-process keys the service never sees.
type extEnv struct {
	*env
	officerDev, sealDev *chungthuc.SigningKey
	other               *chungthuc.SigningKey // a key nobody registered
}

func newExtEnv(t testing.TB, withSealCert bool) *extEnv {
	t.Helper()
	e := newEnv(t)
	e.svc.External = maker
	e.svc.SignatureTimeout = time.Hour
	p := testpki.New()
	x := &extEnv{env: e, officerDev: p.Leaf("Trần Văn Nghĩa", "Phường Hòa Bình", "ecdsa"),
		sealDev: p.Leaf("Phường Hòa Bình", "Phường Hòa Bình", "rsa"), other: p.Leaf("Trần Văn Nghĩa", "Phường Hòa Bình", "ecdsa")}
	ctx := context.Background()
	if err := e.reg.SetOfficerCert(ctx, e.off.ID, certs.EncodeCertificatePEM(x.officerDev.Chain[0])); err != nil {
		t.Fatal(err)
	}
	var sealPEM []byte
	if withSealCert {
		sealPEM = certs.EncodeCertificatePEM(x.sealDev.Chain[0])
	}
	if err := e.reg.SetUnitExternalSigning(ctx, e.unit.ID, sealPEM, true); err != nil {
		t.Fatal(err)
	}
	return x
}

// sign is the device: one signature over digest, outside the workflow.
func sign(t *testing.T, k *chungthuc.SigningKey, digest []byte) []byte {
	t.Helper()
	v, err := k.Signer.Sign(rand.Reader, digest, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var (
	officerActor = func(e *extEnv) Actor { return Actor{OfficerID: e.off.ID, Role: chungthuc.RoleOfficer, Name: "token:1"} }
	clerkActor   = Actor{OfficerID: 99, Role: chungthuc.RoleClerk, Name: "token:2"}
)

func reasonOf(err error) string {
	var se *StepError
	if errors.As(err, &se) {
		return se.Reason
	}
	return ""
}

func (x *extEnv) status(t *testing.T, id int64) (chungthuc.Status, chungthuc.SignatureStep) {
	t.Helper()
	c, err := x.reg.CertificationByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	w, err := x.reg.SignatureWait(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status, w.Step
}

func TestExternalSigning(t *testing.T) {
	x := newExtEnv(t, true)
	ctx := context.Background()
	in := x.input()
	in.Signing = "" // the unit's default: external
	out, err := x.svc.Certify(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	aw := out.Awaiting
	if aw == nil || aw.Step != chungthuc.StepOfficerSignature || out.PDF != nil || out.AccessCode != "" ||
		out.Certification.Number != 1 || len(aw.ToSign.Digest) != 32 || aw.ToSign.SignatureAlgorithm != "ecdsa-with-SHA256" ||
		!aw.ExpiresAt.Equal(x.now.Add(time.Hour)) {
		t.Fatalf("start: %+v", out)
	}
	if sum := sha256.Sum256(aw.ToSign.SignedAttrs); string(sum[:]) != string(aw.ToSign.Digest) {
		t.Fatal("digest is not the SHA-256 of the signed attributes")
	}
	id := out.Certification.ID
	// The scans are stored at once and recorded with the entry: fsck sees no orphan.
	if keys := out.Certification.ScanKeys; len(keys) != 1 {
		t.Fatalf("scan keys at start: %v", keys)
	} else if ref, err := x.reg.ObjectReferenced(ctx, keys[0]); err != nil || !ref {
		t.Fatalf("stored scan not referenced: %v %v", ref, err)
	}
	// fsck's repair leaves the waiting entry alone, however old.
	x.now = x.now.Add(50 * time.Minute)
	if voided, err := x.svc.Repair(ctx, time.Minute); err != nil || len(voided) != 0 {
		t.Fatalf("Repair voided %v (%v)", voided, err)
	}
	again, err := x.svc.ToSignOf(ctx, x.unit.ID, id)
	if err != nil || string(again.ToSign.Digest) != string(aw.ToSign.Digest) {
		t.Fatalf("ToSignOf: %v", err)
	}
	if _, err := x.svc.ToSignOf(ctx, x.unit.ID+1, id); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Fatalf("another unit reads the wait: %v", err)
	}
	audit := &auditCounter{DB: x.reg}
	x.svc.Register = audit
	complete := func(a Actor, v []byte) (*Awaiting, *Output, error) {
		return x.svc.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: a, Value: v})
	}
	wrongDigest := sha256.Sum256([]byte("another document"))
	for _, c := range []struct {
		name   string
		actor  Actor
		value  []byte
		reason string
	}{
		{"wrong key", officerActor(x), sign(t, x.other, aw.ToSign.Digest), ReasonSignatureInvalid},
		{"wrong digest", officerActor(x), sign(t, x.officerDev, wrongDigest[:]), ReasonSignatureInvalid},
		{"garbage", officerActor(x), []byte("not a signature"), ReasonSignatureInvalid},
		{"a clerk", clerkActor, sign(t, x.officerDev, aw.ToSign.Digest), ReasonRole},
		{"another officer", Actor{OfficerID: x.off.ID + 1, Role: chungthuc.RoleOfficer}, sign(t, x.officerDev, aw.ToSign.Digest), ReasonRole},
	} {
		if _, _, err := complete(c.actor, c.value); reasonOf(err) != c.reason {
			t.Fatalf("%s: %v (reason %q), want %q", c.name, err, reasonOf(err), c.reason)
		}
		if st, step := x.status(t, id); st != chungthuc.StatusPending || step != chungthuc.StepOfficerSignature {
			t.Fatalf("%s changed the entry: %s %s", c.name, st, step)
		}
	}
	// Another certificate than the registered one (same name, another key).
	_, _, err = x.svc.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: officerActor(x),
		Value: sign(t, x.other, aw.ToSign.Digest), Chain: x.other.Chain})
	if reasonOf(err) != ReasonCertificate || chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN {
		t.Fatalf("unregistered certificate: %v", err)
	}
	if audit.refused != 6 {
		t.Fatalf("%d refused signatures audited, want 6", audit.refused)
	}
	// The officer signs: the seal is awaited, with a fresh deadline.
	next, done, err := complete(officerActor(x), sign(t, x.officerDev, aw.ToSign.Digest))
	if err != nil || done != nil || next.Step != chungthuc.StepSeal || next.ToSign.SignatureAlgorithm != "sha256WithRSAEncryption" ||
		!next.ExpiresAt.Equal(x.now.Add(time.Hour)) {
		t.Fatalf("officer step: %+v %+v %v", next, done, err)
	}
	if _, _, err := complete(officerActor(x), sign(t, x.officerDev, aw.ToSign.Digest)); reasonOf(err) != ReasonRole {
		t.Fatalf("the officer applies the seal: %v", err)
	}
	// Another instance (a restart) completes from the register alone.
	other := &Service{Register: x.reg, Objects: x.store, Keys: x.svc.Keys, Maker: maker, External: maker, Now: x.svc.Now, BaseURL: x.svc.BaseURL}
	defer other.Close()
	_, issued, err := other.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: clerkActor, Value: sign(t, x.sealDev, next.ToSign.Digest)})
	if err != nil {
		t.Fatal(err)
	}
	c := issued.Certification
	if c.Status != chungthuc.StatusIssued || len(issued.PDF) == 0 || c.AccessCodeHash != HashAccessCode(c.Token, issued.AccessCode) || len(c.ScanKeys) != 1 {
		t.Fatalf("issued: %+v", c)
	}
	if st, step := x.status(t, id); st != chungthuc.StatusIssued || step != chungthuc.StepClosed {
		t.Fatalf("after issue: %s %s", st, step)
	}
	if got := strings.Count(string(issued.PDF), "/Type /Sig"); got < 2 {
		t.Fatalf("copy has %d signatures", got)
	}
	if _, _, err := complete(clerkActor, sign(t, x.sealDev, next.ToSign.Digest)); reasonOf(err) != ReasonNotWaiting {
		t.Fatalf("completing an issued entry: %v", err)
	}
	// A server-signed request still works in the same unit.
	in = x.input()
	in.Signing = SigningServer
	srv, err := x.svc.Certify(ctx, in)
	if err != nil || srv.Certification.Status != chungthuc.StatusIssued || srv.Certification.Number != 2 {
		t.Fatalf("server signing: %+v %v", srv, err)
	}
}

// TestExternalExpiry: a wait past its deadline is voided with its reason by the sweep (and
// by a late completion); the number stays used and the next continues after it.
func TestExternalExpiry(t *testing.T) {
	x := newExtEnv(t, true)
	ctx := context.Background()
	in := x.input()
	in.Signing = SigningExternal
	a, err := x.svc.Certify(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := x.svc.Certify(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := x.svc.ExpireWaits(ctx); err != nil || n != 0 {
		t.Fatalf("ExpireWaits before the deadline voided %d (%v)", n, err)
	}
	x.now = x.now.Add(time.Hour)
	// b: a late signature finds its wait expired and voids it.
	_, _, err = x.svc.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: b.Certification.ID, Actor: officerActor(x),
		Value: sign(t, x.officerDev, b.Awaiting.ToSign.Digest)})
	if reasonOf(err) != ReasonExpired {
		t.Fatalf("late signature: %v", err)
	}
	// a: the sweep.
	if n, err := x.svc.ExpireWaits(ctx); err != nil || n != 1 {
		t.Fatalf("ExpireWaits voided %d (%v), want 1", n, err)
	}
	for _, id := range []int64{a.Certification.ID, b.Certification.ID} {
		c, err := x.reg.CertificationByID(ctx, id)
		if err != nil || c.Status != chungthuc.StatusVoid || c.VoidReason != ExpiredOfficerReason {
			t.Fatalf("entry %d after expiry: %+v %v", id, c, err)
		}
	}
	in.Signing = SigningServer
	next, err := x.svc.Certify(ctx, in)
	if err != nil || next.Certification.Number != 3 {
		t.Fatalf("next number: %+v %v", next, err)
	}
}

// TestExternalMixed: a unit without a registered seal certificate gets the key store's seal
// right after the officer's own signature.
func TestExternalMixed(t *testing.T) {
	x := newExtEnv(t, false)
	ctx := context.Background()
	out, err := x.svc.Certify(ctx, x.input())
	if err != nil || out.Awaiting == nil {
		t.Fatalf("start: %v", err)
	}
	next, done, err := x.svc.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: out.Certification.ID, Actor: officerActor(x),
		Value: sign(t, x.officerDev, out.Awaiting.ToSign.Digest)})
	if err != nil || next != nil || done == nil || done.Certification.Status != chungthuc.StatusIssued {
		t.Fatalf("officer step in mixed mode: %+v %+v %v", next, done, err)
	}
}

// TestExternalRefusedBeforeNumber: no registered certificate, or no two-step signer, uses
// no number.
func TestExternalRefusedBeforeNumber(t *testing.T) {
	x := newExtEnv(t, true)
	ctx := context.Background()
	if err := x.reg.SetOfficerCert(ctx, x.off.ID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := x.svc.Certify(ctx, x.input()); reasonOf(err) != ReasonNoCertificate {
		t.Fatalf("no certificate: %v", err)
	}
	x.svc.External = nil
	if _, err := x.svc.Certify(ctx, x.input()); chungthuc.ErrorCode(err) != chungthuc.EUNSUPPORTED {
		t.Fatalf("no two-step signer: %v", err)
	}
	in := x.input()
	in.Signing = "hsm"
	if _, err := x.svc.Certify(ctx, in); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("unknown mode: %v", err)
	}
	if cs, n, err := x.reg.Certifications(ctx, chungthuc.CertificationFilter{UnitID: x.unit.ID}); err != nil || n != 0 {
		t.Fatalf("numbers used: %d %v %v", n, cs, err)
	}
}

// BenchmarkCertifyExternal compares, on SQLite and the file store, the server CPU of a copy
// certified in one step (server-held keys) with the same copy certified in two steps
// (Certify with Signing external, CompleteSignature for the officer, then for the seal).
// In-process keys stand in for the devices; both paths make the same two signatures with
// the same keys, so the difference is the two-step path's own cost (state kept in the
// register and read back, signatures checked). 3-page 1 MB scans, PAdES B-B; cpu-ms/op.
func BenchmarkCertifyExternal(b *testing.B) {
	x := newExtEnv(b, true)
	scans := testscan.Scans(3, 1<<20, 200)
	ctx := context.Background()
	in := x.input()
	in.Scans = in.Scans[:0]
	for i, sc := range scans {
		in.Scans = append(in.Scans, chungthuc.Scan{Name: "trang" + strconv.Itoa(i+1) + ".jpg", Data: sc})
	}
	// The same keys in both paths: held by the key store (one step), by the "devices".
	keyStore := keys{x.officerDev, x.sealDev}
	b.Run("one-step", func(b *testing.B) {
		x.svc.Keys = keyStore
		in := in
		in.Signing = SigningServer
		defer cpubench.PerOp(b)()
		for i := 0; i < b.N; i++ {
			if _, err := x.svc.Certify(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("two-step", func(b *testing.B) {
		in := in
		in.Signing = SigningExternal
		officer := Actor{OfficerID: x.off.ID, Role: chungthuc.RoleOfficer, Name: "bench"}
		defer cpubench.PerOp(b)()
		for i := 0; i < b.N; i++ {
			out, err := x.svc.Certify(ctx, in)
			if err != nil {
				b.Fatal(err)
			}
			id := out.Certification.ID
			v, _ := x.officerDev.Signer.Sign(rand.Reader, out.Awaiting.ToSign.Digest, crypto.SHA256)
			next, _, err := x.svc.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: officer, Value: v})
			if err != nil {
				b.Fatal(err)
			}
			v, _ = x.sealDev.Signer.Sign(rand.Reader, next.ToSign.Digest, crypto.SHA256)
			if _, _, err := x.svc.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: clerkActor, Value: v}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestExternalConcurrentCompletion: two instances receive the officer's signature at once;
// one moves the entry to the seal, the other is refused; the entry is sealed once and
// issued.
func TestExternalConcurrentCompletion(t *testing.T) {
	x := newExtEnv(t, true)
	ctx := context.Background()
	out, err := x.svc.Certify(ctx, x.input())
	if err != nil {
		t.Fatal(err)
	}
	id := out.Certification.ID
	sig := sign(t, x.officerDev, out.Awaiting.ToSign.Digest)
	second := &Service{Register: x.reg, Objects: x.store, Keys: x.svc.Keys, Maker: maker, External: maker, Now: x.svc.Now, BaseURL: x.svc.BaseURL}
	defer second.Close()
	type res struct {
		next *Awaiting
		err  error
	}
	results := make(chan res, 2)
	for _, s := range []*Service{x.svc, second} {
		go func() {
			next, _, err := s.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: officerActor(x), Value: sig})
			results <- res{next, err}
		}()
	}
	var won *Awaiting
	for range 2 {
		r := <-results
		switch {
		case r.err == nil && won == nil:
			won = r.next
		case reasonOf(r.err) == ReasonStep, reasonOf(r.err) == ReasonRole:
			// Lost the race in the register (wrong_step), or came after it: the entry then
			// waits for the seal, which the officer may not apply (role_not_allowed).
		default:
			t.Fatalf("completion: %+v %v", r.next, r.err)
		}
	}
	if won == nil {
		t.Fatal("neither completion moved the entry to the seal")
	}
	_, issued, err := x.svc.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: clerkActor, Value: sign(t, x.sealDev, won.ToSign.Digest)})
	if err != nil || issued.Certification.Status != chungthuc.StatusIssued {
		t.Fatalf("seal after the race: %v", err)
	}
}

// TestExternalIdempotent: a retried external request (same Idempotency-Key) gets what the
// first one waits for, without a second number.
func TestExternalIdempotent(t *testing.T) {
	x := newExtEnv(t, true)
	ctx := context.Background()
	in := x.input()
	in.IdempotencyKey = "hs-2026-0001"
	first, err := x.svc.Certify(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := x.svc.Certify(ctx, in)
	if err != nil || !again.Replayed || again.Awaiting == nil || again.Certification.ID != first.Certification.ID ||
		string(again.Awaiting.ToSign.Digest) != string(first.Awaiting.ToSign.Digest) {
		t.Fatalf("retry: %+v %v", again, err)
	}
}

// auditCounter is the register, counting the refused signatures appended to its audit log.
type auditCounter struct {
	*sqlite.DB
	refused int
}

func (a *auditCounter) Append(ctx context.Context, e *chungthuc.AuditEntry) error {
	if e.Action == ActionSignatureRefused && strings.Contains(e.Detail, `"reason"`) {
		a.refused++
	}
	return a.DB.Append(ctx, e)
}

// voidingRegister voids the entry (its wait expired, another instance swept it) just before
// the officer's completion records the seal step.
type voidingRegister struct{ *sqlite.DB }

func (v voidingRegister) AwaitSignature(ctx context.Context, w *chungthuc.SignatureWait, actor string) error {
	if w.Step == chungthuc.StepSeal {
		if err := v.DB.Void(ctx, w.CertificationID, ExpiredOfficerReason); err != nil {
			return err
		}
	}
	return v.DB.AwaitSignature(ctx, w, actor)
}

// TestExternalVoidedDuringCompletion: an officer's signature that arrives as the sweep voids
// the entry is answered not_waiting (not "already signed"), and nothing is issued.
func TestExternalVoidedDuringCompletion(t *testing.T) {
	x := newExtEnv(t, true)
	ctx := context.Background()
	out, err := x.svc.Certify(ctx, x.input())
	if err != nil {
		t.Fatal(err)
	}
	x.svc.Register = voidingRegister{x.reg}
	_, done, err := x.svc.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: out.Certification.ID, Actor: officerActor(x),
		Value: sign(t, x.officerDev, out.Awaiting.ToSign.Digest)})
	if reasonOf(err) != ReasonNotWaiting || done != nil {
		t.Fatalf("completion of a voided entry: %v", err)
	}
	if st, step := x.status(t, out.Certification.ID); st != chungthuc.StatusVoid || step != chungthuc.StepClosed {
		t.Fatalf("entry: %s %s", st, step)
	}
}

// TestExternalConcurrentSeal: two instances receive the clerk's seal signature at once. The
// register serialises them (Seal records the copy's hash before the object is written): one
// issues the copy; the other either finds the same copy recorded (identical bytes at B-B:
// an idempotent success with the same hash) or is refused (ECONFLICT) — it voids nothing
// and writes no object of its own. The entry is issued once.
func TestExternalConcurrentSeal(t *testing.T) {
	x := newExtEnv(t, true)
	ctx := context.Background()
	out, err := x.svc.Certify(ctx, x.input())
	if err != nil {
		t.Fatal(err)
	}
	id := out.Certification.ID
	next, _, err := x.svc.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: officerActor(x), Value: sign(t, x.officerDev, out.Awaiting.ToSign.Digest)})
	if err != nil {
		t.Fatal(err)
	}
	sig := sign(t, x.sealDev, next.ToSign.Digest)
	second := &Service{Register: x.reg, Objects: x.store, Keys: x.svc.Keys, Maker: maker, External: maker, Now: x.svc.Now, BaseURL: x.svc.BaseURL}
	defer second.Close()
	type res struct {
		out *Output
		err error
	}
	results := make(chan res, 2)
	for _, s := range []*Service{x.svc, second} {
		go func() {
			_, o, err := s.CompleteSignature(ctx, Signature{UnitID: x.unit.ID, ID: id, Actor: clerkActor, Value: sig})
			results <- res{o, err}
		}()
	}
	var sums []string
	for range 2 {
		r := <-results
		switch {
		case r.err == nil:
			sums = append(sums, r.out.Certification.SHA256)
		case chungthuc.ErrorCode(r.err) != chungthuc.ECONFLICT:
			t.Fatalf("seal completion: %v", r.err)
		}
	}
	if len(sums) == 0 || (len(sums) == 2 && sums[0] != sums[1]) {
		t.Fatalf("issued copies: %v", sums)
	}
	c, err := x.reg.CertificationByID(ctx, id)
	if err != nil || c.Status != chungthuc.StatusIssued || c.SHA256 != sums[0] {
		t.Fatalf("after the race: %+v %v (returned %v)", c, err, sums)
	}
	n := 0
	if err := x.store.List(ctx, "copies/", func(chungthuc.ObjectInfo) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("stored copies: %d %v", n, err)
	}
}
