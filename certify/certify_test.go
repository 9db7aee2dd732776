package certify

import (
	"context"
	"crypto"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testpki"
	"github.com/chungthuc/chungthuc/internal/testscan"
	"github.com/chungthuc/chungthuc/signer"
	"github.com/chungthuc/chungthuc/storage/fs"
	"github.com/chungthuc/chungthuc/storage/sqlite"
)

// keys is a KeyStore over throw-away test certificates.
type keys struct{ officer, seal *chungthuc.SigningKey }

func (k keys) OfficerKey(context.Context, *chungthuc.Officer) (*chungthuc.SigningKey, error) {
	return k.officer, nil
}
func (k keys) SealKey(context.Context, *chungthuc.Unit) (*chungthuc.SigningKey, error) {
	return k.seal, nil
}

// failingStore fails Put while fail is set (of keys with failPrefix, when set).
type failingStore struct {
	chungthuc.ObjectStore
	fail       bool
	failPrefix string
}

func (f *failingStore) Put(ctx context.Context, key string, r io.Reader, size int64, sum string) (*chungthuc.ObjectInfo, error) {
	if f.fail && strings.HasPrefix(key, f.failPrefix) {
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "Object store http://10.0.0.5:9000 (bucket \"b\") is unreachable (put %q): dial tcp: connection refused", key)
	}
	return f.ObjectStore.Put(ctx, key, r, size, sum)
}

var maker = func() *signer.Signer {
	s, err := signer.New(signer.Options{})
	if err != nil {
		panic(err)
	}
	return s
}()

type env struct {
	svc   *Service
	reg   *sqlite.DB
	store *failingStore
	dir   string // of the object store
	unit  *chungthuc.Unit
	off   *chungthuc.Officer
	now   time.Time
}

func newEnv(t testing.TB) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{now: time.Date(2026, 11, 29, 9, 0, 0, 0, chungthuc.Vietnam)}
	clock := func() time.Time { return e.now }
	reg, err := sqlite.Open(context.Background(), filepath.Join(dir, "r.db"), sqlite.Options{AutoMigrate: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	objs, err := fs.New(filepath.Join(dir, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objs.Close() })
	e.reg, e.store, e.dir = reg, &failingStore{ObjectStore: objs}, filepath.Join(dir, "objects")
	p := testpki.New()
	e.svc = &Service{Register: reg, Objects: e.store, Keys: keys{p.Leaf("Trần Văn Nghĩa", "Phường Hòa Bình", "ecdsa"), p.Leaf("Phường Hòa Bình", "Phường Hòa Bình", "ecdsa")},
		Maker: maker, Now: clock, BaseURL: "https://ct.example.vn/", RetryVoid: 10 * time.Millisecond}
	t.Cleanup(e.svc.Close)
	ctx := context.Background()
	e.unit = &chungthuc.Unit{Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình", Body: "Ủy ban nhân dân phường Hòa Bình", Province: "tỉnh Phú Thọ", Demo: true}
	if err := reg.CreateUnit(ctx, e.unit); err != nil {
		t.Fatal(err)
	}
	e.off = &chungthuc.Officer{UnitID: e.unit.ID, Name: "Trần Văn Nghĩa", Title: "PHÓ CHỦ TỊCH", Authority: chungthuc.AuthorityViceChairman, Role: chungthuc.RoleOfficer, Active: true}
	if err := reg.CreateOfficer(ctx, e.off); err != nil {
		t.Fatal(err)
	}
	return e
}

var scan = testscan.Scans(1, 80<<10, 72)[0]

func (e *env) input() Input {
	return Input{UnitCode: "HB", OfficerID: e.off.ID, DocTitle: "Giấy khai sinh", Requester: "Nguyễn Thị Hồng Nhung",
		Scans: []chungthuc.Scan{{Name: "trang1.JPG", Data: scan}}, KeepScans: true}
}

func TestCertify(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.svc.Certify(ctx, e.input())
	if err != nil {
		t.Fatal(err)
	}
	c := out.Certification
	if c.Status != chungthuc.StatusIssued || c.Number != 1 || c.FeeVND != 2000 || c.Pages != 1 || c.OfficerTitle != "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH" {
		t.Fatalf("certification: %+v", c)
	}
	if !strings.HasPrefix(out.VerifyURL, "https://ct.example.vn/v/") || len(c.Token) < 22 {
		t.Fatalf("verify URL %q token %q", out.VerifyURL, c.Token)
	}
	if c.AccessCodeHash != HashAccessCode(c.Token, out.AccessCode) || HashAccessCode(c.Token, strings.ToLower(out.AccessCode)) != c.AccessCodeHash {
		t.Fatal("access code hash does not match")
	}
	info, err := e.store.Stat(ctx, c.ObjectKey)
	if err != nil || info.SHA256 != c.SHA256 || info.Size != int64(len(out.PDF)) {
		t.Fatalf("stored copy: %+v %v", info, err)
	}
	if len(c.ScanKeys) != 1 || !strings.HasSuffix(c.ScanKeys[0], ".jpg") {
		t.Fatalf("scan keys %v", c.ScanKeys)
	}
	if _, err := e.store.Stat(ctx, c.ScanKeys[0]); err != nil {
		t.Fatal(err)
	}
}

func TestStoreFailureVoidsTheNumber(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.store.fail = true
	if _, err := e.svc.Certify(ctx, e.input()); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("err = %v, want EUNAVAILABLE", err)
	}
	e.store.fail = false
	out, err := e.svc.Certify(ctx, e.input())
	if err != nil {
		t.Fatal(err)
	}
	if out.Certification.Number != 2 {
		t.Fatalf("number after a failure = %d, want 2 (1 is void)", out.Certification.Number)
	}
	list, _, err := e.reg.Certifications(ctx, chungthuc.CertificationFilter{UnitID: e.unit.ID, Number: 1})
	if err != nil || len(list) != 1 || list[0].Status != chungthuc.StatusVoid ||
		list[0].VoidReason != "Không lưu được bản sao vào kho lưu trữ (kho không phản hồi)" {
		t.Fatalf("entry 1: %+v %v", list, err)
	}
	// A scan that cannot be stored voids the entry too, with its own words.
	e.store.fail, e.store.failPrefix = true, "scans/"
	if _, err := e.svc.Certify(ctx, e.input()); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("err = %v, want EUNAVAILABLE", err)
	}
	list, _, _ = e.reg.Certifications(ctx, chungthuc.CertificationFilter{UnitID: e.unit.ID, Number: 3})
	if len(list) != 1 || list[0].VoidReason != "Không lưu được ảnh chụp bản chính vào kho lưu trữ (kho không phản hồi)" {
		t.Fatalf("entry 3: %+v", list)
	}
}

func TestBadScanUsesNoNumber(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := e.input()
	in.Scans = []chungthuc.Scan{{Name: "x.jpg", Data: []byte("garbage")}}
	if _, err := e.svc.Certify(ctx, in); err == nil {
		t.Fatal("garbage accepted")
	}
	list, total, err := e.reg.Certifications(ctx, chungthuc.CertificationFilter{UnitID: e.unit.ID})
	if err != nil || total != 0 || len(list) != 0 {
		t.Fatalf("a refused scan left %d entries", total)
	}
}

func TestOfficerOfAnotherUnit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	other := &chungthuc.Unit{Code: "TM", Name: "Xã Trung Minh", Place: "Trung Minh"}
	e.reg.CreateUnit(ctx, other)
	in := e.input()
	in.UnitCode = "TM"
	if _, err := e.svc.Certify(ctx, in); chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN {
		t.Fatalf("err = %v, want EFORBIDDEN", err)
	}
}

// TestRepair: entries left Pending by a request that never finished are voided once older
// than the grace — also when their copy was stored (repair never issues) — and the stored
// copy stays as evidence, referenced by the void entry.
func TestRepair(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// A crash after the copy was stored but before it was issued…
	stored := &chungthuc.Certification{UnitID: e.unit.ID, Token: "tok-stored-aaaaaaaaaaaaaaaa", OfficerID: e.off.ID, CertifiedAt: e.now, Pages: 1, Title: "Giấy khai sinh"}
	if err := e.reg.Reserve(ctx, stored); err != nil {
		t.Fatal(err)
	}
	data := []byte("%PDF-1.7 pretend")
	sum := sha256hex(data)
	if err := e.reg.Seal(ctx, stored.ID, sum, "copies/"+sum+".pdf", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Put(ctx, "copies/"+sum+".pdf", strings.NewReader(string(data)), int64(len(data)), sum); err != nil {
		t.Fatal(err)
	}
	// …and a crash before anything was stored.
	lost := &chungthuc.Certification{UnitID: e.unit.ID, Token: "tok-lost-bbbbbbbbbbbbbbbbbbb", OfficerID: e.off.ID, CertifiedAt: e.now, Pages: 1, Title: "Giấy khai sinh"}
	if err := e.reg.Reserve(ctx, lost); err != nil {
		t.Fatal(err)
	}
	// Young entries are left alone (a certification may be in progress).
	voided, err := e.svc.Repair(ctx, time.Minute)
	if err != nil || len(voided) != 0 {
		t.Fatalf("repair of young entries: %+v %v", voided, err)
	}
	e.now = e.now.Add(5 * time.Minute)
	voided, err = e.svc.Repair(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(voided) != 2 || voided[0].ID != stored.ID || voided[0].Evidence != "copies/"+sum+".pdf" || voided[1].ID != lost.ID {
		t.Fatalf("repair: %+v", voided)
	}
	for _, id := range []int64{stored.ID, lost.ID} {
		c, _ := e.reg.CertificationByID(ctx, id)
		if c.Status != chungthuc.StatusVoid || c.VoidReason != RepairReason {
			t.Fatalf("entry %d after repair: %+v", id, c)
		}
	}
	c, _ := e.reg.CertificationByID(ctx, stored.ID)
	if info, err := e.store.Stat(ctx, c.ObjectKey); err != nil || info.SHA256 != sum {
		t.Fatalf("the evidence is gone: %+v %v", info, err)
	}
	// The stored object is referenced by the void entry: no orphan.
	rep, err := e.svc.Check(ctx, CheckOptions{Orphans: true})
	if err != nil || !rep.Clean() || rep.ListedObjects != 1 {
		t.Fatalf("check after repair: %+v %v", rep, err)
	}
}

func TestRevokeAndRefuse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.svc.Certify(ctx, e.input())
	if err != nil {
		t.Fatal(err)
	}
	id := out.Certification.ID
	if _, err := e.svc.Revoke(ctx, e.unit.ID, id, "  "); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("empty reason: %v", err)
	}
	if _, err := e.svc.Revoke(ctx, e.unit.ID+1, id, "sai sót"); chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		t.Fatalf("other unit: %v", err)
	}
	c, err := e.svc.Revoke(ctx, e.unit.ID, id, "Bản chính giả mạo")
	if err != nil || c.Status != chungthuc.StatusRevoked || c.RevokeReason != "Bản chính giả mạo" || c.RevokedAt == nil {
		t.Fatalf("revoke: %+v %v", c, err)
	}
	if _, err := e.svc.Revoke(ctx, e.unit.ID, id, "again"); chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		t.Fatalf("revoke twice: %v", err)
	}
	if err := e.svc.Refuse(ctx, &chungthuc.Refusal{UnitID: e.unit.ID, OfficerID: e.off.ID, Reason: "nope"}); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("unknown refusal reason: %v", err)
	}
	if err := e.svc.Refuse(ctx, &chungthuc.Refusal{UnitID: e.unit.ID, OfficerID: e.off.ID, Reason: chungthuc.RefuseClassified, Note: "Đóng dấu MẬT"}); err != nil {
		t.Fatal(err)
	}
}

// failingSigner is a key whose token was pulled out.
type failingSigner struct{ crypto.Signer }

func (failingSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "signing token not available: removed")
}

// TestTokenRemovedMidRun: a key that fails to sign voids the reserved number with the reason
// and stores nothing.
func TestTokenRemovedMidRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	k := e.svc.Keys.(keys)
	seal := *k.seal
	seal.Signer = failingSigner{k.seal.Signer}
	e.svc.Keys = keys{officer: k.officer, seal: &seal}
	if _, err := e.svc.Certify(ctx, e.input()); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("err = %v, want EUNAVAILABLE", err)
	}
	list, total, _ := e.reg.Certifications(ctx, chungthuc.CertificationFilter{UnitID: e.unit.ID})
	if total != 1 || list[0].Status != chungthuc.StatusVoid ||
		list[0].VoidReason != "Không tạo được bản sao có chữ ký số (thiết bị ký số hoặc dịch vụ cấp dấu thời gian không phản hồi)" {
		t.Fatalf("entries after a failed signature: %+v", list)
	}
	n := 0
	e.store.List(ctx, "", func(chungthuc.ObjectInfo) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d objects stored for a failed certification", n)
	}
}
