package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// TOTPOf returns the account's second-factor state (chungthuc.Accounts); ENOTFOUND when the
// account does not exist.
func (db *DB) TOTPOf(ctx context.Context, id int64) (*chungthuc.TOTP, error) {
	var secret, pending *string
	var enabled *time.Time
	t := &chungthuc.TOTP{}
	err := db.pool.QueryRow(ctx, `SELECT totp_secret, totp_pending, totp_enabled_at, totp_last_step FROM accounts WHERE id = $1`, id).
		Scan(&secret, &pending, &enabled, &t.LastStep)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "account %d not found", id)
	} else if err != nil {
		return nil, db.mapErr(err)
	}
	if secret != nil {
		t.Secret = *secret
	}
	if pending != nil {
		t.Pending = *pending
	}
	if enabled != nil {
		t.EnabledAt = enabled.UTC()
	}
	return t, nil
}

// SetTOTPPending stores secret as the account's enrolment in progress (chungthuc.Accounts):
// EINVALID for a malformed secret, ECONFLICT when a second factor is enabled, ENOTFOUND when
// the account does not exist. Not audited (nothing changes until EnableTOTP).
func (db *DB) SetTOTPPending(ctx context.Context, id int64, secret string) error {
	if err := ledger.CheckTOTPSecret(secret); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		tag, err := t.Exec(ctx, `UPDATE accounts SET totp_pending = $1 WHERE id = $2 AND totp_secret IS NULL`, secret, id)
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		if _, err := accountByID(ctx, t, id); err != nil {
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
	return db.write(ctx, func(t *txn) error {
		var unit *int64
		var username string
		err := t.QueryRow(ctx, `UPDATE accounts SET totp_secret = totp_pending, totp_pending = NULL,
			totp_enabled_at = $1, totp_last_step = $2 WHERE id = $3 AND totp_secret IS NULL AND totp_pending = $4
			RETURNING unit_id, username`, ledger.Micro(at), step, id, secret).Scan(&unit, &username)
		if errors.Is(err, pgx.ErrNoRows) {
			if _, err := accountByID(ctx, t, id); err != nil {
				return err
			}
			return chungthuc.Errorf(chungthuc.ECONFLICT, "account %d: no such enrolment in progress", id)
		} else if err != nil {
			return err
		}
		var unitID int64
		if unit != nil {
			unitID = *unit
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionAccountTOTPEnable, UnitID: unitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("account", id), Detail: ledger.Detail(map[string]any{"username": username}),
		})
		return nil
	})
}

// UseTOTPStep records an accepted code's step by one compare-and-set UPDATE
// (chungthuc.Accounts; under READ COMMITTED a concurrent UPDATE of the row makes PostgreSQL
// evaluate the condition again on the new row, so of two uses of one step only one
// matches): ECONFLICT when step is not later than the last accepted one or the account has no
// second factor.
func (db *DB) UseTOTPStep(ctx context.Context, id int64, step int64) error {
	if err := ledger.CheckTOTPStep(step); err != nil {
		return err
	}
	tag, err := db.pool.Exec(ctx, `UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND totp_secret IS NOT NULL AND totp_last_step < $1`,
		step, id)
	if err != nil {
		return db.mapErr(err)
	}
	if tag.RowsAffected() != 1 {
		return chungthuc.Errorf(chungthuc.ECONFLICT, "this code was used already")
	}
	return nil
}

// DisableTOTP removes the second factor and any enrolment in progress (chungthuc.Accounts)
// and reports whether one was enabled; that is audited (account.totp.disable). ENOTFOUND when
// the account does not exist.
func (db *DB) DisableTOTP(ctx context.Context, id int64) (was bool, err error) {
	err = db.write(ctx, func(t *txn) error {
		a, err := scanAccount(t.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "account %d not found", id)
		} else if err != nil {
			return err
		}
		was = !a.TOTPSince.IsZero()
		if _, err := t.Exec(ctx, `UPDATE accounts SET totp_secret = NULL, totp_pending = NULL, totp_enabled_at = NULL,
			totp_last_step = 0 WHERE id = $1`, id); err != nil {
			return err
		}
		if was {
			t.audit(&chungthuc.AuditEntry{
				Action: ledger.ActionAccountTOTPDisable, UnitID: a.UnitID, Actor: ledger.ActorSystem,
				Subject: ledger.Subject("account", id), Detail: ledger.Detail(map[string]any{"username": a.Username}),
			})
		}
		return nil
	})
	return was, err
}

// CreatePendingLogin stores p (chungthuc.Accounts): EINVALID for a malformed one
// (ledger.PreparePendingLogin), ENOTFOUND when the account does not exist.
func (db *DB) CreatePendingLogin(ctx context.Context, p *chungthuc.PendingLogin) error {
	if err := ledger.PreparePendingLogin(p, db.now()); err != nil {
		return err
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO pending_logins (token_hash, account_id, next, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		p.TokenHash, p.AccountID, p.Next, p.CreatedAt, p.ExpiresAt)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" {
		return chungthuc.Errorf(chungthuc.ENOTFOUND, "account %d not found", p.AccountID)
	}
	return db.mapErr(err)
}

// PendingLoginByHash returns the pending login whose cookie hashes to hash, expired or not
// (chungthuc.Accounts); ENOTFOUND if none.
func (db *DB) PendingLoginByHash(ctx context.Context, hash string) (*chungthuc.PendingLogin, error) {
	p := &chungthuc.PendingLogin{}
	err := db.pool.QueryRow(ctx, `SELECT token_hash, account_id, next, created_at, expires_at FROM pending_logins WHERE token_hash = $1`, hash).
		Scan(&p.TokenHash, &p.AccountID, &p.Next, &p.CreatedAt, &p.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "pending login not found")
	} else if err != nil {
		return nil, db.mapErr(err)
	}
	p.CreatedAt, p.ExpiresAt = p.CreatedAt.UTC(), p.ExpiresAt.UTC()
	return p, nil
}

// DeletePendingLogin deletes the pending login with this hash (chungthuc.Accounts);
// ENOTFOUND if none, so of two callers only one deletes it.
func (db *DB) DeletePendingLogin(ctx context.Context, hash string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM pending_logins WHERE token_hash = $1`, hash)
	return db.mapErr(touched(tag, err, "pending login not found"))
}
