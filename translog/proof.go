package translog

import (
	"context"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/chungthuc/chungthuc"
)

// EntryProof is what GET /api/v1/log/proof/{token} serves: the leaves of one register
// entry, and for each leaf the proof that the newest signed checkpoint includes it.
// Anyone can check it with the log's public key (CheckEntryProof does).
type EntryProof struct {
	// Checkpoint is the newest stored checkpoint, as signed (C2SP tlog-checkpoint).
	Checkpoint string      `json:"checkpoint"`
	Size       int64       `json:"tree_size"`
	Time       string      `json:"checkpoint_time"`
	Leaves     []LeafProof `json:"leaves"`
}

// LeafProof is one leaf and its inclusion proof.
type LeafProof struct {
	Index int64 `json:"index"`
	// Data is the leaf exactly as hashed (base64 in JSON); its record hash is RFC 6962's
	// SHA-256(0x00 ‖ Data).
	Data []byte `json:"data"`
	Leaf *Leaf  `json:"leaf"` // Data decoded, for reading
	// Included is false for a leaf committed after the newest checkpoint (it has no proof
	// yet).
	Included bool `json:"included"`
	// Proof is the RFC 6962 audit path from the leaf to the checkpoint's root (base64
	// hashes).
	Proof tlog.RecordProof `json:"inclusion_proof,omitempty"`
}

// Prove builds the inclusion proofs of leaves against the newest stored checkpoint, and
// checks each proof before returning it. ENOTFOUND when no checkpoint is stored yet;
// EINTERNAL when the register's hashes do not prove a leaf (the register disagrees with
// the checkpoint).
func (l *Log) Prove(ctx context.Context, leaves []chungthuc.LogLeaf) (*EntryProof, error) {
	cp, signed, ok := l.Newest()
	if !ok {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no checkpoint of the public log is stored yet")
	}
	p := &EntryProof{Checkpoint: string(signed), Size: cp.Size, Time: FormatTime(cp.Time), Leaves: []LeafProof{}}
	hr := l.HashReader(ctx)
	for _, lf := range leaves {
		d, err := ParseLeaf(lf.Data)
		if err != nil {
			return nil, err
		}
		lp := LeafProof{Index: lf.Index, Data: lf.Data, Leaf: d}
		if lf.Index < cp.Size {
			proof, err := tlog.ProveRecord(cp.Size, lf.Index, hr)
			if err != nil {
				return nil, err
			}
			if err := tlog.CheckRecord(proof, cp.Size, cp.Root, lf.Index, tlog.RecordHash(lf.Data)); err != nil {
				return nil, chungthuc.Wrap(err, chungthuc.EINTERNAL, "the register's log does not prove leaf %d against checkpoint %d", lf.Index, cp.Size)
			}
			lp.Included, lp.Proof = true, proof
		}
		p.Leaves = append(p.Leaves, lp)
	}
	return p, nil
}

// CheckEntryProof verifies p as a client would: the checkpoint's signature with v, and
// every included leaf's audit path to its root. It returns the checkpoint. EINVALID when
// anything does not check.
func CheckEntryProof(p *EntryProof, v note.Verifier) (Checkpoint, error) {
	cp, err := OpenCheckpoint([]byte(p.Checkpoint), v)
	if err != nil {
		return Checkpoint{}, err
	}
	for _, lp := range p.Leaves {
		if !lp.Included {
			continue
		}
		if err := tlog.CheckRecord(lp.Proof, cp.Size, cp.Root, lp.Index, tlog.RecordHash(lp.Data)); err != nil {
			return Checkpoint{}, chungthuc.Errorf(chungthuc.EINVALID, "leaf %d is not in checkpoint %d: %v", lp.Index, cp.Size, err)
		}
	}
	return cp, nil
}

// ConsistencyProof is what GET /api/v1/log/consistency serves: the RFC 6962 proof that the
// tree of size New extends the tree of size Old.
type ConsistencyProof struct {
	Old   int64          `json:"old"`
	New   int64          `json:"new"`
	Proof tlog.TreeProof `json:"consistency_proof"`
}

// Consistency proves that the tree of size newSize extends the tree of size old. Both
// sizes must be checkpoints' sizes a client may hold: 1 ≤ old ≤ newSize ≤ the newest
// stored checkpoint's size (EINVALID otherwise).
func (l *Log) Consistency(ctx context.Context, old, newSize int64) (*ConsistencyProof, error) {
	cp, _, ok := l.Newest()
	if !ok {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no checkpoint of the public log is stored yet")
	}
	if old < 1 || old > newSize || newSize > cp.Size {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "a consistency proof needs 1 ≤ old ≤ new ≤ %d (the newest checkpoint)", cp.Size)
	}
	p, err := tlog.ProveTree(newSize, old, l.HashReader(ctx))
	if err != nil {
		return nil, err
	}
	return &ConsistencyProof{Old: old, New: newSize, Proof: p}, nil
}

// CheckConsistency verifies that the signed checkpoint newer extends older, with proof p
// (tlog.CheckTree), after checking both signatures with v. EINVALID otherwise.
func CheckConsistency(older, newer []byte, p tlog.TreeProof, v note.Verifier) error {
	o, err := OpenCheckpoint(older, v)
	if err != nil {
		return err
	}
	n, err := OpenCheckpoint(newer, v)
	if err != nil {
		return err
	}
	if o.Size > n.Size {
		return chungthuc.Errorf(chungthuc.EINVALID, "the older checkpoint (%d) is larger than the newer (%d)", o.Size, n.Size)
	}
	if o.Size == n.Size {
		if o.Root != n.Root {
			return chungthuc.Errorf(chungthuc.EINVALID, "two checkpoints of size %d with different roots: the log forked", o.Size)
		}
		return nil
	}
	if err := tlog.CheckTree(p, n.Size, n.Root, o.Size, o.Root); err != nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "checkpoint %d is not consistent with checkpoint %d: %v", n.Size, o.Size, err)
	}
	return nil
}

// Inclusion says where a register entry stands in the public log.
type Inclusion struct {
	Index          int64     // the leaf that issued (or voided) the entry
	Indexes        []int64   // every leaf of the entry
	CheckpointSize int64     // the newest stored checkpoint
	CheckpointTime time.Time // when it was signed
	// Included is true when the issuing leaf is in that checkpoint and its proof checks
	// with the log key (false while the leaf awaits its checkpoint).
	Included bool
}

// EntryProof proves the leaves of the entry with this ID and token against the newest
// stored checkpoint, and checks the proof with the log's own key as a client would. Leaves
// whose token hash is not the token's are left out (a leaf moved to another entry behind the
// service's back proves nothing about this one). ENOTFOUND when the entry has no leaf or no
// checkpoint is stored yet.
func (l *Log) EntryProof(ctx context.Context, certID int64, token string) (*EntryProof, *Inclusion, error) {
	all, err := l.opt.Register.LogLeavesOf(ctx, certID)
	if err != nil {
		return nil, nil, err
	}
	th := TokenHash(token)
	var leaves []chungthuc.LogLeaf
	for _, lf := range all {
		if d, err := ParseLeaf(lf.Data); err == nil && d.TokenSHA256 == th {
			leaves = append(leaves, lf)
		}
	}
	if len(leaves) == 0 {
		return nil, nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "this entry has no leaf in the public log")
	}
	p, err := l.Prove(ctx, leaves)
	if err != nil {
		return nil, nil, err
	}
	cp, err := CheckEntryProof(p, l.opt.Key.Verifier)
	if err != nil {
		return nil, nil, chungthuc.Wrap(err, chungthuc.EINTERNAL, "the log's own proof does not check")
	}
	in := &Inclusion{Index: p.Leaves[0].Index, CheckpointSize: cp.Size, CheckpointTime: cp.Time, Included: p.Leaves[0].Included}
	for _, lp := range p.Leaves {
		in.Indexes = append(in.Indexes, lp.Index)
	}
	return p, in, nil
}
