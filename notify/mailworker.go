package notify

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
)

// MailOutbox is what the mail worker needs from the register (chungthuc.Mails has it).
type MailOutbox interface {
	ClaimMails(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]chungthuc.MailJob, error)
	MailDelivered(ctx context.Context, id int64, owner string, at time.Time) error
	MailAttemptFailed(ctx context.Context, id int64, owner string, next time.Time, reason string) error
}

// Sender sends one message (*Mailer is one).
type Sender interface {
	Send(ctx context.Context, msg Message) error
}

// MailWorker sends the citizen's e-mail queued in the register: claims a batch (a lease, as
// for webhooks), composes each message from the register entry, sends it, records the
// outcome; failures are retried with the webhook worker's backoff (BaseBackoff doubling to
// MaxBackoff, jitter) and given up after MaxAttempts. The register erases the address and
// the code when a message is settled; logs name the message by id and a masked address
// (chungthuc.MailHint), never the address or the code.
type MailWorker struct {
	Outbox  MailOutbox
	Sender  Sender
	Compose func(ctx context.Context, j chungthuc.MailJob) (Message, error) // the message for a job
	Owner   string
	Now     func() time.Time
	Log     *slog.Logger

	Lease       time.Duration // default 5m; longer than Batch × the SMTP timeout
	Batch       int           // default 5
	Poll        time.Duration // default 2s
	BaseBackoff time.Duration // default 30s
	MaxBackoff  time.Duration // default 1h
	MaxAttempts int           // default 12 (about half a day of retries)
}

func (w *MailWorker) defaults() {
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	if w.Lease == 0 {
		w.Lease = 5 * time.Minute
	}
	if w.Batch == 0 {
		w.Batch = 5
	}
	if w.Poll == 0 {
		w.Poll = 2 * time.Second
	}
	if w.BaseBackoff == 0 {
		w.BaseBackoff = 30 * time.Second
	}
	if w.MaxBackoff == 0 {
		w.MaxBackoff = time.Hour
	}
	if w.MaxAttempts == 0 {
		w.MaxAttempts = 12
	}
}

// Run sends until ctx ends.
func (w *MailWorker) Run(ctx context.Context) {
	w.defaults()
	poll(ctx, w.Poll, w.Log, "mail outbox unavailable", w.RunOnce)
}

// RunOnce claims one batch and sends it; it returns how many messages it handled.
func (w *MailWorker) RunOnce(ctx context.Context) (int, error) {
	w.defaults()
	now := w.Now()
	js, err := w.Outbox.ClaimMails(ctx, w.Owner, now, now.Add(w.Lease), w.Batch)
	if err != nil {
		return 0, err
	}
	for _, j := range js {
		if ctx.Err() != nil {
			return len(js), ctx.Err() // the lease returns the rest
		}
		w.send(ctx, j)
	}
	return len(js), nil
}

func (w *MailWorker) send(ctx context.Context, j chungthuc.MailJob) {
	msg, err := w.Compose(ctx, j)
	if err == nil {
		err = w.Sender.Send(ctx, msg)
	}
	if ctx.Err() != nil {
		return // shutting down: the lease ends and another attempt follows
	}
	hint := chungthuc.MailHint(j.To)
	if err == nil {
		if err := w.Outbox.MailDelivered(ctx, j.ID, w.Owner, w.Now()); err != nil {
			w.Log.Warn("mail sent but not recorded (it may be sent again)", "mail", j.ID, "certification", j.CertificationID, "err", err)
			return
		}
		w.Log.Info("mail sent", "mail", j.ID, "certification", j.CertificationID, "to", hint)
		return
	}
	attempts := j.Attempts + 1
	var next time.Time
	if attempts < w.MaxAttempts {
		next = w.Now().Add(backoff(w.BaseBackoff, w.MaxBackoff, attempts))
	}
	reason := scrub(err.Error(), j)
	w.Log.Warn("mail not sent", "mail", j.ID, "certification", j.CertificationID, "to", hint, "attempt", attempts, "give_up", next.IsZero(), "err", reason)
	if err := w.Outbox.MailAttemptFailed(ctx, j.ID, w.Owner, next, truncate(reason, 500)); err != nil {
		w.Log.Warn("mail failure not recorded", "mail", j.ID, "err", err)
	}
}

// scrub replaces the address and the code in an error text (an SMTP server may echo the
// recipient: "550 <x@y.vn>: mailbox unavailable") by the hint, so neither is logged or kept.
func scrub(s string, j chungthuc.MailJob) string {
	if j.To != "" {
		s = replaceFold(s, j.To, chungthuc.MailHint(j.To))
	}
	if j.AccessCode != "" {
		s = replaceFold(s, j.AccessCode, "…")
	}
	return s
}

// replaceFold replaces every case-insensitive occurrence of old in s by repl.
func replaceFold(s, old, repl string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+len(old) <= len(s) && strings.EqualFold(s[i:i+len(old)], old) {
			b.WriteString(repl)
			i += len(old)
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
