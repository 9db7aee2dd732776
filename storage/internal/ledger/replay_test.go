package ledger

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/translog"
)

// fakeReplay is a register of one unit in memory, recording what ApplyLeaf asks of it.
type fakeReplay struct {
	rows     map[int64]*chungthuc.Certification // by number
	versions map[string]bool
	calls    []string
	fail     error // returned by Book
}

func (f *fakeReplay) Unit(string) (int64, error) { f.calls = append(f.calls, "unit"); return 7, nil }
func (f *fakeReplay) Officer(int64, *translog.Leaf) (int64, error) {
	f.calls = append(f.calls, "officer")
	return 3, nil
}
func (f *fakeReplay) Book(_ int64, _ int, _ string, _ int64, _, field string) (int64, error) {
	f.calls = append(f.calls, "book:"+field)
	return 11, f.fail
}
func (f *fakeReplay) Row(_ int64, _ int, n int64) (*chungthuc.Certification, error) {
	if c, ok := f.rows[n]; ok {
		return c, nil
	}
	return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no entry")
}
func (f *fakeReplay) Insert(c *chungthuc.Certification) (int64, error) {
	f.calls = append(f.calls, "insert")
	c.ID = 100 + c.Number
	f.rows[c.Number] = c
	return c.ID, nil
}
func (f *fakeReplay) Settle(int64, *chungthuc.Certification) error {
	f.calls = append(f.calls, "settle")
	return nil
}
func (f *fakeReplay) Revoke(*chungthuc.Certification, *translog.Leaf) error {
	f.calls = append(f.calls, "revoke")
	return nil
}
func (f *fakeReplay) VersionTaken(sha string) (bool, error) { return f.versions[sha], nil }
func (f *fakeReplay) AddVersion(int64, *translog.Leaf, string) error {
	f.calls = append(f.calls, "version")
	return nil
}
func (f *fakeReplay) CloseBook(int64, *translog.Leaf) error {
	f.calls = append(f.calls, "close")
	return nil
}

func TestApplyLeaf(t *testing.T) {
	at := translog.FormatTime(time.Date(2026, 5, 1, 2, 3, 4, 0, time.UTC))
	issued := func(n int64, token string) *translog.Leaf {
		return &translog.Leaf{Event: translog.EventIssued, Time: at, CertifiedAt: at, Unit: "HB", Year: 2026, Number: n,
			Book: "01/2026-SCTĐT/BS", TokenSHA256: translog.TokenHash(token), CopySHA256: "ab"}
	}
	newFake := func() *fakeReplay {
		return &fakeReplay{rows: map[int64]*chungthuc.Certification{
			1: {ID: 1, Number: 1, Status: chungthuc.StatusPending, Token: "t1"},
			2: {ID: 2, Number: 2, Status: chungthuc.StatusIssued, Token: "t2"},
			3: {ID: 3, Number: 3, Status: chungthuc.StatusRevoked, Token: "t3"},
		}, versions: map[string]bool{"v1": true}}
	}
	for _, c := range []struct {
		name  string
		leaf  *translog.Leaf
		open  *translog.Opening
		code  string // error code, "" for success
		calls string
		made  bool // res.Created
	}{
		{"new entry", issued(5, "t5"), nil, "", "unit book:certified_at officer insert settle", true},
		{"pending entry finished", issued(1, "t1"), nil, "", "unit book:certified_at settle", false},
		{"pending entry of another token", issued(1, "other"), nil, chungthuc.ECONFLICT, "unit book:certified_at", false},
		{"issued entry issued again", issued(2, "t2"), nil, chungthuc.ECONFLICT, "unit book:certified_at", false},
		{"revocation", &translog.Leaf{Event: translog.EventRevoked, Unit: "HB", Year: 2026, Number: 2, TokenSHA256: translog.TokenHash("t2")}, nil, "", "unit revoke", false},
		{"revocation replayed twice", &translog.Leaf{Event: translog.EventRevoked, Unit: "HB", Year: 2026, Number: 3}, nil, "", "unit", false},
		{"revocation of another token", &translog.Leaf{Event: translog.EventRevoked, Unit: "HB", Year: 2026, Number: 2, TokenSHA256: translog.TokenHash("x")}, nil, chungthuc.ECONFLICT, "unit", false},
		{"revocation of a pending entry", &translog.Leaf{Event: translog.EventRevoked, Unit: "HB", Year: 2026, Number: 1, TokenSHA256: translog.TokenHash("t1")}, nil, chungthuc.ECONFLICT, "unit", false},
		{"revocation of a missing entry", &translog.Leaf{Event: translog.EventRevoked, Unit: "HB", Year: 2026, Number: 9}, nil, chungthuc.ENOTFOUND, "unit", false},
		{"version", &translog.Leaf{Event: translog.EventVersion, Unit: "HB", Year: 2026, Number: 2, Version: "v2"}, &translog.Opening{ObjectKey: "k"}, "", "unit version", true},
		{"version known", &translog.Leaf{Event: translog.EventVersion, Unit: "HB", Year: 2026, Number: 2, Version: "v1"}, nil, "", "unit", false},
		{"version without object key", &translog.Leaf{Event: translog.EventVersion, Unit: "HB", Year: 2026, Number: 2, Version: "v2"}, nil, chungthuc.EINVALID, "unit", false},
		{"book closed", &translog.Leaf{Event: translog.EventBookClosed, Unit: "HB", Year: 2026, Book: "01/2026-SCTĐT/BS", ClosedAt: at}, nil, "", "unit book:closed_at close", false},
		{"reconciled", &translog.Leaf{Event: translog.EventReconciled}, nil, "", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			res := &translog.ReplayResult{}
			_, _, _, err := ApplyLeaf(f, res, c.leaf, c.open)
			if got := chungthuc.ErrorCode(err); err != nil && got != c.code || err == nil && c.code != "" {
				t.Fatalf("error %v, want code %q", err, c.code)
			}
			if got := strings.Join(f.calls, " "); got != c.calls {
				t.Errorf("calls %q, want %q", got, c.calls)
			}
			if res.Created != c.made {
				t.Errorf("created %v, want %v", res.Created, c.made)
			}
		})
	}
	// A back end's error stops the replay where it happens.
	f := newFake()
	f.fail = errors.New("disk full")
	if _, _, _, err := ApplyLeaf(f, &translog.ReplayResult{}, issued(5, "t5"), nil); err == nil || err.Error() != "disk full" || strings.Join(f.calls, " ") != "unit book:certified_at" {
		t.Fatalf("error %v after %q", err, f.calls)
	}
}
