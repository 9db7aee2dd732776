package registertest

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// at returns a copy of t as a pointer.
func at(t time.Time) *time.Time { return &t }

// testIntake: received and due times are kept with entries and refusals as given (both or
// neither, due after received, received not in the future) and cannot be changed afterwards.
func testIntake(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	recv := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	due := recv.Add(30 * time.Hour)
	c := entry(u, o, recv.Add(time.Hour))
	c.ReceivedAt, c.DueAt = at(recv), at(due)
	reserve(t, r, c)
	got, err := r.CertificationByID(ctx, c.ID)
	must(t, "CertificationByID", err)
	if got.ReceivedAt == nil || !got.ReceivedAt.Equal(recv) || got.DueAt == nil || !got.DueAt.Equal(due) {
		t.Fatalf("intake read back %v / %v, want %v / %v", got.ReceivedAt, got.DueAt, recv, due)
	}
	if got.ReturnedAt() != nil {
		t.Fatal("a pending entry has a returned time")
	}
	issue(t, r, c)
	if got, _ = r.CertificationByID(ctx, c.ID); got.ReturnedAt() == nil || !got.ReturnedAt().Equal(c.CertifiedAt) {
		t.Fatalf("returned time of an issued entry: %v, want its certification time %v", got.ReturnedAt(), c.CertifiedAt)
	}
	old := reserve(t, r, entry(u, o, recv))
	if got, _ = r.CertificationByID(ctx, old.ID); got.ReceivedAt != nil || got.DueAt != nil {
		t.Fatal("an entry without intake read back with one")
	}
	bad := []struct {
		what           string
		received, dueT *time.Time
	}{
		{"received without due", at(recv), nil},
		{"due without received", nil, at(due)},
		{"due before received", at(recv), at(recv.Add(-time.Minute))},
		{"received in the future", at(time.Now().Add(time.Hour)), at(time.Now().Add(48 * time.Hour))},
	}
	for _, b := range bad {
		e := entry(u, o, recv)
		e.ReceivedAt, e.DueAt = b.received, b.dueT
		code(t, "Reserve: "+b.what, r.Reserve(ctx, e), chungthuc.EINVALID)
		code(t, "CreateRefusal: "+b.what, r.CreateRefusal(ctx, &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID,
			Reason: chungthuc.RefuseDamaged, ReceivedAt: b.received, DueAt: b.dueT}), chungthuc.EINVALID)
	}
	f := &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID, Reason: chungthuc.RefuseDamaged, ReceivedAt: at(recv), DueAt: at(due)}
	must(t, "CreateRefusal", r.CreateRefusal(ctx, f))
	gf, err := r.RefusalByID(ctx, f.ID)
	must(t, "RefusalByID", err)
	if gf.ReceivedAt == nil || !gf.ReceivedAt.Equal(recv) || gf.DueAt == nil || !gf.DueAt.Equal(due) {
		t.Fatalf("refusal intake read back %v / %v", gf.ReceivedAt, gf.DueAt)
	}
	if x, ok := r.(RawSQL); ok {
		id := strconv.FormatInt(c.ID, 10)
		for _, q := range []string{
			"UPDATE certifications SET received_at = NULL WHERE id = " + id,
			"UPDATE certifications SET due_at = received_at WHERE id = " + id,
			"UPDATE refusals SET due_at = NULL WHERE id = " + strconv.FormatInt(f.ID, 10),
		} {
			if err := x.ExecSQL(ctx, q); err == nil {
				t.Errorf("%s: allowed", q)
			}
		}
	}
}

// testReports: ratings (one per issued entry, audited, validated) and the statistics of a
// period counted by hand.
func testReports(t *testing.T, r chungthuc.Register) {
	u := newUnit(t, r, "HB")
	o := newOfficer(t, r, u.ID)
	other := newUnit(t, r, "PL")
	now := time.Now()
	base := now.Add(-72 * time.Hour).Truncate(time.Second)
	mk := func(certified time.Time, received, due *time.Time) *chungthuc.Certification {
		c := entry(u, o, certified)
		c.ReceivedAt, c.DueAt = received, due
		return reserve(t, r, c)
	}
	c1 := mk(base.Add(2*time.Hour), at(base), at(base.Add(24*time.Hour))) // on time
	issue(t, r, c1)
	c2 := mk(base.Add(2*time.Hour), at(base), at(base.Add(time.Hour))) // late
	issue(t, r, c2)
	mk(base.Add(time.Hour), at(base), at(base.Add(time.Hour)))                            // overdue (pending)
	c4 := mk(now.Add(-time.Minute), at(now.Add(-time.Minute)), at(now.Add(24*time.Hour))) // pending
	c5 := mk(base.Add(time.Hour), at(base), at(base.Add(24*time.Hour)))                   // void: not counted
	must(t, "Void", r.Void(ctx, c5.ID, "lỗi ký"))
	c6 := mk(base.Add(3*time.Hour), nil, nil) // no intake: counted as certified only
	issue(t, r, c6)
	c7 := mk(base.Add(time.Hour), at(base), at(base.Add(24*time.Hour))) // on time, revoked since
	issue(t, r, c7)
	must(t, "Revoke", r.Revoke(ctx, c7.ID, "cấp nhầm", time.Time{}))
	must(t, "CreateRefusal", r.CreateRefusal(ctx, &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID, Reason: chungthuc.RefuseAltered,
		ReceivedAt: at(now.Add(-48 * time.Hour)), DueAt: at(now.Add(-24 * time.Hour))})) // late
	must(t, "CreateRefusal", r.CreateRefusal(ctx, &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID, Reason: chungthuc.RefuseOther,
		Note: "Thiếu trang", ReceivedAt: at(now.Add(-time.Minute)), DueAt: at(now.Add(24 * time.Hour))})) // on time

	before := entries(t, r)
	must(t, "Rate", r.Rate(ctx, &chungthuc.Rating{CertificationID: c1.ID, Value: chungthuc.Satisfied, Comment: "  Nhanh,\r\n\r\n gọn  "}, "citizen:test"))
	must(t, "Rate", r.Rate(ctx, &chungthuc.Rating{CertificationID: c2.ID, Value: chungthuc.NotSatisfied}, "citizen:test"))
	if n := entries(t, r); n != before+2 {
		t.Fatalf("%d audit entries after two ratings, want %d", n, before+2)
	}
	code(t, "Rate twice", r.Rate(ctx, &chungthuc.Rating{CertificationID: c1.ID, Value: chungthuc.Neutral}, "citizen:test"), chungthuc.ECONFLICT)
	code(t, "Rate pending", r.Rate(ctx, &chungthuc.Rating{CertificationID: c4.ID, Value: chungthuc.Neutral}, "citizen:test"), chungthuc.ECONFLICT)
	code(t, "Rate revoked", r.Rate(ctx, &chungthuc.Rating{CertificationID: c7.ID, Value: chungthuc.Neutral}, "citizen:test"), chungthuc.ECONFLICT)
	code(t, "Rate unknown", r.Rate(ctx, &chungthuc.Rating{CertificationID: c7.ID + 100, Value: chungthuc.Neutral}, "citizen:test"), chungthuc.ENOTFOUND)
	code(t, "Rate bad value", r.Rate(ctx, &chungthuc.Rating{CertificationID: c6.ID, Value: "great"}, "citizen:test"), chungthuc.EINVALID)
	code(t, "Rate long comment", r.Rate(ctx, &chungthuc.Rating{CertificationID: c6.ID, Value: chungthuc.Neutral,
		Comment: strings.Repeat("á", chungthuc.MaxRatingComment+1)}, "citizen:test"), chungthuc.EINVALID)
	code(t, "Rate control character", r.Rate(ctx, &chungthuc.Rating{CertificationID: c6.ID, Value: chungthuc.Neutral, Comment: "a\x07b"}, "citizen:test"), chungthuc.EINVALID)
	code(t, "Rate without actor", r.Rate(ctx, &chungthuc.Rating{CertificationID: c6.ID, Value: chungthuc.Neutral}, " "), chungthuc.EINVALID)
	for id, want := range map[int64]bool{c1.ID: true, c2.ID: true, c6.ID: false} {
		if got, err := r.Rated(ctx, id); err != nil || got != want {
			t.Errorf("Rated(%d) = %v %v, want %v", id, got, err, want)
		}
	}

	st, err := r.Statistics(ctx, u.ID, base.Add(-time.Hour), now.Add(time.Hour), now)
	must(t, "Statistics", err)
	// By hand: certified and kept c1 c2 c6 c7 (3 pages, 1 copy, 5,000 VND each; c7 revoked);
	// received with intake c1 c2 c3 c4 c7 and both refusals; on time c1 c7 and the second
	// refusal, late c2 and the first refusal; c3 overdue, c4 pending; c5 void is left out.
	want := chungthuc.Statistics{Certifications: 4, Copies: 4, Revoked: 1, Pages: 12, Fees: 4 * chungthuc.Fee(3), Refusals: 2,
		Received: 7, OnTime: 3, Late: 2, Overdue: 1, Pending: 1}
	gotFlat := *st
	gotFlat.RefusalReasons, gotFlat.Ratings = nil, nil
	if !reflect.DeepEqual(gotFlat, want) {
		t.Errorf("Statistics:\n got %+v\nwant %+v", gotFlat, want)
	}
	if st.RefusalReasons[chungthuc.RefuseAltered] != 1 || st.RefusalReasons[chungthuc.RefuseOther] != 1 || len(st.RefusalReasons) != 2 {
		t.Errorf("refusals by reason: %v", st.RefusalReasons)
	}
	if st.Ratings[chungthuc.Satisfied] != 1 || st.Ratings[chungthuc.NotSatisfied] != 1 || st.Rated() != 2 {
		t.Errorf("ratings: %v", st.Ratings)
	}
	if pct, ok := st.SatisfactionRate(); !ok || pct != 50 {
		t.Errorf("satisfaction rate %v %v, want 50", pct, ok)
	}
	if pct, ok := st.OnTimeRate(); !ok || pct != 60 {
		t.Errorf("on-time rate %v %v, want 60 (3 of 5 returned)", pct, ok)
	}
	// Another unit and a period before everything see nothing.
	for what, q := range map[string][2]any{
		"another unit":      {other.ID, base.Add(-time.Hour)},
		"an earlier period": {u.ID, base.Add(-30 * 24 * time.Hour)},
	} {
		from := q[1].(time.Time)
		to := now.Add(time.Hour)
		if what == "an earlier period" {
			to = base.Add(-time.Hour)
		}
		s, err := r.Statistics(ctx, q[0].(int64), from, to, now)
		must(t, "Statistics", err)
		if s.Certifications+s.Received+s.Refusals+s.Rated() != 0 {
			t.Errorf("statistics of %s: %+v", what, s)
		}
	}
	if x, ok := r.(RawSQL); ok {
		for _, q := range []string{"UPDATE satisfaction_ratings SET rating = 'satisfied'", "DELETE FROM satisfaction_ratings"} {
			if err := x.ExecSQL(ctx, q); err == nil {
				t.Errorf("%s: allowed", q)
			}
		}
	}
}
