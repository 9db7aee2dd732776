package postgres

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

var _ chungthuc.Mails = (*DB)(nil)

// holdMail records c's e-mail as held, in Reserve's transaction.
func holdMail(ctx context.Context, t *txn, c *chungthuc.Certification, now time.Time) error {
	if c.Mail == nil {
		return nil
	}
	_, err := t.Exec(ctx, `INSERT INTO mail_outbox (certification_id, address, access_code, address_hint, state, created_at)
		VALUES ($1, $2, $3, $4, 'held', $5)`, c.ID, c.Mail.To, c.Mail.AccessCode, chungthuc.MailHint(c.Mail.To), now)
	return err
}

// releaseMail makes a held e-mail due (Issue) or deletes it (Void), in that transaction.
func releaseMail(ctx context.Context, t *txn, id int64, to chungthuc.Status, now time.Time) error {
	var err error
	switch to {
	case chungthuc.StatusIssued:
		_, err = t.Exec(ctx, `UPDATE mail_outbox SET state = 'pending', next_at = $1 WHERE certification_id = $2 AND state = 'held'`, now, id)
	case chungthuc.StatusVoid:
		_, err = t.Exec(ctx, `DELETE FROM mail_outbox WHERE certification_id = $1 AND state = 'held'`, id)
	}
	return err
}

// ClaimMails leases up to limit due messages to owner until leaseUntil, oldest first (FOR
// UPDATE SKIP LOCKED: two instances never lease the same row).
func (db *DB) ClaimMails(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) (js []chungthuc.MailJob, err error) {
	err = db.write(ctx, func(t *txn) error {
		rows, err := t.Query(ctx, `UPDATE mail_outbox SET lease_owner = $1, lease_until = $2
			WHERE id IN (SELECT id FROM mail_outbox
				WHERE state = 'pending' AND next_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
				ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED)
			RETURNING id, certification_id, address, COALESCE(access_code, ''), attempts`, owner, leaseUntil, now, limit)
		if err != nil {
			return err
		}
		js, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (chungthuc.MailJob, error) {
			var j chungthuc.MailJob
			err := row.Scan(&j.ID, &j.CertificationID, &j.To, &j.AccessCode, &j.Attempts)
			return j, err
		})
		if err != nil {
			return err
		}
		slices.SortFunc(js, func(a, b chungthuc.MailJob) int { return cmp.Compare(a.ID, b.ID) })
		return nil
	})
	return js, err
}

// MailDelivered marks the message sent and erases address and code, audited.
func (db *DB) MailDelivered(ctx context.Context, id int64, owner string, at time.Time) error {
	return db.settleMail(ctx, id, owner, chungthuc.ActionMailSent, nil, `UPDATE mail_outbox SET state = 'sent', settled_at = $3,
		address = NULL, access_code = NULL, lease_owner = NULL, lease_until = NULL
		WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`, at)
}

// MailAttemptFailed counts a failed attempt (audited); next zero gives up and erases address
// and code.
func (db *DB) MailAttemptFailed(ctx context.Context, id int64, owner string, next time.Time, reason string) error {
	reason, detail := ledger.MailFailure(reason, next.IsZero())
	if next.IsZero() {
		return db.settleMail(ctx, id, owner, chungthuc.ActionMailFailed, detail, `UPDATE mail_outbox SET state = 'failed',
			attempts = attempts + 1, last_error = $3, settled_at = $4, address = NULL, access_code = NULL, lease_owner = NULL, lease_until = NULL
			WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`, reason, db.now())
	}
	return db.settleMail(ctx, id, owner, chungthuc.ActionMailFailed, detail, `UPDATE mail_outbox SET attempts = attempts + 1,
		last_error = $3, next_at = $4, lease_owner = NULL, lease_until = NULL
		WHERE id = $1 AND lease_owner = $2 AND state = 'pending'`, reason, next)
}

func (db *DB) settleMail(ctx context.Context, id int64, owner, action string, detail map[string]any, query string, args ...any) error {
	return db.write(ctx, func(t *txn) error {
		var certID, unitID int64
		var attempts int
		err := t.QueryRow(ctx, `SELECT m.certification_id, c.unit_id, m.attempts FROM mail_outbox m
			JOIN certifications c ON c.id = m.certification_id WHERE m.id = $1`, id).Scan(&certID, &unitID, &attempts)
		if errors.Is(err, pgx.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "mail %d not found", id)
		} else if err != nil {
			return err
		}
		tag, err := t.Exec(ctx, query, append([]any{id, owner}, args...)...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "mail %d is not leased to %s", id, owner)
		}
		if detail == nil {
			detail = map[string]any{}
		}
		detail["attempt"] = attempts + 1
		t.audit(&chungthuc.AuditEntry{Action: action, UnitID: unitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("certification", certID), Detail: ledger.Detail(detail)})
		return nil
	})
}

// MailStatusOf returns the e-mail state of an entry; ENOTFOUND when none was asked for.
func (db *DB) MailStatusOf(ctx context.Context, certificationID int64) (*chungthuc.MailStatus, error) {
	var s chungthuc.MailStatus
	var lastErr *string
	err := db.read(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT state, address_hint, attempts, last_error, next_at, settled_at FROM mail_outbox
			WHERE certification_id = $1`, certificationID).Scan(&s.State, &s.AddressHint, &s.Attempts, &lastErr, &s.NextAt, &s.SettledAt)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no e-mail for certification %d", certificationID)
	}
	if err != nil {
		return nil, err
	}
	if lastErr != nil {
		s.LastError = *lastErr
	}
	if s.State != chungthuc.MailPending {
		s.NextAt = nil
	}
	return &s, nil
}
