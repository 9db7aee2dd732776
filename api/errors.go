package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/chungthuc/chungthuc"
)

// statusOf is the one table from chungthuc error codes to HTTP statuses.
var statusOf = map[string]int{
	chungthuc.ECONFLICT:     http.StatusConflict,
	chungthuc.EINTERNAL:     http.StatusInternalServerError,
	chungthuc.EINVALID:      http.StatusBadRequest,
	chungthuc.ENOTFOUND:     http.StatusNotFound,
	chungthuc.EUNAUTHORIZED: http.StatusUnauthorized,
	chungthuc.EFORBIDDEN:    http.StatusForbidden,
	chungthuc.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	chungthuc.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	chungthuc.ERATELIMIT:    http.StatusTooManyRequests,
	chungthuc.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// HTTPStatus returns the HTTP status of err's chungthuc error code (500 for anything that
// is not a *chungthuc.Error).
func HTTPStatus(err error) int {
	if st, ok := statusOf[chungthuc.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// errorBody is the JSON form of an error.
type errorBody struct {
	Error     string `json:"error"`   // the chungthuc error code
	Message   string `json:"message"` // fit to show a user
	RequestID string `json:"request_id,omitempty"`
}

// Error writes err to the client: JSON for the API (/api/…) and clients that ask for it, a
// friendly HTML page otherwise. Internal errors and outages are logged with the request id
// and shown as a plain message; their details never reach the client.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	code := chungthuc.ErrorCode(err)
	status := HTTPStatus(err)
	msg := chungthuc.ErrorMessage(err)
	id := requestID(r.Context())
	if code == chungthuc.EINTERNAL || code == chungthuc.EUNAVAILABLE {
		loggerFrom(r.Context()).Error("request failed", "request_id", id, "code", code, "err", err)
		if code == chungthuc.EINTERNAL {
			msg = "Internal error. Please try again; if it persists, tell the administrator the request id."
		}
	}
	if wantsJSON(r) {
		writeJSON(w, status, errorBody{Error: code, Message: msg, RequestID: id})
		return
	}
	renderError(w, r, status, code, msg)
}

// loggerFrom is the server's logger carried by the request (slog.Default outside one).
func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(ctxLogger).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

func wantsJSON(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
