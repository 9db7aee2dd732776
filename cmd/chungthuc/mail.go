package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/notify"
)

// mailWorker is serve's sender of the citizen e-mail queued in the register (certify with an
// address). The message is composed when it is sent, from the entry as the register has it:
// unit, number, document and verification link, and the access code queued with it (none
// after a reissue, see chungthuc.Mails).
func (a *app) mailWorker(logger *slog.Logger) *notify.MailWorker {
	return &notify.MailWorker{
		Outbox:      a.reg,
		Sender:      a.cfg.Mailer,
		Compose:     a.composeMail,
		Owner:       workerOwner(),
		Log:         logger,
		BaseBackoff: a.cfg.MailRetry,
		Poll:        min(2*time.Second, a.cfg.MailRetry),
	}
}

func (a *app) composeMail(ctx context.Context, j chungthuc.MailJob) (notify.Message, error) {
	c, err := a.reg.CertificationByID(ctx, j.CertificationID)
	if err != nil {
		return notify.Message{}, err
	}
	u, err := a.reg.UnitByID(ctx, c.UnitID)
	if err != nil {
		return notify.Message{}, err
	}
	body := u.Name
	if u.Body != "" {
		body = u.Body
	}
	return notify.CertifiedMail(j.To, body, fmt.Sprintf("%d, quyển số %s", c.Number, c.BookCode), c.Title, a.svc.VerifyURL(c.Token), j.AccessCode), nil
}
