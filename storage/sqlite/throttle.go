package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/chungthuc/chungthuc"
)

// LoginFailed counts one failed login under each key (chungthuc.Accounts): one upsert per
// key, in one write transaction — SQLite serialises writers, so parallel failures all count.
func (db *DB) LoginFailed(ctx context.Context, keys []string, now time.Time, window time.Duration) ([]chungthuc.LoginFailures, error) {
	out := make([]chungthuc.LoginFailures, len(keys))
	err := db.write(ctx, func(tx *sql.Tx) error {
		for i, k := range keys {
			var n int
			err := tx.QueryRowContext(ctx, `INSERT INTO login_failures (key, failures, last_failure) VALUES (?, 1, ?)
				ON CONFLICT (key) DO UPDATE SET
					failures = CASE WHEN login_failures.last_failure < ? THEN 1 ELSE login_failures.failures + 1 END,
					last_failure = excluded.last_failure
				RETURNING failures`, k, now.UnixMilli(), now.Add(-window).UnixMilli()).Scan(&n)
			if err != nil {
				return err
			}
			out[i] = chungthuc.LoginFailures{Count: n, Last: time.UnixMilli(now.UnixMilli()).UTC()}
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}

// LoginFailures returns the counts of keys (chungthuc.Accounts).
func (db *DB) LoginFailures(ctx context.Context, keys []string) ([]chungthuc.LoginFailures, error) {
	out := make([]chungthuc.LoginFailures, len(keys))
	for i, k := range keys {
		var n int
		var last int64
		err := db.r.QueryRowContext(ctx, `SELECT failures, last_failure FROM login_failures WHERE key = ?`, k).Scan(&n, &last)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, mapErr(err)
		}
		out[i] = chungthuc.LoginFailures{Count: n, Last: time.UnixMilli(last).UTC()}
	}
	return out, nil
}

// ForgetLoginFailures deletes the counts of keys (chungthuc.Accounts).
func (db *DB) ForgetLoginFailures(ctx context.Context, keys []string) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, k); err != nil {
				return err
			}
		}
		return nil
	})
}
