// Package guard wraps a chungthuc.ObjectStore so that every call has a deadline and the
// store's health is known without asking it every time.
//
// A frozen store (a stopped process, a dead network path that drops packets) would
// otherwise hold a request — and a reserved number — for as long as TCP keeps trying. With
// the guard, Put and Get (including reading the body) end after Timeout, Stat and Probe
// after ProbeTimeout, and List when no object arrived for Timeout; each answers EUNAVAILABLE
// "did not answer in time".
//
// Health: a call that fails with EUNAVAILABLE marks the store down; any call that succeeds
// marks it up. Ready answers from that state: nil while up; while down it probes the store
// (at most once per ProbeEvery, shared by all callers) and answers the probe's result. The
// workflow asks Ready before reserving a number, so an outage uses at most the numbers of
// the requests already past that point when it began.
package guard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/chungthuc/chungthuc"
)

// Defaults of Options.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultProbeTimeout = time.Second
	DefaultProbeEvery   = time.Second
)

// Options bound the calls. Zero values take the defaults.
type Options struct {
	Timeout      time.Duration // Put, Get (with its body), List (between objects)
	ProbeTimeout time.Duration // Stat and Probe
	ProbeEvery   time.Duration // how often Ready may probe a store that is down
}

// Store is a bounded ObjectStore. It is safe for concurrent use.
type Store struct {
	inner chungthuc.ObjectStore
	opt   Options

	mu        sync.Mutex
	down      error     // the failure that marked the store down; nil while up
	probedAt  time.Time // last probe by Ready
	probing   chan struct{}
	lastProbe error
}

var _ chungthuc.ObjectStore = (*Store)(nil)

// New wraps inner.
func New(inner chungthuc.ObjectStore, opt Options) *Store {
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.ProbeTimeout <= 0 {
		opt.ProbeTimeout = DefaultProbeTimeout
	}
	if opt.ProbeEvery <= 0 {
		opt.ProbeEvery = DefaultProbeEvery
	}
	return &Store{inner: inner, opt: opt}
}

// Inner returns the wrapped store.
func (s *Store) Inner() chungthuc.ObjectStore { return s.inner }

// bounded runs f under a deadline and turns the deadline into EUNAVAILABLE; it records the
// outcome for Ready. A cancellation by the caller (the client went away) is passed on as
// it is and says nothing about the store.
func (s *Store) bounded(ctx context.Context, d time.Duration, op string, f func(ctx context.Context) error) error {
	cctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := s.outcome(ctx, cctx, d, op, f(cctx))
	return err
}

// outcome maps err of a call made under cctx (derived from ctx with timeout d) and records it.
func (s *Store) outcome(ctx, cctx context.Context, d time.Duration, op string, err error) error {
	switch {
	case err == nil:
		s.mark(nil)
		return nil
	case ctx.Err() != nil:
		return err // the caller gave up
	case cctx.Err() != nil:
		err = chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "the object store did not answer in time (%s, %s)", op, d)
	}
	if chungthuc.ErrorCode(err) == chungthuc.EUNAVAILABLE {
		s.mark(err)
	}
	return err
}

func (s *Store) mark(err error) {
	s.mu.Lock()
	s.down = err
	s.mu.Unlock()
}

// Put stores an object within Timeout. See chungthuc.ObjectStore.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, sha256 string) (info *chungthuc.ObjectInfo, err error) {
	err = s.bounded(ctx, s.opt.Timeout, "put", func(ctx context.Context) error {
		info, err = s.inner.Put(ctx, key, r, size, sha256)
		return err
	})
	return info, err
}

// Get opens an object; the whole read, body included, must end within Timeout (the
// reader fails with EUNAVAILABLE after that). See chungthuc.ObjectStore.
func (s *Store) Get(ctx context.Context, key, version string) (io.ReadCloser, *chungthuc.ObjectInfo, error) {
	cctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	rc, info, err := s.inner.Get(cctx, key, version)
	if err = s.outcome(ctx, cctx, s.opt.Timeout, "get", err); err != nil {
		cancel()
		return nil, nil, err
	}
	return &reader{s: s, rc: rc, ctx: ctx, cctx: cctx, cancel: cancel}, info, nil
}

// reader ends the Get's deadline when closed and words a read cut by it.
type reader struct {
	s      *Store
	rc     io.ReadCloser
	ctx    context.Context
	cctx   context.Context
	cancel context.CancelFunc
}

func (r *reader) Read(p []byte) (int, error) {
	if err := r.cctx.Err(); err != nil && r.ctx.Err() == nil {
		return 0, r.s.outcome(r.ctx, r.cctx, r.s.opt.Timeout, "get", err)
	}
	n, err := r.rc.Read(p)
	if err != nil && err != io.EOF && r.cctx.Err() != nil && r.ctx.Err() == nil {
		err = r.s.outcome(r.ctx, r.cctx, r.s.opt.Timeout, "get", err)
	}
	return n, err
}

func (r *reader) Close() error {
	err := r.rc.Close()
	r.cancel()
	return err
}

// Stat describes an object within ProbeTimeout. See chungthuc.ObjectStore.
func (s *Store) Stat(ctx context.Context, key string) (info *chungthuc.ObjectInfo, err error) {
	err = s.bounded(ctx, s.opt.ProbeTimeout, "stat", func(ctx context.Context) error {
		info, err = s.inner.Stat(ctx, key)
		return err
	})
	return info, err
}

// List lists objects; it fails when no object arrived for Timeout. See chungthuc.ObjectStore.
func (s *Store) List(ctx context.Context, prefix string, fn func(chungthuc.ObjectInfo) error) error {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := errors.New("idle")
	t := time.AfterFunc(s.opt.Timeout, func() { cancel(idle) })
	defer t.Stop()
	err := s.inner.List(cctx, prefix, func(o chungthuc.ObjectInfo) error {
		t.Stop()
		defer t.Reset(s.opt.Timeout)
		return fn(o)
	})
	switch {
	case err == nil:
		s.mark(nil)
		return nil
	case ctx.Err() != nil:
		return err
	case context.Cause(cctx) == idle:
		err = chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "the object store did not answer in time (list, %s)", s.opt.Timeout)
	}
	if chungthuc.ErrorCode(err) == chungthuc.EUNAVAILABLE {
		s.mark(err)
	}
	return err
}

// Probe checks that the store accepts writes, within ProbeTimeout, and records the result.
func (s *Store) Probe(ctx context.Context) error {
	return s.bounded(ctx, s.opt.ProbeTimeout, "probe", s.inner.Probe)
}

// Ready reports whether the store can be used now: nil while no call has failed since the
// last success; while it is down, the result of a probe made at most once per ProbeEvery
// (callers in between share it). Errors are EUNAVAILABLE.
func (s *Store) Ready(ctx context.Context) error {
	s.mu.Lock()
	if s.down == nil {
		s.mu.Unlock()
		return nil
	}
	if time.Since(s.probedAt) < s.opt.ProbeEvery && s.lastProbe != nil {
		err := s.lastProbe
		s.mu.Unlock()
		return err
	}
	wait := s.probing
	if wait == nil {
		wait = make(chan struct{})
		s.probing = wait
		s.mu.Unlock()
		err := s.Probe(context.WithoutCancel(ctx))
		if err != nil && chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
			err = chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "the object store is not ready")
		}
		s.mu.Lock()
		s.probedAt, s.lastProbe, s.probing = time.Now(), err, nil
		if err != nil {
			s.down = err
		}
		s.mu.Unlock()
		close(wait)
		return err
	}
	s.mu.Unlock()
	select {
	case <-wait:
	case <-ctx.Done():
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the object store is not ready (%v)", ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastProbe
}

// Down reports the failure that marked the store down, or nil while it is up.
func (s *Store) Down() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// String names the guard for logs.
func (s *Store) String() string {
	return fmt.Sprintf("guard(timeout %s, probe %s)", s.opt.Timeout, s.opt.ProbeTimeout)
}
