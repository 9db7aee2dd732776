package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// TOTPOf returns the account's second-factor state (chungthuc.Accounts); ENOTFOUND when the
// account does not exist.
func (db *DB) TOTPOf(ctx context.Context, id int64) (t *chungthuc.TOTP, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		var secret, pending, enabled sql.NullString
		t = &chungthuc.TOTP{}
		err := tx.QueryRowContext(ctx, `SELECT totp_secret, totp_pending, totp_enabled_at, totp_last_step FROM accounts WHERE id = ?`, id).
			Scan(&secret, &pending, &enabled, &t.LastStep)
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "account %d not found", id)
		} else if err != nil {
			return err
		}
		t.Secret, t.Pending = secret.String, pending.String
		t.EnabledAt, err = zeroTime(enabled)
		return err
	})
	return t, err
}

// SetTOTPPending stores secret as the account's enrolment in progress (chungthuc.Accounts):
// EINVALID for a malformed secret, ECONFLICT when a second factor is enabled, ENOTFOUND when
// the account does not exist. Not audited (nothing changes until EnableTOTP).
func (db *DB) SetTOTPPending(ctx context.Context, id int64, secret string) error {
	if err := ledger.CheckTOTPSecret(secret); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET totp_pending = ? WHERE id = ? AND totp_secret IS NULL`, secret, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		if _, err := accountByID(ctx, tx, id); err != nil {
			return err
		}
		return chungthuc.Errorf(chungthuc.ECONFLICT, "account %d already has a second factor", id)
	})
}

// EnableTOTP makes the pending secret the account's second factor (chungthuc.Accounts), by
// one UPDATE conditional on the pending secret and on no enabled one: ECONFLICT otherwise.
// Audited (account.totp.enable) without the secret.
func (db *DB) EnableTOTP(ctx context.Context, id int64, secret string, step int64, at time.Time) error {
	if err := ledger.CheckTOTPSecret(secret); err != nil {
		return err
	}
	if err := ledger.CheckTOTPStep(step); err != nil {
		return err
	}
	if at.IsZero() {
		at = db.now()
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		a, err := accountByID(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET totp_secret = totp_pending, totp_pending = NULL,
			totp_enabled_at = ?, totp_last_step = ? WHERE id = ? AND totp_secret IS NULL AND totp_pending = ?`,
			ledger.FormatTime(ledger.Micro(at)), step, id, secret)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "account %d: no such enrolment in progress", id)
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionAccountTOTPEnable, UnitID: a.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("account", id), Detail: ledger.Detail(map[string]any{"username": a.Username}),
		})
	})
}

// UseTOTPStep records an accepted code's step by one compare-and-set UPDATE
// (chungthuc.Accounts): ECONFLICT when step is not later than the last accepted one or the
// account has no second factor.
func (db *DB) UseTOTPStep(ctx context.Context, id int64, step int64) error {
	if err := ledger.CheckTOTPStep(step); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET totp_last_step = ? WHERE id = ? AND totp_secret IS NOT NULL AND totp_last_step < ?`,
			step, id, step)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "this code was used already")
		}
		return nil
	})
}

// DisableTOTP removes the second factor and any enrolment in progress (chungthuc.Accounts)
// and reports whether one was enabled; that is audited (account.totp.disable). ENOTFOUND when
// the account does not exist.
func (db *DB) DisableTOTP(ctx context.Context, id int64) (was bool, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		a, err := accountByID(ctx, tx, id)
		if err != nil {
			return err
		}
		was = !a.TOTPSince.IsZero()
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET totp_secret = NULL, totp_pending = NULL, totp_enabled_at = NULL,
			totp_last_step = 0 WHERE id = ?`, id); err != nil {
			return err
		}
		if !was {
			return nil
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionAccountTOTPDisable, UnitID: a.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("account", id), Detail: ledger.Detail(map[string]any{"username": a.Username}),
		})
	})
	return was, err
}

// CreatePendingLogin stores p (chungthuc.Accounts): EINVALID for a malformed one
// (ledger.PreparePendingLogin), ENOTFOUND when the account does not exist.
func (db *DB) CreatePendingLogin(ctx context.Context, p *chungthuc.PendingLogin) error {
	if err := ledger.PreparePendingLogin(p, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		if _, err := accountByID(ctx, tx, p.AccountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO pending_logins (token_hash, account_id, next, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			p.TokenHash, p.AccountID, p.Next, ledger.FormatTime(p.CreatedAt), ledger.FormatTime(p.ExpiresAt))
		return err
	})
}

// PendingLoginByHash returns the pending login whose cookie hashes to hash, expired or not
// (chungthuc.Accounts); ENOTFOUND if none.
func (db *DB) PendingLoginByHash(ctx context.Context, hash string) (p *chungthuc.PendingLogin, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		var created, expires string
		p = &chungthuc.PendingLogin{}
		err := tx.QueryRowContext(ctx, `SELECT token_hash, account_id, next, created_at, expires_at FROM pending_logins WHERE token_hash = ?`, hash).
			Scan(&p.TokenHash, &p.AccountID, &p.Next, &created, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "pending login not found")
		} else if err != nil {
			return err
		}
		if p.CreatedAt, err = ledger.ParseTime(created); err != nil {
			return err
		}
		p.ExpiresAt, err = ledger.ParseTime(expires)
		return err
	})
	return p, err
}

// DeletePendingLogin deletes the pending login with this hash (chungthuc.Accounts);
// ENOTFOUND if none, so of two callers only one deletes it.
func (db *DB) DeletePendingLogin(ctx context.Context, hash string) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM pending_logins WHERE token_hash = ?`, hash)
		return updated(res, err, "pending login not found")
	})
}
