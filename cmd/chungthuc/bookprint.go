package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"sort"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer"
)

// bookRows reads the register's entries of a unit for a book (numbers First…Last of its
// year) or for a period [from, to), in number order, as the book prints them.
func (a *app) bookRows(ctx context.Context, unitID int64, b *chungthuc.Book, from, to time.Time) ([]signer.BookRow, []*chungthuc.Certification, error) {
	f := chungthuc.CertificationFilter{UnitID: unitID, From: from, To: to, Limit: 500}
	if b != nil {
		f.Year = b.Year
	}
	var all []*chungthuc.Certification
	for {
		cs, total, err := a.reg.Certifications(ctx, f)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range cs {
			if b == nil || (c.Number >= b.FirstNumber && c.Number <= b.LastNumber) {
				all = append(all, c)
			}
		}
		f.Offset += len(cs)
		if len(cs) == 0 || f.Offset >= total {
			break
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Year != all[j].Year {
			return all[i].Year < all[j].Year
		}
		return all[i].Number < all[j].Number
	})
	rows := make([]signer.BookRow, 0, len(all))
	for _, c := range all {
		rows = append(rows, bookRow(c))
	}
	return rows, all, nil
}

// bookRow is an entry as the book prints it: a void number and a revoked copy say so in the
// notes (the number stays used; nothing is ever removed).
func bookRow(c *chungthuc.Certification) signer.BookRow {
	r := signer.BookRow{Number: c.Number, Date: c.CertifiedAt, Requester: c.Requester, Document: c.Title,
		Signer: c.OfficerName + ", " + c.OfficerTitle, Copies: max(c.Copies, 1), FeeVND: c.FeeVND}
	switch c.Status {
	case chungthuc.StatusVoid:
		r.Notes, r.Copies, r.FeeVND = "Số đã hủy: "+c.VoidReason, 0, 0
	case chungthuc.StatusRevoked:
		r.Notes = "Đã thu hồi: " + c.RevokeReason
	case chungthuc.StatusPending:
		r.Notes = "Đang xử lý"
	}
	return r
}

// bookCSV writes the eight columns as CSV (UTF-8 with a byte-order mark, so spreadsheet
// programs read the Vietnamese letters).
func bookCSV(rows []signer.BookRow) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	head := []string{"so_chung_thuc", "ngay", "nguoi_yeu_cau", "ten_ban_chinh", "nguoi_ky_chuc_danh", "so_ban_sao", "le_phi_vnd", "ghi_chu"}
	if err := w.Write(head); err != nil {
		return nil, err
	}
	for _, r := range rows {
		rec := []string{fmt.Sprint(r.Number), r.Date.In(chungthuc.Vietnam).Format("02/01/2006"), chungthuc.CSVCell(r.Requester), chungthuc.CSVCell(r.Document),
			chungthuc.CSVCell(r.Signer), fmt.Sprint(r.Copies), fmt.Sprint(r.FeeVND), chungthuc.CSVCell(r.Notes)}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// closing computes the closing of a closed book from its rows.
func closing(b *chungthuc.Book, u *chungthuc.Unit, o *chungthuc.Officer, certs []*chungthuc.Certification) *signer.BookClosing {
	c := &signer.BookClosing{Count: b.ClosingCount, First: b.FirstNumber, Last: b.LastNumber, Place: u.Place, SignerName: o.Name,
		TitleLines: chungthuc.TitleLines(o.Authority, o.Title)}
	if b.ClosedAt != nil {
		c.Date = *b.ClosedAt
	}
	for _, x := range certs {
		if x.Status == chungthuc.StatusIssued || x.Status == chungthuc.StatusRevoked {
			c.Copies += int64(max(x.Copies, 1))
			c.FeeVND += x.FeeVND
		}
	}
	return c
}

func bodyOf(u *chungthuc.Unit) string {
	if u.Body != "" {
		return u.Body
	}
	return u.Name
}

// signClosing renders a closed book with its closing page, signs it with the officer's key
// and records it (who signed, the signed PDF).
func (a *app) signClosing(ctx context.Context, b *chungthuc.Book, officerID int64) ([]byte, error) {
	u, err := a.reg.UnitByID(ctx, b.UnitID)
	if err != nil {
		return nil, err
	}
	o, err := a.reg.OfficerByID(ctx, officerID)
	if err != nil {
		return nil, err
	}
	if o.UnitID != u.ID || !o.Active {
		return nil, chungthuc.Errorf(chungthuc.EFORBIDDEN, "officer %d cannot sign the closing of a book of unit %s", o.ID, u.Code)
	}
	if err := o.CheckAuthority(time.Now()); err != nil {
		return nil, err
	}
	key, err := a.keys.OfficerKey(ctx, o)
	if err != nil {
		return nil, err
	}
	rows, certs, err := a.bookRows(ctx, u.ID, b, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	doc := signer.Book{UnitBody: bodyOf(u), Province: u.Province, Code: b.Code,
		Period: fmt.Sprintf("Từ số %d đến số %d", b.FirstNumber, b.LastNumber), Rows: rows, Closing: closing(b, u, o, certs)}
	pdf, err := a.maker.PrintBook(ctx, doc, key)
	if err != nil {
		return nil, err
	}
	if err := a.reg.SignBookClosing(ctx, b.ID, o.ID, pdf); err != nil {
		return nil, err
	}
	return pdf, nil
}

// printBook renders a book (the signed closing PDF once it has one) or a unit's period.
func (a *app) printBook(ctx context.Context, b *chungthuc.Book, u *chungthuc.Unit, from, to time.Time, asCSV bool) ([]byte, error) {
	rows, _, err := a.bookRows(ctx, u.ID, b, from, to)
	if err != nil {
		return nil, err
	}
	if asCSV {
		return bookCSV(rows)
	}
	if b != nil && len(b.ClosingPDF) > 0 {
		return b.ClosingPDF, nil
	}
	doc := signer.Book{UnitBody: bodyOf(u), Province: u.Province, Rows: rows}
	if b != nil {
		doc.Code = b.Code
		doc.Period = fmt.Sprintf("Từ số %d đến số %d", b.FirstNumber, b.LastNumber)
	} else {
		doc.Code = fmt.Sprintf("%s (theo kỳ)", u.Code)
		doc.Period = "Từ ngày " + from.In(chungthuc.Vietnam).Format("02/01/2006") + " đến hết ngày " + to.Add(-time.Second).In(chungthuc.Vietnam).Format("02/01/2006")
	}
	return a.maker.PrintBook(ctx, doc, nil)
}

// refusalSlip renders the slip of a recorded refusal (unsigned: the officer signs the
// printed slip by hand).
func (a *app) refusalSlip(ctx context.Context, r *chungthuc.Refusal) ([]byte, error) {
	u, err := a.reg.UnitByID(ctx, r.UnitID)
	if err != nil {
		return nil, err
	}
	o, err := a.reg.OfficerByID(ctx, r.OfficerID)
	if err != nil {
		return nil, err
	}
	return a.maker.PrintRefusalSlip(signer.RefusalSlip{UnitBody: bodyOf(u), Province: u.Province, Place: u.Place,
		Number: r.Number, Year: r.Year, Date: r.CreatedAt, Requester: r.Requester, Document: r.Title, Reason: r.Reason,
		Note: r.Note, SignerName: o.Name, TitleLines: chungthuc.TitleLines(o.Authority, o.Title)})
}
