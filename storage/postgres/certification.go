package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
//
// The counter row of (unit, year) is incremented first and stays locked until commit, so
// concurrent reservations of one unit and year queue there; all of the work, including the
// audit entry, is one transaction, so a failure uses no number.
func (db *DB) Reserve(ctx context.Context, c *chungthuc.Certification) error {
	if err := ledger.PrepareReservation(c, db.now()); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error { return db.reserve(ctx, t, c) })
}

func (db *DB) reserve(ctx context.Context, t *txn, c *chungthuc.Certification) error {
	o, err := officerByID(ctx, t, c.OfficerID)
	if err != nil {
		return err
	}
	if _, err := unitByID(ctx, t, c.UnitID); err != nil {
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
	if err := db.guardLog(ctx, t); err != nil { // no number while the register is behind the public log
		return err
	}
	var taken bool
	if err := t.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM certifications WHERE token = $1)`, c.Token).Scan(&taken); err != nil {
		return err
	}
	if taken {
		return chungthuc.Errorf(chungthuc.ECONFLICT, "the verification token is already used")
	}
	if c.IdempotencyKey != "" {
		if err := t.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM certifications WHERE unit_id = $1 AND idempotency_key = $2)`,
			c.UnitID, c.IdempotencyKey).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return ledger.KeyTaken()
		}
	}

	c.Year = ledger.YearOf(c.CertifiedAt)
	if err := t.QueryRow(ctx, `INSERT INTO number_counters AS n (unit_id, year, last_number) VALUES ($1, $2, 1)
		ON CONFLICT (unit_id, year) DO UPDATE SET last_number = n.last_number + 1
		RETURNING last_number`, c.UnitID, c.Year).Scan(&c.Number); err != nil {
		return err
	}
	b, err := db.currentBook(ctx, t, c.UnitID, c.Year, c.Number-1)
	if err != nil {
		return err
	}
	c.BookID, c.BookCode = b.ID, b.Code
	if _, err := t.Exec(ctx, `UPDATE books SET last_number = $1 WHERE id = $2`, c.Number, b.ID); err != nil {
		return err
	}
	err = t.QueryRow(ctx, `INSERT INTO certifications (unit_id, book_id, book_code, year, number, token,
		access_code_hash, title, issuer, requester, search, officer_id, officer_name, officer_title, pages, fee_vnd,
		scan_keys, status, certified_at, created_at, idempotency_key, request_hash, copies)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) RETURNING id`,
		c.UnitID, c.BookID, c.BookCode, c.Year, c.Number, c.Token, c.AccessCodeHash,
		c.Title, c.Issuer, c.Requester, ledger.SearchKey(c), c.OfficerID, c.OfficerName, c.OfficerTitle, c.Pages, c.FeeVND,
		c.ScanKeys, string(chungthuc.StatusPending), c.CertifiedAt, c.CreatedAt, nullString(c.IdempotencyKey), c.RequestHash, c.Copies).Scan(&c.ID)
	if err != nil {
		return err
	}
	t.audit(&chungthuc.AuditEntry{
		Action: ledger.ActionReserve, UnitID: c.UnitID, Actor: ledger.Officer(c.OfficerID),
		Subject: ledger.Subject("certification", c.ID),
		Detail: ledger.Detail(map[string]any{"book": c.BookCode, "year": c.Year, "number": c.Number,
			"certified_at": ledger.FormatTime(c.CertifiedAt)}),
	})
	return nil
}

// Seal records the hex SHA-256 and object key of a Pending entry's signed copy, and its scan
// keys (kept as they are when scanKeys is nil). EINVALID for malformed arguments, ENOTFOUND
// for an unknown entry, ECONFLICT when the entry is not Pending or another entry has this
// SHA-256.
func (db *DB) Seal(ctx context.Context, id int64, sha256, objectKey string, scanKeys []string) error {
	if err := ledger.CheckSeal(sha256, objectKey, scanKeys); err != nil {
		return err
	}
	return db.write(ctx, func(t *txn) error {
		c, err := certificationForUpdate(ctx, t, id)
		if err != nil {
			return err
		}
		if c.Status != chungthuc.StatusPending {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "certification %d is %s and cannot be sealed", id, c.Status)
		}
		var taken bool
		if err := t.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM certifications WHERE sha256 = $1 AND id <> $2)`,
			sha256, id).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "another certification has this SHA-256")
		}
		if scanKeys == nil {
			scanKeys = c.ScanKeys
		}
		if _, err := t.Exec(ctx, `UPDATE certifications SET sha256 = $1, object_key = $2, scan_keys = $3 WHERE id = $4`,
			sha256, objectKey, scanKeys, id); err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionSeal, UnitID: c.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("certification", id),
			Detail:  ledger.Detail(map[string]any{"sha256": sha256, "object_key": objectKey, "scans": len(scanKeys)}),
		})
		return nil
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

func (db *DB) transition(ctx context.Context, id int64, to chungthuc.Status, reason string, at *time.Time, version, etag string) error {
	return db.write(ctx, func(t *txn) error {
		c, err := certificationForUpdate(ctx, t, id)
		if err != nil {
			return err
		}
		if to == chungthuc.StatusIssued && c.Status == chungthuc.StatusIssued {
			return nil // already issued: a retried Issue
		}
		if err := ledger.Transition(id, c.Status, to); err != nil {
			return err
		}
		var action string
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
			_, err = t.Exec(ctx, `UPDATE certifications SET status = $1, object_version = $2, object_etag = $3 WHERE id = $4`,
				string(to), version, etag, id)
		case chungthuc.StatusVoid:
			action, detail["reason"] = ledger.ActionVoid, reason
			_, err = t.Exec(ctx, `UPDATE certifications SET status = $1, void_reason = $2 WHERE id = $3`, string(to), reason, id)
		case chungthuc.StatusRevoked:
			action, detail["reason"], detail["revoked_at"] = ledger.ActionRevoke, reason, ledger.FormatTime(*at)
			_, err = t.Exec(ctx, `UPDATE certifications SET status = $1, revoke_reason = $2, revoked_at = $3 WHERE id = $4`,
				string(to), reason, *at, id)
		}
		if err != nil {
			return err
		}
		if ev := ledger.TransitionEvent(to); ev != "" {
			if err := db.enqueueEvent(ctx, t, ev, ledger.CertificationEvent(c, to, reason, at)); err != nil {
				return err
			}
		}
		a := &chungthuc.AuditEntry{
			Action: action, UnitID: c.UnitID, Actor: ledger.ActorSystem,
			Subject: ledger.Subject("certification", id), Detail: ledger.Detail(detail),
		}
		t.audit(a)
		t.logTransition(db, c, to, reason, at, a)
		return nil
	})
}

// CertificationByID returns the entry with this ID; ENOTFOUND if none.
func (db *DB) CertificationByID(ctx context.Context, id int64) (*chungthuc.Certification, error) {
	return db.certificationBy(ctx, "id", id, "certification "+strconv.FormatInt(id, 10)+" not found")
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
		var id int64
		err := db.pool.QueryRow(ctx, `SELECT certification_id FROM certification_versions WHERE sha256 = $1`, sha256).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no certification has this SHA-256")
		} else if err != nil {
			return nil, db.mapErr(err)
		}
		return db.CertificationByID(ctx, id)
	}
	return c, err
}

func (db *DB) certificationBy(ctx context.Context, column string, value any, notFound string) (*chungthuc.Certification, error) {
	c, err := scanCertification(db.pool.QueryRow(ctx, `SELECT `+certificationColumns+` FROM certifications WHERE `+column+` = $1`, value))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "%s", notFound)
	}
	return c, db.mapErr(err)
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
	countSQL, listSQL, args := listQuery(f)
	err = db.read(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, countSQL, args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, listSQL, append(args, f.Limit, f.Offset)...)
		if err != nil {
			return err
		}
		cs, err = scanCertifications(rows)
		return err
	})
	return cs, total, err
}

// listQuery returns the count and list statements of a normalised filter and their shared
// arguments; the list statement takes two more, the limit and the offset.
func listQuery(f chungthuc.CertificationFilter) (countSQL, listSQL string, args []any) {
	var where []string
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
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
		add("certified_at >= ?", ledger.Micro(f.From))
	}
	if !f.To.IsZero() {
		add("certified_at < ?", ledger.Micro(f.To))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	order := " ORDER BY year DESC, number DESC" // unique within a unit: the (unit_id, year, number) index gives the order
	if f.UnitID == 0 {
		order += ", unit_id DESC"
	}
	n := len(args)
	return `SELECT count(*) FROM certifications` + cond,
		`SELECT ` + certificationColumns + ` FROM certifications` + cond + order +
			` LIMIT $` + strconv.Itoa(n+1) + ` OFFSET $` + strconv.Itoa(n+2),
		args
}

// Pending lists the entries still Pending that were created before the given time, oldest
// first, across all units.
func (db *DB) Pending(ctx context.Context, before time.Time) ([]*chungthuc.Certification, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+certificationColumns+` FROM certifications
		WHERE status = 'pending' AND created_at < $1
		AND id NOT IN (SELECT certification_id FROM signature_waits WHERE step <> 'closed')
		ORDER BY created_at, id`, ledger.Micro(before))
	if err != nil {
		return nil, db.mapErr(err)
	}
	cs, err := scanCertifications(rows)
	return cs, db.mapErr(err)
}

// CertificationByIdempotencyKey returns the entry created by the request with this
// Idempotency-Key in the unit; ENOTFOUND if none.
func (db *DB) CertificationByIdempotencyKey(ctx context.Context, unitID int64, key string) (*chungthuc.Certification, error) {
	c, err := scanCertification(db.pool.QueryRow(ctx, `SELECT `+certificationColumns+` FROM certifications
		WHERE unit_id = $1 AND idempotency_key = $2`, unitID, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no certification was created with this idempotency key")
	}
	return c, db.mapErr(err)
}

// StoredCopies lists Issued and Revoked entries with an ID above afterID, in ID order, at
// most limit (1 to 1000; EINVALID otherwise).
func (db *DB) StoredCopies(ctx context.Context, afterID int64, limit int) ([]*chungthuc.Certification, error) {
	if limit < 1 || limit > 1000 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "limit %d is out of range (1 to 1000)", limit)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+certificationColumns+` FROM certifications
		WHERE id > $1 AND status IN ('issued', 'revoked') ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, db.mapErr(err)
	}
	cs, err := scanCertifications(rows)
	return cs, db.mapErr(err)
}

// ObjectReferenced reports whether an entry refers to key as its copy, one of its scans or a
// later version of its copy.
func (db *DB) ObjectReferenced(ctx context.Context, key string) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM certifications WHERE object_key = $1)
		OR EXISTS (SELECT 1 FROM certifications WHERE scan_keys @> ARRAY[$1::text])
		OR EXISTS (SELECT 1 FROM certification_versions WHERE object_key = $1)
		OR EXISTS (SELECT 1 FROM object_notes WHERE key = $1)`, key).Scan(&ok)
	return ok, db.mapErr(err)
}

// certificationForUpdate reads an entry and locks its row until the transaction ends.
func certificationForUpdate(ctx context.Context, t *txn, id int64) (*chungthuc.Certification, error) {
	c, err := scanCertification(t.QueryRow(ctx, `SELECT `+certificationColumns+` FROM certifications WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "certification %d not found", id)
	}
	return c, err
}

func scanCertifications(rows pgx.Rows) ([]*chungthuc.Certification, error) {
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

func scanCertification(row pgx.Row) (*chungthuc.Certification, error) {
	var c chungthuc.Certification
	var sha, key *string
	var status string
	var idem *string
	err := row.Scan(&c.ID, &c.UnitID, &c.BookID, &c.BookCode, &c.Year, &c.Number, &c.Token, &c.AccessCodeHash,
		&c.Title, &c.Issuer, &c.Requester, &c.OfficerID, &c.OfficerName, &c.OfficerTitle, &c.Pages, &c.FeeVND,
		&sha, &key, &c.ScanKeys, &status, &c.VoidReason, &c.RevokeReason, &c.RevokedAt, &c.CertifiedAt, &c.CreatedAt,
		&c.ObjectVersion, &c.ObjectETag, &idem, &c.RequestHash, &c.Copies)
	if err != nil {
		return nil, err
	}
	if idem != nil {
		c.IdempotencyKey = *idem
	}
	if sha != nil {
		c.SHA256 = *sha
	}
	if key != nil {
		c.ObjectKey = *key
	}
	if c.ScanKeys == nil {
		c.ScanKeys = []string{}
	}
	c.Status, c.RevokedAt = chungthuc.Status(status), utc(c.RevokedAt)
	c.CertifiedAt, c.CreatedAt = c.CertifiedAt.UTC(), c.CreatedAt.UTC()
	return &c, nil
}
