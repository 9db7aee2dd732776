package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
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

// ReplayLeaf applies a leaf read from the object store and appends it at index idx (see
// translog.Restorer). Errors: EINVALID for a malformed leaf, ECONFLICT when idx is not the
// log's size or the register contradicts the leaf, ENOTFOUND when a revoked or version
// leaf names an entry the register does not have.
func (db *DB) ReplayLeaf(ctx context.Context, idx int64, data, private []byte) (*translog.ReplayResult, error) {
	l, err := translog.ParseLeaf(data)
	if err != nil {
		return nil, err
	}
	o, err := translog.ParseOpening(private)
	if err != nil {
		return nil, err
	}
	res := &translog.ReplayResult{Event: l.Event}
	err = db.write(ctx, func(t *txn) error {
		n, err := logSize(ctx, t)
		if err != nil {
			return err
		}
		if n != idx {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "leaf %d cannot be replayed onto a log of %d leaves", idx, n)
		}
		r := &replayer{db: db, ctx: ctx, t: t, res: res}
		certID, bookID, unitID, err := r.apply(l, o)
		if err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{Action: ledger.ActionLogReplay, UnitID: unitID, Actor: ledger.ActorReconcile,
			Subject: fmt.Sprintf("log:%d", idx),
			Detail: ledger.Detail(map[string]any{"index": idx, "event": l.Event, "unit": l.Unit, "year": l.Year,
				"number": l.Number, "book": l.Book, "placeholders": res.Placeholders})})
		// The leaf goes in byte for byte (it is the one the checkpoints hash), without the
		// guard: the register is behind by design while it is being reconciled.
		t.leaves = append(t.leaves, pendingLeaf{event: l.Event, certID: certID, bookID: bookID, replayAt: idx,
			build: func(context.Context, *txn) ([]byte, []byte, error) { return data, private, nil }})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// replayer applies one leaf inside a transaction.
type replayer struct {
	db  *DB
	ctx context.Context
	t   *txn
	res *translog.ReplayResult
}

func (r *replayer) apply(l *translog.Leaf, o *translog.Opening) (certID, bookID, unitID int64, err error) {
	if l.Event == translog.EventReconciled {
		return 0, 0, 0, nil
	}
	if unitID, err = r.unit(l.Unit); err != nil {
		return 0, 0, 0, err
	}
	switch l.Event {
	case translog.EventBookClosed:
		bookID, err = r.closeBook(unitID, l)
		return 0, bookID, unitID, err
	case translog.EventIssued, translog.EventVoid:
		certID, err = r.entry(unitID, l, o)
	case translog.EventRevoked:
		certID, err = r.revoke(unitID, l)
	case translog.EventVersion:
		certID, err = r.version(unitID, l, o)
	}
	return certID, 0, unitID, err
}

func (r *replayer) unit(code string) (int64, error) {
	var id int64
	err := r.t.QueryRow(r.ctx, `SELECT id FROM units WHERE code = $1`, code).Scan(&id)
	if !errors.Is(err, pgx.ErrNoRows) {
		return id, err
	}
	name := translog.RestoredText + " " + code
	err = r.t.QueryRow(r.ctx, `INSERT INTO units (code, name, place, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		code, name, code, ledger.Micro(r.db.now())).Scan(&id)
	r.res.Notes = append(r.res.Notes, fmt.Sprintf("unit %s re-created (its name and place were not in the log)", code))
	return id, err
}

func (r *replayer) officer(unitID int64, l *translog.Leaf) (int64, error) {
	if l.OfficerID <= 0 { // a copy read back from its PDF: the unit's officer of that name
		var id int64
		err := r.t.QueryRow(r.ctx, `SELECT id FROM officers WHERE unit_id = $1 AND name = $2 ORDER BY id LIMIT 1`, unitID, l.OfficerName).Scan(&id)
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return id, err
		}
	}
	var unit *int64
	err := r.t.QueryRow(r.ctx, `SELECT unit_id FROM officers WHERE id = $1`, l.OfficerID).Scan(&unit)
	if err == nil && unit != nil && *unit == unitID {
		return l.OfficerID, nil
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, err
	}
	id := l.OfficerID
	now := ledger.Micro(r.db.now())
	if err == nil || id <= 0 { // the id is taken by an officer of another unit: a new id
		err = r.t.QueryRow(r.ctx, `INSERT INTO officers (unit_id, name, title, role, active, created_at)
			VALUES ($1, $2, $3, 'officer', false, $4) RETURNING id`, unitID, l.OfficerName, l.OfficerTitle, now).Scan(&id)
	} else {
		_, err = r.t.Exec(r.ctx, `INSERT INTO officers (id, unit_id, name, title, role, active, created_at) OVERRIDING SYSTEM VALUE
			VALUES ($1, $2, $3, $4, 'officer', false, $5)`, id, unitID, l.OfficerName, l.OfficerTitle, now)
		if err == nil {
			_, err = r.t.Exec(r.ctx, `SELECT setval(pg_get_serial_sequence('officers', 'id'), (SELECT max(id) FROM officers))`)
		}
	}
	if err != nil {
		return 0, err
	}
	r.res.Notes = append(r.res.Notes, fmt.Sprintf("officer %d (%s) re-created as officer %d, inactive", l.OfficerID, l.OfficerName, id))
	return id, nil
}

func (r *replayer) book(unitID int64, year int, code string, number int64, at time.Time) (int64, error) {
	var id, last int64
	err := r.t.QueryRow(r.ctx, `SELECT id, last_number FROM books WHERE unit_id = $1 AND year = $2 AND code = $3`, unitID, year, code).Scan(&id, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		seq, err := ledger.BookSeq(code)
		if err != nil {
			return 0, err
		}
		if _, err := r.t.Exec(r.ctx, `UPDATE books SET closed_at = $1 WHERE unit_id = $2 AND year = $3 AND closed_at IS NULL AND seq < $4`,
			at, unitID, year, seq); err != nil {
			return 0, err
		}
		first := max(number, 1)
		if err := r.t.QueryRow(r.ctx, `INSERT INTO books (unit_id, year, seq, code, first_number, last_number, opened_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, unitID, year, seq, code, first, first-1, at).Scan(&id); err != nil {
			return 0, err
		}
		r.res.Notes = append(r.res.Notes, "book "+code+" re-created")
	} else if err != nil {
		return 0, err
	}
	if number > last {
		if _, err := r.t.Exec(r.ctx, `UPDATE books SET last_number = $1 WHERE id = $2`, number, id); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func (r *replayer) counter(unitID int64, year int, number int64) error {
	_, err := r.t.Exec(r.ctx, `INSERT INTO number_counters AS n (unit_id, year, last_number) VALUES ($1, $2, $3)
		ON CONFLICT (unit_id, year) DO UPDATE SET last_number = GREATEST(n.last_number, EXCLUDED.last_number)`, unitID, year, number)
	return err
}

func (r *replayer) row(unitID int64, year int, number int64) (*chungthuc.Certification, error) {
	c, err := scanCertification(r.t.QueryRow(r.ctx, `SELECT `+certificationColumns+` FROM certifications
		WHERE unit_id = $1 AND year = $2 AND number = $3 FOR UPDATE`, unitID, year, number))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no entry no. %d of %d", number, year)
	}
	return c, err
}

func parseLeafTime(s, what string) (time.Time, error) {
	t, err := translog.ParseTime(s)
	if err != nil {
		return time.Time{}, chungthuc.Errorf(chungthuc.EINVALID, "leaf with a malformed %s", what)
	}
	return t, nil
}

func (r *replayer) entry(unitID int64, l *translog.Leaf, o *translog.Opening) (int64, error) {
	r.res.Row = fmt.Sprintf("%s %d no. %d", l.Unit, l.Year, l.Number)
	at, err := parseLeafTime(l.CertifiedAt, "certified_at")
	if err != nil {
		return 0, err
	}
	bookID, err := r.book(unitID, l.Year, l.Book, l.Number, at)
	if err != nil {
		return 0, err
	}
	if err := r.counter(unitID, l.Year, l.Number); err != nil {
		return 0, err
	}
	c, placeholders, err := ledger.RestoredEntry(l, o, unitID, bookID)
	if err != nil {
		return 0, err
	}
	old, err := r.row(unitID, l.Year, l.Number)
	if err == nil {
		if old.Status != chungthuc.StatusPending || translog.TokenHash(old.Token) != l.TokenSHA256 {
			return 0, chungthuc.Errorf(chungthuc.ECONFLICT, "the register's entry %s (%s) contradicts the log's %s leaf", r.res.Row, old.Status, l.Event)
		}
		_, err = r.t.Exec(r.ctx, `UPDATE certifications SET status = $1, void_reason = $2, sha256 = $3, object_key = $4 WHERE id = $5`,
			string(c.Status), c.VoidReason, nullString(c.SHA256), nullString(c.ObjectKey), old.ID)
		return old.ID, err
	} else if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		return 0, err
	}
	if c.OfficerID, err = r.officer(unitID, l); err != nil {
		return 0, err
	}
	r.res.Created, r.res.Placeholders = true, placeholders
	var id int64
	err = r.t.QueryRow(r.ctx, `INSERT INTO certifications (unit_id, book_id, book_code, year, number, token,
		access_code_hash, title, issuer, requester, search, officer_id, officer_name, officer_title, pages, fee_vnd,
		sha256, object_key, scan_keys, status, void_reason, certified_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) RETURNING id`,
		c.UnitID, c.BookID, c.BookCode, c.Year, c.Number, c.Token, c.AccessCodeHash, c.Title, c.Issuer, c.Requester,
		ledger.SearchKey(c), c.OfficerID, c.OfficerName, c.OfficerTitle, c.Pages, c.FeeVND,
		nullString(c.SHA256), nullString(c.ObjectKey), c.ScanKeys, string(c.Status), c.VoidReason,
		c.CertifiedAt, c.CreatedAt).Scan(&id)
	return id, err
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r *replayer) revoke(unitID int64, l *translog.Leaf) (int64, error) {
	r.res.Row = fmt.Sprintf("%s %d no. %d", l.Unit, l.Year, l.Number)
	c, err := r.row(unitID, l.Year, l.Number)
	if err != nil {
		return 0, err
	}
	if c.Status == chungthuc.StatusRevoked {
		return c.ID, nil
	}
	if c.Status != chungthuc.StatusIssued || translog.TokenHash(c.Token) != l.TokenSHA256 && !strings.HasPrefix(c.Token, "restored-") {
		return 0, chungthuc.Errorf(chungthuc.ECONFLICT, "the register's entry %s (%s) contradicts the log's revocation", r.res.Row, c.Status)
	}
	at, err := parseLeafTime(l.RevokedAt, "revoked_at")
	if err != nil {
		return 0, err
	}
	_, err = r.t.Exec(r.ctx, `UPDATE certifications SET status = 'revoked', revoke_reason = $1, revoked_at = $2 WHERE id = $3`,
		l.Reason, at, c.ID)
	return c.ID, err
}

func (r *replayer) version(unitID int64, l *translog.Leaf, o *translog.Opening) (int64, error) {
	r.res.Row = fmt.Sprintf("%s %d no. %d, version %s", l.Unit, l.Year, l.Number, l.Version)
	c, err := r.row(unitID, l.Year, l.Number)
	if err != nil {
		return 0, err
	}
	var taken bool
	if err := r.t.QueryRow(r.ctx, `SELECT EXISTS (SELECT 1 FROM certification_versions WHERE sha256 = $1)`, l.Version).Scan(&taken); err != nil {
		return 0, err
	}
	if taken {
		return c.ID, nil
	}
	if o == nil || o.ObjectKey == "" {
		return 0, chungthuc.Errorf(chungthuc.EINVALID, "the version leaf of %s carries no object key", r.res.Row)
	}
	at, err := parseLeafTime(l.Time, "time")
	if err != nil {
		return 0, err
	}
	_, err = r.t.Exec(r.ctx, `INSERT INTO certification_versions (certification_id, seq, sha256, object_key, created_at)
		VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM certification_versions WHERE certification_id = $1), $2, $3, $4)`,
		c.ID, l.Version, o.ObjectKey, at)
	r.res.Created = true
	return c.ID, err
}

func (r *replayer) closeBook(unitID int64, l *translog.Leaf) (int64, error) {
	r.res.Row = fmt.Sprintf("%s book %s", l.Unit, l.Book)
	at, err := parseLeafTime(l.ClosedAt, "closed_at")
	if err != nil {
		return 0, err
	}
	id, err := r.book(unitID, l.Year, l.Book, l.LastNumber, at)
	if err != nil {
		return 0, err
	}
	_, err = r.t.Exec(r.ctx, `UPDATE books SET closed_at = $1, closing_count = $2, last_number = $3 WHERE id = $4 AND closed_at IS NULL`,
		at, l.ClosingCount, l.LastNumber, id)
	return id, err
}

// AppendReconciled appends the leaf recording that leaves [from, to) were replayed, with
// its audit entry, and waits for its checkpoint like any other change.
func (db *DB) AppendReconciled(ctx context.Context, from, to int64, note string) error {
	return db.write(ctx, func(t *txn) error {
		a := &chungthuc.AuditEntry{Action: ledger.ActionLogReconciled, Actor: ledger.ActorReconcile, Subject: "log",
			Detail: ledger.Detail(map[string]any{"restored_from": from, "restored_to": to, "note": note})}
		t.audit(a)
		t.queueLeaf(translog.EventReconciled, 0, 0, func(context.Context, *txn) ([]byte, []byte, error) {
			return translog.ReconciledLeaf(from, to, note, db.now(), a)
		})
		return nil
	})
}

// RegisterCopy records a copy found in the object store with neither row nor leaf as
// Issued (see translog.Restorer). c needs UnitID, Year, Number, BookCode, Token, SHA256,
// ObjectKey, OfficerName, OfficerTitle, CertifiedAt; OfficerID may be 0 (an inactive
// officer record is then made). ECONFLICT when the number or the token is taken.
func (db *DB) RegisterCopy(ctx context.Context, c *chungthuc.Certification, note string) error {
	now := ledger.Micro(db.now())
	c.CertifiedAt, c.CreatedAt = ledger.Micro(c.CertifiedAt), now
	return db.write(ctx, func(t *txn) error {
		if err := db.guardLog(ctx, t); err != nil {
			return err
		}
		var taken bool
		if err := t.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM certifications WHERE (unit_id = $1 AND year = $2 AND number = $3) OR token = $4 OR sha256 = $5)`,
			c.UnitID, c.Year, c.Number, c.Token, c.SHA256).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "the register already has number %d of %d, this token or this copy", c.Number, c.Year)
		}
		r := &replayer{db: db, ctx: ctx, t: t, res: &translog.ReplayResult{}}
		var err error
		if _, err := lockCounter(ctx, t, c.UnitID, c.Year); err != nil {
			return err
		}
		if c.BookID, err = r.book(c.UnitID, c.Year, c.BookCode, c.Number, c.CertifiedAt); err != nil {
			return err
		}
		if err := r.counter(c.UnitID, c.Year, c.Number); err != nil {
			return err
		}
		if c.OfficerID, err = r.officer(c.UnitID, &translog.Leaf{OfficerID: c.OfficerID, OfficerName: c.OfficerName, OfficerTitle: c.OfficerTitle}); err != nil {
			return err
		}
		c.Status = chungthuc.StatusIssued
		if c.ScanKeys == nil {
			c.ScanKeys = []string{}
		}
		if err := t.QueryRow(ctx, `INSERT INTO certifications (unit_id, book_id, book_code, year, number, token,
			access_code_hash, title, issuer, requester, search, officer_id, officer_name, officer_title, pages, fee_vnd,
			sha256, object_key, scan_keys, status, certified_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) RETURNING id`,
			c.UnitID, c.BookID, c.BookCode, c.Year, c.Number, c.Token, c.AccessCodeHash, c.Title, c.Issuer, c.Requester,
			ledger.SearchKey(c), c.OfficerID, c.OfficerName, c.OfficerTitle, c.Pages, c.FeeVND,
			c.SHA256, c.ObjectKey, c.ScanKeys, string(c.Status), c.CertifiedAt, c.CreatedAt).Scan(&c.ID); err != nil {
			return err
		}
		a := &chungthuc.AuditEntry{Action: ledger.ActionCopyRestored, UnitID: c.UnitID, Actor: ledger.ActorReconcile,
			Subject: ledger.Subject("certification", c.ID),
			Detail:  ledger.Detail(map[string]any{"number": c.Number, "year": c.Year, "sha256": c.SHA256, "note": note})}
		t.audit(a)
		cc := *c
		t.queueLeaf(translog.EventIssued, c.ID, 0, func(ctx context.Context, t *txn) ([]byte, []byte, error) {
			code, err := unitCodeOf(ctx, t, cc.UnitID)
			if err != nil {
				return nil, nil, err
			}
			return translog.CertificationLeaf(translog.EventIssued, code, &cc, now, a)
		})
		return nil
	})
}

// ExplainObject records an operator's note for an object (ECONFLICT when it has one).
func (db *DB) ExplainObject(ctx context.Context, key, note, actor string) error {
	note = strings.TrimSpace(note)
	if key == "" || note == "" || actor == "" {
		return chungthuc.Errorf(chungthuc.EINVALID, "an object note needs a key, a note and an actor")
	}
	return db.write(ctx, func(t *txn) error {
		if _, err := t.Exec(ctx, `INSERT INTO object_notes (key, note, actor, created_at) VALUES ($1, $2, $3, $4)`,
			key, note, actor, ledger.Micro(db.now())); err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{Action: ledger.ActionObjectNote, Actor: actor, Subject: "object:" + key,
			Detail: ledger.Detail(map[string]any{"note": note})})
		return nil
	})
}

// ObjectNotes returns the operators' notes on objects, by key.
func (db *DB) ObjectNotes(ctx context.Context) (map[string]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT key, note FROM object_notes`)
	if err != nil {
		return nil, db.mapErr(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, n string
		if err := rows.Scan(&k, &n); err != nil {
			return nil, db.mapErr(err)
		}
		out[k] = n
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
