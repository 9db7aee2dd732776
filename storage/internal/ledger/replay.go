package ledger

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/translog"
)

// Audit actions of the transparency log's repair commands.
const (
	ActionLogReplay     = "log.replay"     // a leaf replayed from the object store (reconcile)
	ActionLogReconciled = "log.reconciled" // a reconcile finished
	ActionCopyRestored  = "reconcile.copy" // a stored copy re-registered from the PDF itself
	ActionObjectNote    = "object.note"    // an operator explained an object
	ActorReconcile      = "reconcile"
)

// RestoredEntry is the register row a certification leaf (issued or void) describes, for
// a register that lost it: the public fields from the leaf, the private ones from the
// opening when it matches the leaf's commitments and token hash. Otherwise the private
// fields are placeholders (translog.RestoredText, translog.RestoredAccessCode, a random
// token that no link carries), and placeholders is true.
func RestoredEntry(l *translog.Leaf, o *translog.Opening, unitID, bookID int64) (c *chungthuc.Certification, placeholders bool, err error) {
	certified, err := translog.ParseTime(l.CertifiedAt)
	if err != nil {
		return nil, false, chungthuc.Errorf(chungthuc.EINVALID, "leaf of %s %d no. %d: bad certified_at", l.Unit, l.Year, l.Number)
	}
	at, err := translog.ParseTime(l.Time)
	if err != nil {
		return nil, false, chungthuc.Errorf(chungthuc.EINVALID, "leaf of %s %d no. %d: bad time", l.Unit, l.Year, l.Number)
	}
	c = &chungthuc.Certification{
		UnitID: unitID, BookID: bookID, BookCode: l.Book, Year: l.Year, Number: l.Number,
		OfficerID: l.OfficerID, OfficerName: l.OfficerName, OfficerTitle: l.OfficerTitle,
		Pages: l.Pages, Copies: max(l.Copies, 1), FeeVND: l.FeeVND, SHA256: l.CopySHA256, CertifiedAt: certified, CreatedAt: at,
		ScanKeys: []string{},
	}
	switch l.Event {
	case translog.EventIssued:
		c.Status = chungthuc.StatusIssued
	case translog.EventVoid:
		c.Status, c.VoidReason = chungthuc.StatusVoid, l.Reason
	default:
		return nil, false, chungthuc.Errorf(chungthuc.EINVALID, "a %s leaf does not create an entry", l.Event)
	}
	if OpeningMatches(l, o) {
		c.Token, c.AccessCodeHash, c.Title, c.Issuer, c.Requester = o.Token, o.AccessCodeHash, o.Title, o.Issuer, o.Requester
		c.ObjectKey = o.ObjectKey
		if o.ScanKeys != nil {
			c.ScanKeys = o.ScanKeys
		}
	} else {
		placeholders = true
		b := make([]byte, 16)
		rand.Read(b)
		c.Token = "restored-" + hex.EncodeToString(b) // never a link's token: links carry no '-'-prefixed hex
		c.AccessCodeHash, c.Title, c.Issuer, c.Requester = translog.RestoredAccessCode, translog.RestoredText, "", ""
	}
	if c.ObjectKey == "" && c.SHA256 != "" {
		c.ObjectKey = "copies/" + c.SHA256 + ".pdf"
	}
	return c, placeholders, nil
}

// OpeningMatches reports whether o opens l: its token hashes to the leaf's token hash and
// its private fields match the leaf's commitments.
func OpeningMatches(l *translog.Leaf, o *translog.Opening) bool {
	if o == nil || o.Token == "" || l.Private == nil || translog.TokenHash(o.Token) != l.TokenSHA256 {
		return false
	}
	return *o.Commitments() == *l.Private
}

// BookSeq reads the sequence number of a book from its code ("02/2026-SCTĐT/BS" → 2).
func BookSeq(code string) (int, error) {
	s, _, ok := strings.Cut(code, "/")
	n, err := strconv.Atoi(s)
	if !ok || err != nil || n < 1 {
		return 0, chungthuc.Errorf(chungthuc.EINVALID, "book code %q does not start with its number", code)
	}
	return n, nil
}

// ReplayTx is what a back end does to its register, inside the transaction that replays
// one leaf (ApplyLeaf holds the decisions, shared by both back ends). Times are handed
// over as the leaf writes them, with the leaf field they come from: each back end stores
// them its own way and refuses a malformed one as it always did.
type ReplayTx interface {
	// Unit finds the unit with this code, or re-creates it (created after the backup).
	Unit(code string) (int64, error)
	// Officer finds or re-creates (inactive) the leaf's officer in the unit.
	Officer(unitID int64, l *translog.Leaf) (int64, error)
	// Book finds or re-creates the book code of year and keeps its last number at least
	// number; at (leaf field field) is when it was opened if it must be re-created.
	Book(unitID int64, year int, code string, number int64, at, field string) (int64, error)
	// Row returns the register's entry, ENOTFOUND if there is none.
	Row(unitID int64, year int, number int64) (*chungthuc.Certification, error)
	// Insert adds c as a Pending entry, with its reserve audit entry.
	Insert(c *chungthuc.Certification) (int64, error)
	// Settle makes entry id Issued or Void as c says, with its audit entry.
	Settle(id int64, c *chungthuc.Certification) error
	// Revoke marks c revoked as the leaf says, with its audit entry.
	Revoke(c *chungthuc.Certification, l *translog.Leaf) error
	// VersionTaken reports whether a version with this SHA-256 is registered.
	VersionTaken(sha string) (bool, error)
	// AddVersion registers the leaf's version of entry certID, stored at objectKey.
	AddVersion(certID int64, l *translog.Leaf, objectKey string) error
	// CloseBook closes book id as the leaf says (if it is still open).
	CloseBook(id int64, l *translog.Leaf) error
}

// ApplyLeaf makes the register say what l (with its opening o, possibly nil) says, through
// tx, and fills res; it returns the ids the leaf row refers to. Errors: ECONFLICT when the
// register contradicts the leaf, ENOTFOUND when a revoked or version leaf names an entry
// the register does not have, EINVALID for a version leaf without an object key, and
// whatever tx returns.
func ApplyLeaf(tx ReplayTx, res *translog.ReplayResult, l *translog.Leaf, o *translog.Opening) (certID, bookID, unitID int64, err error) {
	if l.Event == translog.EventReconciled {
		return 0, 0, 0, nil
	}
	if unitID, err = tx.Unit(l.Unit); err != nil {
		return 0, 0, 0, err
	}
	switch l.Event {
	case translog.EventBookClosed:
		res.Row = fmt.Sprintf("%s book %s", l.Unit, l.Book)
		if bookID, err = tx.Book(unitID, l.Year, l.Book, l.LastNumber, l.ClosedAt, "closed_at"); err != nil {
			return 0, 0, unitID, err
		}
		return 0, bookID, unitID, tx.CloseBook(bookID, l)
	case translog.EventIssued, translog.EventVoid:
		certID, err = replayEntry(tx, res, unitID, l, o)
	case translog.EventRevoked:
		certID, err = replayRevoke(tx, res, unitID, l)
	case translog.EventVersion:
		certID, err = replayVersion(tx, res, unitID, l, o)
	}
	return certID, 0, unitID, err
}

func replayEntry(tx ReplayTx, res *translog.ReplayResult, unitID int64, l *translog.Leaf, o *translog.Opening) (int64, error) {
	res.Row = fmt.Sprintf("%s %d no. %d", l.Unit, l.Year, l.Number)
	bookID, err := tx.Book(unitID, l.Year, l.Book, l.Number, l.CertifiedAt, "certified_at")
	if err != nil {
		return 0, err
	}
	c, placeholders, err := RestoredEntry(l, o, unitID, bookID)
	if err != nil {
		return 0, err
	}
	old, err := tx.Row(unitID, l.Year, l.Number)
	if err == nil {
		// The backup caught the entry Pending: finish it as the log says.
		if old.Status != chungthuc.StatusPending || translog.TokenHash(old.Token) != l.TokenSHA256 {
			return 0, chungthuc.Errorf(chungthuc.ECONFLICT, "the register's entry %s (%s) contradicts the log's %s leaf", res.Row, old.Status, l.Event)
		}
		if c.ScanKeys = old.ScanKeys; !placeholders && o.ScanKeys != nil {
			c.ScanKeys = o.ScanKeys
		}
		return old.ID, tx.Settle(old.ID, c)
	} else if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		return 0, err
	}
	if c.OfficerID, err = tx.Officer(unitID, l); err != nil {
		return 0, err
	}
	res.Created, res.Placeholders = true, placeholders
	id, err := tx.Insert(c)
	if err != nil {
		return 0, err
	}
	return id, tx.Settle(id, c)
}

func replayRevoke(tx ReplayTx, res *translog.ReplayResult, unitID int64, l *translog.Leaf) (int64, error) {
	res.Row = fmt.Sprintf("%s %d no. %d", l.Unit, l.Year, l.Number)
	c, err := tx.Row(unitID, l.Year, l.Number)
	if err != nil {
		return 0, err
	}
	if c.Status == chungthuc.StatusRevoked {
		return c.ID, nil
	}
	if c.Status != chungthuc.StatusIssued || translog.TokenHash(c.Token) != l.TokenSHA256 && !strings.HasPrefix(c.Token, "restored-") {
		return 0, chungthuc.Errorf(chungthuc.ECONFLICT, "the register's entry %s (%s) contradicts the log's revocation", res.Row, c.Status)
	}
	return c.ID, tx.Revoke(c, l)
}

func replayVersion(tx ReplayTx, res *translog.ReplayResult, unitID int64, l *translog.Leaf, o *translog.Opening) (int64, error) {
	res.Row = fmt.Sprintf("%s %d no. %d, version %s", l.Unit, l.Year, l.Number, l.Version)
	c, err := tx.Row(unitID, l.Year, l.Number)
	if err != nil {
		return 0, err
	}
	taken, err := tx.VersionTaken(l.Version)
	if err != nil {
		return 0, err
	}
	if taken {
		return c.ID, nil
	}
	if o == nil || o.ObjectKey == "" {
		return 0, chungthuc.Errorf(chungthuc.EINVALID, "the version leaf of %s carries no object key", res.Row)
	}
	err = tx.AddVersion(c.ID, l, o.ObjectKey)
	res.Created = true
	return c.ID, err
}
