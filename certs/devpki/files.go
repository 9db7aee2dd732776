package devpki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/chungthuc/chungthuc"
)

// Modes of what the development PKI writes.
const (
	dirMode  fs.FileMode = 0o700
	keyMode  fs.FileMode = 0o600
	certMode fs.FileMode = 0o644
)

// writeExclusive writes data to path atomically and never replaces an existing file: the
// bytes go to a temporary file in the same directory (synced, with its final mode), which
// is then hard-linked to path. The link fails if path exists, so a key can never be
// overwritten, and readers see either no file or the whole file. It returns an error
// satisfying errors.Is(err, fs.ErrExist) when path already exists.
func writeExclusive(path string, data []byte, mode fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	name := tmp.Name()
	defer os.Remove(name) // after the link succeeded this drops the temporary name only
	if err := tmp.Chmod(mode); err != nil && runtime.GOOS != "windows" {
		_ = tmp.Close() // already failing; the write error is the one to report
		return fmt.Errorf("certs: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close() // already failing; the write error is the one to report
		return fmt.Errorf("certs: write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close() // already failing; the write error is the one to report
		return fmt.Errorf("certs: sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("certs: close %s: %w", name, err)
	}
	if err := os.Link(name, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// No hard links on this file system: fall back to an existence check and rename,
		// which is atomic but can lose a race against another process.
		if _, serr := os.Lstat(path); serr == nil {
			return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
		if err := os.Rename(name, path); err != nil {
			return fmt.Errorf("certs: %w", err)
		}
	}
	syncDir(dir)
	return nil
}

// syncDir makes a new directory entry durable; errors are ignored (not every platform
// can sync a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close() // read only
	}
}

// mkdirPrivate creates dir and its parents with mode 0700.
func mkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}

// checkKeyFileMode refuses a key file that other users may read or write.
func checkKeyFileMode(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return chungthuc.Errorf(chungthuc.ENOTFOUND, "key file %s not found", path)
	} else if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return chungthuc.Errorf(chungthuc.EINVALID, "key file %s is accessible to other users (mode %#o); run chmod 600 on it", path, perm)
	}
	return nil
}

// exists reports whether path exists.
func pathExists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if err == nil {
		return true, nil
	} else if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("certs: %w", err)
}

// readFile reads a file of the PKI; what names it in messages. ENOTFOUND when missing.
func readFile(path, what string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "%s %s not found", what, path)
	} else if err != nil {
		return nil, fmt.Errorf("devpki: read %s %s: %w", what, path, err)
	}
	return data, nil
}

// prefixed puts name before err's message, keeping its code.
func prefixed(name string, err error) error {
	var ce *chungthuc.Error
	if errors.As(err, &ce) {
		return chungthuc.Errorf(ce.Code, "%s: %s", name, ce.Message)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// parseKeyPEM reads a key file this package wrote: an unencrypted PKCS#8 "PRIVATE KEY".
// EINVALID naming the file for anything else.
func parseKeyPEM(data []byte, name string) (crypto.Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s: not a PKCS#8 PEM private key", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s: unreadable private key", name)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s: the key cannot sign", name)
	}
	return s, nil
}
