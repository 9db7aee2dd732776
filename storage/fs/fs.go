// Package fs is the embedded default chungthuc.ObjectStore: immutable objects kept as files
// under one root directory.
//
// A key such as "copies/ab/abcdef….pdf" is the file ROOT/copies/ab/abcdef….pdf. Keys are
// checked before use (see Store.Put) and every file operation goes through an os.Root, so
// no key and no symbolic link planted under the root can reach a file outside it.
//
// Writing is crash-safe and write-once: Put streams into a hidden temporary file
// (".tmp-…") in the destination directory while hashing, refuses content whose SHA-256 or
// size differ from the caller's, records the hash as the extended attribute
// "user.chungthuc.sha256", fsyncs the file, hard-links it to its final name — link(2)
// fails when the name exists, so two writers can never replace each other's object, unlike
// rename(2) — removes the temporary name and fsyncs the directory. A crash leaves at most a
// temporary file, which List ignores and Cleanup removes.
//
// The hash travels with the inode, so Stat, List and Get report it without reading the
// content. When the attribute is missing — a file system without user extended attributes,
// or a backup restored without them (use rsync -X, cp --preserve=xattr, tar --xattrs) —
// they report SHA256 "" (unknown) rather than re-hash on every call; Verify re-hashes on
// demand. Files are created 0640 and directories 0750.
//
// Versions: a file system keeps one version of a file. ObjectInfo.Version is a stamp of
// the file (its inode number and modification time), so that a caller holding the stamp
// recorded at Put can tell "the same file" from "a file put in its place" (a restore from
// backup also changes it). Get ignores the version asked for and returns the current file
// with its current stamp: callers compare the bytes with the hash they expect before
// trusting them. Nothing in this package deletes an object; only its own temporary files
// (Cleanup) and probe files (Probe) are ever removed.
package fs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/chungthuc/chungthuc"
)

const (
	filePerm = 0o640
	dirPerm  = 0o750
	// tmpPrefix starts the names of files being written; keys can never start a segment
	// with ".", so no object can be named like one.
	tmpPrefix = ".tmp-"
	bufSize   = 256 << 10
)

var errNoXattr = errors.New("extended attributes not supported")

// Store keeps objects under a root directory. It is safe for concurrent use, also by
// several processes sharing the directory.
type Store struct {
	dir  string // absolute path of the root, for messages
	root *os.Root
}

var _ chungthuc.ObjectStore = (*Store)(nil)

// New opens (creating it with mode 0750 if needed) the root directory dir. It returns
// EINVALID for an empty dir and EUNAVAILABLE when the directory cannot be created or
// opened.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "Object store directory is not set.")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "Object store directory %q: %v", dir, err)
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return nil, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "Object store directory %s cannot be created", abs)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "Object store directory %s cannot be opened", abs)
	}
	return &Store{dir: abs, root: root}, nil
}

// Dir returns the absolute path of the root directory.
func (s *Store) Dir() string { return s.dir }

// Close releases the root directory. The Store must not be used afterwards.
func (s *Store) Close() error { return s.root.Close() }

// Put stores size bytes from r under key and checks that they hash to sha256 (hex, either
// case). Errors:
//   - EINVALID: a bad key (empty, absolute, "." or ".." or hidden segments, empty segments,
//     NUL or other control characters, backslashes, not NFC, too long), a malformed
//     sha256, a negative size, or content that is shorter or longer than size or does not
//     hash to sha256 — in which case nothing is stored;
//   - ECONFLICT: key already holds different content (objects are written once);
//   - EUNAVAILABLE: the directory cannot be written (full disk, permissions, I/O error);
//   - the context's error (wrapped) when ctx ends while copying.
//
// Put of an existing key with the same sha256 succeeds without reading r. The returned
// info carries the file's Version stamp (ETag is empty).
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, sha256Hex string) (*chungthuc.ObjectInfo, error) {
	if err := s.put(ctx, key, r, size, sha256Hex); err != nil {
		return nil, err
	}
	return s.Stat(ctx, key)
}

func (s *Store) put(ctx context.Context, key string, r io.Reader, size int64, sha256Hex string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	want, err := checkSHA256(sha256Hex)
	if err != nil {
		return err
	}
	if size < 0 {
		return chungthuc.Errorf(chungthuc.EINVALID, "Object %q: size %d is negative.", key, size)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fs: put %q: %w", key, err)
	}
	// Most repeated puts are retries of a finished one: answer them without copying.
	if done, err := s.existing(ctx, key, want); done || err != nil {
		return err
	}

	dir := path.Dir(key)
	newDir := false
	if _, err := s.root.Stat(dir); errors.Is(err, iofs.ErrNotExist) {
		newDir = true
	}
	if err := s.root.MkdirAll(dir, dirPerm); err != nil {
		return s.ioErr("create directory for", key, err)
	}
	tmp, f, err := s.createTemp(dir)
	if err != nil {
		return s.ioErr("create temporary file for", key, err)
	}
	linked := false
	defer func() {
		if f != nil {
			_ = f.Close() // only on failure: the error being returned is the one to report
		}
		if !linked {
			s.root.Remove(tmp)
		}
	}()

	h := sha256.New()
	src := io.LimitReader(ctxReader{ctx, r}, size+1)
	n, err := io.CopyBuffer(io.MultiWriter(fileWriter{f}, h), onlyReader{src}, make([]byte, bufSize))
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("fs: put %q: %w", key, cerr)
		}
		var we writeError
		if errors.As(err, &we) {
			return s.ioErr("write", key, we.err)
		}
		return fmt.Errorf("fs: put %q: reading content: %w", key, err)
	}
	if n != size {
		if n > size {
			return chungthuc.Errorf(chungthuc.EINVALID, "Object %q: content is longer than the declared %d bytes; nothing stored.", key, size)
		}
		return chungthuc.Errorf(chungthuc.EINVALID, "Object %q: content has %d bytes, not the declared %d; nothing stored.", key, n, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return chungthuc.Errorf(chungthuc.EINVALID, "Object %q: content hashes to SHA-256 %s, not %s; nothing stored.", key, got, want)
	}
	if err := setHash(f, want); err != nil && err != errNoXattr {
		return s.ioErr("record hash of", key, err)
	}
	if err := f.Sync(); err != nil {
		return s.ioErr("sync", key, err)
	}
	if err := f.Close(); err != nil {
		f = nil
		return s.ioErr("close", key, err)
	}
	f = nil

	// link(2), not rename(2): it fails when key exists, so a concurrent writer of other
	// content cannot be silently replaced (write-once), and the content is complete and
	// durable before the name appears.
	if err := s.root.Link(tmp, key); err != nil {
		if errors.Is(err, iofs.ErrExist) {
			done, err := s.existing(ctx, key, want)
			if err == nil && !done {
				err = s.ioErr("link", key, iofs.ErrExist)
			}
			return err
		}
		return s.ioErr("link", key, err)
	}
	linked = true
	if err := s.root.Remove(tmp); err != nil {
		return s.ioErr("remove temporary file of", key, err)
	}
	if err := s.syncDir(dir); err != nil {
		return s.ioErr("sync directory of", key, err)
	}
	if newDir {
		// The directories MkdirAll made must be durable too.
		for d := path.Dir(dir); ; d = path.Dir(d) {
			if err := s.syncDir(d); err != nil {
				return s.ioErr("sync directory of", key, err)
			}
			if d == "." {
				break
			}
		}
	}
	return nil
}

// existing reports whether key already exists with content hashing to want (true, nil),
// exists with other content (ECONFLICT), or does not exist (false, nil).
func (s *Store) existing(ctx context.Context, key, want string) (bool, error) {
	f, err := s.open(key)
	if err != nil {
		if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
			return false, nil
		}
		return false, err
	}
	defer func() { _ = f.Close() }() // read only
	got, err := recordedHash(f)
	if err != nil {
		return false, s.ioErr("read hash of", key, err)
	}
	if got == "" {
		if got, _, err = hashFile(ctx, f); err != nil {
			return false, s.ioErr("read", key, err)
		}
	}
	if got != want {
		return false, chungthuc.Errorf(chungthuc.ECONFLICT, "Object %q already exists with different content (SHA-256 %s, not %s); objects are written once.", key, got, want)
	}
	return true, nil
}

// Get opens the object for streaming; the caller closes the reader (an *os.File). The
// file system keeps one version, so version is not used: the current file is returned with
// its own Version stamp, and the caller compares the bytes with the hash it expects. The
// returned info has the recorded SHA256, or "" when none is recorded. Get does not re-hash
// the content (see Verify). Errors: EINVALID for a bad key, ENOTFOUND, EUNAVAILABLE.
func (s *Store) Get(ctx context.Context, key, version string) (io.ReadCloser, *chungthuc.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, nil, err
	}
	f, err := s.open(key)
	if err != nil {
		return nil, nil, err
	}
	info, err := s.info(key, f)
	if err != nil {
		_ = f.Close() // read only
		return nil, nil, err
	}
	return f, info, nil
}

// Stat describes the object without reading its content: SHA256 is the hash recorded at
// Put, or "" when none is recorded. Errors: EINVALID for a bad key, ENOTFOUND,
// EUNAVAILABLE.
func (s *Store) Stat(ctx context.Context, key string) (*chungthuc.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := s.open(key)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	return s.info(key, f)
}

// Verify re-reads the whole object and returns its size and computed SHA256. When a hash
// was recorded at Put and the content no longer matches it, Verify returns EINTERNAL with
// a message naming both hashes ("object … is corrupt"). Without a recorded hash it returns
// the computed one, for the caller (fsck) to compare with the register. Other errors:
// EINVALID for a bad key, ENOTFOUND, EUNAVAILABLE, the context's error.
func (s *Store) Verify(ctx context.Context, key string) (*chungthuc.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := s.open(key)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	recorded, err := recordedHash(f)
	if err != nil {
		return nil, s.ioErr("read hash of", key, err)
	}
	got, n, err := hashFile(ctx, f)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("fs: verify %q: %w", key, cerr)
		}
		return nil, s.ioErr("read", key, err)
	}
	if recorded != "" && recorded != got {
		return nil, chungthuc.Errorf(chungthuc.EINTERNAL, "Object %q is corrupt: its content hashes to SHA-256 %s, but %s was recorded when it was stored.", key, got, recorded)
	}
	return &chungthuc.ObjectInfo{Key: key, Size: n, SHA256: got}, nil
}

// List calls fn for every object whose key starts with prefix, in the order of a
// directory walk (sorted per directory, which is not strictly the byte order of keys).
// Temporary files and anything else whose name starts with "." are skipped. SHA256 is the
// recorded hash or "". An error from fn stops the walk and is returned as is. Errors:
// EINVALID for a bad prefix, EUNAVAILABLE, the context's error.
func (s *Store) List(ctx context.Context, prefix string, fn func(chungthuc.ObjectInfo) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	start := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i]
	}
	fsys := s.root.FS()
	err := iofs.WalkDir(fsys, start, func(p string, d iofs.DirEntry, err error) error {
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
			// Descend only where keys can still match the prefix.
			if dp := p + "/"; !strings.HasPrefix(dp, prefix) && !strings.HasPrefix(prefix, dp) {
				return iofs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(p, prefix) {
			return nil
		}
		f, err := s.root.Open(p)
		if errors.Is(err, iofs.ErrNotExist) {
			return nil // deleted meanwhile
		} else if err != nil {
			return err
		}
		info, err := s.info(p, f)
		_ = f.Close() // read only
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

// Probe checks that the directory accepts writes now: it writes, syncs and removes a small
// temporary file in the root (named like Put's temporary files, so List never shows it).
// It returns EUNAVAILABLE when the file cannot be written (full disk, read-only mount,
// permissions), and the context's error when ctx ends first.
func (s *Store) Probe(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fs: probe: %w", err)
	}
	name, f, err := s.createTemp(".")
	if err != nil {
		return s.ioErr("create a probe file in", ".", err)
	}
	defer s.root.Remove(name)
	_, err = f.Write([]byte("chungthuc readiness probe\n"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s.ioErr("write a probe file in", ".", err)
	}
	return nil
}

// Cleanup removes temporary files left by interrupted Puts whose modification time is
// more than olderThan ago, and returns how many it removed. Use an age well above the
// longest upload (an hour, say): a younger file may belong to a Put in progress. Errors:
// EUNAVAILABLE, the context's error.
func (s *Store) Cleanup(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	err := iofs.WalkDir(s.root.FS(), ".", func(p string, d iofs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, iofs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		if fi.ModTime().After(cutoff) {
			return nil
		}
		if err := s.root.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
		removed++
		return nil
	})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return removed, fmt.Errorf("fs: cleanup: %w", cerr)
		}
		return removed, s.ioErr("clean up", ".", err)
	}
	return removed, nil
}

// open opens key for reading: ENOTFOUND when absent or not a regular file.
func (s *Store) open(key string) (*os.File, error) {
	f, err := s.root.Open(key)
	if err != nil {
		return nil, s.openErr(key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close() // read only
		return nil, s.ioErr("stat", key, err)
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close() // read only
		return nil, notFound(key)
	}
	return f, nil
}

func (s *Store) info(key string, f *os.File) (*chungthuc.ObjectInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, s.ioErr("stat", key, err)
	}
	sum, err := recordedHash(f)
	if err != nil {
		return nil, s.ioErr("read hash of", key, err)
	}
	return &chungthuc.ObjectInfo{Key: key, Size: fi.Size(), SHA256: sum, ModTime: fi.ModTime(), Version: stamp(fi)}, nil
}

func (s *Store) createTemp(dir string) (string, *os.File, error) {
	for range 10 {
		var b [12]byte
		rand.Read(b[:])
		name := path.Join(dir, tmpPrefix+hex.EncodeToString(b[:]))
		f, err := s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
		if errors.Is(err, iofs.ErrExist) {
			continue
		} else if err != nil {
			return "", nil, err
		}
		if err := f.Chmod(filePerm); err != nil { // undo a restrictive umask's effect consistently
			_ = f.Close() // already failing
			s.root.Remove(name)
			return "", nil, err
		}
		return name, f, nil
	}
	return "", nil, errors.New("no unused temporary name")
}

func (s *Store) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }() // read only; Sync's error is the one that matters
	return d.Sync()
}

func (s *Store) openErr(key string, err error) error {
	if errors.Is(err, iofs.ErrNotExist) {
		return notFound(key)
	}
	// A path component that is a file (ENOTDIR) means the object cannot exist.
	if errors.Is(err, syscall.ENOTDIR) {
		return notFound(key)
	}
	return s.ioErr("open", key, err)
}

func (s *Store) ioErr(op, key string, err error) error {
	return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "Object store %s: cannot %s %q", s.dir, op, key)
}

func notFound(key string) error {
	return chungthuc.Errorf(chungthuc.ENOTFOUND, "Object %q does not exist.", key)
}

// hashFile hashes f from its start, returning the hex SHA-256 and the byte count.
func hashFile(ctx context.Context, f *os.File) (string, int64, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", 0, err
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, ctxReader{ctx, f}, make([]byte, bufSize))
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// onlyReader hides WriterTo so that io.CopyBuffer uses our buffer and write errors can be
// told apart from read errors.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// fileWriter marks write errors, which are the store's fault (EUNAVAILABLE), not the
// reader's.
type fileWriter struct{ f *os.File }

func (w fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		err = writeError{err}
	}
	return n, err
}

type writeError struct{ err error }

func (w writeError) Error() string { return w.err.Error() }

type fnError struct{ err error }

func (f fnError) Error() string { return f.err.Error() }
