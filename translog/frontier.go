package translog

import (
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// frontier is what a tree of some size needs to grow and to give its root: the hashes of its
// maximal complete subtrees (at most one per level), by stored-hash index.
type frontier struct {
	size  int64
	nodes map[int64]tlog.Hash
}

// frontierIndexes lists the stored-hash indexes of the frontier of a tree of size n: for
// each 1 bit of n, from the highest, the complete subtree of that size at the next position.
// They are exactly what tlog.TreeHash(n) reads, and what tlog.StoredHashes(n, …) reads.
func frontierIndexes(n int64) []int64 {
	var idx []int64
	var pos int64
	for k := 62; k >= 0; k-- {
		if n&(1<<k) != 0 {
			idx = append(idx, tlog.StoredHashIndex(k, pos>>k))
			pos += 1 << k
		}
	}
	return idx
}

// readFrontier reads the frontier of the tree of size n from r.
func readFrontier(n int64, r tlog.HashReader) (*frontier, error) {
	idx := frontierIndexes(n)
	hs, err := r.ReadHashes(idx)
	if err != nil {
		return nil, err
	}
	f := &frontier{size: n, nodes: make(map[int64]tlog.Hash, len(idx))}
	for i, x := range idx {
		f.nodes[x] = hs[i]
	}
	return f, nil
}

// extend returns an in-memory hash store holding f's frontier, to append leaves to.
func (f *frontier) extend() *growing {
	g := &growing{n: f.size, hashes: make(map[int64]tlog.Hash, len(f.nodes)+16)}
	for k, v := range f.nodes {
		g.hashes[k] = v
	}
	return g
}

// growing is a tree's frontier extended with new leaves, in memory.
type growing struct {
	n      int64
	hashes map[int64]tlog.Hash
}

// append adds leaf i (which must be the next) and its new stored hashes.
func (g *growing) append(i int64, data []byte) error {
	if i != g.n {
		return fmt.Errorf("translog: leaf %d appended to a tree of %d", i, g.n)
	}
	hs, err := tlog.StoredHashes(i, data, g)
	if err != nil {
		return err
	}
	base := tlog.StoredHashIndex(0, i)
	for j, h := range hs {
		g.hashes[base+int64(j)] = h
	}
	g.n++
	return nil
}

// ReadHashes implements tlog.HashReader over the hashes held.
func (g *growing) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		h, ok := g.hashes[x]
		if !ok {
			return nil, fmt.Errorf("translog: stored hash %d not in the frontier", x)
		}
		out[i] = h
	}
	return out, nil
}

// Frontier is the part of a tree a writer needs to append leaves and compute roots without
// reading the stored hashes: the hashes of its maximal complete subtrees. The registers keep
// one in memory between transactions (valid while the log's size is its size). Not safe for
// concurrent use.
type Frontier struct{ g *growing }

// ReadFrontier reads the frontier of the tree of size n from r (at most one hash per level).
func ReadFrontier(n int64, r tlog.HashReader) (*Frontier, error) {
	f, err := readFrontier(n, r)
	if err != nil {
		return nil, err
	}
	return &Frontier{g: f.extend()}, nil
}

// Size is the number of leaves of the tree.
func (f *Frontier) Size() int64 { return f.g.n }

// Append adds the next leaf and returns the hashes to store from tlog.StoredHashIndex(0,
// Size() before the call), as tlog.StoredHashes would. The frontier keeps only what the next
// leaf needs.
func (f *Frontier) Append(data []byte) ([]tlog.Hash, error) {
	i := f.g.n
	hs, err := tlog.StoredHashes(i, data, f.g)
	if err != nil {
		return nil, err
	}
	base := tlog.StoredHashIndex(0, i)
	for j, h := range hs {
		f.g.hashes[base+int64(j)] = h
	}
	f.g.n++
	keep := map[int64]bool{}
	for _, x := range frontierIndexes(f.g.n) {
		keep[x] = true
	}
	for x := range f.g.hashes {
		if !keep[x] {
			delete(f.g.hashes, x)
		}
	}
	return hs, nil
}

// Clone returns an independent copy (to extend inside a transaction that may roll back).
func (f *Frontier) Clone() *Frontier {
	g := &growing{n: f.g.n, hashes: make(map[int64]tlog.Hash, len(f.g.hashes))}
	for k, v := range f.g.hashes {
		g.hashes[k] = v
	}
	return &Frontier{g: g}
}

// TreeHash is the root of the tree.
func (f *Frontier) TreeHash() (tlog.Hash, error) { return tlog.TreeHash(f.g.n, f.g) }
