package registertest

import (
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// testMails: the citizen's e-mail outbox. Reserve with Mail holds the message (not claimable
// while Pending), Issue makes it due, Void deletes it; claims are leases; failures wait for
// the next attempt and are audited; sent and given-up messages keep only the hint (the
// schema refuses an address beside a settled state).
func testMails(t *testing.T, r chungthuc.Register) {
	m, ok := r.(chungthuc.Mails)
	if !ok {
		t.Fatalf("%T does not implement chungthuc.Mails", r)
	}
	u := newUnit(t, r, "ML")
	o := newOfficer(t, r, u.ID)
	bad := entry(u, o, time.Now())
	bad.Mail = &chungthuc.MailRequest{To: "a@b.vn\r\nBcc: x@y.vn", AccessCode: "ABC"}
	code(t, "Reserve with a header in the address", r.Reserve(ctx, bad), chungthuc.EINVALID)
	bad.Mail = &chungthuc.MailRequest{To: "a@b.vn", AccessCode: "AB\nCD"}
	code(t, "Reserve with a broken code", r.Reserve(ctx, bad), chungthuc.EINVALID)

	c1 := entry(u, o, time.Now())
	c1.Mail = &chungthuc.MailRequest{To: "nguyen.van.an@example.vn", AccessCode: "ABCDEFGH23"}
	reserve(t, r, c1)
	c2 := entry(u, o, time.Now())
	c2.Mail = &chungthuc.MailRequest{To: "tran@example.vn", AccessCode: "ZZZZZZZZ99"}
	reserve(t, r, c2)
	c3 := reserve(t, r, entry(u, o, time.Now())) // no e-mail
	now := time.Now()
	if js, err := m.ClaimMails(ctx, "a", now, now.Add(time.Minute), 10); err != nil || len(js) != 0 {
		t.Fatalf("claimed %d held messages (err %v): nothing goes out before issue", len(js), err)
	}
	st, err := m.MailStatusOf(ctx, c1.ID)
	must(t, "MailStatusOf", err)
	if st.State != chungthuc.MailHeld || st.AddressHint != "n…@example.vn" {
		t.Fatalf("held status %+v", st)
	}
	_, err = m.MailStatusOf(ctx, c3.ID)
	code(t, "MailStatusOf without e-mail", err, chungthuc.ENOTFOUND)
	must(t, "Void", r.Void(ctx, c2.ID, "Hủy thử"))
	_, err = m.MailStatusOf(ctx, c2.ID)
	code(t, "MailStatusOf after void", err, chungthuc.ENOTFOUND)

	issue(t, r, c1)
	before := entries(t, r)
	now = time.Now()
	js, err := m.ClaimMails(ctx, "a", now, now.Add(time.Minute), 10)
	must(t, "ClaimMails", err)
	if len(js) != 1 || js[0].CertificationID != c1.ID || js[0].To != "nguyen.van.an@example.vn" || js[0].AccessCode != "ABCDEFGH23" || js[0].Attempts != 0 {
		t.Fatalf("claimed %+v", js)
	}
	if more, _ := m.ClaimMails(ctx, "b", now.Add(30*time.Second), now.Add(2*time.Minute), 10); len(more) != 0 {
		t.Fatalf("b claimed %d leased messages", len(more))
	}
	code(t, "fail by a non-holder", m.MailAttemptFailed(ctx, js[0].ID, "b", now.Add(time.Minute), "x"), chungthuc.ECONFLICT)
	must(t, "MailAttemptFailed", m.MailAttemptFailed(ctx, js[0].ID, "a", now.Add(5*time.Minute), "smtp 127.0.0.1:1: connection refused"))
	if n := entries(t, r); n != before+1 {
		t.Fatalf("a failed attempt appended %d audit entries, want 1", n-before)
	}
	st, err = m.MailStatusOf(ctx, c1.ID)
	must(t, "MailStatusOf", err)
	if st.State != chungthuc.MailPending || st.Attempts != 1 || st.LastError == "" || st.NextAt == nil || st.SettledAt != nil {
		t.Fatalf("after a failure %+v", st)
	}
	if again, _ := m.ClaimMails(ctx, "a", now.Add(time.Minute), now.Add(2*time.Minute), 10); len(again) != 0 {
		t.Fatalf("claimed before the next attempt: %+v", again)
	}
	js, err = m.ClaimMails(ctx, "b", now.Add(6*time.Minute), now.Add(7*time.Minute), 10)
	must(t, "ClaimMails retry", err)
	if len(js) != 1 || js[0].Attempts != 1 {
		t.Fatalf("retry %+v", js)
	}
	must(t, "MailDelivered", m.MailDelivered(ctx, js[0].ID, "b", now.Add(6*time.Minute)))
	code(t, "deliver twice", m.MailDelivered(ctx, js[0].ID, "b", now), chungthuc.ECONFLICT)
	st, err = m.MailStatusOf(ctx, c1.ID)
	must(t, "MailStatusOf", err)
	if st.State != chungthuc.MailSent || st.SettledAt == nil || st.NextAt != nil || st.AddressHint != "n…@example.vn" {
		t.Fatalf("sent status %+v", st)
	}
	if n := entries(t, r); n != before+2 {
		t.Fatalf("%d audit entries after a failure and a send, want 2", n-before)
	}

	// A reissued code voids the one queued: the message goes without it.
	c5 := entry(u, o, time.Now())
	c5.Mail = &chungthuc.MailRequest{To: "pham@example.vn", AccessCode: "OLDCODE234"}
	reserve(t, r, c5)
	issue(t, r, c5)
	must(t, "ReissueAccessCode", r.ReissueAccessCode(ctx, c5.ID, "new-hash", "officer:1"))
	js, err = m.ClaimMails(ctx, "a", now.Add(time.Hour), now.Add(time.Hour+time.Minute), 10)
	must(t, "ClaimMails", err)
	if len(js) != 1 || js[0].CertificationID != c5.ID || js[0].AccessCode != "" || js[0].To != "pham@example.vn" {
		t.Fatalf("after a reissue: %+v", js)
	}
	must(t, "MailDelivered", m.MailDelivered(ctx, js[0].ID, "a", now.Add(time.Hour)))

	// Giving up is final and erases the address too.
	c4 := entry(u, o, time.Now())
	c4.Mail = &chungthuc.MailRequest{To: "le@example.vn", AccessCode: "QQQQQQQQ22"}
	reserve(t, r, c4)
	issue(t, r, c4)
	js, err = m.ClaimMails(ctx, "a", now.Add(time.Hour), now.Add(time.Hour+time.Minute), 10)
	must(t, "ClaimMails", err)
	if len(js) != 1 || js[0].CertificationID != c4.ID {
		t.Fatalf("claimed %+v", js)
	}
	must(t, "MailAttemptFailed (give up)", m.MailAttemptFailed(ctx, js[0].ID, "a", time.Time{}, "550 mailbox unavailable"))
	st, err = m.MailStatusOf(ctx, c4.ID)
	must(t, "MailStatusOf", err)
	if st.State != chungthuc.MailFailed || st.LastError != "550 mailbox unavailable" || st.SettledAt == nil {
		t.Fatalf("given up %+v", st)
	}
	if js, _ := m.ClaimMails(ctx, "a", now.Add(48*time.Hour), now.Add(49*time.Hour), 10); len(js) != 0 {
		t.Fatalf("a given-up message was claimed again: %+v", js)
	}
	if raw, ok := r.(RawSQL); ok {
		if err := raw.ExecSQL(ctx, `UPDATE mail_outbox SET address = 'le@example.vn' WHERE state = 'failed'`); err == nil {
			t.Error("the schema keeps an address beside a settled message")
		}
	}
}
