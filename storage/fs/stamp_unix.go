//go:build unix

package fs

import (
	"os"
	"strconv"
	"syscall"
)

// stamp is the Version of a file: its inode number and modification time in nanoseconds,
// "i<inode hex>.m<mtime hex>" (only the time where the platform has no inode numbers). A
// file put in place of another, or the same file restored from a backup, gets another stamp.
func stamp(fi os.FileInfo) string {
	m := "m" + strconv.FormatInt(fi.ModTime().UnixNano(), 16)
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return "i" + strconv.FormatUint(uint64(st.Ino), 16) + "." + m
	}
	return m
}
