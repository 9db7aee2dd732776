package registertest

import (
	"strconv"
	"testing"

	"github.com/chungthuc/chungthuc"
)

// testAccessCodes: a reissued code is the one in force and voids the ones before; only an
// issued entry gets one; each reissue is audited in its transaction (the chain holds); the
// entry's own hash (which the public log commits to) never changes; the reissues are
// append-only.
func testAccessCodes(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "PL")
	o := newOfficer(t, r, u.ID)
	c := reserve(t, r, entry(u, o, vn(2026, 9, 2, 9, 0)))
	code(t, "ReissueAccessCode on a pending entry", r.ReissueAccessCode(ctx, c.ID, "hash-1", "account:1"), chungthuc.ECONFLICT)
	code(t, "ReissueAccessCode of an unknown entry", r.ReissueAccessCode(ctx, c.ID+100, "hash-1", "account:1"), chungthuc.ENOTFOUND)
	code(t, "ReissueAccessCode without a hash", r.ReissueAccessCode(ctx, c.ID, "", "account:1"), chungthuc.EINVALID)
	issue(t, r, c)
	got, err := r.AccessCodeHash(ctx, c)
	must(t, "AccessCodeHash", err)
	if got != c.AccessCodeHash {
		t.Fatalf("before any reissue the code in force is %q, want the entry's %q", got, c.AccessCodeHash)
	}
	before := entries(t, r)
	must(t, "ReissueAccessCode", r.ReissueAccessCode(ctx, c.ID, "hash-1", "account:1"))
	must(t, "ReissueAccessCode", r.ReissueAccessCode(ctx, c.ID, "hash-2", "account:2"))
	if got, err = r.AccessCodeHash(ctx, c); err != nil || got != "hash-2" {
		t.Fatalf("code in force after two reissues: %q %v, want hash-2", got, err)
	}
	if n := entries(t, r); n != before+2 {
		t.Fatalf("%d audit entries after two reissues, want %d", n, before+2)
	}
	again, err := r.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	if again.AccessCodeHash != c.AccessCodeHash {
		t.Fatal("a reissue changed the entry's own access-code hash")
	}
	// Another entry keeps its own code.
	d := reserve(t, r, entry(u, o, vn(2026, 9, 2, 9, 5)))
	issue(t, r, d)
	if got, _ := r.AccessCodeHash(ctx, d); got != d.AccessCodeHash {
		t.Fatalf("another entry's code in force is %q", got)
	}
	must(t, "Revoke", r.Revoke(ctx, c.ID, "Cấp nhầm", vn(2026, 9, 3, 9, 0)))
	code(t, "ReissueAccessCode on a revoked entry", r.ReissueAccessCode(ctx, c.ID, "hash-3", "account:1"), chungthuc.ECONFLICT)
	x, ok := r.(RawSQL)
	if !ok {
		return
	}
	id := strconv.FormatInt(c.ID, 10)
	for _, q := range []string{
		"UPDATE access_code_reissues SET code_hash = 'forged' WHERE certification_id = " + id,
		"DELETE FROM access_code_reissues WHERE certification_id = " + id,
	} {
		if err := x.ExecSQL(ctx, q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	if got, _ := r.AccessCodeHash(ctx, c); got != "hash-2" {
		t.Fatalf("code in force after refused edits: %q", got)
	}
}
