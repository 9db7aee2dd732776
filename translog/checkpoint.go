package translog

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/chungthuc/chungthuc"
)

// Checkpoint is a signed statement of the log's size and root hash, in the C2SP
// tlog-checkpoint format:
//
//	chungthuc.example.vn/log
//	1234
//	<base64 root hash>
//	time 2026-11-29T02:00:00.000000Z
//
//	— chungthuc.example.vn/log <base64 key hash and Ed25519 signature>
//
// The first three lines are the origin (the log's name, also the signing key's name), the
// tree size and the RFC 6962 root hash. The one extension line, "time …", is when the
// checkpoint was signed (UTC): it is covered by the signature, unlike the object store's
// modification time, so it is the time a verifier can cite ("checkpoint of …").
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	Time   time.Time
}

// Text returns the checkpoint's body (the note text that is signed).
func (c Checkpoint) Text() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\ntime %s\n", c.Origin, c.Size, c.Root, FormatTime(c.Time))
}

// ParseCheckpoint reads a checkpoint body. Extension lines other than "time" are ignored, as
// C2SP requires. EINVALID when malformed.
func ParseCheckpoint(text string) (Checkpoint, error) {
	bad := func(why string) (Checkpoint, error) {
		return Checkpoint{}, chungthuc.Errorf(chungthuc.EINVALID, "malformed checkpoint: %s", why)
	}
	if !strings.HasSuffix(text, "\n") {
		return bad("no final newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return bad("fewer than three lines")
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" {
		return bad("empty origin")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return bad("tree size is not a decimal number")
	}
	c.Size = n
	if c.Root, err = tlog.ParseHash(lines[2]); err != nil {
		return bad("root hash is not 32 bytes of base64")
	}
	for _, l := range lines[3:] {
		if v, ok := strings.CutPrefix(l, "time "); ok {
			if c.Time, err = ParseTime(v); err != nil {
				return bad("time extension line")
			}
		}
	}
	return c, nil
}

// Key is the log's signing key: an Ed25519 note key whose name is the log's origin.
type Key struct {
	Signer   note.Signer
	Verifier note.Verifier
	// Public is the verifier key in note format ("<origin>+<hash>+<base64 key>"), what
	// GET /log/key serves and what anyone needs to check checkpoints.
	Public string
}

// Origin returns the key's name, the origin line of every checkpoint it signs.
func (k *Key) Origin() string { return k.Signer.Name() }

// ParseKey reads a private note key ("PRIVATE+KEY+<origin>+<hash>+<base64>", as
// GenerateKey writes it). EINVALID when it is not one.
func ParseKey(skey string) (*Key, error) {
	skey = strings.TrimSpace(skey)
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the log key is not a signed-note private key (PRIVATE+KEY+name+hash+key): %v", err)
	}
	parts := strings.SplitN(skey, "+", 5) // PRIVATE, KEY, name, hash, key (base64 may hold '+')
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the log key is not an Ed25519 note key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, err
	}
	return &Key{Signer: s, Verifier: v, Public: vkey}, nil
}

// GenerateKey makes a new log key named origin and returns its private encoding (keep it
// secret, outside the database) and the parsed key.
func GenerateKey(origin string) (skey string, k *Key, err error) {
	if err := checkOrigin(origin); err != nil {
		return "", nil, err
	}
	skey, _, err = note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", nil, err
	}
	k, err = ParseKey(skey)
	return skey, k, err
}

// ParseVerifier reads a public verifier key ("<origin>+<hash>+<base64>"). EINVALID when
// malformed.
func ParseVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "not a signed-note verifier key: %v", err)
	}
	return v, nil
}

// Origin derives the log's origin from the service's base URL: its host (and port) and
// "/log", e.g. "chungthuc.example.vn/log".
func Origin(baseURL string) string {
	u, err := url.Parse(baseURL)
	host := baseURL
	if err == nil && u.Host != "" {
		host = u.Host + strings.TrimRight(u.Path, "/")
	}
	return host + "/log"
}

func checkOrigin(origin string) error {
	if origin == "" || strings.ContainsAny(origin, " \t\n+") {
		return chungthuc.Errorf(chungthuc.EINVALID, "a log origin is a non-empty name without spaces or '+', not %q", origin)
	}
	return nil
}

// Sign signs c with k (c.Origin must be the key's name) and returns the signed note.
func Sign(c Checkpoint, k *Key) ([]byte, error) {
	if c.Origin != k.Origin() {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "checkpoint origin %q is not the key's name %q", c.Origin, k.Origin())
	}
	return note.Sign(&note.Note{Text: string(c.Text())}, k.Signer)
}

// OpenCheckpoint verifies a signed checkpoint with v and parses it. The origin must be the
// verifier's name. EINVALID when the note is malformed or not signed by v.
func OpenCheckpoint(msg []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, chungthuc.Errorf(chungthuc.EINVALID, "the checkpoint is not signed by the log key %s: %v", v.Name(), err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, chungthuc.Errorf(chungthuc.EINVALID, "checkpoint of log %q, not %q", c.Origin, v.Name())
	}
	return c, nil
}
