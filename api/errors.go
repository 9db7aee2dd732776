package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
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
		msg = "Lỗi hệ thống: yêu cầu chưa được thực hiện. (Internal error: the request was not carried out.)"
	case chungthuc.EUNAVAILABLE:
		msg = unavailableMessage
		w.Header().Set("Retry-After", "30")
	}
	if code == chungthuc.ERATELIMIT {
		w.Header().Set("Retry-After", "60")
	}
	if isAPI(r) {
		body := map[string]string{"code": code, "message": msg}
		var se *certify.StepError
		if errors.As(err, &se) {
			body["reason"] = se.Reason // which refusal of an external signature step
		}
		writeJSON(w, status, map[string]any{"error": body, "request_id": requestID(r)})
		return
	}
	s.errorPage(w, r, status, code, msg)
}

// errorPage renders the one error template: a heading saying what happened (never a bare
// status), the message in the reader's language, what to do next, a link back that works
// without script, and the request id for support.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	lang := langOf(r)
	vi, en := splitMessage(msg)
	text := vi
	if lang == "en" && en != "" {
		text = en
	}
	h, ok := errorHelp[code]
	if !ok {
		h = errorHelp[chungthuc.EINTERNAL]
	}
	i := 0
	if lang == "en" {
		i = 1
	}
	w.WriteHeader(status)
	s.render(w, r, "error.html", map[string]any{"Status": status, "Heading": h[i], "Message": text, "Todo": h[2+i],
		"Code": code, "RequestID": requestID(r), "BackURL": backURL(r)})
}

// bi is an error with a message in Vietnamese and English, in the service's convention
// "Vietnamese sentence. (English sentence.)": JSON clients get both, the error page the
// reader's language (splitMessage).
func bi(code, vi, en string) error {
	return &chungthuc.Error{Code: code, Message: vi + " (" + en + ")"}
}

// splitMessage splits "Vietnamese. (English.)" into its two languages; a message without a
// trailing parenthesis is returned whole as both.
func splitMessage(msg string) (vi, en string) {
	if strings.HasSuffix(msg, ")") {
		depth := 0
		for i := len(msg) - 1; i > 0; i-- {
			switch msg[i] {
			case ')':
				depth++
			case '(':
				depth--
			}
			if depth == 0 {
				if i > 0 && msg[i-1] == ' ' {
					return strings.TrimSpace(msg[:i-1]), msg[i+1 : len(msg)-1]
				}
				break
			}
		}
	}
	return msg, msg
}

// errorHelp gives each error code a heading and what to do, in Vietnamese and English.
var errorHelp = map[string][4]string{
	chungthuc.EINVALID: {"Chưa gửi được yêu cầu", "The request could not be accepted",
		"Hãy sửa nội dung được nêu ở trên rồi gửi lại.", "Correct what is described above and send again."},
	chungthuc.EUNAUTHORIZED: {"Cần đăng nhập", "Please log in",
		"Hãy đăng nhập rồi thử lại.", "Log in and try again."},
	chungthuc.EFORBIDDEN: {"Không có quyền thực hiện", "Not allowed",
		"Nếu bạn cho rằng đây là nhầm lẫn, hãy liên hệ quản trị viên của đơn vị.", "If you think this is a mistake, contact your unit's administrator."},
	chungthuc.ENOTFOUND: {"Không tìm thấy", "Not found",
		"Hãy kiểm tra lại đường dẫn hoặc mã QR.", "Check the link or the QR code."},
	chungthuc.ECONFLICT: {"Yêu cầu đã được xử lý trước đó", "Already handled",
		"Hãy mở sổ chứng thực để xem kết quả của lần gửi đầu tiên.", "Open the register to see the outcome of the first submission."},
	chungthuc.ETOOLARGE: {"Tệp quá lớn", "The file is too large",
		"Hãy chụp lại với độ phân giải thấp hơn hoặc chia thành nhiều tệp nhỏ hơn rồi gửi lại.", "Scan at a lower resolution or split it into smaller files, then send again."},
	chungthuc.EUNSUPPORTED: {"Loại tệp không được hỗ trợ", "This kind of file is not supported",
		"Hãy gửi tệp JPEG, PNG hoặc PDF.", "Send a JPEG, PNG or PDF file."},
	chungthuc.ERATELIMIT: {"Quá nhiều yêu cầu", "Too many requests",
		"Hãy đợi một phút rồi thử lại.", "Wait a minute and try again."},
	chungthuc.EUNAVAILABLE: {"Hệ thống tạm thời không phục vụ được", "Temporarily unavailable",
		"Hãy thử lại sau ít phút. Nếu lỗi kéo dài, hãy báo cho quản trị viên kèm mã yêu cầu bên dưới.", "Try again in a few minutes. If it persists, tell the administrator the request ID below."},
	chungthuc.EINTERNAL: {"Đã xảy ra lỗi", "Something went wrong",
		"Hãy thử lại. Nếu lỗi lặp lại, hãy báo cho quản trị viên kèm mã yêu cầu bên dưới.", "Try again. If it happens again, tell the administrator the request ID below."},
}

// backURL is where the error page's "Back" link goes: the page the request came from when
// it is on this site (the Referer's path), else the page of the form that was sent.
func backURL(r *http.Request) string {
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Path != "" && strings.HasPrefix(ref.Path, "/") &&
		(ref.Host == "" || ref.Host == r.Host) && !strings.HasPrefix(ref.Path, "//") {
		u := ref.Path
		if ref.RawQuery != "" {
			u += "?" + ref.RawQuery
		}
		return u
	}
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/v/") && strings.HasSuffix(p, "/download"):
		return strings.TrimSuffix(p, "/download")
	case p == "/verify", p == "/app/certify", p == "/app/refuse", p == "/login":
		return p
	case strings.HasPrefix(p, "/app/c/"):
		parts := strings.Split(p, "/")
		if len(parts) >= 4 {
			return "/app/c/" + parts[3]
		}
	case strings.HasPrefix(p, "/app/"):
		return "/app/"
	}
	return "/"
}

// audit appends e to the audit log. A failure is logged with the request id and returned:
// the caller decides whether the request may go on without its record. Failures are counted
// in chungthuc_audit_write_failures_total{action} for alerting.
func (s *Server) audit(r *http.Request, e *chungthuc.AuditEntry) error {
	err := s.Audit.Append(r.Context(), e)
	if err != nil {
		s.log.Error("audit append failed", "request_id", requestID(r), "action", e.Action, "subject", e.Subject, "err", err)
		s.metrics.count("chungthuc_audit_write_failures_total", fmt.Sprintf("action=%q", e.Action))
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
