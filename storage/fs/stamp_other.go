//go:build !unix

package fs

import (
	"os"
	"strconv"
)

// stamp is the Version of a file: its modification time in nanoseconds, "m<hex>".
func stamp(fi os.FileInfo) string { return "m" + strconv.FormatInt(fi.ModTime().UnixNano(), 16) }
