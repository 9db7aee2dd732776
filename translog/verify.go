package translog

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/chungthuc/chungthuc"
)

// Finding is one difference between the register and its log (or the log and its signed
// checkpoints).
type Finding struct {
	// Kind: register_behind, log_diverged, stored_hash, leaf, checkpoint, consistency,
	// row_without_leaf, leaf_without_row, status, field, private_field, leaf_disagreement,
	// counter, version, book, audit_anchor, audit_chain.
	Kind    string `json:"kind"`
	Subject string `json:"subject"` // what it is about: "HB 2026 no. 5", "leaf 12", "audit entry 881"
	Detail  string `json:"detail"`
}

// VerifyReport is what VerifyRegister found.
type VerifyReport struct {
	Clean          bool      `json:"clean"`
	LogSize        int64     `json:"log_size"`
	CheckpointSize int64     `json:"checkpoint_size"`
	CheckpointTime string    `json:"checkpoint_time,omitempty"`
	Checkpoints    int       `json:"checkpoints_in_store"`
	Rows           int       `json:"rows_checked"`
	Findings       []Finding `json:"findings"`
	Notes          []string  `json:"notes"`
}

func (r *VerifyReport) add(kind, subject, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Kind: kind, Subject: subject, Detail: fmt.Sprintf(format, args...)})
}

// maxPerKind bounds the findings of one kind (a rewritten table would otherwise list every
// row).
const maxPerKind = 50

// entryKey identifies an entry independently of the register's IDs.
type entryKey struct {
	unit   string
	year   int
	number int64
}

func (k entryKey) String() string { return fmt.Sprintf("%s %d no. %d", k.unit, k.year, k.number) }

type loggedEntry struct {
	first   *Leaf // issued or void
	firstAt int64
	revoked *Leaf
	revAt   int64
	leaves  []*Leaf
	indexes []int64
	version map[string]int64 // version sha → leaf index
	seen    bool
}

// VerifyRegister checks that the register and its public log agree, row by row, and that
// the log agrees with the signed checkpoints in the object store:
//
//   - every leaf is well formed and the stored hashes are the hashes of the leaves;
//   - the newest checkpoint in the store is signed by the log key, is not ahead of the
//     register (a register restored from an older backup), and its root is the tree of
//     the register's leaves at its size; older, if given, is a checkpoint the newest one is
//     consistent with;
//   - every issued, void or revoked row has its leaf and agrees with it (status, token,
//     copy hash, officer, title, fee, pages, book, date, reasons; the access-code hash,
//     title, issuer and requester through the leaf's commitments), every leaf has its row,
//     the leaves of one entry agree with each other;
//   - the number counters are not below the highest logged number of their unit and year;
//   - versions and closed books have their leaves;
//   - every audit entry a leaf anchors has the anchored hash, and the audit chain is intact.
//
// It reads everything and returns every difference it finds (at most 50 of a kind); only a
// failure to read returns an error.
func VerifyRegister(ctx context.Context, l *Log, reg Register, older []byte) (*VerifyReport, error) {
	rep := &VerifyReport{Findings: []Finding{}, Notes: []string{}}
	n, err := reg.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	rep.LogSize = n

	// 1. Leaves and stored hashes, recomputed in memory.
	mem := &memHashes{}
	entries := map[entryKey]*loggedEntry{}
	var order []entryKey
	maxNumber := map[string]int64{} // "unit year" → highest logged number
	var books []bookLeafRef
	restored := [][2]int64{} // reconciled ranges
	anchors := map[int64][]int64{}
	const page = 5000
	for from := int64(0); from < n; from += page {
		leaves, err := reg.LogLeaves(ctx, from, min(from+page, n))
		if err != nil {
			return nil, err
		}
		for _, lf := range leaves {
			if lf.Index != mem.n {
				rep.add("leaf", fmt.Sprintf("leaf %d", mem.n), "the log has no leaf at this index (the next one is %d)", lf.Index)
				return finish(rep), nil
			}
			if err := mem.append(lf.Data); err != nil {
				return nil, err
			}
			d, err := ParseLeaf(lf.Data)
			if err != nil {
				rep.add("leaf", fmt.Sprintf("leaf %d", lf.Index), "%s", chungthuc.ErrorMessage(err))
				continue
			}
			anchors[d.Audit.ID] = append(anchors[d.Audit.ID], lf.Index)
			switch d.Event {
			case EventReconciled:
				restored = append(restored, [2]int64{d.RestoredFrom, d.RestoredTo})
				continue
			case EventBookClosed:
				books = append(books, bookLeafRef{d, lf.Index})
				continue
			}
			k := entryKey{d.Unit, d.Year, d.Number}
			e := entries[k]
			if e == nil {
				e = &loggedEntry{version: map[string]int64{}}
				entries[k] = e
				order = append(order, k)
			}
			e.leaves, e.indexes = append(e.leaves, d), append(e.indexes, lf.Index)
			switch d.Event {
			case EventIssued, EventVoid:
				if e.first != nil {
					rep.add("leaf", k.String(), "leaves %d and %d both record the entry as %s/%s: a number used twice", e.firstAt, lf.Index, e.first.Event, d.Event)
				} else {
					e.first, e.firstAt = d, lf.Index
				}
				if uy := fmt.Sprintf("%s %d", d.Unit, d.Year); d.Number > maxNumber[uy] {
					maxNumber[uy] = d.Number
				}
			case EventRevoked:
				e.revoked, e.revAt = d, lf.Index
			case EventVersion:
				e.version[d.Version] = lf.Index
			}
		}
	}
	if err := compareStoredHashes(ctx, reg, mem, rep); err != nil {
		return nil, err
	}
	inRestored := func(i int64) bool {
		for _, r := range restored {
			if i >= r[0] && i < r[1] {
				return true
			}
		}
		return false
	}

	// 2. Checkpoints.
	if err := checkCheckpoints(ctx, l, mem, n, older, rep); err != nil {
		return nil, err
	}

	// 3. Rows against leaves.
	units, err := reg.Units(ctx)
	if err != nil {
		return nil, err
	}
	codes := map[int64]string{}
	for _, u := range units {
		codes[u.ID] = u.Code
	}
	byID := map[int64]entryKey{}
	err = reg.ForEachCertification(ctx, func(c *chungthuc.Certification) error {
		rep.Rows++
		k := entryKey{codes[c.UnitID], c.Year, c.Number}
		byID[c.ID] = k
		e := entries[k]
		if e == nil || e.first == nil {
			switch c.Status {
			case chungthuc.StatusIssued, chungthuc.StatusRevoked:
				rep.add("row_without_leaf", k.String(), "the register says %s but the log has no leaf issuing it: a row inserted behind the service's back (its link would verify as valid)", c.Status)
			case chungthuc.StatusVoid:
				rep.add("row_without_leaf", k.String(), "the register says void but the log has no void leaf for it")
			}
			if e != nil && e.first == nil {
				e.seen = true
			}
			return nil
		}
		e.seen = true
		compareRow(rep, k, c, e, inRestored(e.firstAt))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, k := range order {
		e := entries[k]
		if !e.seen {
			rep.add("leaf_without_row", k.String(), "the log records it (leaf %d, %s) but the register has no such row: a row deleted or renumbered behind the service's back", e.indexes[0], e.leaves[0].Event)
		} else if e.first == nil {
			rep.add("leaf", k.String(), "leaf %d records a %s of an entry the log never issued", e.indexes[0], e.leaves[0].Event)
		}
	}

	// 4. Counters.
	counters, err := reg.Counters(ctx)
	if err != nil {
		return nil, err
	}
	have := map[string]int64{}
	for _, c := range counters {
		have[fmt.Sprintf("%s %d", codes[c.UnitID], c.Year)] = c.LastNumber
	}
	for _, uy := range sortedKeys(maxNumber) {
		if last, ok := have[uy]; !ok || last < maxNumber[uy] {
			rep.add("counter", uy, "the number counter says %d but the log records number %d: the counter was edited (the next certification would reuse a number, or fail)", last, maxNumber[uy])
		}
	}

	// 5. Versions.
	versions, err := reg.Versions(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range versions {
		k, ok := byID[v.CertificationID]
		e := entries[k]
		if !ok || e == nil {
			rep.add("version", fmt.Sprintf("certification %d", v.CertificationID), "version %d (%s) has no entry in the log", v.Seq, v.SHA256)
			continue
		}
		if _, ok := e.version[v.SHA256]; !ok {
			rep.add("version", k.String(), "version %d (%s) has no log leaf: added behind the service's back (it would verify as certified)", v.Seq, v.SHA256)
			continue
		}
		delete(e.version, v.SHA256)
	}
	for _, k := range order {
		for sha, idx := range entries[k].version {
			rep.add("version", k.String(), "the log records version %s (leaf %d) but the register has no such version", sha, idx)
		}
	}

	// 6. Books.
	if err := compareBooks(ctx, reg, units, books, rep); err != nil {
		return nil, err
	}

	// 7. The audit log against the anchors.
	ids := make([]int64, 0, len(anchors))
	for id := range anchors {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	hashes, err := reg.AuditHashes(ctx, ids)
	if err != nil {
		return nil, err
	}
	leafHash := map[int64]string{}
	for from := int64(0); from < n; from += page {
		leaves, err := reg.LogLeaves(ctx, from, min(from+page, n))
		if err != nil {
			return nil, err
		}
		for _, lf := range leaves {
			if d, err := ParseLeaf(lf.Data); err == nil {
				leafHash[lf.Index] = d.Audit.Hash
			}
		}
	}
	lost := 0
	for _, id := range ids {
		for _, idx := range anchors[id] {
			if inRestored(idx) {
				lost++
				continue
			}
			got, ok := hashes[id]
			switch {
			case !ok:
				rep.add("audit_anchor", fmt.Sprintf("audit entry %d", id), "leaf %d anchors this audit entry but it is missing: the audit log was cut", idx)
			case got != leafHash[idx]:
				rep.add("audit_anchor", fmt.Sprintf("audit entry %d", id), "its hash %s is not the %s that leaf %d anchors: the audit log was rewritten at or before this entry (and rehashed after it)", short(got), short(leafHash[idx]), idx)
			}
		}
	}
	if lost > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d leaves were replayed from the object store by `chungthuc reconcile`; the audit entries they anchor were lost with the restored backup and are not checked", lost))
	}
	broken, checked, err := reg.VerifyChain(ctx)
	if err != nil {
		return nil, err
	}
	if broken != 0 {
		rep.add("audit_chain", fmt.Sprintf("audit entry %d", broken), "the hash chain of the audit log breaks here (%d entries checked)", checked)
	}
	return finish(rep), nil
}

func finish(rep *VerifyReport) *VerifyReport {
	counts := map[string]int{}
	kept := rep.Findings[:0]
	for _, f := range rep.Findings {
		counts[f.Kind]++
		if counts[f.Kind] <= maxPerKind {
			kept = append(kept, f)
		}
	}
	rep.Findings = kept
	for _, k := range sortedKeys(counts) {
		if counts[k] > maxPerKind {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d more findings of kind %s not listed", counts[k]-maxPerKind, k))
		}
	}
	rep.Clean = len(rep.Findings) == 0
	return rep
}

func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	return h
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// compareRow compares one register row with the leaves of its entry.
func compareRow(rep *VerifyReport, k entryKey, c *chungthuc.Certification, e *loggedEntry, restored bool) {
	s := k.String()
	f := e.first
	// Status.
	want := chungthuc.StatusIssued
	switch {
	case f.Event == EventVoid:
		want = chungthuc.StatusVoid
	case e.revoked != nil:
		want = chungthuc.StatusRevoked
	}
	if c.Status != want {
		switch {
		case c.Status == chungthuc.StatusRevoked && want == chungthuc.StatusIssued:
			rep.add("status", s, "the register says revoked but the log has no revocation leaf: revoked behind the service's back (no public record of it)")
		case c.Status == chungthuc.StatusIssued && want == chungthuc.StatusRevoked:
			rep.add("status", s, "the register says issued but leaf %d revoked it: un-revoked behind the service's back", e.revAt)
		default:
			rep.add("status", s, "the register says %s but the log says %s", c.Status, want)
		}
	}
	// Fields against the first leaf (what was issued), then the later leaves against it.
	fields := func(l *Leaf, idx int64, kind string, name string, got, exp string) {
		if got != exp {
			rep.add(kind, s, "%s is %q in the register but %q in leaf %d", name, got, exp, idx)
		}
	}
	cmp := func(l *Leaf, idx int64) {
		fields(l, idx, "field", "the copy's SHA-256", c.SHA256, l.CopySHA256)
		fields(l, idx, "field", "the officer id", fmt.Sprint(c.OfficerID), fmt.Sprint(l.OfficerID))
		fields(l, idx, "field", "the officer's name", c.OfficerName, l.OfficerName)
		fields(l, idx, "field", "the officer's title", c.OfficerTitle, l.OfficerTitle)
		fields(l, idx, "field", "the pages", fmt.Sprint(c.Pages), fmt.Sprint(l.Pages))
		fields(l, idx, "field", "the fee", fmt.Sprint(c.FeeVND), fmt.Sprint(l.FeeVND))
		fields(l, idx, "field", "the copies", fmt.Sprint(max(c.Copies, 1)), fmt.Sprint(max(l.Copies, 1)))
		fields(l, idx, "field", "the book code", c.BookCode, l.Book)
		fields(l, idx, "field", "the certification time", FormatTime(c.CertifiedAt), l.CertifiedAt)
	}
	if restored && strings.HasPrefix(c.Token, "restored-") {
		rep.Notes = append(rep.Notes, s+": restored from the log with placeholders (token and access code must be reissued)")
	} else if TokenHash(c.Token) != f.TokenSHA256 {
		rep.add("field", s, "the verification token does not hash to the token hash of leaf %d: the token was changed", e.firstAt)
	} else if f.Private != nil {
		for _, p := range []struct{ name, field, value, commit string }{
			{"the access-code hash", "access_code_hash", c.AccessCodeHash, f.Private.AccessCodeHash},
			{"the document's title", "title", c.Title, f.Private.Title},
			{"the issuer", "issuer", c.Issuer, f.Private.Issuer},
			{"the requester", "requester", c.Requester, f.Private.Requester},
		} {
			if Commit(c.Token, p.field, p.value) != p.commit {
				rep.add("private_field", s, "%s does not match the commitment in leaf %d: it was changed behind the service's back", p.name, e.firstAt)
			}
		}
	}
	cmp(f, e.firstAt)
	if f.Event == EventVoid {
		fields(f, e.firstAt, "field", "the void reason", c.VoidReason, f.Reason)
	}
	if e.revoked != nil && c.Status == chungthuc.StatusRevoked {
		fields(e.revoked, e.revAt, "field", "the revocation reason", c.RevokeReason, e.revoked.Reason)
		got := ""
		if c.RevokedAt != nil {
			got = FormatTime(*c.RevokedAt)
		}
		fields(e.revoked, e.revAt, "field", "the revocation time", got, e.revoked.RevokedAt)
	}
	for i, l := range e.leaves {
		idx := e.indexes[i]
		if l == f {
			continue
		}
		for _, d := range []struct{ name, a, b string }{
			{"token hash", l.TokenSHA256, f.TokenSHA256}, {"copy SHA-256", l.CopySHA256, f.CopySHA256},
			{"officer", fmt.Sprint(l.OfficerID, l.OfficerName, l.OfficerTitle), fmt.Sprint(f.OfficerID, f.OfficerName, f.OfficerTitle)},
			{"pages, copies and fee", fmt.Sprint(l.Pages, l.Copies, l.FeeVND), fmt.Sprint(f.Pages, f.Copies, f.FeeVND)},
			{"book", l.Book, f.Book}, {"certification time", l.CertifiedAt, f.CertifiedAt},
		} {
			if d.a != d.b {
				rep.add("leaf_disagreement", s, "leaf %d (%s) and leaf %d (%s) disagree about the %s: the row was changed between the two events", e.firstAt, f.Event, idx, l.Event, d.name)
			}
		}
		if l.Private != nil && f.Private != nil && *l.Private != *f.Private {
			rep.add("leaf_disagreement", s, "leaf %d (%s) and leaf %d (%s) commit to different private fields (access code, title, issuer or requester): the row was changed between the two events", e.firstAt, f.Event, idx, l.Event)
		}
	}
}

type bookLeafRef struct {
	leaf *Leaf
	idx  int64
}

// compareBooks checks closed books against their leaves.
func compareBooks(ctx context.Context, reg Register, units []*chungthuc.Unit, leaves []bookLeafRef, rep *VerifyReport) error {
	logged := map[string]bookLeafRef{}
	for _, b := range leaves {
		logged[b.leaf.Unit+" "+b.leaf.Book] = b
	}
	for _, u := range units {
		bs, err := reg.Books(ctx, u.ID, 0)
		if err != nil {
			return err
		}
		for _, b := range bs {
			key := u.Code + " " + b.Code
			l, ok := logged[key]
			delete(logged, key)
			switch {
			case b.ClosedAt == nil && ok:
				rep.add("book", key, "leaf %d closed this book but the register has it open", l.idx)
			case b.ClosedAt != nil && !ok:
				rep.add("book", key, "the register has this book closed but the log has no leaf closing it")
			case ok && (FormatTime(*b.ClosedAt) != l.leaf.ClosedAt || b.ClosingCount != l.leaf.ClosingCount || b.LastNumber != l.leaf.LastNumber || b.FirstNumber != l.leaf.FirstNumber):
				rep.add("book", key, "closing time, count or numbers differ from leaf %d", l.idx)
			}
		}
	}
	for _, key := range sortedKeys(logged) {
		rep.add("book", key, "leaf %d closed this book but the register has no such book", logged[key].idx)
	}
	return nil
}

// compareStoredHashes compares the register's stored hashes with those recomputed from its
// leaves.
func compareStoredHashes(ctx context.Context, reg Register, mem *memHashes, rep *VerifyReport) error {
	total := int64(len(mem.hashes))
	const page = 10000
	for from := int64(0); from < total; from += page {
		idx := make([]int64, 0, page)
		for i := from; i < min(from+page, total); i++ {
			idx = append(idx, i)
		}
		got, err := reg.LogHashes(ctx, idx)
		if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
			rep.add("stored_hash", "log_hashes", "stored hashes are missing between %d and %d: %s", from, from+int64(len(idx)), chungthuc.ErrorMessage(err))
			return nil
		} else if err != nil {
			return err
		}
		for i, h := range got {
			if tlog.Hash(h) != mem.hashes[from+int64(i)] {
				level, n := tlog.SplitStoredHashIndex(from + int64(i))
				rep.add("stored_hash", fmt.Sprintf("stored hash %d", from+int64(i)), "the stored hash of tree node (level %d, %d) is not the hash of the leaves: the tree or a leaf was edited", level, n)
			}
		}
	}
	return nil
}

// checkCheckpoints compares the register's log with the object store's checkpoints.
func checkCheckpoints(ctx context.Context, l *Log, mem *memHashes, n int64, older []byte, rep *VerifyReport) error {
	var keys []string
	if err := l.opt.Store.List(ctx, CheckpointPrefix, func(o chungthuc.ObjectInfo) error {
		if _, ok := SizeOfKey(o.Key); ok {
			keys = append(keys, o.Key)
		}
		return nil
	}); err != nil {
		return err
	}
	rep.Checkpoints = len(keys)
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	var cp Checkpoint
	found := false
	for i, k := range keys {
		b, c, err := l.fetch(ctx, k)
		if chungthuc.ErrorCode(err) == chungthuc.EINVALID {
			rep.add("checkpoint", k, "not a checkpoint signed by the log key: %s", chungthuc.ErrorMessage(err))
			continue
		} else if err != nil {
			return err
		}
		_ = b
		cp, found = c, true
		if i > 0 {
			rep.Notes = append(rep.Notes, "the newest valid checkpoint is "+k)
		}
		break
	}
	if !found {
		if n > 0 {
			rep.Notes = append(rep.Notes, "the object store holds no checkpoint yet")
		}
		return nil
	}
	rep.CheckpointSize, rep.CheckpointTime = cp.Size, FormatTime(cp.Time)
	switch {
	case cp.Size > n:
		rep.add("register_behind", "log", "the newest checkpoint in the store covers %d leaves, the register's log only %d: the register was restored from an older backup or leaves were deleted; run `chungthuc reconcile`", cp.Size, n)
	default:
		root, err := tlog.TreeHash(cp.Size, mem)
		if err != nil {
			return err
		}
		if root != cp.Root {
			rep.add("log_diverged", "log", "the register's leaves do not hash to the root of the signed checkpoint of size %d (%s): leaves were edited, inserted or removed behind the service's back", cp.Size, FormatTime(cp.Time))
		}
		if cp.Size < n {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%d leaves are not yet in a stored checkpoint (the running service stores one within seconds)", n-cp.Size))
		}
	}
	if older == nil {
		return nil
	}
	o, err := OpenCheckpoint(older, l.opt.Key.Verifier)
	if err != nil {
		rep.add("consistency", "--checkpoint", "%s", chungthuc.ErrorMessage(err))
		return nil
	}
	if o.Size > cp.Size {
		rep.add("consistency", "--checkpoint", "the given checkpoint (size %d) is larger than the newest in the store (%d): the store lost checkpoints", o.Size, cp.Size)
		return nil
	}
	if o.Size == cp.Size {
		if o.Root != cp.Root {
			rep.add("consistency", "--checkpoint", "the given checkpoint and the newest in the store have size %d but different roots: the log forked", o.Size)
		}
		return nil
	}
	if o.Size > 0 && cp.Size <= n {
		p, err := tlog.ProveTree(cp.Size, o.Size, mem)
		if err != nil {
			return err
		}
		if err := tlog.CheckTree(p, cp.Size, cp.Root, o.Size, o.Root); err != nil {
			rep.add("consistency", "--checkpoint", "the newest checkpoint (%d) is not consistent with the given one (%d): the log was rewritten after it was published", cp.Size, o.Size)
		}
	}
	return nil
}

// memHashes is an in-memory tlog hash store built from the leaves.
type memHashes struct {
	n      int64 // leaves
	hashes []tlog.Hash
}

func (m *memHashes) append(data []byte) error {
	hs, err := tlog.StoredHashes(m.n, data, m)
	if err != nil {
		return err
	}
	m.n++
	m.hashes = append(m.hashes, hs...)
	return nil
}

// ReadHashes implements tlog.HashReader.
func (m *memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("translog: hash %d not computed", x)
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}
