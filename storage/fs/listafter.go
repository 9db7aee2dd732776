package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"strings"

	"github.com/chungthuc/chungthuc"
)

// ListAfter calls fn, in the order of a directory walk (key order within one directory), for
// every object whose key starts with prefix and sorts after the key after ("" = all),
// reading only those objects' metadata: directories whose keys all sort before after are
// skipped unread. Temporary and hidden files are skipped as
// by List. An error from fn stops the walk and is returned as is. Errors: EINVALID for a
// bad prefix, EUNAVAILABLE, the context's error.
func (s *Store) ListAfter(ctx context.Context, prefix, after string, fn func(chungthuc.ObjectInfo) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	start := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i]
	}
	err := iofs.WalkDir(s.root.FS(), start, func(p string, d iofs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if p == start && errors.Is(err, iofs.ErrNotExist) {
				return iofs.SkipAll
			}
			return err
		}
		if p == "." || p == start {
			if !d.IsDir() {
				return iofs.SkipAll
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return iofs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			dp := p + "/"
			if !strings.HasPrefix(dp, prefix) && !strings.HasPrefix(prefix, dp) {
				return iofs.SkipDir
			}
			// Every key under dp sorts before after when dp does and after is not under dp.
			if dp < after && !strings.HasPrefix(after, dp) {
				return iofs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(p, prefix) || p <= after {
			return nil
		}
		f, err := s.root.Open(p)
		if errors.Is(err, iofs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		info, err := s.info(p, f)
		_ = f.Close() // read-only handle; everything wanted was read
		if err != nil {
			return err
		}
		if err := fn(*info); err != nil {
			return fnError{err}
		}
		return nil
	})
	var fe fnError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return fe.err
	case ctx.Err() != nil:
		return fmt.Errorf("fs: list %q: %w", prefix, ctx.Err())
	}
	var ce *chungthuc.Error
	if errors.As(err, &ce) {
		return err
	}
	return s.ioErr("list", prefix, err)
}
