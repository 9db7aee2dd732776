package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

const certificationColumns = `id, unit_id, book_id, book_code, year, number, token, access_code_hash,
	title, issuer, requester, officer_id, officer_name, officer_title, pages, fee_vnd,
	sha256, object_key, scan_keys, status, void_reason, revoke_reason, revoked_at, certified_at, created_at,
	object_version, object_etag, idempotency_key, request_hash, copies`

// Reserve allocates the next number of c.UnitID for the year of c.CertifiedAt in Vietnam
// (now when zero) and records c as Pending in the open book of that year, opening the next
// book when none is open. It sets ID, Number, Year, BookID, BookCode, Status, CreatedAt and,
// when empty, OfficerName and OfficerTitle from the officer. EINVALID for a malformed entry or
// an officer of another unit, ENOTFOUND for an unknown unit or officer, ECONFLICT when the
// token is taken.
func (db *DB) Reserve(ctx context.Context, c *chungthuc.Certification) error {
	if err := ledger.PrepareReservation(c, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error { return db.reserve(ctx, tx, c) })
}

func (db *DB) reserve(ctx context.Context, tx *sql.Tx, c *chungthuc.Certification) error {
	if err := db.guardLog(ctx, tx); err != nil {
		return err
	}
	if _, err := unitByID(ctx, tx, c.UnitID); err != nil {
		return err
	}
	o, err := officerByID(ctx, tx, c.OfficerID)
	if err != nil {
		return err
	}
	if o.UnitID != c.UnitID {
		return chungthuc.Errorf(chungthuc.EINVALID, "officer %d does not belong to unit %d", o.ID, c.UnitID)
	}
	if c.OfficerName == "" {
		c.OfficerName = o.Name
	}
	if c.OfficerTitle == "" {
		c.OfficerTitle = o.Title
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM certifications WHERE token = ?`, c.Token).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return chungthuc.Errorf(chungthuc.ECONFLICT, "the verification token is already used")
	}
	if c.IdempotencyKey != "" {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM certifications WHERE unit_id = ? AND idempotency_key = ?`,
			c.UnitID, c.IdempotencyKey).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ledger.KeyTaken()
		}
	}

	c.Year = ledger.YearOf(c.CertifiedAt)
	last, err := lastNumber(ctx, tx, c.UnitID, c.Year)
	if err != nil {
		return err
	}
	b, err := db.currentBook(ctx, tx, c.UnitID, c.Year, last)
	if err != nil {
		return err
	}
	c.Number, c.BookID, c.BookCode = last+1, b.ID, b.Code
	if _, err := tx.ExecContext(ctx, `UPDATE number_counters SET last_number = ? WHERE unit_id = ? AND year = ?`,
		c.Number, c.UnitID, c.Year); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE books SET last_number = ? WHERE id = ?`, c.Number, b.ID); err != nil {
		return err
	}
	scanKeys, _ := json.Marshal(c.ScanKeys)
	err = tx.QueryRowContext(ctx, `INSERT INTO certifications (unit_id, book_id, book_code, year, number, token,
		access_code_hash, title, issuer, requester, search, officer_id, officer_name, officer_title, pages, fee_vnd,
		scan_keys, status, certified_at, created_at, idempotency_key, request_hash, copies)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.UnitID, c.BookID, c.BookCode, c.Year, c.Number, c.Token, c.AccessCodeHash,
		c.Title, c.Issuer, c.Requester, ledger.SearchKey(c), c.OfficerID, c.OfficerName, c.OfficerTitle, c.Pages, c.FeeVND,
		string(scanKeys), string(chungthuc.StatusPending), ledger.FormatTime(c.CertifiedAt), ledger.FormatTime(c.CreatedAt),
		nullString(c.IdempotencyKey), c.RequestHash, c.Copies).Scan(&c.ID)
	if err != nil {
		return err
	}
	return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
		Action: ledger.ActionReserve, UnitID: c.UnitID, Actor: ledger.Officer(c.OfficerID),
		Subject: ledger.Subject("certification", c.ID),
		Detail: ledger.Detail(map[string]any{"book": c.BookCode, "year": c.Year, "number": c.Number,
			"certified_at": ledger.FormatTime(c.CertifiedAt)}),
	})
}

// Seal records the hex SHA-256 and object key of a Pending entry's signed copy, and its scan
// keys (kept as they are when scanKeys is nil). EINVALID for malformed arguments, ENOTFOUND
// for an unknown entry, ECONFLICT when the entry is not Pending or another entry has this
// SHA-256.
func (db *DB) Seal(ctx context.Context, id int64, sha256, objectKey string, scanKeys []string) error {
	if err := ledger.CheckSeal(sha256, objectKey, scanKeys); err != nil {
		return err
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		c, err := certificationByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Status != chungthuc.StatusPending {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "certification %d is %s and cannot be sealed", id, c.Status)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM certifications WHERE sha256 = ? AND id <> ?`, sha256, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "another certification has this SHA-256")
		}
		if scanKeys == nil {
			scanKeys = c.ScanKeys
		}
		keys, _ := json.Marshal(scanKeys)
		if _, err := tx.ExecContext(ctx, `UPDATE certifications SET sha256 = ?, object_key = ?, scan_keys = ? WHERE id = ?`,
			sha256, objectKey, string(keys), id); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionSeal, UnitID: c.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("certification", id),
			Detail:  ledger.Detail(map[string]any{"sha256": sha256, "object_key": objectKey, "scans": len(scanKeys)}),
		})
	})
}

// Issue turns a sealed Pending entry into Issued, recording the stored copy's version and
// ETag. An entry already Issued is left as it is (success: a retried request). ENOTFOUND for
// an unknown entry, ECONFLICT when it is Void or Revoked or not sealed.
func (db *DB) Issue(ctx context.Context, id int64, version, etag string) error {
	return db.transition(ctx, id, chungthuc.StatusIssued, "", nil, version, etag)
}

// Void turns a Pending entry into Void with a reason (required); the number stays used.
// EINVALID without a reason, ENOTFOUND for an unknown entry, ECONFLICT when not Pending.
func (db *DB) Void(ctx context.Context, id int64, reason string) error {
	r, err := ledger.Reason(reason)
	if err != nil {
		return err
	}
	return db.transition(ctx, id, chungthuc.StatusVoid, r, nil, "", "")
}

// Revoke turns an Issued entry into Revoked with a reason (required) and time (now when
// zero). EINVALID without a reason, ENOTFOUND for an unknown entry, ECONFLICT when not Issued.
func (db *DB) Revoke(ctx context.Context, id int64, reason string, at time.Time) error {
	r, err := ledger.Reason(reason)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = db.now()
	}
	at = ledger.Micro(at)
	return db.transition(ctx, id, chungthuc.StatusRevoked, r, &at, "", "")
}

// transition changes an entry's status. The audit entry is appended before the row changes:
// the schema's trigger wants the latest audit entry about the entry to be this change's. The
// change's leaf of the public log follows, anchored to that audit entry.
func (db *DB) transition(ctx context.Context, id int64, to chungthuc.Status, reason string, at *time.Time, version, etag string) error {
	return db.writeLog(ctx, func(tx *sql.Tx, lg *leafLog) error {
		c, err := certificationByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if to == chungthuc.StatusIssued && c.Status == chungthuc.StatusIssued {
			return nil // already issued: a retried Issue
		}
		if err := ledger.Transition(id, c.Status, to); err != nil {
			return err
		}
		var action, query string
		var args []any
		detail := map[string]any{"number": c.Number, "year": c.Year}
		switch to {
		case chungthuc.StatusIssued:
			if c.SHA256 == "" || c.ObjectKey == "" {
				return chungthuc.Errorf(chungthuc.ECONFLICT, "certification %d is not sealed and cannot be issued", id)
			}
			action, detail["sha256"] = ledger.ActionIssue, c.SHA256
			if version != "" {
				detail["object_version"] = version
			}
			query, args = `UPDATE certifications SET status = ?, object_version = ?, object_etag = ? WHERE id = ?`, []any{string(to), version, etag, id}
		case chungthuc.StatusVoid:
			action, detail["reason"] = ledger.ActionVoid, reason
			query, args = `UPDATE certifications SET status = ?, void_reason = ? WHERE id = ?`, []any{string(to), reason, id}
		case chungthuc.StatusRevoked:
			action, detail["reason"], detail["revoked_at"] = ledger.ActionRevoke, reason, ledger.FormatTime(*at)
			query, args = `UPDATE certifications SET status = ?, revoke_reason = ?, revoked_at = ? WHERE id = ?`, []any{string(to), reason, timeArg(at), id}
		}
		a := &chungthuc.AuditEntry{
			Action: action, UnitID: c.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("certification", id), Detail: ledger.Detail(detail),
		}
		if err := db.appendAudit(ctx, tx, a); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, query, args...); err != nil {
			return err
		}
		if ev := ledger.TransitionEvent(to); ev != "" {
			if err := db.enqueueEvent(ctx, tx, ev, ledger.CertificationEvent(c, to, reason, at)); err != nil {
				return err
			}
		}
		return lg.transition(c, to, reason, at, a)
	})
}

// CertificationByID returns the entry with this ID; ENOTFOUND if none.
func (db *DB) CertificationByID(ctx context.Context, id int64) (c *chungthuc.Certification, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		c, err = certificationByID(ctx, tx, id)
		return err
	})
	return c, err
}

// CertificationByToken returns the entry with this verification token; ENOTFOUND if none.
func (db *DB) CertificationByToken(ctx context.Context, token string) (*chungthuc.Certification, error) {
	return db.certificationBy(ctx, "token", token, "no certification has this token")
}

// CertificationBySHA256 returns the entry whose signed copy, or a later version of it
// (AddVersion), has this hex SHA-256 (upper or lower case); ENOTFOUND if none, EINVALID when
// sha256 is not a SHA-256.
func (db *DB) CertificationBySHA256(ctx context.Context, sha256 string) (*chungthuc.Certification, error) {
	sha256 = strings.ToLower(strings.TrimSpace(sha256))
	if err := ledger.CheckSHA256(sha256); err != nil {
		return nil, err
	}
	c, err := db.certificationBy(ctx, "sha256", sha256, "no certification has this SHA-256")
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		return db.certificationByVersion(ctx, sha256)
	}
	return c, err
}

func (db *DB) certificationBy(ctx context.Context, column, value, notFound string) (c *chungthuc.Certification, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		c, err = scanCertification(tx.QueryRowContext(ctx, `SELECT `+certificationColumns+` FROM certifications WHERE `+column+` = ?`, value))
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "%s", notFound)
		}
		return err
	})
	return c, err
}

// Certifications lists the entries matching f, newest number first, and how many match in
// all. Query matches a substring of title, issuer or requester, ignoring case and Vietnamese
// marks (ledger.Fold); From is inclusive and To exclusive on CertifiedAt. Limit defaults to 50
// and is at most 500. EINVALID for a malformed filter.
func (db *DB) Certifications(ctx context.Context, f chungthuc.CertificationFilter) (cs []*chungthuc.Certification, total int, err error) {
	f, err = ledger.Filter(f)
	if err != nil {
		return nil, 0, err
	}
	var where []string
	var args []any
	add := func(cond string, arg any) { where, args = append(where, cond), append(args, arg) }
	if f.UnitID != 0 {
		add("unit_id = ?", f.UnitID)
	}
	if f.Year != 0 {
		add("year = ?", f.Year)
	}
	if f.Number != 0 {
		add("number = ?", f.Number)
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Query != "" {
		add(`search LIKE ? ESCAPE '\'`, ledger.LikeContains(f.Query))
	}
	if !f.From.IsZero() {
		add("certified_at >= ?", ledger.FormatTime(f.From))
	}
	if !f.To.IsZero() {
		add("certified_at < ?", ledger.FormatTime(f.To))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	order := " ORDER BY year DESC, number DESC" // unique within a unit: the (unit_id, year, number) index gives the order
	if f.UnitID == 0 {
		order += ", unit_id DESC"
	}
	err = db.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM certifications`+cond, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+certificationColumns+` FROM certifications`+cond+order+
			` LIMIT ? OFFSET ?`, append(args, f.Limit, f.Offset)...)
		if err != nil {
			return err
		}
		cs, err = scanCertifications(rows)
		return err
	})
	return cs, total, err
}

// Pending lists the entries still Pending that were created before the given time, oldest
// first, across all units, except those with an open signature wait.
func (db *DB) Pending(ctx context.Context, before time.Time) (cs []*chungthuc.Certification, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+certificationColumns+` FROM certifications
			WHERE status = 'pending' AND created_at < ?
			AND id NOT IN (SELECT certification_id FROM signature_waits WHERE step <> 'closed')
			ORDER BY created_at, id`, ledger.FormatTime(before))
		if err != nil {
			return err
		}
		cs, err = scanCertifications(rows)
		return err
	})
	return cs, err
}

// CertificationByIdempotencyKey returns the entry created by the request with this
// Idempotency-Key in the unit; ENOTFOUND if none.
func (db *DB) CertificationByIdempotencyKey(ctx context.Context, unitID int64, key string) (c *chungthuc.Certification, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		c, err = scanCertification(tx.QueryRowContext(ctx, `SELECT `+certificationColumns+` FROM certifications
			WHERE unit_id = ? AND idempotency_key = ?`, unitID, key))
		if errors.Is(err, sql.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "no certification was created with this idempotency key")
		}
		return err
	})
	return c, err
}

// StoredCopies lists Issued and Revoked entries with an ID above afterID, in ID order, at
// most limit (1 to 1000; EINVALID otherwise).
func (db *DB) StoredCopies(ctx context.Context, afterID int64, limit int) (cs []*chungthuc.Certification, err error) {
	if limit < 1 || limit > 1000 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "limit %d is out of range (1 to 1000)", limit)
	}
	err = db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+certificationColumns+` FROM certifications
			WHERE id > ? AND status IN ('issued', 'revoked') ORDER BY id LIMIT ?`, afterID, limit)
		if err != nil {
			return err
		}
		cs, err = scanCertifications(rows)
		return err
	})
	return cs, err
}

// ObjectReferenced reports whether an entry refers to key as its copy, one of its scans or a
// later version of its copy.
func (db *DB) ObjectReferenced(ctx context.Context, key string) (ok bool, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM certifications WHERE object_key = ?1)
			OR EXISTS (SELECT 1 FROM certification_versions WHERE object_key = ?1)
			OR EXISTS (SELECT 1 FROM certifications, json_each(certifications.scan_keys) WHERE json_each.value = ?1)
			OR EXISTS (SELECT 1 FROM object_notes WHERE key = ?1)`, key).Scan(&ok)
	})
	return ok, err
}

func certificationByID(ctx context.Context, tx *sql.Tx, id int64) (*chungthuc.Certification, error) {
	c, err := scanCertification(tx.QueryRowContext(ctx, `SELECT `+certificationColumns+` FROM certifications WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "certification %d not found", id)
	}
	return c, err
}

func scanCertifications(rows *sql.Rows) ([]*chungthuc.Certification, error) {
	defer rows.Close()
	cs := []*chungthuc.Certification{}
	for rows.Next() {
		c, err := scanCertification(rows)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

func scanCertification(s scanner) (*chungthuc.Certification, error) {
	var c chungthuc.Certification
	var sha, key, revoked, idem sql.NullString
	var scanKeys, status, certified, created string
	err := s.Scan(&c.ID, &c.UnitID, &c.BookID, &c.BookCode, &c.Year, &c.Number, &c.Token, &c.AccessCodeHash,
		&c.Title, &c.Issuer, &c.Requester, &c.OfficerID, &c.OfficerName, &c.OfficerTitle, &c.Pages, &c.FeeVND,
		&sha, &key, &scanKeys, &status, &c.VoidReason, &c.RevokeReason, &revoked, &certified, &created,
		&c.ObjectVersion, &c.ObjectETag, &idem, &c.RequestHash, &c.Copies)
	if err != nil {
		return nil, err
	}
	c.SHA256, c.ObjectKey, c.Status, c.IdempotencyKey = sha.String, key.String, chungthuc.Status(status), idem.String
	if err := json.Unmarshal([]byte(scanKeys), &c.ScanKeys); err != nil {
		return nil, err
	}
	if c.RevokedAt, err = nullTime(revoked); err != nil {
		return nil, err
	}
	if c.CertifiedAt, err = ledger.ParseTime(certified); err != nil {
		return nil, err
	}
	c.CreatedAt, err = ledger.ParseTime(created)
	return &c, err
}
