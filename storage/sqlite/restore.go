package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
	"github.com/chungthuc/chungthuc/translog"
)

// The repair side of the public log (translog.Restorer): replaying leaves from the object
// store into a register restored from an older backup, re-registering a stored copy from
// its PDF, closing the numbering's gaps, explaining objects. Rows are re-created the way the
// workflow makes them — born Pending with their reservation audited, then issued or voided
// with the matching audit entry — so the schema's permanent-record triggers hold; number
// counters are not touched by replays (they only step by one, to numbers that have an
// entry) but by CloseGaps at the end.

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
	err = db.write(ctx, func(tx *sql.Tx) error {
		n, err := logSize(ctx, tx)
		if err != nil {
			return err
		}
		if n != idx {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "leaf %d cannot be replayed onto a log of %d leaves", idx, n)
		}
		r := &replayer{db: db, ctx: ctx, tx: tx, res: res, why: fmt.Sprintf("replayed from leaf %d of the public log", idx)}
		certID, bookID, unitID, err := ledger.ApplyLeaf(r, res, l, o)
		if err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, &chungthuc.AuditEntry{Action: ledger.ActionLogReplay, UnitID: unitID, Actor: ledger.ActorReconcile,
			Subject: fmt.Sprintf("log:%d", idx),
			Detail: ledger.Detail(map[string]any{"index": idx, "event": l.Event, "unit": l.Unit, "year": l.Year,
				"number": l.Number, "book": l.Book, "placeholders": res.Placeholders})}); err != nil {
			return err
		}
		// The leaf goes in byte for byte (the checkpoints hash it), without the guard: the
		// register is behind by design while it is being reconciled.
		lg := &leafLog{db: db, ctx: ctx, tx: tx, rebuild: true}
		return lg.append(l.Event, certID, bookID, data, private)
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
	tx  *sql.Tx
	res *translog.ReplayResult
	why string // for the audit entries it writes
}

func (r *replayer) audit(action string, unitID, certID int64, detail map[string]any) error {
	detail["why"] = r.why
	return r.db.appendAudit(r.ctx, r.tx, &chungthuc.AuditEntry{Action: action, UnitID: unitID, Actor: ledger.ActorReconcile,
		Subject: ledger.Subject("certification", certID), Detail: ledger.Detail(detail)})
}

// Unit implements ledger.ReplayTx.
func (r *replayer) Unit(code string) (int64, error) {
	var id int64
	err := r.tx.QueryRowContext(r.ctx, `SELECT id FROM units WHERE code = ?`, code).Scan(&id)
	if !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	// The unit was created after the backup: re-create it under its code.
	err = r.tx.QueryRowContext(r.ctx, `INSERT INTO units (code, name, place, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		code, translog.RestoredText+" "+code, code, ledger.FormatTime(r.db.now())).Scan(&id)
	r.res.Notes = append(r.res.Notes, fmt.Sprintf("unit %s re-created (its name and place were not in the log)", code))
	return id, err
}

// Officer (ledger.ReplayTx) returns the officer a leaf names when that officer belongs to the unit; a copy
// read back from its PDF (no id) gets the unit's officer of that name; otherwise an
// inactive officer record is made (under the leaf's id when it is free).
func (r *replayer) Officer(unitID int64, l *translog.Leaf) (int64, error) {
	if l.OfficerID <= 0 {
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
	if err == nil || id <= 0 {
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
		if err := r.tx.QueryRowContext(r.ctx, `INSERT INTO books (unit_id, year, seq, code, first_number, last_number, opened_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, unitID, year, seq, code, first, first-1, at).Scan(&id); err != nil {
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

// Row implements ledger.ReplayTx: ENOTFOUND when the register has no such entry.
func (r *replayer) Row(unitID int64, year int, number int64) (*chungthuc.Certification, error) {
	c, err := scanCertification(r.tx.QueryRowContext(r.ctx, `SELECT `+certificationColumns+` FROM certifications
		WHERE unit_id = ? AND year = ? AND number = ?`, unitID, year, number))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no entry no. %d of %d", number, year)
	}
	return c, err
}

// Insert (ledger.ReplayTx) records c as the workflow does: born Pending, its reservation audited; then
// settle moves it to c.Status.
func (r *replayer) Insert(c *chungthuc.Certification) (int64, error) {
	var id int64
	err := r.tx.QueryRowContext(r.ctx, `INSERT INTO certifications (unit_id, book_id, book_code, year, number, token,
		access_code_hash, title, issuer, requester, search, officer_id, officer_name, officer_title, pages, fee_vnd,
		status, certified_at, created_at, copies)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id`,
		c.UnitID, c.BookID, c.BookCode, c.Year, c.Number, c.Token, c.AccessCodeHash, c.Title, c.Issuer, c.Requester,
		ledger.SearchKey(c), c.OfficerID, c.OfficerName, c.OfficerTitle, c.Pages, c.FeeVND,
		ledger.FormatTime(c.CertifiedAt), ledger.FormatTime(c.CreatedAt), max(c.Copies, 1)).Scan(&id)
	if err != nil {
		return 0, err
	}
	return id, r.audit(ledger.ActionReserve, c.UnitID, id, map[string]any{"book": c.BookCode, "year": c.Year, "number": c.Number,
		"certified_at": ledger.FormatTime(c.CertifiedAt)})
}

// settle moves Pending entry id to c.Status (issued or void) with c's copy, keys and
// reason, its audit entry first (the schema's trigger wants it).
func (r *replayer) settle(id int64, c *chungthuc.Certification) error {
	scanKeys, _ := json.Marshal(c.ScanKeys)
	switch c.Status {
	case chungthuc.StatusIssued:
		if err := r.audit(ledger.ActionIssue, c.UnitID, id, map[string]any{"number": c.Number, "year": c.Year, "sha256": c.SHA256}); err != nil {
			return err
		}
	case chungthuc.StatusVoid:
		if err := r.audit(ledger.ActionVoid, c.UnitID, id, map[string]any{"number": c.Number, "year": c.Year, "reason": c.VoidReason}); err != nil {
			return err
		}
	default:
		return fmt.Errorf("sqlite: cannot settle an entry as %s", c.Status)
	}
	_, err := r.tx.ExecContext(r.ctx, `UPDATE certifications SET sha256 = ?, object_key = ?, scan_keys = ?, status = ?, void_reason = ? WHERE id = ?`,
		nullString(c.SHA256), nullString(c.ObjectKey), string(scanKeys), string(c.Status), c.VoidReason, id)
	return err
}

// Book implements ledger.ReplayTx: the leaf's time is stored as the leaf writes it.
func (r *replayer) Book(unitID int64, year int, code string, number int64, at, _ string) (int64, error) {
	return r.book(unitID, year, code, number, at)
}

// Settle implements ledger.ReplayTx.
func (r *replayer) Settle(id int64, c *chungthuc.Certification) error { return r.settle(id, c) }

// Revoke implements ledger.ReplayTx.
func (r *replayer) Revoke(c *chungthuc.Certification, l *translog.Leaf) error {
	if err := r.audit(ledger.ActionRevoke, c.UnitID, c.ID, map[string]any{"number": c.Number, "year": c.Year, "reason": l.Reason, "revoked_at": l.RevokedAt}); err != nil {
		return err
	}
	_, err := r.tx.ExecContext(r.ctx, `UPDATE certifications SET status = 'revoked', revoke_reason = ?, revoked_at = ? WHERE id = ?`,
		l.Reason, l.RevokedAt, c.ID)
	return err
}

// VersionTaken implements ledger.ReplayTx.
func (r *replayer) VersionTaken(sha string) (bool, error) {
	var n int
	err := r.tx.QueryRowContext(r.ctx, `SELECT count(*) FROM certification_versions WHERE sha256 = ?`, sha).Scan(&n)
	return n > 0, err
}

// AddVersion implements ledger.ReplayTx.
func (r *replayer) AddVersion(certID int64, l *translog.Leaf, objectKey string) error {
	_, err := r.tx.ExecContext(r.ctx, `INSERT INTO certification_versions (certification_id, seq, sha256, object_key, created_at)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM certification_versions WHERE certification_id = ?), ?, ?, ?)`,
		certID, certID, l.Version, objectKey, l.Time)
	return err
}

// CloseBook implements ledger.ReplayTx.
func (r *replayer) CloseBook(id int64, l *translog.Leaf) error {
	_, err := r.tx.ExecContext(r.ctx, `UPDATE books SET closed_at = ?, closing_count = ?, last_number = ? WHERE id = ? AND closed_at IS NULL`,
		l.ClosedAt, l.ClosingCount, l.LastNumber, id)
	return err
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
// Issued (see translog.Restorer): born Pending and issued, both audited, with its issued
// leaf. c needs UnitID, Year, Number, BookCode, Token, SHA256, ObjectKey, OfficerName,
// OfficerTitle, CertifiedAt; OfficerID 0 finds the unit's officer of that name (or makes an
// inactive record). The number counter is left to CloseGaps. ECONFLICT when the number, the
// token or the copy is taken.
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
		r := &replayer{db: db, ctx: ctx, tx: tx, res: &translog.ReplayResult{}, why: note}
		var err error
		if c.BookID, err = r.book(c.UnitID, c.Year, c.BookCode, c.Number, ledger.FormatTime(c.CertifiedAt)); err != nil {
			return err
		}
		if c.OfficerID, err = r.Officer(c.UnitID, &translog.Leaf{OfficerID: c.OfficerID, OfficerName: c.OfficerName, OfficerTitle: c.OfficerTitle}); err != nil {
			return err
		}
		if c.ScanKeys == nil {
			c.ScanKeys = []string{}
		}
		if c.ID, err = r.Insert(c); err != nil {
			return err
		}
		c.Status = chungthuc.StatusIssued
		if err := db.appendAudit(ctx, tx, &chungthuc.AuditEntry{Action: ledger.ActionCopyRestored, UnitID: c.UnitID, Actor: ledger.ActorReconcile,
			Subject: "object:" + c.ObjectKey, Detail: ledger.Detail(map[string]any{"number": c.Number, "year": c.Year, "sha256": c.SHA256, "note": note})}); err != nil {
			return err
		}
		a := &chungthuc.AuditEntry{Action: ledger.ActionIssue, UnitID: c.UnitID, Actor: ledger.ActorReconcile,
			Subject: ledger.Subject("certification", c.ID),
			Detail:  ledger.Detail(map[string]any{"number": c.Number, "year": c.Year, "sha256": c.SHA256, "why": note})}
		if err := db.appendAudit(ctx, tx, a); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE certifications SET sha256 = ?, object_key = ?, status = 'issued' WHERE id = ?`,
			c.SHA256, c.ObjectKey, c.ID); err != nil {
			return err
		}
		code, err := unitCodeOf(ctx, tx, c.UnitID)
		if err != nil {
			return err
		}
		data, private, err := translog.CertificationLeaf(translog.EventIssued, code, c, now, a)
		if err != nil {
			return err
		}
		return lg.append(translog.EventIssued, c.ID, 0, data, private)
	})
}

// CloseGaps makes the numbering gapless again after a reconcile and brings the number
// counters up to the highest number in the register: each number of a unit's year below
// that highest one that has no entry (reserved after the restored backup by a request that
// never finished, and in neither the log nor a stored copy) is recorded Void with that reason
// and its void leaf, then the counter steps up to the highest number. It returns the numbers
// voided ("HB 2026 no. 7").
func (db *DB) CloseGaps(ctx context.Context, note string) ([]string, error) {
	var voided []string
	err := db.writeLog(ctx, func(tx *sql.Tx, lg *leafLog) error {
		if err := db.guardLog(ctx, tx); err != nil {
			return err
		}
		type uy struct {
			unit int64
			year int
			high int64
			last sql.NullInt64
		}
		rows, err := tx.QueryContext(ctx, `SELECT c.unit_id, c.year, MAX(c.number), n.last_number FROM certifications c
			LEFT JOIN number_counters n ON n.unit_id = c.unit_id AND n.year = c.year
			GROUP BY c.unit_id, c.year HAVING n.last_number IS NULL OR n.last_number < MAX(c.number)`)
		if err != nil {
			return err
		}
		var todo []uy
		for rows.Next() {
			var x uy
			if err := rows.Scan(&x.unit, &x.year, &x.high, &x.last); err != nil {
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
			if !x.last.Valid {
				if _, err := tx.ExecContext(ctx, `INSERT INTO number_counters (unit_id, year, last_number) VALUES (?, ?, 0)`, x.unit, x.year); err != nil {
					return err
				}
			}
			for n := x.last.Int64 + 1; n <= x.high; n++ {
				var exists bool
				if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM certifications WHERE unit_id = ? AND year = ? AND number = ?)`,
					x.unit, x.year, n).Scan(&exists); err != nil {
					return err
				}
				if !exists {
					name, err := db.voidLost(ctx, tx, lg, x.unit, x.year, n, note)
					if err != nil {
						return err
					}
					voided = append(voided, name)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE number_counters SET last_number = ? WHERE unit_id = ? AND year = ?`, n, x.unit, x.year); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return voided, err
}

// LostNumberReason is the void reason of a number CloseGaps found without an entry.
const LostNumberReason = "Số đã được cấp sau bản sao lưu nhưng không có trong nhật ký công khai lẫn kho lưu trữ; hủy khi đối chiếu (reconcile)"

// voidLost records number n as Void (born Pending, then voided, audited, with its leaf),
// in the book and with the officer of the next entry of that year.
func (db *DB) voidLost(ctx context.Context, tx *sql.Tx, lg *leafLog, unitID int64, year int, n int64, note string) (string, error) {
	next, err := scanCertification(tx.QueryRowContext(ctx, `SELECT `+certificationColumns+` FROM certifications
		WHERE unit_id = ? AND year = ? AND number > ? ORDER BY number LIMIT 1`, unitID, year, n))
	if err != nil {
		return "", err
	}
	b := make([]byte, 16)
	rand.Read(b)
	c := &chungthuc.Certification{UnitID: unitID, BookID: next.BookID, BookCode: next.BookCode, Year: year, Number: n,
		Token: "restored-" + hex.EncodeToString(b), AccessCodeHash: translog.RestoredAccessCode, Title: translog.RestoredText,
		OfficerID: next.OfficerID, CertifiedAt: next.CertifiedAt, CreatedAt: ledger.Micro(db.now()), ScanKeys: []string{}}
	r := &replayer{db: db, ctx: ctx, tx: tx, res: &translog.ReplayResult{}, why: note}
	if c.ID, err = r.Insert(c); err != nil {
		return "", err
	}
	a := &chungthuc.AuditEntry{Action: ledger.ActionVoid, UnitID: unitID, Actor: ledger.ActorReconcile,
		Subject: ledger.Subject("certification", c.ID), Detail: ledger.Detail(map[string]any{"number": n, "year": year, "reason": LostNumberReason, "why": note})}
	if err := db.appendAudit(ctx, tx, a); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE certifications SET status = 'void', void_reason = ? WHERE id = ?`, LostNumberReason, c.ID); err != nil {
		return "", err
	}
	if err := lg.transition(c, chungthuc.StatusVoid, LostNumberReason, nil, a); err != nil {
		return "", err
	}
	code, err := unitCodeOf(ctx, tx, unitID)
	return fmt.Sprintf("%s %d no. %d", code, year, n), err
}

// ExplainObject records an operator's note for an object (ECONFLICT when it has one); the
// object then counts as accounted for (ObjectReferenced).
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
