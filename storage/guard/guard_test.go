package guard

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/fs"
	"github.com/chungthuc/chungthuc/storage/objecttest"
)

// fake is a store that can freeze (every call blocks until its context ends) or fail.
type fake struct {
	frozen atomic.Bool
	fail   atomic.Bool
	probes atomic.Int32
	body   []byte
}

func (f *fake) wait(ctx context.Context) error {
	if f.frozen.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	if f.fail.Load() {
		return chungthuc.Errorf(chungthuc.EUNAVAILABLE, "connection refused")
	}
	return nil
}

func (f *fake) Put(ctx context.Context, key string, r io.Reader, size int64, sum string) (*chungthuc.ObjectInfo, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	return &chungthuc.ObjectInfo{Key: key, Size: size, SHA256: sum, Version: "v1"}, nil
}

func (f *fake) Get(ctx context.Context, key, version string) (io.ReadCloser, *chungthuc.ObjectInfo, error) {
	if err := f.wait(ctx); err != nil {
		return nil, nil, err
	}
	return io.NopCloser(&slowReader{ctx: ctx, f: f, r: bytes.NewReader(f.body)}), &chungthuc.ObjectInfo{Key: key, Size: int64(len(f.body))}, nil
}

// slowReader freezes mid-body when the store is frozen.
type slowReader struct {
	ctx context.Context
	f   *fake
	r   io.Reader
}

func (s *slowReader) Read(p []byte) (int, error) {
	if err := s.f.wait(s.ctx); err != nil {
		return 0, err
	}
	return s.r.Read(p[:min(len(p), 10)])
}

func (f *fake) Stat(ctx context.Context, key string) (*chungthuc.ObjectInfo, error) {
	return &chungthuc.ObjectInfo{Key: key}, f.wait(ctx)
}

func (f *fake) List(ctx context.Context, prefix string, fn func(chungthuc.ObjectInfo) error) error {
	if err := fn(chungthuc.ObjectInfo{Key: prefix + "a"}); err != nil {
		return err
	}
	if err := f.wait(ctx); err != nil {
		return err
	}
	return fn(chungthuc.ObjectInfo{Key: prefix + "b"})
}

func (f *fake) Probe(ctx context.Context) error {
	f.probes.Add(1)
	return f.wait(ctx)
}

var opts = Options{Timeout: 200 * time.Millisecond, ProbeTimeout: 100 * time.Millisecond, ProbeEvery: time.Hour}

// TestFrozenStore: every call on a frozen store ends with EUNAVAILABLE instead of waiting,
// and marks the store down.
func TestFrozenStore(t *testing.T) {
	f := &fake{body: []byte("a stored copy of some length")}
	s := New(f, opts)
	ctx := context.Background()
	f.frozen.Store(true)
	_, err := s.Put(ctx, "k", bytes.NewReader(nil), 0, "")
	if chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("Put on a frozen store = %v, want EUNAVAILABLE", err)
	}
	if s.Down() == nil {
		t.Fatal("a time-out did not mark the store down")
	}
	if _, err := s.Stat(ctx, "k"); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Errorf("Stat on a frozen store = %v", err)
	}
	if err := s.List(ctx, "p/", func(chungthuc.ObjectInfo) error { return nil }); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Errorf("List on a frozen store = %v", err)
	}
	// A store that freezes in the middle of a body.
	f.frozen.Store(false)
	rc, _, err := s.Get(ctx, "k", "")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := rc.Read(buf); err != nil {
		t.Fatal(err)
	}
	f.frozen.Store(true)
	if _, err := io.ReadAll(rc); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Errorf("reading a body that froze = %v, want EUNAVAILABLE", err)
	}
	rc.Close()
}

// TestReady: while up, Ready does not touch the store; once a call failed, Ready probes at
// most once per ProbeEvery and answers the probe's result; a success brings it back up.
func TestReady(t *testing.T) {
	f := &fake{}
	s := New(f, opts)
	ctx := context.Background()
	if err := s.Ready(ctx); err != nil || f.probes.Load() != 0 {
		t.Fatalf("Ready of a fresh store = %v after %d probes", err, f.probes.Load())
	}
	f.fail.Store(true)
	if _, err := s.Put(ctx, "k", bytes.NewReader(nil), 0, ""); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatal(err)
	}
	for range 5 {
		if err := s.Ready(ctx); chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
			t.Fatalf("Ready of a failing store = %v", err)
		}
	}
	if n := f.probes.Load(); n != 1 {
		t.Fatalf("five Ready calls within ProbeEvery probed %d times, want 1", n)
	}
	f.fail.Store(false)
	s.opt.ProbeEvery = time.Nanosecond
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("Ready after the store came back = %v", err)
	}
	if s.Down() != nil {
		t.Fatal("still down after a good probe")
	}
}

// TestCallerCancel: a request that goes away says nothing about the store.
func TestCallerCancel(t *testing.T) {
	f := &fake{}
	s := New(f, opts)
	ctx, cancel := context.WithCancel(context.Background())
	f.frozen.Store(true)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := s.Put(ctx, "k", bytes.NewReader(nil), 0, "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put canceled by its caller = %v, want context.Canceled", err)
	}
	if s.Down() != nil {
		t.Fatal("a caller's cancellation marked the store down")
	}
}

// The guard keeps the ObjectStore contract.
func TestConformance(t *testing.T) {
	inner, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	objecttest.Run(t, New(inner, Options{}), nil)
}
