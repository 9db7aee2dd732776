package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
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
	err = db.write(ctx, func(tx *sql.Tx) error {
		n, err := logSize(ctx, tx)
		if err != nil {
			return err
		}
		if n != idx {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "leaf %d cannot be replayed onto a log of %d leaves", idx, n)
		}
		r := &replayer{db: db, ctx: ctx, tx: tx, res: res}
		certID, bookID, unitID, err := r.apply(l, o)
		if err != nil {
			return err
		}
		a := &chungthuc.AuditEntry{Action: ledger.ActionLogReplay, UnitID: unitID, Actor: ledger.ActorReconcile,
			Subject: fmt.Sprintf("log:%d", idx),
			Detail: ledger.Detail(map[string]any{"index": idx, "event": l.Event, "unit": l.Unit, "year": l.Year,
				"number": l.Number, "book": l.Book, "placeholders": res.Placeholders})}
		if err := db.appendAudit(ctx, tx, a); err != nil {
			return err
		}
		// The leaf goes in byte for byte (it is the one the checkpoints hash), without the
		// guard: the register is behind by design while it is being reconciled.
		hashes, err := tlog.StoredHashes(idx, data, txHashes(ctx, tx))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_leaves (idx, event, certification_id, book_id, data, private, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, idx, l.Event, nullID(certID), nullID(bookID), data, nullBytes(private), ledger.FormatTime(db.now())); err != nil {
			return err
		}
		base := tlog.StoredHashIndex(0, idx)
		for i, h := range hashes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO log_hashes (idx, hash) VALUES (?, ?)`, base+int64(i), h[:]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// replayer applies one leaf inside a transaction.
type replayer struct {
	db  *DB
	ctx context.Context
	tx  *sql.Tx
	res *translog.ReplayResult
}

// apply makes the register say what l says; it returns the ids the leaf row refers to.
func (r *replayer) apply(l *translog.Leaf, o *translog.Opening) (certID, bookID, unitID int64, err error) {
	if l.Event == translog.EventReconciled {
		return 0, 0, 0, nil
	}
	unitID, err = r.unit(l.Unit)
	if err != nil {
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
	err := r.tx.QueryRowContext(r.ctx, `SELECT id FROM units WHERE code = ?`, code).Scan(&id)
	if !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	// The unit was created after the backup: re-create it under its code.
	name := translog.RestoredText + " " + code
	err = r.tx.QueryRowContext(r.ctx, `INSERT INTO units (code, name, place, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		code, name, code, ledger.FormatTime(r.db.now())).Scan(&id)
	r.res.Notes = append(r.res.Notes, fmt.Sprintf("unit %s re-created (its name and place were not in the log)", code))
	return id, err
}

func (r *replayer) officer(unitID int64, l *translog.Leaf) (int64, error) {
	if l.OfficerID <= 0 { // a copy read back from its PDF: the unit's officer of that name
		var id int64
		err := r.tx.QueryRowContext(r.ctx, `SELECT id FROM officers WHERE unit_id = ? AND name = ? ORDER BY id LIMIT 1`, unitID, l.OfficerName).Scan(&id)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return id, err
		}
	}
	var unit sql.NullInt64
	err := r.tx.QueryRowContext(r.ctx, `SELECT unit_id FROM officers WHERE id = ?`, l.OfficerID).Scan(&unit)
	if err == nil && unit.Int64 == unitID {
		return l.OfficerID, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	id := l.OfficerID
	q := `INSERT INTO officers (id, unit_id, name, title, role, active, created_at) VALUES (?, ?, ?, ?, 'officer', 0, ?) RETURNING id`
	args := []any{id, unitID, l.OfficerName, l.OfficerTitle, ledger.FormatTime(r.db.now())}
	if err == nil || id <= 0 { // the id is taken by an officer of another unit (or unknown): a new id
		q = `INSERT INTO officers (unit_id, name, title, role, active, created_at) VALUES (?, ?, ?, 'officer', 0, ?) RETURNING id`
		args = args[1:]
	}
	if err := r.tx.QueryRowContext(r.ctx, q, args...).Scan(&id); err != nil {
		return 0, err
	}
	r.res.Notes = append(r.res.Notes, fmt.Sprintf("officer %d (%s) re-created as officer %d, inactive", l.OfficerID, l.OfficerName, id))
	return id, nil
}

// book finds or re-creates the book of a leaf and keeps its last number up to number.
func (r *replayer) book(unitID int64, year int, code string, number int64, at string) (int64, error) {
	var id, last int64
	err := r.tx.QueryRowContext(r.ctx, `SELECT id, last_number FROM books WHERE unit_id = ? AND year = ? AND code = ?`, unitID, year, code).Scan(&id, &last)
	if errors.Is(err, sql.ErrNoRows) {
		seq, err := ledger.BookSeq(code)
		if err != nil {
			return 0, err
		}
		// A book opened after the backup; the open one of the year (if any) was closed then.
		if _, err := r.tx.ExecContext(r.ctx, `UPDATE books SET closed_at = ? WHERE unit_id = ? AND year = ? AND closed_at IS NULL AND seq < ?`,
			at, unitID, year, seq); err != nil {
			return 0, err
		}
		first := max(number, 1)
		err = r.tx.QueryRowContext(r.ctx, `INSERT INTO books (unit_id, year, seq, code, first_number, last_number, opened_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, unitID, year, seq, code, first, first-1, at).Scan(&id)
		if err != nil {
			return 0, err
		}
		r.res.Notes = append(r.res.Notes, "book "+code+" re-created")
	} else if err != nil {
		return 0, err
	}
	if number > last {
		if _, err := r.tx.ExecContext(r.ctx, `UPDATE books SET last_number = ? WHERE id = ?`, number, id); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// counter advances the unit's counter of the year to at least number.
func (r *replayer) counter(unitID int64, year int, number int64) error {
	_, err := r.tx.ExecContext(r.ctx, `INSERT INTO number_counters (unit_id, year, last_number) VALUES (?, ?, ?)
		ON CONFLICT (unit_id, year) DO UPDATE SET last_number = max(last_number, excluded.last_number)`, unitID, year, number)
	return err
}

func (r *replayer) row(unitID int64, year int, number int64) (*chungthuc.Certification, error) {
	c, err := scanCertification(r.tx.QueryRowContext(r.ctx, `SELECT `+certificationColumns+` FROM certifications
		WHERE unit_id = ? AND year = ? AND number = ?`, unitID, year, number))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no entry no. %d of %d", number, year)
	}
	return c, err
}

func (r *replayer) entry(unitID int64, l *translog.Leaf, o *translog.Opening) (int64, error) {
	r.res.Row = fmt.Sprintf("%s %d no. %d", l.Unit, l.Year, l.Number)
	bookID, err := r.book(unitID, l.Year, l.Book, l.Number, l.CertifiedAt)
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
		// The backup caught the entry Pending: finish it as the log says.
		if old.Status != chungthuc.StatusPending || translog.TokenHash(old.Token) != l.TokenSHA256 {
			return 0, chungthuc.Errorf(chungthuc.ECONFLICT, "the register's entry %s (%s) contradicts the log's %s leaf", r.res.Row, old.Status, l.Event)
		}
		_, err = r.tx.ExecContext(r.ctx, `UPDATE certifications SET status = ?, void_reason = ?, sha256 = ?, object_key = ? WHERE id = ?`,
			string(c.Status), c.VoidReason, nullString(c.SHA256), nullString(c.ObjectKey), old.ID)
		return old.ID, err
	} else if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		return 0, err
	}
	if c.OfficerID, err = r.officer(unitID, l); err != nil {
		return 0, err
	}
	r.res.Created, r.res.Placeholders = true, placeholders
	scanKeys, _ := json.Marshal(c.ScanKeys)
	var id int64
	err = r.tx.QueryRowContext(r.ctx, `INSERT INTO certifications (unit_id, book_id, book_code, year, number, token,
		access_code_hash, title, issuer, requester, search, officer_id, officer_name, officer_title, pages, fee_vnd,
		sha256, object_key, scan_keys, status, void_reason, certified_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.UnitID, c.BookID, c.BookCode, c.Year, c.Number, c.Token, c.AccessCodeHash, c.Title, c.Issuer, c.Requester,
		ledger.SearchKey(c), c.OfficerID, c.OfficerName, c.OfficerTitle, c.Pages, c.FeeVND,
		nullString(c.SHA256), nullString(c.ObjectKey), string(scanKeys), string(c.Status), c.VoidReason,
		ledger.FormatTime(c.CertifiedAt), ledger.FormatTime(c.CreatedAt)).Scan(&id)
	return id, err
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
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
	_, err = r.tx.ExecContext(r.ctx, `UPDATE certifications SET status = 'revoked', revoke_reason = ?, revoked_at = ? WHERE id = ?`,
		l.Reason, l.RevokedAt, c.ID)
	return c.ID, err
}

func (r *replayer) version(unitID int64, l *translog.Leaf, o *translog.Opening) (int64, error) {
	r.res.Row = fmt.Sprintf("%s %d no. %d, version %s", l.Unit, l.Year, l.Number, l.Version)
	c, err := r.row(unitID, l.Year, l.Number)
	if err != nil {
		return 0, err
	}
	var n int
	if err := r.tx.QueryRowContext(r.ctx, `SELECT count(*) FROM certification_versions WHERE sha256 = ?`, l.Version).Scan(&n); err != nil {
		return 0, err
	}
	if n > 0 {
		return c.ID, nil
	}
	key := ""
	if o != nil {
		key = o.ObjectKey
	}
	if key == "" {
		return 0, chungthuc.Errorf(chungthuc.EINVALID, "the version leaf of %s carries no object key", r.res.Row)
	}
	_, err = r.tx.ExecContext(r.ctx, `INSERT INTO certification_versions (certification_id, seq, sha256, object_key, created_at)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM certification_versions WHERE certification_id = ?), ?, ?, ?)`,
		c.ID, c.ID, l.Version, key, l.Time)
	r.res.Created = true
	return c.ID, err
}

func (r *replayer) closeBook(unitID int64, l *translog.Leaf) (int64, error) {
	r.res.Row = fmt.Sprintf("%s book %s", l.Unit, l.Book)
	id, err := r.book(unitID, l.Year, l.Book, l.LastNumber, l.ClosedAt)
	if err != nil {
		return 0, err
	}
	_, err = r.tx.ExecContext(r.ctx, `UPDATE books SET closed_at = ?, closing_count = ?, last_number = ? WHERE id = ? AND closed_at IS NULL`,
		l.ClosedAt, l.ClosingCount, l.LastNumber, id)
	return id, err
}

// AppendReconciled appends the leaf recording that leaves [from, to) were replayed, with
// its audit entry, and waits for its checkpoint like any other change.
func (db *DB) AppendReconciled(ctx context.Context, from, to int64, note string) error {
	return db.writeLog(ctx, func(tx *sql.Tx, lg *leafLog) error {
		a := &chungthuc.AuditEntry{Action: ledger.ActionLogReconciled, Actor: ledger.ActorReconcile, Subject: "log",
			Detail: ledger.Detail(map[string]any{"restored_from": from, "restored_to": to, "note": note})}
		if err := db.appendAudit(ctx, tx, a); err != nil {
			return err
		}
		data, _, err := translog.ReconciledLeaf(from, to, note, db.now(), a)
		if err != nil {
			return err
		}
		return lg.append(translog.EventReconciled, 0, 0, data, nil)
	})
}

// RegisterCopy records a copy found in the object store with neither row nor leaf as
// Issued (see translog.Restorer). c needs UnitID, Year, Number, BookCode, Token, SHA256,
// ObjectKey, OfficerName, OfficerTitle, CertifiedAt; OfficerID may be 0 (an inactive
// officer record is then made). ECONFLICT when the number or the token is taken.
func (db *DB) RegisterCopy(ctx context.Context, c *chungthuc.Certification, note string) error {
	now := ledger.Micro(db.now())
	c.CertifiedAt, c.CreatedAt = ledger.Micro(c.CertifiedAt), now
	return db.writeLog(ctx, func(tx *sql.Tx, lg *leafLog) error {
		if err := db.guardLog(ctx, tx); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM certifications WHERE (unit_id = ? AND year = ? AND number = ?) OR token = ? OR sha256 = ?`,
			c.UnitID, c.Year, c.Number, c.Token, c.SHA256).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "the register already has number %d of %d, this token or this copy", c.Number, c.Year)
		}
		code, err := unitCodeOf(ctx, tx, c.UnitID)
		if err != nil {
			return err
		}
		r := &replayer{db: db, ctx: ctx, tx: tx, res: &translog.ReplayResult{}}
		if c.BookID, err = r.book(c.UnitID, c.Year, c.BookCode, c.Number, ledger.FormatTime(c.CertifiedAt)); err != nil {
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
		scanKeys, _ := json.Marshal(c.ScanKeys)
		err = tx.QueryRowContext(ctx, `INSERT INTO certifications (unit_id, book_id, book_code, year, number, token,
			access_code_hash, title, issuer, requester, search, officer_id, officer_name, officer_title, pages, fee_vnd,
			sha256, object_key, scan_keys, status, certified_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.UnitID, c.BookID, c.BookCode, c.Year, c.Number, c.Token, c.AccessCodeHash, c.Title, c.Issuer, c.Requester,
			ledger.SearchKey(c), c.OfficerID, c.OfficerName, c.OfficerTitle, c.Pages, c.FeeVND,
			c.SHA256, c.ObjectKey, string(scanKeys), string(c.Status), ledger.FormatTime(c.CertifiedAt), ledger.FormatTime(c.CreatedAt)).Scan(&c.ID)
		if err != nil {
			return err
		}
		a := &chungthuc.AuditEntry{Action: ledger.ActionCopyRestored, UnitID: c.UnitID, Actor: ledger.ActorReconcile,
			Subject: ledger.Subject("certification", c.ID),
			Detail:  ledger.Detail(map[string]any{"number": c.Number, "year": c.Year, "sha256": c.SHA256, "note": note})}
		if err := db.appendAudit(ctx, tx, a); err != nil {
			return err
		}
		data, private, err := translog.CertificationLeaf(translog.EventIssued, code, c, now, a)
		if err != nil {
			return err
		}
		return lg.append(translog.EventIssued, c.ID, 0, data, private)
	})
}

// ExplainObject records an operator's note for an object (ECONFLICT when it has one).
func (db *DB) ExplainObject(ctx context.Context, key, note, actor string) error {
	note = strings.TrimSpace(note)
	if key == "" || note == "" || actor == "" {
		return chungthuc.Errorf(chungthuc.EINVALID, "an object note needs a key, a note and an actor")
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO object_notes (key, note, actor, created_at) VALUES (?, ?, ?, ?)`,
			key, note, actor, ledger.FormatTime(db.now())); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{Action: ledger.ActionObjectNote, Actor: actor, Subject: "object:" + key,
			Detail: ledger.Detail(map[string]any{"note": note})})
	})
}

// ObjectNotes returns the operators' notes on objects, by key.
func (db *DB) ObjectNotes(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT key, note FROM object_notes`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k, n string
			if err := rows.Scan(&k, &n); err != nil {
				return err
			}
			out[k] = n
		}
		return rows.Err()
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
