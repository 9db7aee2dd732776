package translog

import (
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/chungthuc/chungthuc"
)

// ReconcileReport says what Reconcile did.
type ReconcileReport struct {
	RegisterSize int64          `json:"register_size"` // the register's log before
	StoreSize    int64          `json:"store_size"`    // the newest checkpoint's size
	Replayed     []ReplayedLeaf `json:"replayed"`
	// Size is the register's log size after (StoreSize plus the reconciled leaf).
	Size int64 `json:"size"`
}

// ReplayedLeaf is one leaf Reconcile replayed.
type ReplayedLeaf struct {
	Index int64 `json:"index"`
	ReplayResult
}

// Reconcile brings a register that is behind the object store (restored from an older
// backup) back in agreement with it. It reads the newest signed checkpoint and the bundles
// back to the register's size, and checks, before writing anything, that the register's
// leaves followed by the bundles' leaves hash to the checkpoint's root. Then it replays the
// missing leaves one by one (Restorer.ReplayLeaf: each re-creates or completes its row and
// advances the number counter, so no number is ever issued twice), checks the register's
// tree against the checkpoint again, lifts the block, and appends a reconciled leaf, which
// the Appended hook publishes in a new checkpoint. It deletes nothing.
//
// A register that is not behind is left alone (an empty Replayed). Errors: ECONFLICT when
// the register's log is not a prefix of the store's (it diverged: `chungthuc log verify`
// says where) or a leaf contradicts the register; the store's and the register's errors.
func Reconcile(ctx context.Context, l *Log, r Restorer, note string) (*ReconcileReport, error) {
	if err := l.Refresh(ctx); err != nil {
		return nil, err
	}
	n, err := r.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	rep := &ReconcileReport{RegisterSize: n, Size: n, Replayed: []ReplayedLeaf{}}
	l.mu.Lock()
	cur := l.newest
	l.mu.Unlock()
	if cur == nil {
		return rep, nil
	}
	rep.StoreSize = cur.cp.Size
	if cur.cp.Size <= n {
		if err := l.Check(ctx); err != nil {
			return rep, err
		}
		return rep, nil
	}
	leaves, err := l.chain(ctx, cur, n)
	if err != nil {
		return rep, err
	}
	// Check the whole result in memory first: the register's tree of size n extended by the
	// bundles' leaves must be the signed tree.
	over := &overlay{base: hashReader(ctx, r), baseCount: tlog.StoredHashCount(n), n: n}
	for i := n; i < cur.cp.Size; i++ {
		e, ok := leaves[i]
		if !ok {
			return rep, fmt.Errorf("translog: the stored bundles lack leaf %d", i)
		}
		if err := over.append(e.Data); err != nil {
			return rep, err
		}
	}
	root, err := tlog.TreeHash(cur.cp.Size, over)
	if err != nil {
		return rep, err
	}
	if root != cur.cp.Root {
		return rep, chungthuc.Errorf(chungthuc.ECONFLICT,
			"The register's log (%d leaves) is not a prefix of the log the object store signed (%d leaves): the register diverged from it, so replaying would not restore it. Nothing was changed; run `chungthuc log verify` to see where they differ.", n, cur.cp.Size)
	}
	for i := n; i < cur.cp.Size; i++ {
		e := leaves[i]
		res, err := r.ReplayLeaf(ctx, i, e.Data, e.Private)
		if err != nil {
			return rep, fmt.Errorf("replaying leaf %d: %w", i, err)
		}
		rep.Replayed = append(rep.Replayed, ReplayedLeaf{Index: i, ReplayResult: *res})
	}
	got, err := tlog.TreeHash(cur.cp.Size, hashReader(ctx, r))
	if err != nil {
		return rep, err
	}
	if got != cur.cp.Root {
		return rep, fmt.Errorf("translog: after replaying, the register's tree of size %d is not the checkpoint's", cur.cp.Size)
	}
	if err := l.Check(ctx); err != nil {
		return rep, err
	}
	if err := r.AppendReconciled(ctx, n, cur.cp.Size, note); err != nil {
		return rep, err
	}
	rep.Size, err = r.LogSize(ctx)
	return rep, err
}

// overlay is the register's stored hashes of a tree of size n, extended in memory.
type overlay struct {
	base      tlog.HashReader
	baseCount int64 // stored hashes of the register's tree
	n         int64 // leaves so far
	extra     []tlog.Hash
}

func (o *overlay) append(data []byte) error {
	hs, err := tlog.StoredHashes(o.n, data, o)
	if err != nil {
		return err
	}
	o.n++
	o.extra = append(o.extra, hs...)
	return nil
}

// ReadHashes implements tlog.HashReader.
func (o *overlay) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	var fromBase []int64
	var where []int
	for i, x := range idx {
		if x < o.baseCount {
			fromBase, where = append(fromBase, x), append(where, i)
			continue
		}
		j := x - o.baseCount
		if j >= int64(len(o.extra)) {
			return nil, fmt.Errorf("translog: hash %d not computed", x)
		}
		out[i] = o.extra[j]
	}
	if len(fromBase) > 0 {
		hs, err := o.base.ReadHashes(fromBase)
		if err != nil {
			return nil, err
		}
		for k, i := range where {
			out[i] = hs[k]
		}
	}
	return out, nil
}
