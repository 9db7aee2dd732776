package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
	"github.com/chungthuc/chungthuc/translog"
)

// The repair side of the public log (translog.Restorer): replaying leaves from the object
// store into a register restored from an older backup, re-registering a stored copy from
// its PDF, closing the numbering's gaps, explaining objects. Rows are re-created the way the
// workflow makes them — born Pending with their reservation audited, then issued or voided
// with the matching audit entry in the same transaction — so the schema's permanent-record
// triggers hold; number counters are not touched by replays (they only step by one, to
// numbers that have an entry) but by CloseGaps at the end.

// ReplayLeaf applies a leaf read from the object store and appends it, byte for byte, at
// index idx (see translog.Restorer). Errors: EINVALID for a malformed leaf, ECONFLICT when
// idx is not the log's size or the register contradicts the leaf, ENOTFOUND when a revoked
// or version leaf names an entry the register does not have.
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
		r := &replayer{db: db, ctx: ctx, t: t, res: res, why: fmt.Sprintf("replayed from leaf %d of the public log", idx)}
		certID, bookID, unitID, err := ledger.ApplyLeaf(r, res, l, o)
		if err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{Action: ledger.ActionLogReplay, UnitID: unitID, Actor: ledger.ActorReconcile,
			Subject: fmt.Sprintf("log:%d", idx),
			Detail: ledger.Detail(map[string]any{"index": idx, "event": l.Event, "unit": l.Unit, "year": l.Year,
				"number": l.Number, "book": l.Book, "placeholders": res.Placeholders})})
		// The leaf goes in byte for byte (the checkpoints hash it), without the guard: the
		// register is behind by design while it is being reconciled.
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
	why string // for the audit entries it writes
}

func (r *replayer) audit(action string, unitID, certID int64, detail map[string]any) *chungthuc.AuditEntry {
	detail["why"] = r.why
	a := &chungthuc.AuditEntry{Action: action, UnitID: unitID, Actor: ledger.ActorReconcile,
		Subject: ledger.Subject("certification", certID), Detail: ledger.Detail(detail)}
	r.t.audit(a)
	return a
}

// Unit implements ledger.ReplayTx.
func (r *replayer) Unit(code string) (int64, error) {
	var id int64
	err := r.t.QueryRow(r.ctx, `SELECT id FROM units WHERE code = $1`, code).Scan(&id)
	if !errors.Is(err, pgx.ErrNoRows) {
		return id, err
	}
	err = r.t.QueryRow(r.ctx, `INSERT INTO units (code, name, place, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		code, translog.RestoredText+" "+code, code, ledger.Micro(r.db.now())).Scan(&id)
	r.res.Notes = append(r.res.Notes, fmt.Sprintf("unit %s re-created (its name and place were not in the log)", code))
	return id, err
}

// Officer (ledger.ReplayTx) returns the officer a leaf names when that officer belongs to the unit; a copy
// read back from its PDF (no id) gets the unit's officer of that name; otherwise an
// inactive officer record is made (under the leaf's id when it is free).
func (r *replayer) Officer(unitID int64, l *translog.Leaf) (int64, error) {
	if l.OfficerID <= 0 {
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
	if err == nil || id <= 0 {
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

// Row implements ledger.ReplayTx: ENOTFOUND when the register has no such entry.
func (r *replayer) Row(unitID int64, year int, number int64) (*chungthuc.Certification, error) {
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

// Insert (ledger.ReplayTx) records c as the workflow does: born Pending, its reservation audited; then
// settle moves it to c.Status.
func (r *replayer) Insert(c *chungthuc.Certification) (int64, error) {
	var id int64
	err := r.t.QueryRow(r.ctx, `INSERT INTO certifications (unit_id, book_id, book_code, year, number, token,
		access_code_hash, title, issuer, requester, search, officer_id, officer_name, officer_title, pages, fee_vnd,
		status, certified_at, created_at, copies)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'pending', $17, $18, $19) RETURNING id`,
		c.UnitID, c.BookID, c.BookCode, c.Year, c.Number, c.Token, c.AccessCodeHash, c.Title, c.Issuer, c.Requester,
		ledger.SearchKey(c), c.OfficerID, c.OfficerName, c.OfficerTitle, c.Pages, c.FeeVND, c.CertifiedAt, c.CreatedAt, max(c.Copies, 1)).Scan(&id)
	if err != nil {
		return 0, err
	}
	r.audit(ledger.ActionReserve, c.UnitID, id, map[string]any{"book": c.BookCode, "year": c.Year, "number": c.Number,
		"certified_at": ledger.FormatTime(c.CertifiedAt)})
	return id, nil
}

// settle moves Pending entry id to c.Status (issued or void) with c's copy, keys and
// reason, with its audit entry.
func (r *replayer) settle(id int64, c *chungthuc.Certification) (*chungthuc.AuditEntry, error) {
	var a *chungthuc.AuditEntry
	switch c.Status {
	case chungthuc.StatusIssued:
		a = r.audit(ledger.ActionIssue, c.UnitID, id, map[string]any{"number": c.Number, "year": c.Year, "sha256": c.SHA256})
	case chungthuc.StatusVoid:
		a = r.audit(ledger.ActionVoid, c.UnitID, id, map[string]any{"number": c.Number, "year": c.Year, "reason": c.VoidReason})
	default:
		return nil, fmt.Errorf("postgres: cannot settle an entry as %s", c.Status)
	}
	if c.ScanKeys == nil {
		c.ScanKeys = []string{}
	}
	_, err := r.t.Exec(r.ctx, `UPDATE certifications SET sha256 = $1, object_key = $2, scan_keys = $3, status = $4, void_reason = $5 WHERE id = $6`,
		nullString(c.SHA256), nullString(c.ObjectKey), c.ScanKeys, string(c.Status), c.VoidReason, id)
	return a, err
}

// Book implements ledger.ReplayTx: the leaf's time is parsed (EINVALID when malformed).
func (r *replayer) Book(unitID int64, year int, code string, number int64, at, field string) (int64, error) {
	t, err := parseLeafTime(at, field)
	if err != nil {
		return 0, err
	}
	return r.book(unitID, year, code, number, t)
}

// Settle implements ledger.ReplayTx.
func (r *replayer) Settle(id int64, c *chungthuc.Certification) error {
	_, err := r.settle(id, c)
	return err
}

// Revoke implements ledger.ReplayTx.
func (r *replayer) Revoke(c *chungthuc.Certification, l *translog.Leaf) error {
	at, err := parseLeafTime(l.RevokedAt, "revoked_at")
	if err != nil {
		return err
	}
	r.audit(ledger.ActionRevoke, c.UnitID, c.ID, map[string]any{"number": c.Number, "year": c.Year, "reason": l.Reason, "revoked_at": l.RevokedAt})
	_, err = r.t.Exec(r.ctx, `UPDATE certifications SET status = 'revoked', revoke_reason = $1, revoked_at = $2 WHERE id = $3`,
		l.Reason, at, c.ID)
	return err
}

// VersionTaken implements ledger.ReplayTx.
func (r *replayer) VersionTaken(sha string) (bool, error) {
	var taken bool
	err := r.t.QueryRow(r.ctx, `SELECT EXISTS (SELECT 1 FROM certification_versions WHERE sha256 = $1)`, sha).Scan(&taken)
	return taken, err
}

// AddVersion implements ledger.ReplayTx.
func (r *replayer) AddVersion(certID int64, l *translog.Leaf, objectKey string) error {
	at, err := parseLeafTime(l.Time, "time")
	if err != nil {
		return err
	}
	_, err = r.t.Exec(r.ctx, `INSERT INTO certification_versions (certification_id, seq, sha256, object_key, created_at)
		VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM certification_versions WHERE certification_id = $1), $2, $3, $4)`,
		certID, l.Version, objectKey, at)
	return err
}

// CloseBook implements ledger.ReplayTx.
func (r *replayer) CloseBook(id int64, l *translog.Leaf) error {
	at, err := parseLeafTime(l.ClosedAt, "closed_at")
	if err != nil {
		return err
	}
	_, err = r.t.Exec(r.ctx, `UPDATE books SET closed_at = $1, closing_count = $2, last_number = $3 WHERE id = $4 AND closed_at IS NULL`,
		at, l.ClosingCount, l.LastNumber, id)
	return err
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
// Issued (see translog.Restorer): born Pending and issued, both audited, with its issued
// leaf. c needs UnitID, Year, Number, BookCode, Token, SHA256, ObjectKey, OfficerName,
// OfficerTitle, CertifiedAt; OfficerID 0 finds the unit's officer of that name (or makes an
// inactive record). The number counter is left to CloseGaps. ECONFLICT when the number, the
// token or the copy is taken.
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
		r := &replayer{db: db, ctx: ctx, t: t, res: &translog.ReplayResult{}, why: note}
		var err error
		if c.BookID, err = r.book(c.UnitID, c.Year, c.BookCode, c.Number, c.CertifiedAt); err != nil {
			return err
		}
		if c.OfficerID, err = r.Officer(c.UnitID, &translog.Leaf{OfficerID: c.OfficerID, OfficerName: c.OfficerName, OfficerTitle: c.OfficerTitle}); err != nil {
			return err
		}
		if c.ID, err = r.Insert(c); err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{Action: ledger.ActionCopyRestored, UnitID: c.UnitID, Actor: ledger.ActorReconcile,
			Subject: "object:" + c.ObjectKey, Detail: ledger.Detail(map[string]any{"number": c.Number, "year": c.Year, "sha256": c.SHA256, "note": note})})
		c.Status = chungthuc.StatusIssued
		a, err := r.settle(c.ID, c)
		if err != nil {
			return err
		}
		cc := *c
		t.queueLeaf(translog.EventIssued, c.ID, 0, func(ctx context.Context, t *txn) ([]byte, []byte, error) {
			code, err := db.unitCode(ctx, t, cc.UnitID)
			if err != nil {
				return nil, nil, err
			}
			return translog.CertificationLeaf(translog.EventIssued, code, &cc, now, a)
		})
		return nil
	})
}

// LostNumberReason is the void reason of a number CloseGaps found without an entry.
const LostNumberReason = "Số đã được cấp sau bản sao lưu nhưng không có trong nhật ký công khai lẫn kho lưu trữ; hủy khi đối chiếu (reconcile)"

// CloseGaps makes the numbering gapless again after a reconcile and brings the number
// counters up to the highest number in the register: each number of a unit's year below
// that highest one that has no entry (reserved after the restored backup by a request that
// never finished, and in neither the log nor a stored copy) is recorded Void with that reason
// and its void leaf, then the counter steps up to the highest number. It returns the numbers
// voided ("HB 2026 no. 7").
func (db *DB) CloseGaps(ctx context.Context, note string) ([]string, error) {
	var voided []string
	err := db.write(ctx, func(t *txn) error {
		voided = nil
		if err := db.guardLog(ctx, t); err != nil {
			return err
		}
		type uy struct {
			unit int64
			year int
			high int64
			last *int64
			code string
		}
		rows, err := t.Query(ctx, `SELECT c.unit_id, c.year, MAX(c.number), n.last_number, u.code FROM certifications c
			JOIN units u ON u.id = c.unit_id
			LEFT JOIN number_counters n ON n.unit_id = c.unit_id AND n.year = c.year
			GROUP BY c.unit_id, c.year, n.last_number, u.code HAVING n.last_number IS NULL OR n.last_number < MAX(c.number)`)
		if err != nil {
			return err
		}
		var todo []uy
		for rows.Next() {
			var x uy
			if err := rows.Scan(&x.unit, &x.year, &x.high, &x.last, &x.code); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, x := range todo {
			var last int64
			if x.last == nil {
				if _, err := t.Exec(ctx, `INSERT INTO number_counters (unit_id, year, last_number) VALUES ($1, $2, 0)`, x.unit, x.year); err != nil {
					return err
				}
			} else {
				last = *x.last
			}
			for n := last + 1; n <= x.high; n++ {
				var exists bool
				if err := t.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM certifications WHERE unit_id = $1 AND year = $2 AND number = $3)`,
					x.unit, x.year, n).Scan(&exists); err != nil {
					return err
				}
				if !exists {
					if err := db.voidLost(ctx, t, x.unit, x.year, n, note); err != nil {
						return err
					}
					voided = append(voided, fmt.Sprintf("%s %d no. %d", x.code, x.year, n))
				}
				if _, err := t.Exec(ctx, `UPDATE number_counters SET last_number = $1 WHERE unit_id = $2 AND year = $3`, n, x.unit, x.year); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return voided, err
}

// voidLost records number n as Void (born Pending, then voided, audited, with its leaf), in
// the book and with the officer of the next entry of that year.
func (db *DB) voidLost(ctx context.Context, t *txn, unitID int64, year int, n int64, note string) error {
	next, err := scanCertification(t.QueryRow(ctx, `SELECT `+certificationColumns+` FROM certifications
		WHERE unit_id = $1 AND year = $2 AND number > $3 ORDER BY number LIMIT 1`, unitID, year, n))
	if err != nil {
		return err
	}
	b := make([]byte, 16)
	rand.Read(b)
	c := &chungthuc.Certification{UnitID: unitID, BookID: next.BookID, BookCode: next.BookCode, Year: year, Number: n,
		Token: "restored-" + hex.EncodeToString(b), AccessCodeHash: translog.RestoredAccessCode, Title: translog.RestoredText,
		OfficerID: next.OfficerID, CertifiedAt: next.CertifiedAt, CreatedAt: ledger.Micro(db.now()), ScanKeys: []string{},
		Status: chungthuc.StatusVoid, VoidReason: LostNumberReason}
	r := &replayer{db: db, ctx: ctx, t: t, res: &translog.ReplayResult{}, why: note}
	if c.ID, err = r.Insert(c); err != nil {
		return err
	}
	a, err := r.settle(c.ID, c)
	if err != nil {
		return err
	}
	pending := *c
	pending.Status, pending.VoidReason = chungthuc.StatusPending, ""
	t.logTransition(db, &pending, chungthuc.StatusVoid, LostNumberReason, nil, a)
	return nil
}

// ExplainObject records an operator's note for an object (ECONFLICT when it has one); the
// object then counts as accounted for (ObjectReferenced).
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
