package registertest

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// testIdempotencyKeys: an entry keeps the Idempotency-Key and request hash it was reserved
// with; the key finds it in its unit only; a key is unique per unit, also under concurrency.
func testIdempotencyKeys(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	u2 := newUnit(t, r, "TM")
	o2 := newOfficer(t, r, u2.ID)
	at := vn(2026, 3, 3, 9, 0)
	c := entry(u, o, at)
	c.IdempotencyKey, c.RequestHash = "req-0001", SHA("request")
	reserve(t, r, c)
	got, err := r.CertificationByIdempotencyKey(ctx, u.ID, "req-0001")
	must(t, "CertificationByIdempotencyKey", err)
	if got.ID != c.ID || got.IdempotencyKey != "req-0001" || got.RequestHash != SHA("request") {
		t.Fatalf("found %+v", got)
	}
	_, err = r.CertificationByIdempotencyKey(ctx, u2.ID, "req-0001")
	code(t, "the key in another unit", err, chungthuc.ENOTFOUND)
	_, err = r.CertificationByIdempotencyKey(ctx, u.ID, "req-0002")
	code(t, "an unknown key", err, chungthuc.ENOTFOUND)

	dup := entry(u, o, at)
	dup.IdempotencyKey = "req-0001"
	code(t, "Reserve with a used key", r.Reserve(ctx, dup), chungthuc.ECONFLICT)
	other := entry(u2, o2, at)
	other.IdempotencyKey = "req-0001"
	must(t, "the same key in another unit", r.Reserve(ctx, other))
	for _, bad := range []string{"has space", "tab\there", "ümlaut", strings.Repeat("k", 201)} {
		x := entry(u, o, at)
		x.IdempotencyKey = bad
		code(t, "Reserve with key "+strconv.Quote(bad), r.Reserve(ctx, x), chungthuc.EINVALID)
	}
	// A number that failed to be reserved is not used: the next is 2.
	plain := reserve(t, r, entry(u, o, at))
	if plain.Number != 2 || plain.IdempotencyKey != "" {
		t.Fatalf("next entry: number %d, key %q", plain.Number, plain.IdempotencyKey)
	}

	// Concurrent reservations with one key: exactly one wins.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			x := entry(u, o, at)
			x.IdempotencyKey = "race"
			errs[i] = r.Reserve(ctx, x)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch chungthuc.ErrorCode(err) {
		case "":
			won++
		case chungthuc.ECONFLICT:
		default:
			t.Errorf("concurrent Reserve with one key: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent reservations with one key succeeded, want 1", won)
	}
	entries(t, r)
}

// testStoredCopies: the walk of fsck --deep sees Issued and Revoked entries in ID order,
// and ObjectReferenced knows every key an entry refers to.
func testStoredCopies(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	at := vn(2026, 5, 5, 9, 0)
	var want []int64
	for i := range 7 {
		c := reserve(t, r, entry(u, o, at))
		switch i % 3 {
		case 0:
			issue(t, r, c)
			want = append(want, c.ID)
		case 1:
			issue(t, r, c)
			must(t, "Revoke", r.Revoke(ctx, c.ID, "sai", time.Time{}))
			want = append(want, c.ID)
		case 2:
			must(t, "Void", r.Void(ctx, c.ID, "lỗi"))
		}
	}
	var got []int64
	for after := int64(0); ; {
		page, err := r.StoredCopies(ctx, after, 2)
		must(t, "StoredCopies", err)
		if len(page) == 0 {
			break
		}
		for _, c := range page {
			got = append(got, c.ID)
			after = c.ID
		}
	}
	if fmtIDs(got) != fmtIDs(want) {
		t.Fatalf("StoredCopies walked %v, want %v", got, want)
	}
	for _, bad := range []int{0, 1001} {
		_, err := r.StoredCopies(ctx, 0, bad)
		code(t, "StoredCopies limit "+strconv.Itoa(bad), err, chungthuc.EINVALID)
	}

	c := reserve(t, r, entry(u, o, at))
	for _, k := range []string{"copies/" + SHA(c.Token) + ".pdf", "scans/" + c.Token} {
		if ok, err := r.ObjectReferenced(ctx, k); err != nil || ok {
			t.Fatalf("ObjectReferenced(%s) before Seal = %v, %v", k, ok, err)
		}
	}
	issue(t, r, c)
	must(t, "AddVersion", r.AddVersion(ctx, c.ID, SHA("renewed"), "renewals/x/y.pdf"))
	for _, k := range []string{"copies/" + SHA(c.Token) + ".pdf", "scans/" + c.Token, "renewals/x/y.pdf"} {
		if ok, err := r.ObjectReferenced(ctx, k); err != nil || !ok {
			t.Errorf("ObjectReferenced(%s) = %v, %v; want true", k, ok, err)
		}
	}
	for _, k := range []string{"copies/" + SHA("nobody") + ".pdf", "scans/" + c.Token + "x", "scans/"} {
		if ok, err := r.ObjectReferenced(ctx, k); err != nil || ok {
			t.Errorf("ObjectReferenced(%s) = %v, %v; want false", k, ok, err)
		}
	}
}

func fmtIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// testFindings: a finding stays open until cleared, a repeated report refreshes it without a
// new audit entry, a new kind restarts it, and both report and clear are audited.
func testFindings(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	c := reserve(t, r, entry(u, o, vn(2026, 6, 6, 9, 0)))
	issue(t, r, c)
	fs, err := r.Findings(ctx, "")
	must(t, "Findings", err)
	if fs == nil || len(fs) != 0 {
		t.Fatalf("a fresh register has findings %v", fs)
	}
	code(t, "ReportFinding unknown kind", r.ReportFinding(ctx, &chungthuc.Finding{Key: "k", Kind: "weird"}), chungthuc.EINVALID)
	code(t, "ReportFinding without key", r.ReportFinding(ctx, &chungthuc.Finding{Kind: chungthuc.FindingOrphan}), chungthuc.EINVALID)
	code(t, "ReportFinding unknown entry", r.ReportFinding(ctx, &chungthuc.Finding{Key: "x", Kind: chungthuc.FindingMissing, CertificationID: c.ID + 99}), chungthuc.ENOTFOUND)

	n := entries(t, r)
	orphan := &chungthuc.Finding{Key: "copies/" + SHA("lost") + ".pdf", Kind: chungthuc.FindingOrphan, Detail: "Không có bản ghi trong sổ"}
	must(t, "ReportFinding", r.ReportFinding(ctx, orphan))
	if orphan.FirstSeen.IsZero() || !orphan.FirstSeen.Equal(orphan.LastSeen) {
		t.Fatalf("first report: %+v", orphan)
	}
	time.Sleep(2 * time.Millisecond)
	again := &chungthuc.Finding{Key: orphan.Key, Kind: chungthuc.FindingOrphan, Detail: "vẫn còn"}
	must(t, "ReportFinding again", r.ReportFinding(ctx, again))
	if !again.FirstSeen.Equal(orphan.FirstSeen) || !again.LastSeen.After(orphan.LastSeen) {
		t.Fatalf("refreshed report: %+v, first %+v", again, orphan)
	}
	copyKey := "copies/" + SHA(c.Token) + ".pdf"
	damaged := &chungthuc.Finding{Key: copyKey, Kind: chungthuc.FindingDamaged, CertificationID: c.ID, Detail: "Mã băm không khớp"}
	must(t, "ReportFinding damaged", r.ReportFinding(ctx, damaged))
	if got := entries(t, r) - n; got != 2 {
		t.Fatalf("three reports of two findings appended %d audit entries, want 2", got)
	}
	fs, err = r.Findings(ctx, "")
	must(t, "Findings", err)
	if len(fs) != 2 || fs[0].Key != copyKey || fs[0].CertificationID != c.ID || fs[1].Detail != "vẫn còn" {
		t.Fatalf("Findings = %+v", fs)
	}
	fs, err = r.Findings(ctx, orphan.Key)
	must(t, "Findings of a key", err)
	if len(fs) != 1 || fs[0].Kind != chungthuc.FindingOrphan {
		t.Fatalf("Findings(%s) = %+v", orphan.Key, fs)
	}
	n = entries(t, r)
	must(t, "ClearFinding", r.ClearFinding(ctx, orphan.Key))
	must(t, "ClearFinding again", r.ClearFinding(ctx, orphan.Key))
	must(t, "ClearFinding of nothing", r.ClearFinding(ctx, "nothing/here"))
	if got := entries(t, r) - n; got != 1 {
		t.Fatalf("clearing appended %d audit entries, want 1", got)
	}
	fs, _ = r.Findings(ctx, "")
	if len(fs) != 1 || fs[0].Key != copyKey {
		t.Fatalf("after clearing: %+v", fs)
	}
	// Reported again after being cleared: open again, first seen now.
	must(t, "ReportFinding after clear", r.ReportFinding(ctx, &chungthuc.Finding{Key: orphan.Key, Kind: chungthuc.FindingOrphan}))
	if fs, _ = r.Findings(ctx, orphan.Key); len(fs) != 1 || !fs[0].FirstSeen.After(orphan.FirstSeen) {
		t.Fatalf("reopened finding: %+v", fs)
	}
}

// testRefusedEdits: what an insider with the service's database rights would edit in an
// issued entry is refused by the database itself, one statement at a time, and so are a
// change of status without its audit entry, an entry inserted as issued, and an edited
// number counter.
func testRefusedEdits(t *testing.T, r chungthuc.Register) {
	x := raw(t, r)
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	c := reserve(t, r, entry(u, o, vn(2026, 9, 2, 9, 0)))
	issue(t, r, c)
	v := reserve(t, r, entry(u, o, vn(2026, 9, 2, 9, 5)))
	must(t, "Seal", r.Seal(ctx, v.ID, SHA("void copy"), "copies/void.pdf", nil))
	must(t, "Void", r.Void(ctx, v.ID, "Không lưu được bản sao"))
	p := reserve(t, r, entry(u, o, vn(2026, 9, 2, 9, 10)))
	id, vid, pid := strconv.FormatInt(c.ID, 10), strconv.FormatInt(v.ID, 10), strconv.FormatInt(p.ID, 10)
	must(t, "ReportFinding", r.ReportFinding(ctx, &chungthuc.Finding{Key: "copies/x.pdf", Kind: chungthuc.FindingOrphan}))
	before, err := r.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	for _, q := range []string{
		"UPDATE certifications SET access_code_hash = 'argon2id$forged' WHERE id = " + id,
		"UPDATE certifications SET officer_name = 'Người Khác' WHERE id = " + id,
		"UPDATE certifications SET officer_title = 'CHỦ TỊCH' WHERE id = " + id,
		"UPDATE certifications SET fee_vnd = 0 WHERE id = " + id,
		"UPDATE certifications SET pages = 1 WHERE id = " + id,
		"UPDATE certifications SET book_code = '02/2026-SCTĐT/BS' WHERE id = " + id,
		"UPDATE certifications SET number = number + 100 WHERE id = " + id,
		"UPDATE certifications SET token = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE id = " + id,
		"UPDATE certifications SET sha256 = '" + SHA("forged") + "' WHERE id = " + id,
		"UPDATE certifications SET object_key = 'copies/forged.pdf' WHERE id = " + id,
		"UPDATE certifications SET object_version = 'forged' WHERE id = " + id,
		"UPDATE certifications SET status = 'revoked', revoke_reason = 'không có nhật ký' WHERE id = " + id,
		"UPDATE certifications SET void_reason = 'lý do khác' WHERE id = " + vid,
		"UPDATE certifications SET status = 'issued' WHERE id = " + vid,
		"UPDATE certifications SET status = 'issued', sha256 = '" + SHA("p") + "', object_key = 'copies/p.pdf' WHERE id = " + pid,
		"UPDATE certifications SET status = 'void', void_reason = 'tự hủy' WHERE id = " + pid,
		"UPDATE number_counters SET last_number = last_number + 5",
		"UPDATE number_counters SET last_number = last_number - 1",
		"DELETE FROM number_counters",
		"DELETE FROM object_findings",
	} {
		if err := x.ExecSQL(ctx, q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	// An entry inserted as issued (its token would then verify "valid").
	insert := `INSERT INTO certifications (unit_id, book_id, book_code, year, number, token, access_code_hash, title,
		issuer, requester, search, officer_id, officer_name, officer_title, pages, fee_vnd, sha256, object_key, status,
		certified_at, created_at) SELECT unit_id, book_id, book_code, year, 999, 'BBBBBBBBBBBBBBBBBBBBBBBBBBBB', access_code_hash,
		title, issuer, requester, search, officer_id, officer_name, officer_title, pages, fee_vnd, '` + SHA("inserted") + `',
		'copies/inserted.pdf', 'issued', certified_at, created_at FROM certifications WHERE id = ` + id
	if err := x.ExecSQL(ctx, insert); err == nil {
		t.Errorf("inserting an issued entry: allowed")
	}
	after, err := r.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	sameCert(t, after, before)
	entries(t, r)
}
