package api

import (
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
)

// Post/Redirect/Get for the workspace's forms. Every form that changes the register carries
// a one-time submission key (the hidden field "idempotency_key", made when the form is
// shown). The certify form's key is the certification workflow's Idempotency-Key
// (certify/idempotency.go), so a reload, Back-and-submit or a double click replays the first
// outcome instead of certifying twice; every successful POST answers 303 to a GET page.

// formKeyPrefix marks keys made by the workspace's forms (API clients choose their own).
const formKeyPrefix = "form-"

// newFormKey returns a fresh one-time submission key (128 random bits).
func newFormKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("api: no randomness: " + err.Error())
	}
	return formKeyPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// heldCodeTTL bounds how long an access code waits on the server for the officer to confirm
// it was printed or handed over (a working day and then some). After it, or after a
// restart, the code is gone and only a reissue gives the citizen a new one.
const heldCodeTTL = 12 * time.Hour

// codeHolder keeps each new access code, in memory and for the session that certified
// it only, until the officer confirms it was printed or handed over: the result page is
// reached by a redirect, so the code cannot live in the POST's response alone. The
// register keeps only the code's hash.
type codeHolder struct {
	mu    sync.Mutex
	codes map[heldKey]heldCode
	once  map[string]time.Time // used one-time keys of forms other than certify
	// refusals recorded by each session, for the printable refusal slip after the redirect
	refusals map[heldKey]heldRefusal
	uploads  map[string]heldUpload // per session: scans awaiting the officer's confirmation
}

type heldRefusal struct {
	r       chungthuc.Refusal
	expires time.Time
}

// heldUploadTTL bounds how long an upload waits for the officer's confirmation.
const heldUploadTTL = 30 * time.Minute

type heldUpload struct {
	key     string
	in      certify.Input
	expires time.Time
}

// putUpload keeps the session's upload (one at a time) under its form key until confirmed.
func (h *codeHolder) putUpload(session, key string, in certify.Input, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweep(now)
	h.uploads[session] = heldUpload{key: key, in: in, expires: now.Add(heldUploadTTL)}
}

// peekUpload returns the session's upload kept under key, keeping it.
func (h *codeHolder) peekUpload(session, key string, now time.Time) (certify.Input, bool) {
	return h.upload(session, key, now, false)
}

// takeUpload returns and forgets the session's upload kept under key.
func (h *codeHolder) takeUpload(session, key string, now time.Time) (certify.Input, bool) {
	return h.upload(session, key, now, true)
}

func (h *codeHolder) upload(session, key string, now time.Time, take bool) (certify.Input, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u, ok := h.uploads[session]
	if !ok || u.key != key || now.After(u.expires) {
		return certify.Input{}, false
	}
	if take {
		delete(h.uploads, session)
	}
	return u.in, true
}

// putRefusal keeps a recorded refusal for the session's slip page.
func (h *codeHolder) putRefusal(session string, r chungthuc.Refusal, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweep(now)
	h.refusals[heldKey{session, r.ID}] = heldRefusal{r: r, expires: now.Add(heldCodeTTL)}
}

// refusal returns the session's recorded refusal id, if it is still kept.
func (h *codeHolder) refusal(session string, id int64, now time.Time) (chungthuc.Refusal, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	x, ok := h.refusals[heldKey{session, id}]
	if !ok || now.After(x.expires) {
		return chungthuc.Refusal{}, false
	}
	return x.r, true
}

type heldKey struct {
	session string // the session's token hash
	id      int64  // the certification
}

type heldCode struct {
	code    string
	dropped []string // what was removed from a PDF scan (shown with the code)
	expires time.Time
}

func newCodeHolder() *codeHolder {
	return &codeHolder{codes: map[heldKey]heldCode{}, once: map[string]time.Time{}, refusals: map[heldKey]heldRefusal{}, uploads: map[string]heldUpload{}}
}

// put keeps code (and the report of removed content) for the session and entry until
// now+heldCodeTTL.
func (h *codeHolder) put(session string, id int64, code string, dropped []string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweep(now)
	h.codes[heldKey{session, id}] = heldCode{code: code, dropped: dropped, expires: now.Add(heldCodeTTL)}
}

// get returns what is kept for the session and entry.
func (h *codeHolder) get(session string, id int64, now time.Time) (heldCode, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.codes[heldKey{session, id}]
	if !ok || now.After(c.expires) {
		return heldCode{}, false
	}
	return c, true
}

// drop forgets the code (the officer confirmed it was handed over, or it was reissued).
func (h *codeHolder) drop(session string, id int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.codes[heldKey{session, id}]
	delete(h.codes, heldKey{session, id})
	return ok
}

// dropAll forgets every session's code for the entry (its code was reissued).
func (h *codeHolder) dropAll(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.codes {
		if k.id == id {
			delete(h.codes, k)
		}
	}
}

// useOnce records a one-time key of a form (scope names the form and the session) and
// reports whether it was fresh; a second use within heldCodeTTL reports false.
func (h *codeHolder) useOnce(scope, key string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweep(now)
	k := scope + "\x00" + key
	if _, used := h.once[k]; used {
		return false
	}
	h.once[k] = now.Add(heldCodeTTL)
	return true
}

// sweep removes what has expired (called with the lock held).
func (h *codeHolder) sweep(now time.Time) {
	for k, c := range h.codes {
		if now.After(c.expires) {
			delete(h.codes, k)
		}
	}
	for k, exp := range h.once {
		if now.After(exp) {
			delete(h.once, k)
		}
	}
	for k, u := range h.uploads {
		if now.After(u.expires) {
			delete(h.uploads, k)
		}
	}
	for k, x := range h.refusals {
		if now.After(x.expires) {
			delete(h.refusals, k)
		}
	}
}
