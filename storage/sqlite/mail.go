package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

var _ chungthuc.Mails = (*DB)(nil)

// holdMail records c's e-mail as held, in Reserve's transaction.
func holdMail(ctx context.Context, tx *sql.Tx, c *chungthuc.Certification, now time.Time) error {
	if c.Mail == nil {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO mail_outbox (certification_id, address, access_code, address_hint, state, created_at)
		VALUES (?, ?, ?, ?, 'held', ?)`, c.ID, c.Mail.To, c.Mail.AccessCode, chungthuc.MailHint(c.Mail.To), ledger.FormatTime(now))
	return err
}

// releaseMail makes a held e-mail due (Issue) or deletes it (Void), in that transaction.
func releaseMail(ctx context.Context, tx *sql.Tx, id int64, to chungthuc.Status, now time.Time) error {
	var err error
	switch to {
	case chungthuc.StatusIssued:
		_, err = tx.ExecContext(ctx, `UPDATE mail_outbox SET state = 'pending', next_at = ? WHERE certification_id = ? AND state = 'held'`,
			ledger.FormatTime(now), id)
	case chungthuc.StatusVoid:
		_, err = tx.ExecContext(ctx, `DELETE FROM mail_outbox WHERE certification_id = ? AND state = 'held'`, id)
	}
	return err
}

// ClaimMails leases up to limit due messages to owner until leaseUntil, oldest first.
func (db *DB) ClaimMails(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) (js []chungthuc.MailJob, err error) {
	n := ledger.FormatTime(now)
	err = db.write(ctx, func(tx *sql.Tx) error {
		js = nil
		rows, err := tx.QueryContext(ctx, `SELECT id, certification_id, address, COALESCE(access_code, ''), attempts FROM mail_outbox
			WHERE state = 'pending' AND next_at <= ? AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?`, n, n, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j chungthuc.MailJob
			if err := rows.Scan(&j.ID, &j.CertificationID, &j.To, &j.AccessCode, &j.Attempts); err != nil {
				return err
			}
			js = append(js, j)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, j := range js {
			if _, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET lease_owner = ?, lease_until = ? WHERE id = ?`,
				owner, ledger.FormatTime(leaseUntil), j.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return js, err
}

// MailDelivered marks the message sent and erases address and code, audited.
func (db *DB) MailDelivered(ctx context.Context, id int64, owner string, at time.Time) error {
	return db.settleMail(ctx, id, owner, chungthuc.ActionMailSent, nil, `UPDATE mail_outbox SET state = 'sent', settled_at = ?,
		address = NULL, access_code = NULL, lease_owner = NULL, lease_until = NULL
		WHERE id = ? AND lease_owner = ? AND state = 'pending'`, ledger.FormatTime(at), id, owner)
}

// MailAttemptFailed counts a failed attempt (audited); next zero gives up and erases address
// and code.
func (db *DB) MailAttemptFailed(ctx context.Context, id int64, owner string, next time.Time, reason string) error {
	reason, detail := ledger.MailFailure(reason, next.IsZero())
	if next.IsZero() {
		return db.settleMail(ctx, id, owner, chungthuc.ActionMailFailed, detail, `UPDATE mail_outbox SET state = 'failed',
			attempts = attempts + 1, last_error = ?, settled_at = ?, address = NULL, access_code = NULL, lease_owner = NULL, lease_until = NULL
			WHERE id = ? AND lease_owner = ? AND state = 'pending'`, reason, ledger.FormatTime(db.now()), id, owner)
	}
	return db.settleMail(ctx, id, owner, chungthuc.ActionMailFailed, detail, `UPDATE mail_outbox SET attempts = attempts + 1,
		last_error = ?, next_at = ?, lease_owner = NULL, lease_until = NULL
		WHERE id = ? AND lease_owner = ? AND state = 'pending'`, reason, ledger.FormatTime(next), id, owner)
}

func (db *DB) settleMail(ctx context.Context, id int64, owner, action string, detail map[string]any, query string, args ...any) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		var certID, unitID int64
		var attempts int
		err := tx.QueryRowContext(ctx, `SELECT m.certification_id, c.unit_id, m.attempts FROM mail_outbox m
			JOIN certifications c ON c.id = m.certification_id WHERE m.id = ?`, id).Scan(&certID, &unitID, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "mail %d not found", id)
		} else if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "mail %d is not leased to %s", id, owner)
		}
		if detail == nil {
			detail = map[string]any{}
		}
		detail["attempt"] = attempts + 1
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{Action: action, UnitID: unitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("certification", certID), Detail: ledger.Detail(detail)})
	})
}

// MailStatusOf returns the e-mail state of an entry; ENOTFOUND when none was asked for.
func (db *DB) MailStatusOf(ctx context.Context, certificationID int64) (st *chungthuc.MailStatus, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		var s chungthuc.MailStatus
		var lastErr, next, settled sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT state, address_hint, attempts, last_error, next_at, settled_at FROM mail_outbox
			WHERE certification_id = ?`, certificationID).Scan(&s.State, &s.AddressHint, &s.Attempts, &lastErr, &next, &settled)
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "no e-mail for certification %d", certificationID)
		} else if err != nil {
			return err
		}
		s.LastError = lastErr.String
		if s.NextAt, err = optionalTime(next); err != nil {
			return err
		}
		if s.State != chungthuc.MailPending {
			s.NextAt = nil
		}
		if s.SettledAt, err = optionalTime(settled); err != nil {
			return err
		}
		st = &s
		return nil
	})
	return st, err
}

func optionalTime(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := ledger.ParseTime(s.String)
	return &t, err
}
