// Package objkey holds the rules for object keys and content hashes shared by the object
// stores (storage/fs, storage/s3), so that both accept exactly the same keys and an object
// can move between them unchanged.
package objkey

import (
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

// MaxKeyLen is the longest key accepted, in bytes.
const MaxKeyLen = 1024

// maxSegmentLen is the longest path segment accepted (NAME_MAX on Linux file systems).
const maxSegmentLen = 255

// CheckKey reports whether key is an acceptable object key: 1 to MaxKeyLen bytes of
// NFC-normalised UTF-8 without control characters or backslashes, made of "/"-separated,
// non-empty segments none of which starts with "." (so "..", "." and the store's own
// ".tmp-…" files can never be named). It returns EINVALID otherwise.
func CheckKey(key string) error {
	if key == "" {
		return chungthuc.Errorf(chungthuc.EINVALID, "Object key is empty.")
	}
	if len(key) > MaxKeyLen {
		return chungthuc.Errorf(chungthuc.EINVALID, "Object key is longer than %d bytes.", MaxKeyLen)
	}
	if err := checkChars(key); err != nil {
		return err
	}
	if key[0] == '/' {
		return chungthuc.Errorf(chungthuc.EINVALID, "Object key %q is absolute.", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := checkSegment(key, seg); err != nil {
			return err
		}
	}
	return nil
}

// CheckPrefix accepts "" and any prefix of a valid key: every complete segment (before the
// last "/") must be valid, the trailing partial segment may be empty but must not start with
// ".". It returns EINVALID otherwise.
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) > MaxKeyLen {
		return chungthuc.Errorf(chungthuc.EINVALID, "Object key prefix is longer than %d bytes.", MaxKeyLen)
	}
	if err := checkChars(prefix); err != nil {
		return err
	}
	if prefix[0] == '/' {
		return chungthuc.Errorf(chungthuc.EINVALID, "Object key prefix %q is absolute.", prefix)
	}
	segs := strings.Split(prefix, "/")
	for i, seg := range segs {
		if i == len(segs)-1 {
			if strings.HasPrefix(seg, ".") {
				return chungthuc.Errorf(chungthuc.EINVALID, "Object key prefix %q has a segment starting with \".\".", prefix)
			}
			break
		}
		if err := checkSegment(prefix, seg); err != nil {
			return err
		}
	}
	return nil
}

func checkChars(s string) error {
	if !utf8.ValidString(s) {
		return chungthuc.Errorf(chungthuc.EINVALID, "Object key %q is not valid UTF-8.", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return chungthuc.Errorf(chungthuc.EINVALID, "Object key %q contains a control character.", s)
		}
		if r == '\\' {
			return chungthuc.Errorf(chungthuc.EINVALID, "Object key %q contains a backslash.", s)
		}
	}
	if !norm.NFC.IsNormalString(s) {
		return chungthuc.Errorf(chungthuc.EINVALID, "Object key %q is not NFC-normalised.", s)
	}
	return nil
}

func checkSegment(key, seg string) error {
	switch {
	case seg == "":
		return chungthuc.Errorf(chungthuc.EINVALID, "Object key %q has an empty segment.", key)
	case strings.HasPrefix(seg, "."):
		return chungthuc.Errorf(chungthuc.EINVALID, "Object key %q has a segment starting with \".\".", key)
	case len(seg) > maxSegmentLen:
		return chungthuc.Errorf(chungthuc.EINVALID, "Object key %q has a segment longer than %d bytes.", key, maxSegmentLen)
	}
	return nil
}

// CheckSHA256 returns the lower-case form of a hex SHA-256, or EINVALID.
func CheckSHA256(s string) (string, error) {
	if len(s) != 64 {
		return "", chungthuc.Errorf(chungthuc.EINVALID, "SHA-256 %q is not 64 hexadecimal digits.", s)
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", chungthuc.Errorf(chungthuc.EINVALID, "SHA-256 %q is not 64 hexadecimal digits.", s)
	}
	return strings.ToLower(s), nil
}
