// Package sqlite is the embedded default certification register: chungthuc.Register and
// chungthuc.AuditLog on one SQLite file, through the pure-Go driver modernc.org/sqlite.
//
// The file runs in WAL mode with foreign keys on. All writes go through a single connection
// whose transactions begin IMMEDIATE, so number allocation, book changes and audit appends are
// serialised: numbers are gapless per unit and year and the audit chain never forks. Reads
// use a separate pool and see the last committed state.
//
// Times are stored as UTC text with microseconds (storage/internal/ledger.TimeLayout) and
// returned in UTC. The schema lives in package migrations (folder sqlite/); Open refuses an
// outdated file unless Options.AutoMigrate is set.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

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

// Options configure Open.
type Options struct {
	// Now is the clock (time.Now when nil).
	Now chungthuc.Clock
	// AutoMigrate applies pending migrations at Open, for the embedded default that must work
	// with no commands. Without it Open fails on an outdated schema.
	AutoMigrate bool
	// Readers is the size of the read pool (4 when zero).
	Readers int
	// BusyTimeout is how long a connection waits for a lock held by another process before
	// failing with EUNAVAILABLE (10 s when zero).
	BusyTimeout time.Duration
}

// DB is the SQLite register. It is safe for concurrent use.
type DB struct {
	w    *sql.DB // one connection; BEGIN IMMEDIATE
	r    *sql.DB // read pool
	now  chungthuc.Clock
	path string

	hooks   chungthuc.LogHooks // the transparency log's guard and publisher (translog.go)
	frontMu sync.Mutex
	front   *translog.Frontier // the log tree's frontier after the last commit (translog.go)
}

// Open opens (creating if needed) the register in the file at path. It fails with EINVALID
// for an unusable path, EUNAVAILABLE when the file cannot be opened or its schema is not the
// version this build needs ("run `chungthuc migrate`"); with opt.AutoMigrate it migrates
// instead.
func Open(ctx context.Context, path string, opt Options) (*DB, error) {
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the SQLite register needs a file path without '?' or '#'")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Readers <= 0 {
		opt.Readers = 4
	}
	if opt.BusyTimeout <= 0 {
		opt.BusyTimeout = 10 * time.Second
	}
	// The register is private to the service: 0600 for the file, which SQLite also gives its
	// -wal and -shm files; a file made by an older version is tightened.
	if err := privateFile(path); err != nil {
		return nil, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "cannot open the SQLite register %s", path)
	}
	pragmas := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)",
		opt.BusyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "cannot open the SQLite register %s", path)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	db := &DB{w: w, now: opt.Now, path: path}
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close() // already failing: the error below is the one to report
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "cannot open the SQLite register %s: %s", path, sqliteMessage(err))
	}
	r, err := sql.Open("sqlite", path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close() // already failing: the error below is the one to report
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "cannot open the SQLite register %s", path)
	}
	r.SetMaxOpenConns(opt.Readers)
	r.SetMaxIdleConns(opt.Readers)
	db.r = r

	if opt.AutoMigrate {
		if err := db.Migrate(ctx); err != nil {
			_ = db.Close() // already failing: the error below is the one to report
			return nil, err
		}
	}
	cur, err := db.currentVersion(ctx)
	if err != nil {
		_ = db.Close() // already failing: the error below is the one to report
		return nil, err
	}
	if err := migrate.Check(cur, latest); err != nil {
		_ = db.Close() // already failing: the error below is the one to report
		return nil, err
	}
	return db, nil
}

// privateFile creates path (mode 0600) if it does not exist, and takes group and other
// permissions away from it and its -wal and -shm files.
func privateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// latest is the schema version this build needs; loaded once from the embedded files.
var latest, all = func() (int, []migrate.Migration) {
	ms, err := migrate.Load(migrations.SQLite, "sqlite")
	if err != nil {
		panic(err) // the embedded files are part of the build; a bad name is a build error
	}
	return migrate.Latest(ms), ms
}()

// Migrate applies the pending migrations, each in its own transaction, and builds the public
// log of a register that has events but no log yet (from its audit log). It fails with
// EUNAVAILABLE when the file's schema is newer than this build.
func (db *DB) Migrate(ctx context.Context) error {
	if _, err := migrate.Up(ctx, target{db}, all); err != nil {
		return mapErr(err)
	}
	return db.backfillLog(ctx) // translog.go: a register from before the log gets one
}

// SchemaVersion returns the version the file's schema is at (0 for a new file).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) { return db.currentVersion(ctx) }

func (db *DB) currentVersion(ctx context.Context) (int, error) {
	var n int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n); err != nil {
		return 0, mapErr(err)
	}
	if n == 0 {
		return 0, nil
	}
	var v int
	if err := db.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, mapErr(err)
	}
	return v, nil
}

type target struct{ db *DB }

func (t target) Version(ctx context.Context) (int, error) {
	if _, err := t.db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT`); err != nil {
		return 0, mapErr(err)
	}
	return t.db.currentVersion(ctx)
}

func (t target) Apply(ctx context.Context, m migrate.Migration) error {
	return t.db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			m.Version, ledger.FormatTime(t.db.now()))
		return err
	})
}

// Close closes both pools.
func (db *DB) Close() error {
	var err error
	if db.r != nil {
		err = db.r.Close()
	}
	return errors.Join(err, db.w.Close())
}

// write runs fn in an IMMEDIATE transaction on the writer connection and commits it when fn
// succeeds. Errors come back mapped to *chungthuc.Error where a user can act on them.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return mapErr(err)
	}
	return mapErr(tx.Commit())
}

// read runs fn in a read transaction (one snapshot) on the read pool.
func (db *DB) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	return mapErr(fn(tx))
}

// mapErr turns driver errors into *chungthuc.Error where the code is known; other errors
// stay as they are (EINTERNAL).
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var ce *chungthuc.Error
	if errors.As(err, &ce) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the register did not answer in time")
	}
	if errors.Is(err, sql.ErrConnDone) {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the register is closed")
	}
	var se *msqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return chungthuc.Errorf(chungthuc.ECONFLICT, "the record already exists")
		case sqlite3.SQLITE_CONSTRAINT_TRIGGER:
			return chungthuc.Errorf(chungthuc.ECONFLICT, "%s", sqliteMessage(err))
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "a referenced record does not exist")
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the register database is unavailable: %s", sqliteMessage(err))
		}
	}
	return fmt.Errorf("sqlite: %w", err)
}

// sqliteMessage is the driver's message without its decoration: "constraint failed: msg
// (1811)" becomes "msg".
func sqliteMessage(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, " ("); i > 0 && strings.HasSuffix(msg, ")") {
		msg = msg[:i]
	}
	for _, p := range []string{"constraint failed: ", "SQL logic error: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// Helpers for nullable columns.
func nullTime(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := ledger.ParseTime(s.String)
	return &t, err
}

func timeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ledger.FormatTime(*t)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
