package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

const bookColumns = `id, unit_id, year, seq, code, first_number, last_number, opened_at, closed_at, closing_count, closed_by`

// Books lists a unit's books of a year (0 = every year), oldest first. ENOTFOUND for an
// unknown unit.
func (db *DB) Books(ctx context.Context, unitID int64, year int) (bs []*chungthuc.Book, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		if _, err := unitByID(ctx, tx, unitID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+bookColumns+` FROM books
			WHERE unit_id = ? AND (? = 0 OR year = ?) ORDER BY year, seq`, unitID, year, year)
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
	err = db.writeLog(ctx, func(tx *sql.Tx, lg *leafLog) error {
		if _, err := unitByID(ctx, tx, unitID); err != nil {
			return err
		}
		last, err := lastNumber(ctx, tx, unitID, year)
		if err != nil {
			return err
		}
		if open, err := openBookOf(ctx, tx, unitID, year); err == nil {
			if _, err := db.closeBook(ctx, tx, lg, open, at); err != nil {
				return err
			}
		} else if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
			return err
		}
		b, err = db.newBook(ctx, tx, unitID, year, last+1, at)
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
	err = db.writeLog(ctx, func(tx *sql.Tx, lg *leafLog) error {
		b, err = bookByID(ctx, tx, bookID)
		if err != nil {
			return err
		}
		if b.ClosedAt != nil {
			return chungthuc.Errorf(chungthuc.ECONFLICT, "book %s is already closed", b.Code)
		}
		b, err = db.closeBook(ctx, tx, lg, b, at)
		return err
	})
	return b, err
}

// lastNumber returns the last number allocated to the unit in the year, creating the counter
// at 0. The caller holds the write transaction, which serialises allocation.
func lastNumber(ctx context.Context, tx *sql.Tx, unitID int64, year int) (int64, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO number_counters (unit_id, year, last_number) VALUES (?, ?, 0)
		ON CONFLICT (unit_id, year) DO NOTHING`, unitID, year); err != nil {
		return 0, err
	}
	var last int64
	err := tx.QueryRowContext(ctx, `SELECT last_number FROM number_counters WHERE unit_id = ? AND year = ?`, unitID, year).Scan(&last)
	return last, err
}

// currentBook returns the open book of the unit and year, opening the next one (numbers from
// last+1) when none is open.
func (db *DB) currentBook(ctx context.Context, tx *sql.Tx, unitID int64, year int, last int64) (*chungthuc.Book, error) {
	b, err := openBookOf(ctx, tx, unitID, year)
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		return db.newBook(ctx, tx, unitID, year, last+1, ledger.Micro(db.now()))
	}
	return b, err
}

func openBookOf(ctx context.Context, tx *sql.Tx, unitID int64, year int) (*chungthuc.Book, error) {
	b, err := scanBook(tx.QueryRowContext(ctx, `SELECT `+bookColumns+` FROM books
		WHERE unit_id = ? AND year = ? AND closed_at IS NULL`, unitID, year))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "unit %d has no open book for %d", unitID, year)
	}
	return b, err
}

func bookByID(ctx context.Context, tx *sql.Tx, id int64) (*chungthuc.Book, error) {
	b, err := scanBook(tx.QueryRowContext(ctx, `SELECT `+bookColumns+` FROM books WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "book %d not found", id)
	}
	return b, err
}

func (db *DB) newBook(ctx context.Context, tx *sql.Tx, unitID int64, year int, first int64, at time.Time) (*chungthuc.Book, error) {
	b := &chungthuc.Book{UnitID: unitID, Year: year, FirstNumber: first, LastNumber: first - 1, OpenedAt: at}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM books WHERE unit_id = ? AND year = ?`,
		unitID, year).Scan(&b.Seq); err != nil {
		return nil, err
	}
	b.Code = chungthuc.BookCode(b.Seq, year)
	err := tx.QueryRowContext(ctx, `INSERT INTO books (unit_id, year, seq, code, first_number, last_number, opened_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		unitID, year, b.Seq, b.Code, b.FirstNumber, b.LastNumber, ledger.FormatTime(at)).Scan(&b.ID)
	if err != nil {
		return nil, err
	}
	return b, db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
		Action: ledger.ActionBookOpen, UnitID: unitID, Actor: ledger.ActorSystem, Subject: ledger.Subject("book", b.ID),
		Detail: ledger.Detail(map[string]any{"code": b.Code, "first_number": b.FirstNumber, "opened_at": ledger.FormatTime(at)}),
	})
}

func (db *DB) closeBook(ctx context.Context, tx *sql.Tx, lg *leafLog, b *chungthuc.Book, at time.Time) (*chungthuc.Book, error) {
	var count int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM certifications
		WHERE unit_id = ? AND year = ? AND status IN ('issued', 'revoked')`, b.UnitID, b.Year).Scan(&count); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE books SET closed_at = ?, closing_count = ? WHERE id = ?`,
		ledger.FormatTime(at), count, b.ID); err != nil {
		return nil, err
	}
	b.ClosedAt, b.ClosingCount = &at, count
	a := &chungthuc.AuditEntry{
		Action: ledger.ActionBookClose, UnitID: b.UnitID, Actor: ledger.ActorSystem, Subject: ledger.Subject("book", b.ID),
		Detail: ledger.Detail(map[string]any{"code": b.Code, "first_number": b.FirstNumber, "last_number": b.LastNumber,
			"closing_count": count, "closed_at": ledger.FormatTime(at)}),
	}
	if err := db.appendAudit(ctx, tx, a); err != nil {
		return nil, err
	}
	return b, lg.book(b, a)
}

func scanBook(s scanner) (*chungthuc.Book, error) {
	var b chungthuc.Book
	var opened string
	var closed sql.NullString
	var by sql.NullInt64
	if err := s.Scan(&b.ID, &b.UnitID, &b.Year, &b.Seq, &b.Code, &b.FirstNumber, &b.LastNumber, &opened, &closed, &b.ClosingCount, &by); err != nil {
		return nil, err
	}
	var err error
	if b.OpenedAt, err = ledger.ParseTime(opened); err != nil {
		return nil, err
	}
	b.ClosedAt, err = nullTime(closed)
	b.ClosedBy = by.Int64
	return &b, err
}

// BookByID returns a book with its signed closing PDF, if any; ENOTFOUND if none.
func (db *DB) BookByID(ctx context.Context, id int64) (b *chungthuc.Book, err error) {
	err = db.read(ctx, func(tx *sql.Tx) error {
		if b, err = bookByID(ctx, tx, id); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT closing_pdf FROM books WHERE id = ?`, id).Scan(&b.ClosingPDF)
	})
	return b, err
}

// SignBookClosing records who signed a closed book's closing page and the signed PDF, once.
// EINVALID without a PDF, ENOTFOUND for an unknown book or officer, ECONFLICT when the book
// is still open or its closing was already signed. Audited with the PDF's SHA-256.
func (db *DB) SignBookClosing(ctx context.Context, bookID, officerID int64, pdf []byte) error {
	if len(pdf) == 0 || officerID <= 0 {
		return chungthuc.Errorf(chungthuc.EINVALID, "a signed closing needs the officer and the signed PDF")
	}
	return db.write(ctx, func(tx *sql.Tx) error {
		b, err := bookByID(ctx, tx, bookID)
		if err != nil {
			return err
		}
		if err := ledger.CheckBookSigning(b); err != nil {
			return err
		}
		if _, err := officerByID(ctx, tx, officerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE books SET closed_by = ?, closing_pdf = ? WHERE id = ?`, officerID, pdf, bookID); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &chungthuc.AuditEntry{
			Action: ledger.ActionBookSign, UnitID: b.UnitID, Actor: ledger.Officer(officerID), Subject: ledger.Subject("book", b.ID),
			Detail: ledger.Detail(ledger.BookSignDetail(b, pdf)),
		})
	})
}
