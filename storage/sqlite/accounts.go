package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

var _ chungthuc.Accounts = (*DB)(nil)

const (
	accountColumns  = `id, unit_id, officer_id, username, password_hash, role, failed_logins, locked_until, disabled, created_at, must_change_password, totp_enabled_at`
	sessionColumns  = `token_hash, account_id, csrf_token, created_at, expires_at`
	apiTokenColumns = `id, unit_id, officer_id, name, token_hash, created_at, revoked_at`
)

// CreateAccount stores a and sets its ID and CreatedAt; the username is stored lower-case.
// EINVALID for a malformed account (ledger.PrepareAccount) or an officer of another unit,
// ENOTFOUND when the unit or officer does not exist, ECONFLICT when the username is taken.
// The audit entry names the username and role, never the hash.
func (db *DB) CreateAccount(ctx context.Context, a *chungthuc.Account) error {
	if err := ledger.PrepareAccount(a, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		if err := checkAccountLinks(ctx, tx, a.UnitID, a.OfficerID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE username = ?`, a.Username).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "username %q is taken", a.Username)
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO accounts (unit_id, officer_id, username, password_hash, role,
			failed_logins, locked_until, disabled, created_at, must_change_password)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			nullID(a.UnitID), nullID(a.OfficerID), a.Username, a.PasswordHash, string(a.Role),
			a.FailedLogins, zeroNull(a.LockedUntil), a.Disabled, ledger.FormatTime(a.CreatedAt), a.MustChangePassword).Scan(&a.ID)
		if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionAccountCreate, UnitID: a.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("account", a.ID),
			Detail: ledger.Detail(map[string]any{"username": a.Username, "role": a.Role, "officer_id": a.OfficerID,
				"disabled": a.Disabled}),
		})
	})
}

// checkAccountLinks checks that the unit exists and that the officer, if any, exists and
// belongs to it (ENOTFOUND, EINVALID).
func checkAccountLinks(ctx context.Context, tx *sql.Tx, unitID, officerID int64) error {
	if unitID != 0 {
		if _, err := unitByID(ctx, tx, unitID); err != nil {
			return err
		}
	}
	if officerID == 0 {
		return nil
	}
	o, err := officerByID(ctx, tx, officerID)
	if err != nil {
		return err
	}
	if o.UnitID != unitID {
		return chungthuc.Errorf(chungthuc.EINVALID, "officer %d does not belong to unit %d", officerID, unitID)
	}
	return nil
}

// AccountByUsername returns the account with this username, ignoring case; ENOTFOUND if none
// (also for a malformed username).
func (db *DB) AccountByUsername(ctx context.Context, username string) (a *chungthuc.Account, err error) {
	username = ledger.Username(username)
	err = db.read(ctx, func(tx *sql.Tx) error {
		a, err = scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE username = ?`, username))
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "account %q not found", username)
		}
		return err
	})
	return a, err
}

// AccountByID returns the account with this ID; ENOTFOUND if none.
func (db *DB) AccountByID(ctx context.Context, id int64) (a *chungthuc.Account, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		a, err = accountByID(ctx, tx, id)
		return err
	})
	return a, err
}

// SetLoginState records the outcome of a login attempt: the count of consecutive failures and
// the end of a lock-out (zero: not locked). It is not audited here; the caller audits logins.
// EINVALID for a negative count, ENOTFOUND when the account does not exist.
func (db *DB) SetLoginState(ctx context.Context, id int64, failed int, lockedUntil time.Time) error {
	lockedUntil, err := ledger.CheckLoginState(failed, lockedUntil)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET failed_logins = ?, locked_until = ? WHERE id = ?`,
			failed, zeroNull(lockedUntil), id)
		return updated(res, err, "account %d not found", id)
	})
}

// SetPassword replaces the account's password hash (argon2id, PHC string format); the login
// state is left as it is; mustChange is stored (true for generated passwords). EINVALID for a malformed hash, ENOTFOUND when the account does not
// exist. The audit entry does not contain the hash.
func (db *DB) SetPassword(ctx context.Context, id int64, hash string, mustChange bool) error {
	if err := ledger.CheckPasswordHash(hash); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		a, err := accountByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = ?, must_change_password = ? WHERE id = ?`, hash, mustChange, id); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionAccountPassword, UnitID: a.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("account", id), Detail: ledger.Detail(map[string]any{"username": a.Username, "must_change": mustChange}),
		})
	})
}

// CreateSession stores s (CreatedAt now when zero). EINVALID for a malformed session
// (ledger.PrepareSession), ENOTFOUND when the account does not exist, ECONFLICT when a session
// with this hash exists.
func (db *DB) CreateSession(ctx context.Context, s *chungthuc.Session) error {
	if err := ledger.PrepareSession(s, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		if _, err := accountByID(ctx, tx, s.AccountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?)`,
			s.TokenHash, s.AccountID, s.CSRFToken, ledger.FormatTime(s.CreatedAt), ledger.FormatTime(s.ExpiresAt))
		return err
	})
}

// SessionByHash returns the session whose cookie hashes to hash; ENOTFOUND if none. An expired
// session is returned until DeleteExpiredSessions removes it: the caller compares ExpiresAt
// with its clock.
func (db *DB) SessionByHash(ctx context.Context, hash string) (s *chungthuc.Session, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		s, err = scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, hash))
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "session not found")
		}
		return err
	})
	return s, err
}

// DeleteSession removes the session with this hash (log-out); ENOTFOUND if none.
func (db *DB) DeleteSession(ctx context.Context, hash string) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash)
		return updated(res, err, "session not found")
	})
}

// ListAccounts lists the accounts of a unit (every account when unitID is 0), by id.
func (db *DB) ListAccounts(ctx context.Context, unitID int64) (as []*chungthuc.Account, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE ? = 0 OR unit_id = ? ORDER BY id`, unitID, unitID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				return err
			}
			as = append(as, a)
		}
		return rows.Err()
	})
	return as, err
}

// SetAccountDisabled disables or enables an account; disabling ends its sessions and revokes
// its officer's active API tokens in the same transaction. ENOTFOUND when it does not exist.
// Audited (account.disable / account.enable) with the counts ended.
func (db *DB) SetAccountDisabled(ctx context.Context, id int64, disabled bool) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		a, err := accountByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET disabled = ? WHERE id = ?`, disabled, id); err != nil {
			return err
		}
		action, detail := ledger.ActionAccountEnable, map[string]any{"username": a.Username}
		if disabled {
			action = ledger.ActionAccountDisable
			res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ?`, id)
			if err != nil {
				return err
			}
			sessions, err := res.RowsAffected()
			if err != nil {
				return err
			}
			var tokens int64
			if a.OfficerID != 0 {
				res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE officer_id = ? AND revoked_at IS NULL`,
					ledger.FormatTime(ledger.Micro(db.now())), a.OfficerID)
				if err != nil {
					return err
				}
				if tokens, err = res.RowsAffected(); err != nil {
					return err
				}
			}
			detail["sessions_ended"], detail["tokens_revoked"] = sessions, tokens
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: action, UnitID: a.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("account", id), Detail: ledger.Detail(detail),
		})
	})
}

// ListAPITokens lists the API tokens of a unit (every unit's when unitID is 0), by id.
func (db *DB) ListAPITokens(ctx context.Context, unitID int64) (ts []*chungthuc.APIToken, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE ? = 0 OR unit_id = ? ORDER BY id`, unitID, unitID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanAPIToken(rows)
			if err != nil {
				return err
			}
			ts = append(ts, t)
		}
		return rows.Err()
	})
	return ts, err
}

// DeleteSessions ends every session of the account except the one whose hash is except ("" ends
// all) and returns how many ended; an unknown account has none.
func (db *DB) DeleteSessions(ctx context.Context, accountID int64, except string) (n int, err error) {
	err = db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ? AND token_hash <> ?`, accountID, except)
		if err != nil {
			return err
		}
		c, err := res.RowsAffected()
		n = int(c)
		return err
	})
	return n, err
}

// DeleteExpiredSessions removes every session and pending login that expires at or before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, ledger.FormatTime(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM pending_logins WHERE expires_at <= ?`, ledger.FormatTime(now))
		return err
	})
}

// CreateAPIToken stores t and sets its ID and CreatedAt. EINVALID for a malformed token
// (ledger.PrepareAPIToken) or an officer of another unit, ENOTFOUND when the unit or officer
// does not exist, ECONFLICT when a token with this hash exists. The audit entry names the
// token and its officer, never the hash.
func (db *DB) CreateAPIToken(ctx context.Context, t *chungthuc.APIToken) error {
	if err := ledger.PrepareAPIToken(t, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		if err := checkAccountLinks(ctx, tx, t.UnitID, t.OfficerID); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (unit_id, officer_id, name, token_hash, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`,
			t.UnitID, t.OfficerID, t.Name, t.TokenHash, ledger.FormatTime(t.CreatedAt)).Scan(&t.ID)
		if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionTokenCreate, UnitID: t.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("token", t.ID),
			Detail:  ledger.Detail(map[string]any{"name": t.Name, "officer_id": t.OfficerID}),
		})
	})
}

// APITokenByHash returns the API token with this hash, revoked or not (RevokedAt tells);
// ENOTFOUND if none.
func (db *DB) APITokenByHash(ctx context.Context, hash string) (t *chungthuc.APIToken, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		t, err = scanAPIToken(tx.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = ?`, hash))
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "API token not found")
		}
		return err
	})
	return t, err
}

// RevokeAPIToken marks the token revoked at at (now when zero); the token is kept. ENOTFOUND
// when it does not exist, ECONFLICT when it is already revoked.
func (db *DB) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
	if at.IsZero() {
		at = db.now()
	}
	at = ledger.Micro(at)
	return db.write(ctx, func(tx *sql.Tx) error {
		t, err := scanAPIToken(tx.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "API token %d not found", id)
		} else if err != nil {
			return err
		}
		if !t.RevokedAt.IsZero() {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "API token %d is already revoked", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, ledger.FormatTime(at), id); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionTokenRevoke, UnitID: t.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("token", id),
			Detail:  ledger.Detail(map[string]any{"name": t.Name, "revoked_at": ledger.FormatTime(at)}),
		})
	})
}

func accountByID(ctx context.Context, tx *sql.Tx, id int64) (*chungthuc.Account, error) {
	a, err := scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "account %d not found", id)
	}
	return a, err
}

func scanAccount(s scanner) (*chungthuc.Account, error) {
	var a chungthuc.Account
	var unit, officer sql.NullInt64
	var role, created string
	var locked, totp sql.NullString
	if err := s.Scan(&a.ID, &unit, &officer, &a.Username, &a.PasswordHash, &role, &a.FailedLogins, &locked,
		&a.Disabled, &created, &a.MustChangePassword, &totp); err != nil {
		return nil, err
	}
	a.UnitID, a.OfficerID, a.Role = unit.Int64, officer.Int64, chungthuc.Role(role)
	var err error
	if a.LockedUntil, err = zeroTime(locked); err != nil {
		return nil, err
	}
	if a.TOTPSince, err = zeroTime(totp); err != nil {
		return nil, err
	}
	a.CreatedAt, err = ledger.ParseTime(created)
	return &a, err
}

func scanSession(s scanner) (*chungthuc.Session, error) {
	var se chungthuc.Session
	var created, expires string
	if err := s.Scan(&se.TokenHash, &se.AccountID, &se.CSRFToken, &created, &expires); err != nil {
		return nil, err
	}
	var err error
	if se.CreatedAt, err = ledger.ParseTime(created); err != nil {
		return nil, err
	}
	se.ExpiresAt, err = ledger.ParseTime(expires)
	return &se, err
}

func scanAPIToken(s scanner) (*chungthuc.APIToken, error) {
	var t chungthuc.APIToken
	var created string
	var revoked sql.NullString
	if err := s.Scan(&t.ID, &t.UnitID, &t.OfficerID, &t.Name, &t.TokenHash, &created, &revoked); err != nil {
		return nil, err
	}
	var err error
	if t.CreatedAt, err = ledger.ParseTime(created); err != nil {
		return nil, err
	}
	t.RevokedAt, err = zeroTime(revoked)
	return &t, err
}

// updated turns an UPDATE or DELETE that touched no row into ENOTFOUND.
func updated(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return chungthuc.Errorf(chungthuc.ENOTFOUND, format, args...)
	}
	return nil
}

// zeroNull stores a zero time as NULL.
func zeroNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ledger.FormatTime(t)
}

// zeroTime reads NULL as the zero time.
func zeroTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return ledger.ParseTime(s.String)
}
