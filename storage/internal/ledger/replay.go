package ledger

import (
	"crypto/rand"
	"encoding/hex"
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
