package translog

import (
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TestFrontier: growing a tree from the frontier of any size gives the same stored hashes
// and roots as the whole tree, and the frontier is all TreeHash and StoredHashes read.
func TestFrontier(t *testing.T) {
	full := &memHashes{}
	var roots []tlog.Hash
	for i := 0; i < 300; i++ {
		if err := full.append([]byte(fmt.Sprint("leaf ", i))); err != nil {
			t.Fatal(err)
		}
		r, err := tlog.TreeHash(int64(i+1), full)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, r)
	}
	for _, from := range []int64{0, 1, 2, 3, 7, 8, 63, 64, 100, 255} {
		f, err := readFrontier(from, full)
		if err != nil {
			t.Fatal(err)
		}
		g := f.extend()
		for i := from; i < 300; i++ {
			if err := g.append(i, []byte(fmt.Sprint("leaf ", i))); err != nil {
				t.Fatalf("from %d, leaf %d: %v", from, i, err)
			}
			r, err := tlog.TreeHash(i+1, g)
			if err != nil || r != roots[i] {
				t.Fatalf("from %d, size %d: root %v, %v", from, i+1, r, err)
			}
		}
		if err := g.append(5, nil); err == nil {
			t.Fatal("out-of-order leaf accepted")
		}
	}
}

// TestExportedFrontier: Frontier.Append returns exactly tlog.StoredHashes' hashes, keeps no
// more than one hash per level, and its root is the tree's.
func TestExportedFrontier(t *testing.T) {
	full := &memHashes{}
	f, err := ReadFrontier(0, full)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		data := []byte(fmt.Sprint("leaf ", i))
		want, err := tlog.StoredHashes(int64(i), data, full)
		if err != nil {
			t.Fatal(err)
		}
		c := f.Clone()
		got, err := c.Append(data)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("leaf %d: %v %v, want %v", i, got, err, want)
		}
		f = c
		full.append(data)
		if len(f.g.hashes) > 8 {
			t.Fatalf("frontier of %d holds %d hashes", f.Size(), len(f.g.hashes))
		}
		root, _ := f.TreeHash()
		if want, _ := tlog.TreeHash(int64(i+1), full); root != want {
			t.Fatalf("root of %d", i+1)
		}
	}
}
