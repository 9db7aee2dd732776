package api

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"time"
)

// gate bounds how many requests do one kind of heavy work at once, process-wide: the
// memory a verification or a certification may take is bounded per request (decode
// budgets), and the gate bounds how many such requests run together. A request that finds
// the gate full waits up to wait, then is refused with 503 and Retry-After.
type gate struct {
	name  string
	slots chan struct{}
	wait  time.Duration
}

// Defaults of the gates (Deps.MaxConcurrentVerify, MaxConcurrentCertify, QueueWait).
const defaultQueueWait = 5 * time.Second

func defaultConcurrency() int { return max(2, runtime.GOMAXPROCS(0)) }

func newGate(name string, n int, wait time.Duration) *gate {
	return &gate{name: name, slots: make(chan struct{}, n), wait: wait}
}

// busyError is the error of a request the gate turned away.
type busyError struct {
	work       string
	retryAfter time.Duration
}

func (e *busyError) Error() string { return "too many concurrent " + e.work + " requests" }

// enter takes a slot, waiting at most g.wait (or until ctx ends); release gives it back.
// The error is a *busyError (s.Error answers 503 with Retry-After) or ctx's.
func (g *gate) enter(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return g.release, nil
	case <-t.C:
		return nil, &busyError{work: g.name, retryAfter: max(g.wait, time.Second)}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (g *gate) release() { <-g.slots }

// busy answers a request the gate turned away: 503, Retry-After, a message of its own
// (the service is up, only busy). It reports whether err was such a refusal.
func (s *Server) busy(w http.ResponseWriter, r *http.Request, err error) bool {
	var be *busyError
	if !errors.As(err, &be) {
		return false
	}
	s.metrics.count("chungthuc_busy_total", `work="`+be.work+`"`)
	w.Header().Set("Retry-After", strconv.Itoa(int(be.retryAfter.Seconds())))
	msg := "Hệ thống đang bận, vui lòng thử lại sau ít giây. (The service is busy; try again in a few seconds.)"
	if isAPI(r) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{"code": "unavailable", "message": msg}, "request_id": requestID(r)})
		return true
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	s.render(w, r, "error.html", map[string]any{"Status": http.StatusServiceUnavailable, "Message": msg, "Code": "unavailable", "RequestID": requestID(r)})
	return true
}
