package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

const bookColumns = `id, unit_id, year, seq, code, first_number, last_number, opened_at, closed_at, closing_count, closed_by`

// Books lists a unit's books of a year (0 = every year), oldest first. ENOTFOUND for an
// unknown unit.
func (db *DB) Books(ctx context.Context, unitID int64, year int) (bs []*chungthuc.Book, err error) {
	err = db.read(ctx, func(tx pgx.Tx) error {
		if _, err := unitByID(ctx, tx, unitID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT `+bookColumns+` FROM books
			WHERE unit_id = $1 AND ($2 = 0 OR year = $2) ORDER BY year, seq`, unitID, year)
		if err != nil {
			return err
		}
		defer rows.Close()
		bs = []*chungthuc.Book{}
		for rows.Next() {
			b, err := scanBook(rows)
			if err != nil {
				return err
			}
			bs = append(bs, b)
		}
		return rows.Err()
	})
	return bs, err
}

// OpenBook closes the unit's open book of the year, if any (writing its closing count), and
// opens the next one at at (now when zero); numbering continues from the year's last number.
// EINVALID for an implausible year, ENOTFOUND for an unknown unit.
func (db *DB) OpenBook(ctx context.Context, unitID int64, year int, at time.Time) (b *chungthuc.Book, err error) {
	if err := ledger.CheckYear(year); err != nil {
		return nil, err
	}
	if at.IsZero() {
		at = db.now()
	}
	at = ledger.Micro(at)
	err = db.write(ctx, func(t *txn) error {
		if _, err := unitByID(ctx, t, unitID); err != nil {
			return err
		}
		last, err := lockCounter(ctx, t, unitID, year)
		if err != nil {
			return err
		}
		if open, err := openBookOf(ctx, t, unitID, year); err == nil {
			if _, err := db.closeBook(ctx, t, open, at); err != nil {
				return err
			}
		} else if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
			return err
		}
		b, err = db.newBook(ctx, t, unitID, year, last+1, at)
		return err
	})
	return b, err
}

// CloseBook closes a book at at (now when zero), writing ClosingCount: the number of the
// unit's certifications of the book's year that were issued (Issued or Revoked) when it is
// closed; Pending and Void entries use numbers but are not certified copies. ENOTFOUND for an
// unknown book, ECONFLICT when it is already closed.
func (db *DB) CloseBook(ctx context.Context, bookID int64, at time.Time) (b *chungthuc.Book, err error) {
	if at.IsZero() {
		at = db.now()
	}
	at = ledger.Micro(at)
	err = db.write(ctx, func(t *txn) error {
		b, err = bookByID(ctx, t, bookID, "")
		if err != nil {
			return err
		}
		// Lock the year's counter first, as Reserve does, then re-read the book under it.
		if _, err := lockCounter(ctx, t, b.UnitID, b.Year); err != nil {
			return err
		}
		if b, err = bookByID(ctx, t, bookID, " FOR UPDATE"); err != nil {
			return err
		}
		if b.ClosedAt != nil {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "book %s is already closed", b.Code)
		}
		b, err = db.closeBook(ctx, t, b, at)
		return err
	})
	return b, err
}

// lockCounter returns the last number allocated to the unit in the year, creating the counter
// at 0, and locks the counter row until the transaction ends: book changes and reservations of
// that unit and year are serialised by it.
func lockCounter(ctx context.Context, t *txn, unitID int64, year int) (last int64, err error) {
	err = t.QueryRow(ctx, `INSERT INTO number_counters AS n (unit_id, year, last_number) VALUES ($1, $2, 0)
		ON CONFLICT (unit_id, year) DO UPDATE SET last_number = n.last_number
		RETURNING last_number`, unitID, year).Scan(&last)
	return last, err
}

// currentBook returns the open book of the unit and year, opening the next one (numbers from
// last+1) when none is open. The caller holds the counter lock.
func (db *DB) currentBook(ctx context.Context, t *txn, unitID int64, year int, last int64) (*chungthuc.Book, error) {
	b, err := openBookOf(ctx, t, unitID, year)
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		return db.newBook(ctx, t, unitID, year, last+1, ledger.Micro(db.now()))
	}
	return b, err
}

func openBookOf(ctx context.Context, t *txn, unitID int64, year int) (*chungthuc.Book, error) {
	b, err := scanBook(t.QueryRow(ctx, `SELECT `+bookColumns+` FROM books
		WHERE unit_id = $1 AND year = $2 AND closed_at IS NULL`, unitID, year))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "unit %d has no open book for %d", unitID, year)
	}
	return b, err
}

func bookByID(ctx context.Context, t *txn, id int64, lock string) (*chungthuc.Book, error) {
	b, err := scanBook(t.QueryRow(ctx, `SELECT `+bookColumns+` FROM books WHERE id = $1`+lock, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "book %d not found", id)
	}
	return b, err
}

func (db *DB) newBook(ctx context.Context, t *txn, unitID int64, year int, first int64, at time.Time) (*chungthuc.Book, error) {
	b := &chungthuc.Book{UnitID: unitID, Year: year, FirstNumber: first, LastNumber: first - 1, OpenedAt: at}
	if err := t.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM books WHERE unit_id = $1 AND year = $2`,
		unitID, year).Scan(&b.Seq); err != nil {
		return nil, err
	}
	b.Code = chungthuc.BookCode(b.Seq, year)
	err := t.QueryRow(ctx, `INSERT INTO books (unit_id, year, seq, code, first_number, last_number, opened_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		unitID, year, b.Seq, b.Code, b.FirstNumber, b.LastNumber, at).Scan(&b.ID)
	if err != nil {
		return nil, err
	}
	t.audit(&chungthuc.AuditEntry{
		Action: ledger.ActionBookOpen, UnitID: unitID, Actor: ledger.ActorSystem, Subject: ledger.Subject("book", b.ID),
		Detail: ledger.Detail(map[string]any{"code": b.Code, "first_number": b.FirstNumber, "opened_at": ledger.FormatTime(at)}),
	})
	return b, nil
}

func (db *DB) closeBook(ctx context.Context, t *txn, b *chungthuc.Book, at time.Time) (*chungthuc.Book, error) {
	var count int64
	if err := t.QueryRow(ctx, `SELECT count(*) FROM certifications
		WHERE unit_id = $1 AND year = $2 AND status IN ('issued', 'revoked')`, b.UnitID, b.Year).Scan(&count); err != nil {
		return nil, err
	}
	if _, err := t.Exec(ctx, `UPDATE books SET closed_at = $1, closing_count = $2 WHERE id = $3`, at, count, b.ID); err != nil {
		return nil, err
	}
	b.ClosedAt, b.ClosingCount = &at, count
	a := &chungthuc.AuditEntry{
		Action: ledger.ActionBookClose, UnitID: b.UnitID, Actor: ledger.ActorSystem, Subject: ledger.Subject("book", b.ID),
		Detail: ledger.Detail(map[string]any{"code": b.Code, "first_number": b.FirstNumber, "last_number": b.LastNumber,
			"closing_count": count, "closed_at": ledger.FormatTime(at)}),
	}
	t.audit(a)
	t.logBook(db, b, a)
	return b, nil
}

func scanBook(row pgx.Row) (*chungthuc.Book, error) {
	var b chungthuc.Book
	var by *int64
	if err := row.Scan(&b.ID, &b.UnitID, &b.Year, &b.Seq, &b.Code, &b.FirstNumber, &b.LastNumber, &b.OpenedAt,
		&b.ClosedAt, &b.ClosingCount, &by); err != nil {
		return nil, err
	}
	if by != nil {
		b.ClosedBy = *by
	}
	b.OpenedAt, b.ClosedAt = b.OpenedAt.UTC(), utc(b.ClosedAt)
	return &b, nil
}

// BookByID returns a book with its signed closing PDF, if any; ENOTFOUND if none.
func (db *DB) BookByID(ctx context.Context, id int64) (*chungthuc.Book, error) {
	b, err := scanBook(db.pool.QueryRow(ctx, `SELECT `+bookColumns+` FROM books WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "book %d not found", id)
	} else if err != nil {
		return nil, db.mapErr(err)
	}
	err = db.pool.QueryRow(ctx, `SELECT closing_pdf FROM books WHERE id = $1`, id).Scan(&b.ClosingPDF)
	return b, db.mapErr(err)
}

// SignBookClosing records who signed a closed book's closing page and the signed PDF, once.
// EINVALID without a PDF, ENOTFOUND for an unknown book or officer, ECONFLICT when the book
// is still open or its closing was already signed. Audited with the PDF's SHA-256.
func (db *DB) SignBookClosing(ctx context.Context, bookID, officerID int64, pdf []byte) error {
	if len(pdf) == 0 || officerID <= 0 {
		return chungthuc.Errorf(chungthuc.EINVALID, "a signed closing needs the officer and the signed PDF")
	}
	return db.write(ctx, func(t *txn) error {
		b, err := scanBook(t.QueryRow(ctx, `SELECT `+bookColumns+` FROM books WHERE id = $1 FOR UPDATE`, bookID))
		if errors.Is(err, pgx.ErrNoRows) {
			return chungthuc.Errorf(chungthuc.ENOTFOUND, "book %d not found", bookID)
		} else if err != nil {
			return err
		}
		if err := ledger.CheckBookSigning(b); err != nil {
			return err
		}
		if _, err := officerByID(ctx, t, officerID); err != nil {
			return err
		}
		if _, err := t.Exec(ctx, `UPDATE books SET closed_by = $1, closing_pdf = $2 WHERE id = $3`, officerID, pdf, bookID); err != nil {
			return err
		}
		t.audit(&chungthuc.AuditEntry{
			Action: ledger.ActionBookSign, UnitID: b.UnitID, Actor: ledger.Officer(officerID), Subject: ledger.Subject("book", b.ID),
			Detail: ledger.Detail(ledger.BookSignDetail(b, pdf)),
		})
		return nil
	})
}
