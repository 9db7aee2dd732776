package chungthuc

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// MailRequest asks for the citizen's e-mail when an entry is issued. It travels with the
// Certification given to Reserve and is never read back from the register.
type MailRequest struct {
	To         string // one plain address, checked by notify.ValidAddress
	AccessCode string // the code in force at issue, sent in the message (see notify.MailWorker)
}

// Mail states.
const (
	MailHeld    = "held"    // the entry is Pending: nothing is sent before the copy is issued
	MailPending = "pending" // issued: to send (first attempt or a retry)
	MailSent    = "sent"    // the SMTP server accepted the message
	MailFailed  = "failed"  // given up after the last attempt
)

// Audit actions of the citizen's e-mail.
const (
	ActionMailSent   = "mail.sent"
	ActionMailFailed = "mail.failed" // one failed attempt; detail "final" when given up
)

// MailJob is one message to send, leased to one worker.
type MailJob struct {
	ID              int64
	CertificationID int64
	To              string
	AccessCode      string
	Attempts        int // failed attempts so far
}

// MailStatus is what the officer sees about an entry's e-mail. It never holds the address,
// only a masked hint of it ("n…@example.vn").
type MailStatus struct {
	State       string // MailHeld, MailPending, MailSent or MailFailed
	AddressHint string
	Attempts    int
	LastError   string
	NextAt      *time.Time // the next attempt while pending
	SettledAt   *time.Time // when sent or given up
}

// Mails is the register's outbox of citizen e-mail. Reserve of a Certification with Mail
// set records the message as held in the same transaction; Issue makes it due in Issue's
// transaction; Void deletes it; ReissueAccessCode removes the code from a message not yet
// sent. The address and the access code are personal data kept only until the message is
// sent or given up: then both are erased from the row (the schema refuses an address beside
// a settled state) and only the hint (MailHint) stays for the officer. Claims are leases as
// for webhooks.
type Mails interface {
	// ClaimMails leases up to limit due messages (pending, next attempt at or before now,
	// lease free or ended) to owner until leaseUntil, oldest first.
	ClaimMails(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]MailJob, error)
	// MailDelivered marks the message sent, erases address and code, audits ActionMailSent.
	// ECONFLICT when owner no longer holds it.
	MailDelivered(ctx context.Context, id int64, owner string, at time.Time) error
	// MailAttemptFailed counts a failed attempt with its reason and audits ActionMailFailed;
	// next is when to try again, zero to give up (the message becomes MailFailed and address
	// and code are erased). ECONFLICT when owner no longer holds it.
	MailAttemptFailed(ctx context.Context, id int64, owner string, next time.Time, reason string) error
	// MailStatusOf returns the e-mail state of entry certificationID; ENOTFOUND when no
	// e-mail was asked for.
	MailStatusOf(ctx context.Context, certificationID int64) (*MailStatus, error)
}

// MailHint masks an address for the officer: the first character of the local part and the
// domain ("n…@example.vn"), so the officer can tell which address was used without the
// register keeping the address once the message is settled.
func MailHint(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || local == "" {
		return "…"
	}
	r, _ := utf8.DecodeRuneInString(local)
	return string(r) + "…@" + domain
}
