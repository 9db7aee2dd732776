package translog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/chungthuc/chungthuc"
)

// CheckpointPrefix is where checkpoints live in the object store.
const CheckpointPrefix = "log/checkpoints/"

// BundleVersion tags the bundle encoding.
const BundleVersion = "chungthuc/bundle/1"

// CheckpointKey is the object key of the checkpoint of a tree of this size: the size in 20
// decimal digits, so that key order is size order.
func CheckpointKey(size int64) string { return fmt.Sprintf("%s%020d", CheckpointPrefix, size) }

// SizeOfKey returns the tree size a checkpoint key names (false for any other key).
func SizeOfKey(key string) (int64, bool) {
	s, ok := strings.CutPrefix(key, CheckpointPrefix)
	if !ok || len(s) != 20 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// Bundle is one object of the store: a signed checkpoint and the leaves from From (the size
// of a checkpoint stored earlier, or 0) up to the checkpoint's size, each with its opening.
// Following From from the newest bundle back to 0 reaches every leaf, so the bucket alone
// can replay the log.
type Bundle struct {
	V          string        `json:"v"`
	From       int64         `json:"from"`
	Leaves     []BundleEntry `json:"leaves"`
	Checkpoint string        `json:"checkpoint"` // the signed note
}

// BundleEntry is one leaf of a bundle.
type BundleEntry struct {
	Data    []byte          `json:"data"`              // the leaf as hashed
	Private json.RawMessage `json:"private,omitempty"` // its Opening (never published)
}

// Encode returns the bundle's JSON and its hex SHA-256.
func (b *Bundle) Encode() ([]byte, string, error) {
	data, err := json.Marshal(b)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return data, hex.EncodeToString(sum[:]), nil
}

// OpenBundle parses a bundle, verifies its checkpoint with v and checks that its leaves run
// from From to the checkpoint's size. EINVALID otherwise.
func OpenBundle(data []byte, v note.Verifier) (*Bundle, Checkpoint, error) {
	var b Bundle
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, Checkpoint{}, chungthuc.Errorf(chungthuc.EINVALID, "malformed log bundle: %v", err)
	}
	if b.V != BundleVersion {
		return nil, Checkpoint{}, chungthuc.Errorf(chungthuc.EINVALID, "log bundle of unknown version %q", b.V)
	}
	cp, err := OpenCheckpoint([]byte(b.Checkpoint), v)
	if err != nil {
		return nil, Checkpoint{}, err
	}
	if b.From < 0 || b.From+int64(len(b.Leaves)) != cp.Size {
		return nil, Checkpoint{}, chungthuc.Errorf(chungthuc.EINVALID,
			"log bundle of checkpoint %d holds leaves %d to %d", cp.Size, b.From, b.From+int64(len(b.Leaves)))
	}
	return &b, cp, nil
}
