package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
)

type ctxKey int

const (
	ctxRequestID ctxKey = iota
	ctxPrincipal
	ctxLang
	ctxLogger
)

// requestID returns the request's id (set by withRequestID).
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxRequestID).(string)
	return id
}

// withRequestID gives every request an id, echoed in X-Request-Id and in every log line.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		rand.Read(b)
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		ctx := context.WithValue(r.Context(), ctxRequestID, id)
		ctx = context.WithValue(ctx, ctxLogger, s.log)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs every request with its id and records its latency under the route pattern
// (never the raw path: tokens must not become metric labels or log lines).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic", "request_id", requestID(r.Context()), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.code == 0 {
					Error(sw, r, fmt.Errorf("panic: %v", v))
				}
			}
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			if sw.code == 0 {
				sw.code = http.StatusOK
			}
			d := time.Since(start)
			s.Metrics.observeRequest(route, r.Method, sw.code, d)
			level := slog.LevelInfo
			if sw.code >= 500 {
				level = slog.LevelError
			}
			s.log.Log(r.Context(), level, "request", "request_id", requestID(r.Context()), "method", r.Method,
				"route", route, "status", sw.code, "bytes", sw.bytes, "duration_ms", float64(d.Microseconds())/1000, "remote", clientIP(r))
		}()
		next.ServeHTTP(sw, r)
	})
}

// securityHeaders sets the headers every response carries: no framing, no sniffing, a
// content security policy that allows only our own scripts and styles (no CDN at all).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; frame-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

// rateLimit refuses clients that exceed the public rate with 429.
func (s *Server) rateLimit(l *limiter) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !l.allow(clientIP(r)) {
				w.Header().Set("Retry-After", "5")
				Error(w, r, chungthuc.Errorf(chungthuc.ERATELIMIT, "Too many requests; please wait a few seconds and try again."))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// tracked counts the request as an in-flight certification, so graceful shutdown waits for
// it (see Server.Wait).
func (s *Server) tracked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		next.ServeHTTP(w, r)
	})
}
