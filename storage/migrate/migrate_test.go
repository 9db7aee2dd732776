package migrate

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/migrations"
)

func TestLoadEmbedded(t *testing.T) {
	s, err := Load(migrations.SQLite, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load(migrations.Postgres, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	if Latest(s) == 0 || Latest(s) != Latest(p) {
		t.Fatalf("sqlite at %d, postgres at %d: both folders must carry the same versions", Latest(s), Latest(p))
	}
}

func TestLoadRejects(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"bad name":  {"m/init.sql": {Data: []byte("x")}},
		"gap":       {"m/0001_a.sql": {Data: []byte("x")}, "m/0003_c.sql": {Data: []byte("x")}},
		"duplicate": {"m/0001_a.sql": {Data: []byte("x")}, "m/0001_b.sql": {Data: []byte("x")}},
		"from two":  {"m/0002_a.sql": {Data: []byte("x")}},
		"no dir":    {},
	} {
		if _, err := Load(fsys, "m"); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
	}
	ms, err := Load(fstest.MapFS{"m/0002_b.sql": {Data: []byte("B")}, "m/0001_a.sql": {Data: []byte("A")}}, "m")
	if err != nil || len(ms) != 2 || ms[0].SQL != "A" || ms[1].Version != 2 {
		t.Fatalf("Load = %+v, %v", ms, err)
	}
}

func TestCheck(t *testing.T) {
	if err := Check(3, 3); err != nil {
		t.Fatal(err)
	}
	err := Check(1, 3)
	if chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE ||
		chungthuc.ErrorMessage(err) != "the database schema is at version 1, this build needs 3: run `chungthuc migrate`" {
		t.Fatalf("Check(1, 3) = %v", err)
	}
	if err := Check(4, 3); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Check(4, 3) = %v", err)
	}
}

type fakeTarget struct {
	version int
	applied []int
	failAt  int
}

func (f *fakeTarget) Version(context.Context) (int, error) { return f.version, nil }
func (f *fakeTarget) Apply(_ context.Context, m Migration) error {
	if m.Version == f.failAt {
		return errors.New("boom")
	}
	f.applied = append(f.applied, m.Version)
	f.version = m.Version
	return nil
}

func TestUp(t *testing.T) {
	ms := []Migration{{Version: 1}, {Version: 2}, {Version: 3}}
	f := &fakeTarget{version: 1}
	n, err := Up(context.Background(), f, ms)
	if err != nil || n != 2 || f.version != 3 {
		t.Fatalf("Up = %d, %v; version %d", n, err, f.version)
	}
	if n, err := Up(context.Background(), f, ms); err != nil || n != 0 {
		t.Fatalf("second Up = %d, %v", n, err)
	}
	f = &fakeTarget{failAt: 2}
	if n, err := Up(context.Background(), f, ms); err == nil || n != 1 || f.version != 1 {
		t.Fatalf("failing Up = %d, %v; version %d", n, err, f.version)
	}
	f = &fakeTarget{version: 9}
	if _, err := Up(context.Background(), f, ms); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("Up on a newer database = %v", err)
	}
}
