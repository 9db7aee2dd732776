package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
	"github.com/chungthuc/chungthuc/translog"
)

var (
	_ chungthuc.RegisterLog = (*DB)(nil)
	_ translog.Restorer     = (*DB)(nil)
)

// SetLogHooks installs the transparency log's guard and publisher (before concurrent use).
func (db *DB) SetLogHooks(h chungthuc.LogHooks) { db.hooks = h }

// pendingLeaf is a leaf queued during a transaction. It is built and appended at the end,
// after the audit entries (whose IDs and hashes it anchors), under the audit append lock,
// which therefore also serialises the log.
type pendingLeaf struct {
	event          string
	certID, bookID int64
	build          func(ctx context.Context, t *txn) (data, private []byte, err error)
	replayAt       int64 // -1: append at the end after the guard; else the index a replayed leaf must take
}

func (t *txn) queueLeaf(event string, certID, bookID int64, build func(ctx context.Context, t *txn) ([]byte, []byte, error)) {
	t.leaves = append(t.leaves, pendingLeaf{event: event, certID: certID, bookID: bookID, build: build, replayAt: -1})
}

// logTransition queues the leaf of an entry's status change (c as read before the change).
func (t *txn) logTransition(db *DB, c *chungthuc.Certification, to chungthuc.Status, reason string, at *time.Time, a *chungthuc.AuditEntry) {
	after := *c
	after.Status = to
	event := translog.EventIssued
	switch to {
	case chungthuc.StatusVoid:
		event, after.VoidReason = translog.EventVoid, reason
	case chungthuc.StatusRevoked:
		event, after.RevokeReason, after.RevokedAt = translog.EventRevoked, reason, at
	}
	t.queueLeaf(event, c.ID, 0, func(ctx context.Context, t *txn) ([]byte, []byte, error) {
		code, err := db.unitCode(ctx, t, c.UnitID)
		if err != nil {
			return nil, nil, err
		}
		return translog.CertificationLeaf(event, code, &after, db.now(), a)
	})
}

func (t *txn) logVersion(db *DB, c *chungthuc.Certification, sha, key string, a *chungthuc.AuditEntry) {
	t.queueLeaf(translog.EventVersion, c.ID, 0, func(ctx context.Context, t *txn) ([]byte, []byte, error) {
		code, err := db.unitCode(ctx, t, c.UnitID)
		if err != nil {
			return nil, nil, err
		}
		return translog.VersionLeaf(code, c, sha, key, db.now(), a)
	})
}

func (t *txn) logBook(db *DB, b *chungthuc.Book, a *chungthuc.AuditEntry) {
	bb := *b
	t.queueLeaf(translog.EventBookClosed, 0, b.ID, func(ctx context.Context, t *txn) ([]byte, []byte, error) {
		code, err := db.unitCode(ctx, t, bb.UnitID)
		if err != nil {
			return nil, nil, err
		}
		return translog.BookLeaf(code, &bb, db.now(), a)
	})
}

func unitCodeOf(ctx context.Context, q querier, unitID int64) (string, error) {
	var code string
	err := q.QueryRow(ctx, `SELECT code FROM units WHERE id = $1`, unitID).Scan(&code)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", chungthuc.Errorf(chungthuc.ENOTFOUND, "unit %d not found", unitID)
	}
	return code, err
}

// unitCode is unitCodeOf through the DB's cache.
func (db *DB) unitCode(ctx context.Context, q querier, unitID int64) (string, error) {
	if c, ok := db.codes.Load(unitID); ok {
		return c.(string), nil
	}
	code, err := unitCodeOf(ctx, q, unitID)
	if err == nil {
		db.codes.Store(unitID, code)
	}
	return code, err
}

// appendLeaves appends the transaction's queued leaves and the tree's new stored hashes.
// The caller (write) has appended the audit entries, so the audit append lock is held.
func (db *DB) appendLeaves(ctx context.Context, t *txn) error {
	if len(t.leaves) == 0 {
		return nil
	}
	if len(t.audits) == 0 {
		return errors.New("postgres: log leaves without an audit entry")
	}
	for _, p := range t.leaves {
		n, err := logSize(ctx, t)
		if err != nil {
			return err
		}
		if p.replayAt >= 0 {
			if n != p.replayAt {
				return chungthuc.Errorf(chungthuc.ECONFLICT, "leaf %d cannot be replayed onto a log of %d leaves", p.replayAt, n)
			}
		} else if err := db.guard(ctx, t, func() (int64, error) { return n, nil }); err != nil {
			return err // n was read under the append lock: no checkpoint covers more
		}
		data, private, err := p.build(ctx, t)
		if err != nil {
			return err
		}
		if t.front == nil || t.front.Size() != n {
			if t.front, err = db.frontier(ctx, t, n); err != nil {
				return err
			}
		}
		hashes, err := t.front.Append(data)
		if err != nil {
			return err
		}
		if p.replayAt < 0 {
			t.appended = append(t.appended, chungthuc.LogLeaf{Index: n, Data: data, Private: private})
		}
		idx := make([]int64, len(hashes))
		hs := make([][]byte, len(hashes))
		for i, h := range hashes {
			idx[i], hs[i] = tlog.StoredHashIndex(0, n)+int64(i), h[:]
		}
		// One statement for the leaf and its hashes: the lock is held for as few round trips
		// as possible.
		if _, err := t.Exec(ctx, `WITH leaf AS (INSERT INTO log_leaves (idx, event, certification_id, book_id, data, private, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7))
			INSERT INTO log_hashes (idx, hash) SELECT * FROM unnest($8::bigint[], $9::bytea[])`,
			n, p.event, nullID(p.certID), nullID(p.bookID), data, nullBytes(private), ledger.Micro(db.now()), idx, hs); err != nil {
			return err
		}
	}
	return nil
}

func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// published keeps the tree's frontier after a commit that appended leaves and calls the
// Appended hook with them (not for replays: reconcile publishes once at its end).
func (db *DB) published(ctx context.Context, t *txn) {
	if t.front != nil {
		db.frontMu.Lock()
		db.front = t.front
		db.frontMu.Unlock()
	}
	if db.hooks.Appended != nil && len(t.appended) > 0 {
		db.hooks.Appended(ctx, t.appended)
	}
}

// frontier returns the tree's frontier at size n: the one kept from this process's last
// commit when the log still has that size (no other instance appended since), else read from
// the stored hashes. The caller extends a clone, kept after its commit.
func (db *DB) frontier(ctx context.Context, t *txn, n int64) (*translog.Frontier, error) {
	db.frontMu.Lock()
	f := db.front
	db.frontMu.Unlock()
	if f != nil && f.Size() == n {
		return f.Clone(), nil
	}
	return translog.ReadFrontier(n, txHashes(ctx, t))
}

// guardLog asks the guard whether the register may change now (Reserve).
func (db *DB) guardLog(ctx context.Context, t *txn) error {
	return db.guard(ctx, t, func() (int64, error) { return logSize(ctx, t) })
}

func (db *DB) guard(ctx context.Context, q rowsQuerier, size func() (int64, error)) error {
	if db.hooks.Guard == nil {
		return nil
	}
	return db.hooks.Guard(size, func(size int64) ([32]byte, error) {
		h, err := tlog.TreeHash(size, txHashes(ctx, q))
		return h, err
	})
}

// rowsQuerier is a pgx.Tx, *txn or the pool.
type rowsQuerier interface {
	querier
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// logSizeSQL is a scalar subquery giving the log's size.
const logSizeSQL = `(SELECT COALESCE(MAX(idx) + 1, 0) FROM log_leaves)`

func logSize(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT `+logSizeSQL).Scan(&n)
	return n, err
}

func txHashes(ctx context.Context, q rowsQuerier) tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		hs, err := readHashes(ctx, q, idx)
		if err != nil {
			return nil, err
		}
		out := make([]tlog.Hash, len(hs))
		for i, h := range hs {
			out[i] = tlog.Hash(h)
		}
		return out, nil
	})
}

func readHashes(ctx context.Context, q rowsQuerier, idx []int64) ([][32]byte, error) {
	out := make([][32]byte, len(idx))
	if len(idx) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, `SELECT idx, hash FROM log_hashes WHERE idx = ANY($1)`, idx)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	got := map[int64][32]byte{}
	for rows.Next() {
		var i int64
		var h []byte
		if err := rows.Scan(&i, &h); err != nil {
			return nil, err
		}
		if len(h) != 32 {
			return nil, fmt.Errorf("postgres: stored log hash %d has %d bytes", i, len(h))
		}
		got[i] = [32]byte(h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, x := range idx {
		h, ok := got[x]
		if !ok {
			return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "stored log hash %d is missing", x)
		}
		out[i] = h
	}
	return out, nil
}

// LogSize returns the number of leaves of the register's log.
func (db *DB) LogSize(ctx context.Context) (int64, error) {
	n, err := logSize(ctx, db.pool)
	return n, db.mapErr(err)
}

// LogHashes returns the stored hashes at these indexes; ENOTFOUND when one is missing.
func (db *DB) LogHashes(ctx context.Context, indexes []int64) ([][32]byte, error) {
	hs, err := readHashes(ctx, db.pool, indexes)
	return hs, db.mapErr(err)
}

// LogLeaves returns the leaves with from ≤ index < to, in order (fewer when the log is
// shorter). EINVALID for a negative range.
func (db *DB) LogLeaves(ctx context.Context, from, to int64) ([]chungthuc.LogLeaf, error) {
	if from < 0 || to < from {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "bad leaf range [%d, %d)", from, to)
	}
	return db.leaves(ctx, `WHERE idx >= $1 AND idx < $2`, from, to)
}

// LogLeavesOf returns the leaves recording events of one certification, in order.
func (db *DB) LogLeavesOf(ctx context.Context, certificationID int64) ([]chungthuc.LogLeaf, error) {
	return db.leaves(ctx, `WHERE certification_id = $1`, certificationID)
}

func (db *DB) leaves(ctx context.Context, where string, args ...any) ([]chungthuc.LogLeaf, error) {
	rows, err := db.pool.Query(ctx, `SELECT idx, data, private FROM log_leaves `+where+` ORDER BY idx`, args...)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	ls := []chungthuc.LogLeaf{}
	for rows.Next() {
		var l chungthuc.LogLeaf
		if err := rows.Scan(&l.Index, &l.Data, &l.Private); err != nil {
			return nil, db.mapErr(err)
		}
		ls = append(ls, l)
	}
	return ls, db.mapErr(rows.Err())
}

// ForEachCertification calls fn for every entry in ID order, in one snapshot; an error from
// fn stops the walk and is returned.
func (db *DB) ForEachCertification(ctx context.Context, fn func(*chungthuc.Certification) error) error {
	return db.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+certificationColumns+` FROM certifications ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCertification(rows)
			if err != nil {
				return err
			}
			if err := fn(c); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// Versions lists every later version of every copy, by entry and sequence.
func (db *DB) Versions(ctx context.Context) ([]translog.VersionRecord, error) {
	rows, err := db.pool.Query(ctx, `SELECT certification_id, seq, sha256, object_key, created_at
		FROM certification_versions ORDER BY certification_id, seq`)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	var vs []translog.VersionRecord
	for rows.Next() {
		var v translog.VersionRecord
		if err := rows.Scan(&v.CertificationID, &v.Seq, &v.SHA256, &v.ObjectKey, &v.CreatedAt); err != nil {
			return nil, db.mapErr(err)
		}
		v.CreatedAt = v.CreatedAt.UTC()
		vs = append(vs, v)
	}
	return vs, db.mapErr(rows.Err())
}

// Counters lists the number counters.
func (db *DB) Counters(ctx context.Context) ([]translog.Counter, error) {
	rows, err := db.pool.Query(ctx, `SELECT unit_id, year, last_number FROM number_counters ORDER BY unit_id, year`)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	var cs []translog.Counter
	for rows.Next() {
		var c translog.Counter
		if err := rows.Scan(&c.UnitID, &c.Year, &c.LastNumber); err != nil {
			return nil, db.mapErr(err)
		}
		cs = append(cs, c)
	}
	return cs, db.mapErr(rows.Err())
}

// AuditHashes returns the stored hash of each audit entry among ids that exists.
func (db *DB) AuditHashes(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	rows, err := db.pool.Query(ctx, `SELECT id, hash FROM audit_log WHERE id = ANY($1)`, ids)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var h string
		if err := rows.Scan(&id, &h); err != nil {
			return nil, db.mapErr(err)
		}
		out[id] = h
	}
	return out, db.mapErr(rows.Err())
}

// backfillLog builds the log of a register that has events but no leaves (one migrated from
// before the log existed) from its audit log, in audit order, each leaf anchored to the
// original audit entry, in one transaction with a log.backfill audit entry. A register with
// leaves, or without events, is left alone. Migrate calls it under the migration lock.
func (db *DB) backfillLog(ctx context.Context) error {
	return db.write(ctx, func(t *txn) error {
		n, err := logSize(ctx, t)
		if err != nil || n > 0 {
			return err
		}
		rows, err := t.Query(ctx, `SELECT id, at, action, unit_id, actor, subject, detail, prev_hash, hash FROM audit_log
			WHERE action = ANY($1) ORDER BY id`, ledger.BackfillActions)
		if err != nil {
			return err
		}
		var events []*chungthuc.AuditEntry
		for rows.Next() {
			var e chungthuc.AuditEntry
			if err := rows.Scan(&e.ID, &e.At, &e.Action, &e.UnitID, &e.Actor, &e.Subject, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
				rows.Close()
				return err
			}
			e.At = e.At.UTC()
			events = append(events, &e)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(events) == 0 {
			return err
		}
		var idx int64
		for _, e := range events {
			var c *chungthuc.Certification
			if id := ledger.SubjectID(e.Subject, "certification"); id > 0 {
				if c, err = scanCertification(t.QueryRow(ctx, `SELECT `+certificationColumns+` FROM certifications WHERE id = $1`, id)); err != nil {
					return err
				}
			}
			code, err := unitCodeOf(ctx, t, e.UnitID)
			if err != nil {
				return err
			}
			l, ok, err := ledger.Backfill(e, c, code)
			if err != nil {
				return err
			}
			if ok {
				t.leaves = append(t.leaves, pendingLeaf{event: l.Event, certID: l.CertID, bookID: l.BookID, replayAt: idx,
					build: func(context.Context, *txn) ([]byte, []byte, error) { return l.Data, l.Private, nil }})
				idx++
			}
		}
		t.audit(&chungthuc.AuditEntry{Action: ledger.ActionLogBackfill, Actor: ledger.ActorSystem, Subject: "log",
			Detail: ledger.Detail(map[string]any{"leaves": idx, "from_audit_entries": len(events)})})
		return nil
	})
}
