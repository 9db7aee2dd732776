package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/chungthuc/chungthuc"
)

// statusOf maps domain error codes to HTTP statuses.
var statusOf = map[string]int{
	chungthuc.EINVALID:      http.StatusBadRequest,
	chungthuc.EUNAUTHORIZED: http.StatusUnauthorized,
	chungthuc.EFORBIDDEN:    http.StatusForbidden,
	chungthuc.ENOTFOUND:     http.StatusNotFound,
	chungthuc.ECONFLICT:     http.StatusConflict,
	chungthuc.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	chungthuc.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	chungthuc.ERATELIMIT:    http.StatusTooManyRequests,
	chungthuc.EUNAVAILABLE:  http.StatusServiceUnavailable,
	chungthuc.EINTERNAL:     http.StatusInternalServerError,
}

// isAPI reports whether the request is for the JSON API (errors as JSON).
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// unavailableMessage is what users see when a dependency is down: the details (endpoints,
// buckets, keys, dial errors) are logged with the request ID, never shown.
const unavailableMessage = "Hệ thống tạm thời không phục vụ được (cơ sở dữ liệu, kho lưu trữ hoặc thiết bị ký số không phản hồi). Vui lòng thử lại sau ít phút. (The service is temporarily unavailable; try again in a few minutes.)"

// Error writes err to the client: JSON for the API, a friendly page otherwise. Internal and
// unavailable errors are logged with the request ID and shown as a generic message.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	if s.busy(w, r, err) {
		return
	}
	code := chungthuc.ErrorCode(err)
	status := statusOf[code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	msg := chungthuc.ErrorMessage(err)
	if code == chungthuc.EINTERNAL || code == chungthuc.EUNAVAILABLE {
		s.log.Error("request failed", "request_id", requestID(r), "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	}
	switch code {
	case chungthuc.EINTERNAL:
		msg = "Lỗi hệ thống. Vui lòng thử lại sau. (Internal error.)"
	case chungthuc.EUNAVAILABLE:
		msg = unavailableMessage
		w.Header().Set("Retry-After", "30")
	}
	if code == chungthuc.ERATELIMIT {
		w.Header().Set("Retry-After", "60")
	}
	if isAPI(r) {
		writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}, "request_id": requestID(r)})
		return
	}
	w.WriteHeader(status)
	s.render(w, r, "error.html", map[string]any{"Status": status, "Message": msg, "Code": code, "RequestID": requestID(r)})
}

// audit appends e to the audit log. A failure is logged with the request id and returned:
// the caller decides whether the request may go on without its record.
func (s *Server) audit(r *http.Request, e *chungthuc.AuditEntry) error {
	err := s.Audit.Append(r.Context(), e)
	if err != nil {
		s.log.Error("audit append failed", "request_id", requestID(r), "action", e.Action, "subject", e.Subject, "err", err)
	}
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		slog.Default().Debug("write json", "err", err)
	}
}
