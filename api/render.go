package api

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/deadline"
)

// parseTemplates parses each page with the layout.
func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(chungthuc.Vietnam).Format("02/01/2006 15:04")
		},
		"day":     func(t time.Time) string { return t.In(chungthuc.Vietnam).Format("02/01/2006") },
		"iso":     func(t time.Time) string { return t.In(chungthuc.Vietnam).Format(time.RFC3339) },
		"vnd":     formatVND,
		"add":     func(a, b int) int { return a + b },
		"explain": explainIndication,
		// dueState is where an entry stands against its deadline at now ("" when its intake
		// was not recorded), "today" for one not returned that falls due today.
		"dueState": func(c *chungthuc.Certification, now time.Time) string {
			st := deadlineState(c, now)
			if st == deadline.Pending && deadline.DueToday(*c.DueAt, now) {
				return "today"
			}
			return string(st)
		},
		"dueDay": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return deadline.DueDate(*t).Format("02/01/2006")
		},
		"deref": func(t *time.Time) time.Time {
			if t == nil {
				return time.Time{}
			}
			return *t
		},
	}
	pages, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := p.Name()
		if name == "layout.html" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("api: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// render executes a page with the layout. Data gets T (translations for the request's
// language), Lang, Me (the signed-in principal) and CSRF (the session's token).
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	t := s.tmpl[name]
	if t == nil {
		http.Error(w, "template "+name+" missing", http.StatusInternalServerError)
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	lang := langOf(r)
	setLang(w, r)
	data["Lang"] = lang
	data["LangURL"] = langURL(r, lang)
	data["T"] = messages[lang]
	data["Path"] = r.URL.Path
	data["Now"] = s.Now()
	if p := who(r); p != nil {
		data["Me"] = p
		if p.Session != nil {
			data["CSRF2"] = p.Session.CSRFToken
		}
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		s.log.Error("render", "template", name, "err", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	cc := "no-store"
	if v, ok := data["CacheControl"].(string); ok {
		cc = v
	}
	w.Header().Set("Cache-Control", cc)
	w.Write(b.Bytes())
}

// formatVND formats an amount in đồng with dot thousands separators: 200.000 ₫.
func formatVND(v int64) string {
	s := fmt.Sprint(v)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, '.')
		}
		out = append(out, s[i])
	}
	return string(out) + " ₫"
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// langOf is the request's UI language: ?lang=, then the lang cookie, else Vietnamese.
func langOf(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "vi" {
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && (c.Value == "en" || c.Value == "vi") {
		return c.Value
	}
	return "vi"
}

// t translates a message key for the request's language.
func (s *Server) t(r *http.Request, key string) string {
	if m, ok := messages[langOf(r)][key]; ok {
		return m
	}
	return key
}

// setLang remembers an explicit ?lang= choice.
func setLang(w http.ResponseWriter, r *http.Request) {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "vi" {
		for _, v := range w.Header().Values("Set-Cookie") {
			if strings.HasPrefix(v, "lang=") {
				return
			}
		}
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	}
}

func trim(s string) string { return strings.TrimSpace(s) }

// langURL is the link that switches the page to the other language: the same page with its
// query kept (filters, pages) and lang replaced. A page answering a POST (an error, a wrong
// access code) links to the GET page it came from, never back to the POST's address.
func langURL(r *http.Request, lang string) string {
	other := "en"
	if lang == "en" {
		other = "vi"
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		u, err := url.Parse(backURL(r))
		if err != nil {
			return "/?lang=" + other
		}
		q := u.Query()
		q.Set("lang", other)
		u.RawQuery = q.Encode()
		return u.String()
	}
	q := r.URL.Query()
	q.Set("lang", other)
	if q.Has("next") { // the login page's: only a path on this site is carried over
		q.Set("next", safeNext(q.Get("next")))
	}
	return "?" + q.Encode() // relative: the same page
}
