package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testmail"
)

// memMails is an in-memory MailOutbox with the register's lease rules.
type memMails struct {
	rows []*mailRow
}

type mailRow struct {
	j            chungthuc.MailJob
	next         time.Time
	owner        string
	until        time.Time
	sent, gaveUp bool
	lastErr      string
}

func (m *memMails) ClaimMails(_ context.Context, owner string, now, leaseUntil time.Time, limit int) ([]chungthuc.MailJob, error) {
	var js []chungthuc.MailJob
	for _, r := range m.rows {
		if len(js) < limit && !r.sent && !r.gaveUp && !r.next.After(now) && !r.until.After(now) {
			r.owner, r.until = owner, leaseUntil
			js = append(js, r.j)
		}
	}
	return js, nil
}

func (m *memMails) row(id int64, owner string) (*mailRow, error) {
	for _, r := range m.rows {
		if r.j.ID == id && r.owner == owner && !r.sent && !r.gaveUp {
			return r, nil
		}
	}
	return nil, chungthuc.Errorf(chungthuc.ECONFLICT, "not leased")
}

func (m *memMails) MailDelivered(_ context.Context, id int64, owner string, _ time.Time) error {
	r, err := m.row(id, owner)
	if err != nil {
		return err
	}
	r.sent, r.owner, r.until = true, "", time.Time{}
	return nil
}

func (m *memMails) MailAttemptFailed(_ context.Context, id int64, owner string, next time.Time, reason string) error {
	r, err := m.row(id, owner)
	if err != nil {
		return err
	}
	r.j.Attempts++
	r.lastErr, r.next, r.owner, r.until = reason, next, "", time.Time{}
	r.gaveUp = next.IsZero()
	return nil
}

func composeTest(_ context.Context, j chungthuc.MailJob) (Message, error) {
	return CertifiedMail(j.To, "Ủy ban nhân dân phường Hòa Bình", "HB-2026-000001", "Giấy khai sinh", "https://ct.example/v/tok", j.AccessCode), nil
}

// TestMailWorkerRetries: with the SMTP server down the message waits for its backoff (the
// failure recorded without the address), and is delivered once the server is back; the
// logs never hold the address or the code.
func TestMailWorkerRetries(t *testing.T) {
	mp := testmail.New(t)
	mailer, err := ParseSMTPURL("smtp://" + mp.SMTP + "?from=motcua@hoabinh.gov.vn")
	if err != nil {
		t.Fatal(err)
	}
	ob := &memMails{rows: []*mailRow{{j: chungthuc.MailJob{ID: 1, CertificationID: 7, To: "nguyen.van.an@example.vn", AccessCode: "K7P4QX9MZ2"}}}}
	clk := &clock{t: time.Now()}
	var logs bytes.Buffer
	w := &MailWorker{Outbox: ob, Sender: mailer, Compose: composeTest, Owner: "w1", Now: clk.now,
		Log: slog.New(slog.NewTextHandler(&logs, nil)), BaseBackoff: time.Second}
	mp.Stop()
	if n, err := w.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("first run: %d %v", n, err)
	}
	r := ob.rows[0]
	if r.sent || r.j.Attempts != 1 || r.lastErr == "" || strings.Contains(r.lastErr, "nguyen.van.an") {
		t.Fatalf("after the server was down: %+v", r)
	}
	if n, _ := w.RunOnce(context.Background()); n != 0 {
		t.Fatal("retried before its backoff")
	}
	mp.Start()
	clk.add(1200 * time.Millisecond)
	if n, err := w.RunOnce(context.Background()); n != 1 || err != nil || !r.sent {
		t.Fatalf("after the server came back: %d %v %+v", n, err, r)
	}
	msgs := mp.Messages()
	if len(msgs) != 1 || msgs[0].To[0].Address != "nguyen.van.an@example.vn" || !strings.Contains(mp.Text(msgs[0].ID), "Mã truy cập để tải bản sao: K7P4QX9MZ2") {
		t.Fatalf("mailpit: %+v", msgs)
	}
	if s := logs.String(); strings.Contains(s, "nguyen.van.an@") || strings.Contains(s, "K7P4QX9MZ2") || !strings.Contains(s, "n…@example.vn") {
		t.Errorf("logs:\n%s", s)
	}
}

// A refused recipient is retried until MaxAttempts, then given up; the server's echo of the
// address is scrubbed from the recorded reason.
func TestMailWorkerGivesUp(t *testing.T) {
	ob := &memMails{rows: []*mailRow{{j: chungthuc.MailJob{ID: 3, To: "Le.Thi@Example.vn", AccessCode: "ABCDEF2345"}}}}
	clk := &clock{t: time.Now()}
	refuse := senderFunc(func(context.Context, Message) error {
		return errors.New("550 <le.thi@example.vn>: mailbox unavailable (code ABCDEF2345)")
	})
	w := &MailWorker{Outbox: ob, Sender: refuse, Compose: composeTest, Owner: "w", Now: clk.now, MaxAttempts: 3, BaseBackoff: time.Nanosecond,
		Log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}
	for i := range 5 {
		clk.add(time.Second)
		n, _ := w.RunOnce(context.Background())
		if (i < 3) != (n == 1) {
			t.Fatalf("run %d handled %d", i, n)
		}
	}
	r := ob.rows[0]
	if !r.gaveUp || r.j.Attempts != 3 || strings.Contains(strings.ToLower(r.lastErr), "le.thi@") || strings.Contains(r.lastErr, "ABCDEF2345") || !strings.Contains(r.lastErr, "L…@Example.vn") {
		t.Fatalf("given up: %+v", r)
	}
}

type senderFunc func(context.Context, Message) error

func (f senderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }
