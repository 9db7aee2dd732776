package fs

import "github.com/chungthuc/chungthuc/storage/internal/objkey"

// MaxKeyLen is the longest key accepted, in bytes.
const MaxKeyLen = objkey.MaxKeyLen

// The key and hash rules are shared with the other object store (storage/internal/objkey).
var (
	checkKey    = objkey.CheckKey
	checkPrefix = objkey.CheckPrefix
	checkSHA256 = objkey.CheckSHA256
)
