//go:build !linux

package fs

import "os"

// setHash is not implemented outside Linux: hashes are not recorded, Stat and List return
// an empty SHA256, and write-once checks re-hash the existing file.
func setHash(f *os.File, sum string) error { return errNoXattr }

func recordedHash(f *os.File) (string, error) { return "", nil }
