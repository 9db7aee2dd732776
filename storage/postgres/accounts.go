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
	return db.write(ctx, func(t *txn) error {
		if err := checkAccountLinks(ctx, t, a.UnitID, a.OfficerID); err != nil {
			return err
		}
		err := t.QueryRow(ctx, `INSERT INTO accounts (unit_id, officer_id, username, password_hash, role,
			failed_logins, locked_until, disabled, created_at, must_change_password)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (username) DO NOTHING RETURNING id`,
			nullID(a.UnitID), nullID(a.OfficerID), a.Username, a.PasswordHash, string(a.Role),
			a.FailedLogins, zeroNull(a.LockedUntil), a.Disabled, a.CreatedAt, a.MustChangePassword).Scan(&a.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "username %q is taken", a.Username)
		} else if err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionAccountCreate, UnitID: a.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("account", a.ID),
			Detail: ledger.Detail(map[string]any{"username": a.Username, "role": a.Role, "officer_id": a.OfficerID,
				"disabled": a.Disabled}),
		})
		return nil
	})
}

// checkAccountLinks checks that the unit exists and that the officer, if any, exists and
// belongs to it (ENOTFOUND, EINVALID).
func checkAccountLinks(ctx context.Context, q querier, unitID, officerID int64) error {
	if unitID != 0 {
		if _, err := unitByID(ctx, q, unitID); err != nil {
			return err
		}
	}
	if officerID == 0 {
		return nil
	}
	o, err := officerByID(ctx, q, officerID)
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
func (db *DB) AccountByUsername(ctx context.Context, username string) (*chungthuc.Account, error) {
	username = ledger.Username(username)
	a, err := scanAccount(db.pool.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "account %q not found", username)
	}
	return a, db.mapErr(err)
}

// AccountByID returns the account with this ID; ENOTFOUND if none.
func (db *DB) AccountByID(ctx context.Context, id int64) (*chungthuc.Account, error) {
	a, err := accountByID(ctx, db.pool, id)
	return a, db.mapErr(err)
}

// SetLoginState records the outcome of a login attempt: the count of consecutive failures and
// the end of a lock-out (zero: not locked). It is not audited here; the caller audits logins.
// EINVALID for a negative count, ENOTFOUND when the account does not exist.
func (db *DB) SetLoginState(ctx context.Context, id int64, failed int, lockedUntil time.Time) error {
	lockedUntil, err := ledger.CheckLoginState(failed, lockedUntil)
	if err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		tag, err := t.Exec(ctx, `UPDATE accounts SET failed_logins = $1, locked_until = $2 WHERE id = $3`,
			failed, zeroNull(lockedUntil), id)
		return touched(tag, err, "account %d not found", id)
	})
}

// SetPassword replaces the account's password hash (argon2id, PHC string format); the login
// state is left as it is; mustChange is stored (true for generated passwords). EINVALID for a malformed hash, ENOTFOUND when the account does not
// exist. The audit entry does not contain the hash.
func (db *DB) SetPassword(ctx context.Context, id int64, hash string, mustChange bool) error {
	if err := ledger.CheckPasswordHash(hash); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		var unit *int64
		var username string
		err := t.QueryRow(ctx, `UPDATE accounts SET password_hash = $1, must_change_password = $3 WHERE id = $2 RETURNING unit_id, username`,
			hash, id, mustChange).Scan(&unit, &username)
		if errors.Is(err, pgx.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "account %d not found", id)
		} else if err != nil {
			return err
		}
		var unitID int64
		if unit != nil {
			unitID = *unit
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionAccountPassword, UnitID: unitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("account", id), Detail: ledger.Detail(map[string]any{"username": username, "must_change": mustChange}),
		})
		return nil
	})
}

// CreateSession stores s (CreatedAt now when zero). EINVALID for a malformed session
// (ledger.PrepareSession), ENOTFOUND when the account does not exist, ECONFLICT when a session
// with this hash exists.
func (db *DB) CreateSession(ctx context.Context, s *chungthuc.Session) error {
	if err := ledger.PrepareSession(s, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		_, err := t.Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5)`,
			s.TokenHash, s.AccountID, s.CSRFToken, s.CreatedAt, s.ExpiresAt)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23503" {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "account %d not found", s.AccountID)
		}
		return err
	})
}

// SessionByHash returns the session whose cookie hashes to hash; ENOTFOUND if none. An expired
// session is returned until DeleteExpiredSessions removes it: the caller compares ExpiresAt
// with its clock.
func (db *DB) SessionByHash(ctx context.Context, hash string) (*chungthuc.Session, error) {
	s, err := scanSession(db.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "session not found")
	}
	return s, db.mapErr(err)
}

// DeleteSession removes the session with this hash (log-out); ENOTFOUND if none.
func (db *DB) DeleteSession(ctx context.Context, hash string) error {
	return db.write(ctx, func(t *txn) error {
		tag, err := t.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, hash)
		return touched(tag, err, "session not found")
	})
}

// ListAccounts lists the accounts of a unit (every account when unitID is 0), by id.
func (db *DB) ListAccounts(ctx context.Context, unitID int64) ([]*chungthuc.Account, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+accountColumns+` FROM accounts WHERE $1::bigint = 0 OR unit_id = $1 ORDER BY id`, unitID)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	var as []*chungthuc.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, db.mapErr(err)
		}
		as = append(as, a)
	}
	return as, db.mapErr(rows.Err())
}

// SetAccountDisabled disables or enables an account; disabling ends its sessions and revokes
// its officer's active API tokens in the same transaction. ENOTFOUND when it does not exist.
// Audited (account.disable / account.enable) with the counts ended.
func (db *DB) SetAccountDisabled(ctx context.Context, id int64, disabled bool) error {
	return db.write(ctx, func(t *txn) error {
		a, err := accountByID(ctx, t, id)
		if err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `UPDATE accounts SET disabled = $1 WHERE id = $2`, disabled, id); err != nil {
			return err
		}
		action, detail := ledger.ActionAccountEnable, map[string]any{"username": a.Username}
		if disabled {
			action = ledger.ActionAccountDisable
			tag, err := t.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1`, id)
			if err != nil {
				return err
			}
			var tokens int64
			if a.OfficerID != 0 {
				tt, err := t.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE officer_id = $2 AND revoked_at IS NULL`,
					ledger.Micro(db.now()), a.OfficerID)
				if err != nil {
					return err
				}
				tokens = tt.RowsAffected()
			}
			detail["sessions_ended"], detail["tokens_revoked"] = tag.RowsAffected(), tokens
		}
		t.audit(&chungthuc.AuditEntry{
			Action: action, UnitID: a.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("account", id), Detail: ledger.Detail(detail),
		})
		return nil
	})
}

// ListAPITokens lists the API tokens of a unit (every unit's when unitID is 0), by id.
func (db *DB) ListAPITokens(ctx context.Context, unitID int64) ([]*chungthuc.APIToken, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE $1::bigint = 0 OR unit_id = $1 ORDER BY id`, unitID)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	var ts []*chungthuc.APIToken
	for rows.Next() {
		tk, err := scanAPIToken(rows)
		if err != nil {
			return nil, db.mapErr(err)
		}
		ts = append(ts, tk)
	}
	return ts, db.mapErr(rows.Err())
}

// DeleteSessions ends every session of the account except the one whose hash is except ("" ends
// all) and returns how many ended; an unknown account has none.
func (db *DB) DeleteSessions(ctx context.Context, accountID int64, except string) (n int, err error) {
	err = db.write(ctx, func(t *txn) error {
		tag, err := t.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1 AND token_hash <> $2`, accountID, except)
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}

// DeleteExpiredSessions removes every session and pending login that expires at or before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	return db.write(ctx, func(t *txn) error {
		if _, err := t.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, ledger.Micro(now)); err != nil {
			return err
		}
		_, err := t.Exec(ctx, `DELETE FROM pending_logins WHERE expires_at <= $1`, ledger.Micro(now))
		return err
	})
}

// CreateAPIToken stores t and sets its ID and CreatedAt. EINVALID for a malformed token
// (ledger.PrepareAPIToken) or an officer of another unit, ENOTFOUND when the unit or officer
// does not exist, ECONFLICT when a token with this hash exists. The audit entry names the
// token and its officer, never the hash.
func (db *DB) CreateAPIToken(ctx context.Context, tok *chungthuc.APIToken) error {
	if err := ledger.PrepareAPIToken(tok, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		if err := checkAccountLinks(ctx, t, tok.UnitID, tok.OfficerID); err != nil {
			return err
		}
		err := t.QueryRow(ctx, `INSERT INTO api_tokens (unit_id, officer_id, name, token_hash, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO NOTHING RETURNING id`,
			tok.UnitID, tok.OfficerID, tok.Name, tok.TokenHash, tok.CreatedAt).Scan(&tok.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "an API token with this hash exists")
		} else if err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionTokenCreate, UnitID: tok.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("token", tok.ID),
			Detail:  ledger.Detail(map[string]any{"name": tok.Name, "officer_id": tok.OfficerID}),
		})
		return nil
	})
}

// APITokenByHash returns the API token with this hash, revoked or not (RevokedAt tells);
// ENOTFOUND if none.
func (db *DB) APITokenByHash(ctx context.Context, hash string) (*chungthuc.APIToken, error) {
	tok, err := scanAPIToken(db.pool.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE token_hash = $1`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "API token not found")
	}
	return tok, db.mapErr(err)
}

// RevokeAPIToken marks the token revoked at at (now when zero); the token is kept. ENOTFOUND
// when it does not exist, ECONFLICT when it is already revoked.
func (db *DB) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
	if at.IsZero() {
		at = db.now()
	}
	at = ledger.Micro(at)
	return db.write(ctx, func(t *txn) error {
		tok, err := scanAPIToken(t.QueryRow(ctx, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "API token %d not found", id)
		} else if err != nil {
			return err
		}
		if !tok.RevokedAt.IsZero() {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "API token %d is already revoked", id)
		}
		if _, err := t.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2`, at, id); err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionTokenRevoke, UnitID: tok.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("token", id),
			Detail:  ledger.Detail(map[string]any{"name": tok.Name, "revoked_at": ledger.FormatTime(at)}),
		})
		return nil
	})
}

func accountByID(ctx context.Context, q querier, id int64) (*chungthuc.Account, error) {
	a, err := scanAccount(q.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "account %d not found", id)
	}
	return a, err
}

func scanAccount(row pgx.Row) (*chungthuc.Account, error) {
	var a chungthuc.Account
	var unit, officer *int64
	var role string
	var locked, totp *time.Time
	if err := row.Scan(&a.ID, &unit, &officer, &a.Username, &a.PasswordHash, &role, &a.FailedLogins, &locked,
		&a.Disabled, &a.CreatedAt, &a.MustChangePassword, &totp); err != nil {
		return nil, err
	}
	if totp != nil {
		a.TOTPSince = totp.UTC()
	}
	if unit != nil {
		a.UnitID = *unit
	}
	if officer != nil {
		a.OfficerID = *officer
	}
	if locked != nil {
		a.LockedUntil = locked.UTC()
	}
	a.Role, a.CreatedAt = chungthuc.Role(role), a.CreatedAt.UTC()
	return &a, nil
}

func scanSession(row pgx.Row) (*chungthuc.Session, error) {
	var s chungthuc.Session
	if err := row.Scan(&s.TokenHash, &s.AccountID, &s.CSRFToken, &s.CreatedAt, &s.ExpiresAt); err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC()
	return &s, nil
}

func scanAPIToken(row pgx.Row) (*chungthuc.APIToken, error) {
	var t chungthuc.APIToken
	var revoked *time.Time
	if err := row.Scan(&t.ID, &t.UnitID, &t.OfficerID, &t.Name, &t.TokenHash, &t.CreatedAt, &revoked); err != nil {
		return nil, err
	}
	if revoked != nil {
		t.RevokedAt = revoked.UTC()
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return &t, nil
}

// touched turns an UPDATE or DELETE that touched no row into ENOTFOUND.
func touched(tag pgconn.CommandTag, err error, format string, args ...any) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return chungthuc.Errorf(chungthuc.ENOTFOUND, format, args...)
	}
	return nil
}

// zeroNull stores a zero time as NULL.
func zeroNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := ledger.Micro(t)
	return &u
}
