package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
)

// LoginFailed counts one failed login under each key (chungthuc.Accounts): one
// INSERT … ON CONFLICT DO UPDATE … RETURNING per key, which PostgreSQL runs atomically —
// parallel failures all count.
func (db *DB) LoginFailed(ctx context.Context, keys []string, now time.Time, window time.Duration) ([]chungthuc.LoginFailures, error) {
	out := make([]chungthuc.LoginFailures, len(keys))
	for i, k := range keys {
		var n int
		err := db.pool.QueryRow(ctx, `INSERT INTO login_failures (key, failures, last_failure) VALUES ($1, 1, $2)
			ON CONFLICT (key) DO UPDATE SET
				failures = CASE WHEN login_failures.last_failure < $3 THEN 1 ELSE login_failures.failures + 1 END,
				last_failure = excluded.last_failure
			RETURNING failures`, k, now.UnixMilli(), now.Add(-window).UnixMilli()).Scan(&n)
		if err != nil {
			return nil, db.mapErr(err)
		}
		out[i] = chungthuc.LoginFailures{Count: n, Last: time.UnixMilli(now.UnixMilli()).UTC()}
	}
	return out, nil
}

// LoginFailures returns the counts of keys (chungthuc.Accounts).
func (db *DB) LoginFailures(ctx context.Context, keys []string) ([]chungthuc.LoginFailures, error) {
	out := make([]chungthuc.LoginFailures, len(keys))
	for i, k := range keys {
		var n int
		var last int64
		err := db.pool.QueryRow(ctx, `SELECT failures, last_failure FROM login_failures WHERE key = $1`, k).Scan(&n, &last)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, db.mapErr(err)
		}
		out[i] = chungthuc.LoginFailures{Count: n, Last: time.UnixMilli(last).UTC()}
	}
	return out, nil
}

// ForgetLoginFailures deletes the counts of keys (chungthuc.Accounts).
func (db *DB) ForgetLoginFailures(ctx context.Context, keys []string) error {
	for _, k := range keys {
		if _, err := db.pool.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, k); err != nil {
			return db.mapErr(err)
		}
	}
	return nil
}
