package objecttest

import (
	"context"
	"reflect"
	"testing"

	"github.com/chungthuc/chungthuc"
)

// afterLister is the optional listing of the keys after a given one (translog.KeyLister).
type afterLister interface {
	ListAfter(ctx context.Context, prefix, after string, fn func(chungthuc.ObjectInfo) error) error
}

// testListAfter: only keys under the prefix that sort after the given key, in order, with
// their metadata; a store without ListAfter skips.
func testListAfter(t *testing.T, s chungthuc.ObjectStore, p string) {
	la, ok := s.(afterLister)
	if !ok {
		t.Skip("the store has no ListAfter")
	}
	ctx := context.Background()
	keys := []string{"cp/00000000000000000001", "cp/00000000000000000002", "cp/00000000000000000010", "cp/00000000000000000011", "other/x"}
	for _, k := range keys {
		mustPut(t, s, p+k, []byte(k))
	}
	list := func(after string) []string {
		t.Helper()
		var got []string
		err := la.ListAfter(ctx, p+"cp/", after, func(o chungthuc.ObjectInfo) error {
			if o.SHA256 != "" && o.SHA256 != hexSum([]byte(o.Key[len(p):])) {
				t.Errorf("ListAfter: %s has SHA-256 %s", o.Key, o.SHA256)
			}
			got = append(got, o.Key[len(p):])
			return nil
		})
		if err != nil {
			t.Fatalf("ListAfter(%q): %v", after, err)
		}
		return got
	}
	for _, c := range []struct {
		after string
		want  []string
	}{
		{"", keys[:4]},
		{p + "cp/00000000000000000002", keys[2:4]},
		{p + "cp/00000000000000000011", nil},
		{p + "cp/0000000000000000000", keys[:4]},
		{p + "a", keys[:4]},
		{p + "zz", nil},
	} {
		if got := list(c.after); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ListAfter(after %q) = %v, want %v", c.after, got, c.want)
		}
	}
	if err := la.ListAfter(ctx, "../", "", func(chungthuc.ObjectInfo) error { return nil }); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Errorf("ListAfter with a bad prefix: %v", err)
	}
}
