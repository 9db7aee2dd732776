package api

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// staticFiles is the static/ folder, served under /static/.
var staticFiles, _ = fs.Sub(staticFS, "static")

var templateFuncs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(chungthuc.Vietnam).Format("02/01/2006")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(chungthuc.Vietnam).Format("02/01/2006 15:04")
	},
	"isodate": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(chungthuc.Vietnam).Format("2006-01-02")
	},
	"vnd": formatVND,
	"add": func(a, b int) int { return a + b },
	"deref": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
}

// formatVND writes an amount the Vietnamese way: 1.234.000 ₫.
func formatVND(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && c != '-' && s[i-1] != '-' {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return b.String() + " ₫"
}

// pages are the templates, each parsed together with the layout.
var pages = func() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	m := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		m[base] = template.Must(template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", n))
	}
	return m
}()

// page is what every template receives.
type page struct {
	Lang    string
	Title   string
	P       *principal
	CSRF    string
	Path    string
	Data    any
	Notice  string
	Problem string
}

// T translates a message key into the page's language (Vietnamese when unknown).
func (p *page) T(key string) string { return translate(p.Lang, key) }

// render writes a page with status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, title string, data any) {
	p := newPage(r, title, data)
	renderPage(w, r, status, name, p)
}

func newPage(r *http.Request, title string, data any) *page {
	p := &page{Lang: lang(r), Title: title, P: principalFrom(r.Context()), Path: r.URL.RequestURI(), Data: data}
	if p.P != nil {
		p.CSRF = p.P.CSRF
	}
	return p
}

func renderPage(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	t, ok := pages[name]
	if !ok {
		panic("api: no template " + name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		loggerFrom(r.Context()).Error("template failed", "template", name, "err", err, "request_id", requestID(r.Context()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderError is the friendly HTML page of an error.
func renderError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	p := newPage(r, "", map[string]any{"Status": status, "Code": code, "Message": msg, "RequestID": requestID(r.Context())})
	p.Title = p.T("error." + code)
	renderPage(w, r, status, "error", p)
}

// lang is the language of the request: the "lang" cookie, else Vietnamese.
func lang(r *http.Request) string {
	if c, err := r.Cookie("lang"); err == nil && c.Value == "en" {
		return "en"
	}
	return "vi"
}
