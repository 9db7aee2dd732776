package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
)

// csrfField is the form field (and X-CSRF-Token the header) that carries the token.
const csrfField = "csrf"

// csrfPeek bounds what is read of a multipart body to find its csrf field, which must be the
// body's first part (the templates put it first; browsers send fields in document order).
const csrfPeek = 8 << 10

// csrfExempt names the state-changing routes that take no ambient credential — no cookie
// is consulted, so a cross-site form gains nothing — with the reason. Keys are chi route
// patterns; a pattern ending in "*" covers what is mounted below it. Every other POST,
// PUT, PATCH and DELETE route is checked (TestCSRFEveryRoute walks the router).
var csrfExempt = map[string]string{
	"/api/v1/certifications":   "bearer token in the Authorization header, which a cross-site form cannot send",
	"/api/v1/certifications/*": "bearer token in the Authorization header, which a cross-site form cannot send",
	"/pki/*":                   "development PKI protocols (OCSP, time-stamps): anonymous, no cookies",
	"/verify":                  "anonymous verification of an uploaded PDF: changes nothing, no cookies",
	"/api/v1/verify":           "anonymous verification (JSON): changes nothing, no cookies",
	"/v/{token}/download":      "needs the citizen's access code in the form; changes nothing",
	"/v/{token}/rate":          "needs the citizen's access code in the form, which a cross-site page does not know; no cookies",
}

// csrfExempted reports whether a route pattern is exempt.
func csrfExempted(pattern string) bool {
	if _, ok := csrfExempt[pattern]; ok {
		return true
	}
	for p := range csrfExempt {
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(pattern, prefix) {
			return true
		}
	}
	return false
}

// csrf is the one CSRF check of the service, in front of every route: a state-changing
// request to a route that is not exempt must carry the token of its session (the login
// form and its second step: of the login cookie) in the X-CSRF-Token header or the csrf field — for a
// multipart body, its first part, read with a small bound before any file. Anything else
// is 403 before a handler runs. The session it finds is handed on (sessionRequired and
// withSession reuse it).
func (s *Server) csrf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			next.ServeHTTP(w, r)
			return
		}
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		pattern := s.mux.Find(chi.NewRouteContext(), r.Method, path)
		if pattern == "" || csrfExempted(pattern) {
			// No route (the router answers 404/405) or a route without ambient credentials.
			next.ServeHTTP(w, r)
			return
		}
		var want string
		if pattern == "/login" || pattern == totpLoginPath {
			if c, err := r.Cookie(loginCSRFCookie); err == nil {
				want = c.Value
			}
		} else if p := s.sessionFrom(r); p != nil {
			want = p.Session.CSRFToken
			r = r.WithContext(context.WithValue(r.Context(), keyAuth, p))
		}
		got := r.Header.Get("X-CSRF-Token")
		if got == "" {
			got = formToken(w, r)
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			s.metrics.count("chungthuc_csrf_refused_total", "")
			s.Error(w, r, chungthuc.Errorf(chungthuc.EFORBIDDEN, "Yêu cầu không hợp lệ (mã CSRF). Vui lòng tải lại trang. (Invalid CSRF token; reload the page.)"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// formToken reads the csrf field of a form body: the first part of a multipart body (the
// bytes read are put back in front of the body for the handler), or the field of a
// URL-encoded one (at most 64 KiB). It returns "" when there is none.
func formToken(w http.ResponseWriter, r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		return r.PostFormValue(csrfField)
	case "multipart/form-data":
		boundary := params["boundary"]
		if boundary == "" {
			return ""
		}
		buf := make([]byte, csrfPeek)
		n, err := io.ReadFull(r.Body, buf)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return ""
		}
		buf = buf[:n]
		body := r.Body
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), body), body}
		part, err := multipart.NewReader(bytes.NewReader(buf), boundary).NextPart()
		if err != nil || part.FormName() != csrfField || part.FileName() != "" {
			return ""
		}
		// The part must end within the bytes read: a token cut off is no token.
		v, err := io.ReadAll(io.LimitReader(part, 256))
		if err != nil {
			return ""
		}
		return string(v)
	}
	return ""
}
