package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

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

// leafLog appends leaves inside one write transaction.
type leafLog struct {
	db  *DB
	ctx context.Context
	tx  *sql.Tx
	n   int // leaves appended
	// appended are the leaves appended, front the tree's frontier after them: handed to the
	// Appended hook and kept for the next transaction once committed.
	appended []chungthuc.LogLeaf
	front    *translog.Frontier
	// rebuild is set by backfillLog: the leaves rebuild history, the guard does not apply
	// (as for reconcile's replays) and no checkpoint is awaited.
	rebuild bool
}

// writeLog is write for transactions that may append leaves: after the commit it calls the
// Appended hook, which returns once a stored checkpoint covers them.
func (db *DB) writeLog(ctx context.Context, fn func(tx *sql.Tx, lg *leafLog) error) error {
	lg := &leafLog{db: db, ctx: ctx}
	err := db.write(ctx, func(tx *sql.Tx) error {
		lg.tx, lg.n, lg.appended, lg.front = tx, 0, nil, nil
		return fn(tx, lg)
	})
	if err == nil && lg.front != nil {
		db.setFrontier(lg.front)
	}
	if err == nil && lg.n > 0 && db.hooks.Appended != nil {
		db.hooks.Appended(ctx, lg.appended)
	}
	return err
}

// frontier returns the tree's frontier at size n: the one kept from the last commit when it
// has that size (one process writes the file), else read from the stored hashes. The caller
// extends a clone, kept after its commit.
func (db *DB) frontier(ctx context.Context, tx *sql.Tx, n int64) (*translog.Frontier, error) {
	db.frontMu.Lock()
	f := db.front
	db.frontMu.Unlock()
	if f != nil && f.Size() == n {
		return f.Clone(), nil
	}
	return translog.ReadFrontier(n, txHashes(ctx, tx))
}

func (db *DB) setFrontier(f *translog.Frontier) {
	db.frontMu.Lock()
	db.front = f
	db.frontMu.Unlock()
}

// transition appends the leaf of an entry's status change (c as read before the change).
func (lg *leafLog) transition(c *chungthuc.Certification, to chungthuc.Status, reason string, at *time.Time, a *chungthuc.AuditEntry) error {
	after := *c
	after.Status = to
	event := translog.EventIssued
	switch to {
	case chungthuc.StatusVoid:
		event, after.VoidReason = translog.EventVoid, reason
	case chungthuc.StatusRevoked:
		event, after.RevokeReason, after.RevokedAt = translog.EventRevoked, reason, at
	}
	code, err := unitCodeOf(lg.ctx, lg.tx, c.UnitID)
	if err != nil {
		return err
	}
	data, private, err := translog.CertificationLeaf(event, code, &after, lg.db.now(), a)
	if err != nil {
		return err
	}
	return lg.append(event, c.ID, 0, data, private)
}

func (lg *leafLog) version(c *chungthuc.Certification, sha, key string, a *chungthuc.AuditEntry) error {
	code, err := unitCodeOf(lg.ctx, lg.tx, c.UnitID)
	if err != nil {
		return err
	}
	data, private, err := translog.VersionLeaf(code, c, sha, key, lg.db.now(), a)
	if err != nil {
		return err
	}
	return lg.append(translog.EventVersion, c.ID, 0, data, private)
}

func (lg *leafLog) book(b *chungthuc.Book, a *chungthuc.AuditEntry) error {
	code, err := unitCodeOf(lg.ctx, lg.tx, b.UnitID)
	if err != nil {
		return err
	}
	data, private, err := translog.BookLeaf(code, b, lg.db.now(), a)
	if err != nil {
		return err
	}
	return lg.append(translog.EventBookClosed, 0, b.ID, data, private)
}

// append adds one leaf at the end of the log and the tree's new stored hashes, after the
// guard allowed it. The single write transaction serialises appends (and audit appends).
func (lg *leafLog) append(event string, certID, bookID int64, data, private []byte) error {
	ctx, tx := lg.ctx, lg.tx
	if !lg.rebuild {
		if err := lg.db.guardLog(ctx, tx); err != nil {
			return err
		}
	}
	n, err := logSize(ctx, tx)
	if err != nil {
		return err
	}
	if lg.front == nil || lg.front.Size() != n {
		if lg.front, err = lg.db.frontier(ctx, tx, n); err != nil {
			return err
		}
	}
	hashes, err := lg.front.Append(data)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO log_leaves (idx, event, certification_id, book_id, data, private, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, n, event, nullID(certID), nullID(bookID), data, private, ledger.FormatTime(lg.db.now())); err != nil {
		return err
	}
	lg.appended = append(lg.appended, chungthuc.LogLeaf{Index: n, Data: data, Private: private})
	base := tlog.StoredHashIndex(0, n)
	for i, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_hashes (idx, hash) VALUES (?, ?)`, base+int64(i), h[:]); err != nil {
			return err
		}
	}
	lg.n++
	return nil
}

// guardLog asks the guard whether the register may change now (Reserve).
func (db *DB) guardLog(ctx context.Context, tx *sql.Tx) error {
	if db.hooks.Guard == nil {
		return nil
	}
	return db.hooks.Guard(func() (int64, error) { return logSize(ctx, tx) }, func(size int64) ([32]byte, error) {
		h, err := tlog.TreeHash(size, txHashes(ctx, tx))
		return h, err
	})
}

func logSize(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM log_leaves`).Scan(&n)
	return n, err
}

// querier is *sql.Tx or *sql.DB.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func txHashes(ctx context.Context, q querier) tlog.HashReader {
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

func readHashes(ctx context.Context, q querier, idx []int64) ([][32]byte, error) {
	out := make([][32]byte, len(idx))
	if len(idx) == 0 {
		return out, nil
	}
	args := make([]any, len(idx))
	for i, x := range idx {
		args[i] = x
	}
	rows, err := q.QueryContext(ctx, `SELECT idx, hash FROM log_hashes WHERE idx IN (?`+strings.Repeat(", ?", len(idx)-1)+`)`, args...)
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
			return nil, fmt.Errorf("sqlite: stored log hash %d has %d bytes", i, len(h))
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

func unitCodeOf(ctx context.Context, q querier, unitID int64) (string, error) {
	var code string
	err := q.QueryRowContext(ctx, `SELECT code FROM units WHERE id = ?`, unitID).Scan(&code)
	if errors.Is(err, sql.ErrNoRows) {
		return "", chungthuc.Errorf(chungthuc.ENOTFOUND, "unit %d not found", unitID)
	}
	return code, err
}

// LogSize returns the number of leaves of the register's log.
func (db *DB) LogSize(ctx context.Context) (n int64, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		n, err = logSize(ctx, tx)
		return err
	})
	return n, err
}

// LogHashes returns the stored hashes at these indexes; ENOTFOUND when one is missing.
func (db *DB) LogHashes(ctx context.Context, indexes []int64) (hs [][32]byte, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		hs, err = readHashes(ctx, tx, indexes)
		return err
	})
	return hs, err
}

// LogLeaves returns the leaves with from ≤ index < to, in order (fewer when the log is
// shorter). EINVALID for a negative range.
func (db *DB) LogLeaves(ctx context.Context, from, to int64) ([]chungthuc.LogLeaf, error) {
	if from < 0 || to < from {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "bad leaf range [%d, %d)", from, to)
	}
	return db.leaves(ctx, `WHERE idx >= ? AND idx < ?`, from, to)
}

// LogLeavesOf returns the leaves recording events of one certification, in order.
func (db *DB) LogLeavesOf(ctx context.Context, certificationID int64) ([]chungthuc.LogLeaf, error) {
	return db.leaves(ctx, `WHERE certification_id = ?`, certificationID)
}

func (db *DB) leaves(ctx context.Context, where string, args ...any) (ls []chungthuc.LogLeaf, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT idx, data, private FROM log_leaves `+where+` ORDER BY idx`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		ls = []chungthuc.LogLeaf{}
		for rows.Next() {
			var l chungthuc.LogLeaf
			if err := rows.Scan(&l.Index, &l.Data, &l.Private); err != nil {
				return err
			}
			ls = append(ls, l)
		}
		return rows.Err()
	})
	return ls, err
}

// ForEachCertification calls fn for every entry in ID order, in one snapshot; an error from
// fn stops the walk and is returned.
func (db *DB) ForEachCertification(ctx context.Context, fn func(*chungthuc.Certification) error) error {
	return db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+certificationColumns+` FROM certifications ORDER BY id`)
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
func (db *DB) Versions(ctx context.Context) (vs []translog.VersionRecord, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT certification_id, seq, sha256, object_key, created_at
			FROM certification_versions ORDER BY certification_id, seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v translog.VersionRecord
			var at string
			if err := rows.Scan(&v.CertificationID, &v.Seq, &v.SHA256, &v.ObjectKey, &at); err != nil {
				return err
			}
			if v.CreatedAt, err = ledger.ParseTime(at); err != nil {
				return err
			}
			vs = append(vs, v)
		}
		return rows.Err()
	})
	return vs, err
}

// Counters lists the number counters.
func (db *DB) Counters(ctx context.Context) (cs []translog.Counter, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT unit_id, year, last_number FROM number_counters ORDER BY unit_id, year`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c translog.Counter
			if err := rows.Scan(&c.UnitID, &c.Year, &c.LastNumber); err != nil {
				return err
			}
			cs = append(cs, c)
		}
		return rows.Err()
	})
	return cs, err
}

// AuditHashes returns the stored hash of each audit entry among ids that exists.
func (db *DB) AuditHashes(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(ids); start += 500 {
			part := ids[start:min(start+500, len(ids))]
			args := make([]any, len(part))
			for i, x := range part {
				args[i] = x
			}
			rows, err := tx.QueryContext(ctx, `SELECT id, hash FROM audit_log WHERE id IN (?`+strings.Repeat(", ?", len(part)-1)+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				var h string
				if err := rows.Scan(&id, &h); err != nil {
					rows.Close()
					return err
				}
				out[id] = h
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// backfillLog builds the log of a register that has events but no leaves (one migrated from
// before the log existed) from its audit log, in audit order, each leaf anchored to the
// original audit entry, in one transaction with a log.backfill audit entry. A register with
// leaves, or without events, is left alone.
func (db *DB) backfillLog(ctx context.Context) error {
	return db.write(ctx, func(tx *sql.Tx) error {
		n, err := logSize(ctx, tx)
		if err != nil || n > 0 {
			return err
		}
		q := `SELECT id, at, action, unit_id, actor, subject, detail, prev_hash, hash FROM audit_log
			WHERE action IN (?` + strings.Repeat(", ?", len(ledger.BackfillActions)-1) + `) ORDER BY id`
		args := make([]any, len(ledger.BackfillActions))
		for i, a := range ledger.BackfillActions {
			args[i] = a
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		var events []*chungthuc.AuditEntry
		for rows.Next() {
			var e chungthuc.AuditEntry
			var at string
			if err := rows.Scan(&e.ID, &at, &e.Action, &e.UnitID, &e.Actor, &e.Subject, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
				rows.Close()
				return err
			}
			if e.At, err = ledger.ParseTime(at); err != nil {
				rows.Close()
				return err
			}
			events = append(events, &e)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(events) == 0 {
			return err
		}
		lg := &leafLog{db: db, ctx: ctx, tx: tx, rebuild: true}
		for _, e := range events {
			var c *chungthuc.Certification
			if id := ledger.SubjectID(e.Subject, "certification"); id > 0 {
				if c, err = certificationByID(ctx, tx, id); err != nil {
					return err
				}
			}
			code, err := unitCodeOf(ctx, tx, e.UnitID)
			if err != nil {
				return err
			}
			l, ok, err := ledger.Backfill(e, c, code)
			if err != nil {
				return err
			}
			if ok {
				if err := lg.append(l.Event, l.CertID, l.BookID, l.Data, l.Private); err != nil {
					return err
				}
			}
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{Action: ledger.ActionLogBackfill, Actor: ledger.ActorSystem, Subject: "log",
			Detail: ledger.Detail(map[string]any{"leaves": lg.n, "from_audit_entries": len(events)})})
	})
}
