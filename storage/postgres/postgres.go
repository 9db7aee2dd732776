// Package postgres is the production certification register: chungthuc.Register and
// chungthuc.AuditLog on PostgreSQL through pgx (pgxpool), with hand-written SQL.
//
// Numbers are allocated from a per-(unit, year) counter row that Reserve updates in the same
// READ COMMITTED transaction as the entry's insert, so the row lock serialises allocation for
// one unit and year only and a rolled-back reservation uses no number. Audit entries are
// queued during a transaction and appended at its end under a transaction-level advisory
// lock, so the hash chain never forks while the lock is held only briefly. Triggers enforce
// the permanent-record rule (no UPDATE/DELETE of audit_log, no DELETE of entries or books).
//
// Times are timestamptz, kept to the microsecond and returned in UTC. The schema lives in
// package migrations (folder postgres/); Open refuses an outdated schema unless
// Options.AutoMigrate is set.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/migrations"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
	"github.com/chungthuc/chungthuc/storage/migrate"
	"github.com/chungthuc/chungthuc/translog"
)

var (
	_ chungthuc.Register = (*DB)(nil)
	_ chungthuc.AuditLog = (*DB)(nil)
)

// Lock keys of pg_advisory_xact_lock / pg_advisory_lock (arbitrary, fixed constants).
const (
	auditLockKey   = 0x63_74_61_75_64_69_74 // "ctaudit"
	migrateLockKey = 0x63_74_6d_69_67_72_74 // "ctmigrt"
)

// Options configure Open.
type Options struct {
	// Now is the clock (time.Now when nil).
	Now chungthuc.Clock
	// AutoMigrate applies pending migrations at Open. Production runs `chungthuc migrate`
	// instead, and Open then fails on an outdated schema.
	AutoMigrate bool
	// MaxConns is the pool size when the URL has no pool_max_conns (16 when zero).
	MaxConns int32
	// ConnectTimeout bounds each connection attempt when the URL has no connect_timeout
	// (5 s when zero).
	ConnectTimeout time.Duration
}

// DB is the PostgreSQL register. It is safe for concurrent use.
type DB struct {
	pool  *pgxpool.Pool
	now   chungthuc.Clock
	where string // host:port/database, for messages; never the password

	hooks chungthuc.LogHooks // the transparency log's guard and publisher (translog.go)
	codes sync.Map           // unit ID → code, for leaves (codes never change)
	// frontMu guards front, the log tree's frontier after this process's last commit.
	frontMu sync.Mutex
	front   *translog.Frontier
}

// Open connects to the database at url (postgres://… or key=value). It fails with EINVALID
// when the URL cannot be parsed, and with EUNAVAILABLE when PostgreSQL cannot be reached or
// the schema is not the version this build needs ("run `chungthuc migrate`"); with
// opt.AutoMigrate it migrates instead.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included: do not pass it on.
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the PostgreSQL URL cannot be parsed")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 16
		if opt.MaxConns > 0 {
			cfg.MaxConns = opt.MaxConns
		}
	}
	if !strings.Contains(url, "connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
		if opt.ConnectTimeout > 0 {
			cfg.ConnConfig.ConnectTimeout = opt.ConnectTimeout
		}
	}
	db := &DB{now: opt.Now, where: fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)}
	db.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the PostgreSQL URL is not usable")
	}
	if err := db.pool.Ping(ctx); err != nil {
		db.pool.Close()
		return nil, db.unreachable(err)
	}
	if opt.AutoMigrate {
		if err := db.Migrate(ctx); err != nil {
			db.pool.Close()
			return nil, err
		}
	}
	cur, err := db.SchemaVersion(ctx)
	if err != nil {
		db.pool.Close()
		return nil, err
	}
	if err := migrate.Check(cur, latest); err != nil {
		db.pool.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) unreachable(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// The server answered (e.g. no such database, authentication failed).
		return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "PostgreSQL at %s refused the connection: %s", db.where, pe.Message)
	}
	return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "PostgreSQL not reachable at %s", db.where)
}

// latest is the schema version this build needs; loaded once from the embedded files.
var latest, all = func() (int, []migrate.Migration) {
	ms, err := migrate.Load(migrations.Postgres, "postgres")
	if err != nil {
		panic(err) // the embedded files are part of the build; a bad name is a build error
	}
	return migrate.Latest(ms), ms
}()

// Migrate applies the pending migrations, each in its own transaction, holding a session
// advisory lock so that two processes migrating at once apply each file once, and builds the
// public log of a register that has events but no log yet (from its audit log). It fails with
// EUNAVAILABLE when the schema is newer than this build.
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return db.mapErr(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLockKey)); err != nil {
		return db.mapErr(err)
	}
	defer func() {
		// The advisory lock belongs to the session: a connection that could not release it
		// must not go back to the pool (it would block every later migration), so it is
		// closed and the pool drops it on Release.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLockKey)); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	if _, err = migrate.Up(ctx, target{db, conn.Conn()}, all); err != nil {
		return db.mapErr(err)
	}
	return db.backfillLog(ctx) // translog.go: a register from before the log gets one
}

// SchemaVersion returns the version the schema is at (0 for an empty database).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return 0, db.mapErr(err)
	}
	var v int
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, db.mapErr(err)
}

type target struct {
	db   *DB
	conn *pgx.Conn
}

func (t target) Version(ctx context.Context) (int, error) {
	if _, err := t.conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, applied_at timestamptz NOT NULL)`); err != nil {
		return 0, t.db.mapErr(err)
	}
	var v int
	err := t.conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, t.db.mapErr(err)
}

func (t target) Apply(ctx context.Context, m migrate.Migration) error {
	return pgx.BeginFunc(ctx, t.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
			m.Version, ledger.Micro(t.db.now()))
		return err
	})
}

// Close closes the pool. It always returns nil.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// txn is a write transaction that queues its audit entries; write appends them at the end.
type txn struct {
	pgx.Tx
	audits []*chungthuc.AuditEntry
	leaves []pendingLeaf // appended after the audit entries, under the same lock (translog.go)
	// appended are the leaves appended and front the tree's frontier after them (translog.go)
	appended []chungthuc.LogLeaf
	front    *translog.Frontier
}

func (t *txn) audit(e *chungthuc.AuditEntry) { t.audits = append(t.audits, e) }

// write runs fn in a READ COMMITTED transaction, appends the audit entries fn queued, and
// commits. Errors come back mapped to *chungthuc.Error where a user can act on them.
func (db *DB) write(ctx context.Context, fn func(t *txn) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return db.mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	t := &txn{Tx: tx}
	if err := fn(t); err != nil {
		return db.mapErr(err)
	}
	if err := db.appendAudits(ctx, t); err != nil {
		return db.mapErr(err)
	}
	if err := db.appendLeaves(ctx, t); err != nil {
		return db.mapErr(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return db.mapErr(err)
	}
	db.published(ctx, t)
	return nil
}

// read runs fn in a read-only REPEATABLE READ transaction: one snapshot for all its queries.
func (db *DB) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return db.mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return db.mapErr(err)
	}
	return db.mapErr(tx.Commit(ctx))
}

// mapErr turns pgx errors into *chungthuc.Error where the code is known; other errors stay
// as they are (EINTERNAL, logged by the caller with their detail). By SQLSTATE:
//
//   - 23505 unique_violation → ECONFLICT; 23503 foreign_key_violation → ENOTFOUND;
//     CT001 (our permanent-record triggers) → ECONFLICT with the trigger's message;
//   - 40001, 40P01 (serialization, deadlock), class 55 (object not in prerequisite state:
//     55000 e.g. "database is not accepting connections", 55006 object in use, 55P03
//     lock_not_available), 57014 (query canceled), class 08 (connection), 53 (insufficient
//     resources), 57P (operator intervention: shutdown, crash), 58 (system I/O), 3D000
//     (no such database), class 28 (authentication) → EUNAVAILABLE;
//   - time-outs, refused and dropped connections, a closed pool → EUNAVAILABLE.
func (db *DB) mapErr(err error) error {
	if err == nil {
		return nil
	}
	var ce *chungthuc.Error
	if errors.As(err, &ce) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		class := pe.Code[:min(2, len(pe.Code))]
		switch {
		case pe.Code == "23505":
			return chungthuc.Wrap(err, chungthuc.ECONFLICT, "the record already exists")
		case pe.Code == "23503":
			return chungthuc.Wrap(err, chungthuc.ENOTFOUND, "a referenced record does not exist")
		case pe.Code == "CT001":
			return chungthuc.Wrap(err, chungthuc.ECONFLICT, "%s", pe.Message)
		case pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "57014" || class == "55":
			return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "the register is busy or not accepting work (SQLSTATE %s), try again", pe.Code)
		case class == "08" || class == "53" || class == "58" || class == "28" || pe.Code == "3D000" ||
			strings.HasPrefix(pe.Code, "57P"):
			return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "PostgreSQL at %s is unavailable (SQLSTATE %s)", db.where, pe.Code)
		}
		return fmt.Errorf("postgres: %w", err)
	}
	var ne net.Error
	var connErr *pgconn.ConnectError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "PostgreSQL at %s did not answer in time", db.where)
	case errors.Is(err, context.Canceled):
		return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "the request to PostgreSQL at %s was canceled", db.where)
	case errors.As(err, &connErr) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "closed pool") || strings.Contains(err.Error(), "conn closed") ||
		strings.Contains(err.Error(), "broken pipe") || strings.Contains(err.Error(), "connection reset"):
		return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "PostgreSQL not reachable at %s", db.where)
	}
	return fmt.Errorf("postgres: %w", err)
}

// utc returns a nullable time in UTC.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
