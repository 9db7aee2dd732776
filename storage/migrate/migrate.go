// Package migrate applies the numbered SQL files of package migrations to a database.
//
// A migration is a file NNNN_name.sql; versions run from 1 without gaps. Up applies the
// pending ones in order, each in its own transaction together with its row in
// schema_migrations (version, applied_at), so a failed migration leaves the database at the
// version before it. Applying is an explicit step (`chungthuc migrate`); at start-up the
// register only compares versions with Check and refuses to run against an outdated schema.
package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/chungthuc/chungthuc"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string // the file name, e.g. "0001_init.sql"
	SQL     string
}

var fileName = regexp.MustCompile(`^([0-9]{4,})_[a-z0-9_]+\.sql$`)

// Load reads the migrations in directory dir of fsys, sorted by version. It fails when a file
// name does not follow NNNN_name.sql, when two files share a version, or when versions do not
// run 1, 2, 3… without gaps.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migrate: %s: file name is not NNNN_name.sql", e.Name())
		}
		v, err := strconv.Atoi(m[1])
		if err != nil {
			return nil, fmt.Errorf("migrate: %s: %w", e.Name(), err)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrate: %s: expected version %d (versions run from 1 without gaps or duplicates)", m.Name, i+1)
		}
	}
	return ms, nil
}

// Latest returns the highest version of ms (0 when ms is empty).
func Latest(ms []Migration) int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// Check compares the version a database is at with the version a build needs. It returns nil
// when they are equal and otherwise an *chungthuc.Error with code EUNAVAILABLE telling the
// operator what to do.
func Check(current, want int) error {
	switch {
	case current < want:
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE,
			"the database schema is at version %d, this build needs %d: run `chungthuc migrate`", current, want)
	case current > want:
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE,
			"the database schema is at version %d, newer than this build (%d): run a newer chungthuc", current, want)
	}
	return nil
}

// Target is a database that migrations can be applied to.
type Target interface {
	// Version returns the highest version recorded in schema_migrations, creating that table
	// when it does not exist yet.
	Version(ctx context.Context) (int, error)
	// Apply runs m.SQL and records m.Version in schema_migrations in one transaction.
	Apply(ctx context.Context, m Migration) error
}

// Up applies the migrations of ms that are newer than t's version, in order, and returns how
// many were applied. It fails with EUNAVAILABLE (via Check) when the database is newer than
// ms. Callers serialise concurrent Up calls on the same database (a lock or a single writer).
func Up(ctx context.Context, t Target, ms []Migration) (applied int, err error) {
	cur, err := t.Version(ctx)
	if err != nil {
		return 0, err
	}
	if cur > Latest(ms) {
		return 0, Check(cur, Latest(ms))
	}
	for _, m := range ms {
		if m.Version <= cur {
			continue
		}
		if err := t.Apply(ctx, m); err != nil {
			return applied, fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
		applied++
	}
	return applied, nil
}
