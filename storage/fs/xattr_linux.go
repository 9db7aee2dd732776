//go:build linux

package fs

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// xattrName holds the hex SHA-256 of a file's content, written on the temporary file
// before it is linked into place, so the hash and the content appear together.
const xattrName = "user.chungthuc.sha256"

// setHash records sum on f. It returns errNoXattr when the file system does not support
// user extended attributes.
func setHash(f *os.File, sum string) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.Fsetxattr(int(fd), xattrName, []byte(sum), 0)
	}); err != nil {
		return err
	}
	if errors.Is(serr, unix.ENOTSUP) || errors.Is(serr, unix.EOPNOTSUPP) {
		return errNoXattr
	}
	return serr
}

// recordedHash returns the hash recorded on f, or "" when there is none (or the file
// system does not support extended attributes).
func recordedHash(f *os.File) (string, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return "", err
	}
	buf := make([]byte, 80)
	var n int
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		n, gerr = unix.Fgetxattr(int(fd), xattrName, buf)
	}); err != nil {
		return "", err
	}
	switch {
	case errors.Is(gerr, unix.ENODATA), errors.Is(gerr, unix.ENOTSUP), errors.Is(gerr, unix.EOPNOTSUPP), errors.Is(gerr, unix.ERANGE):
		return "", nil
	case gerr != nil:
		return "", gerr
	}
	sum, err := checkSHA256(string(buf[:n]))
	if err != nil {
		return "", nil // a malformed attribute is treated as absent; Verify re-hashes
	}
	return sum, nil
}
