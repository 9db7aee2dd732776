package api

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestSafeNext: only a path on this site survives; everything a browser could follow to
// another origin (after stripping tabs and newlines, or reading "\" as "/") becomes /app/.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/app/c/12":                     "/app/c/12",
		"/app/register?year=2026&q=x":   "/app/register?year=2026&q=x",
		"/app/stats#top":                "/app/stats",
		"":                              "/app/",
		"app/":                          "/app/",
		"//evil.example":                "/app/",
		"/\\evil.example":               "/app/",
		"\\\\evil.example":              "/app/",
		"/\t/evil.example":              "/app/",
		"/\n/evil.example":              "/app/",
		"/\r\n/evil.example":            "/app/",
		"\t//evil.example":              "/app/",
		" //evil.example":               "/app/",
		"/%09/evil.example":             "/app/",
		"/%2F/evil.example":             "/app/",
		"/%5Cevil.example":              "/app/",
		"https://evil.example/":         "/app/",
		"http:/evil.example":            "/app/",
		"javascript:alert(1)":           "/app/",
		"//user@evil.example":           "/app/",
		"/\u00a0/evil.example":          "/app/",
		"/\u2028/evil.example":          "/app/",
		"/app/\x00":                     "/app/",
		"/" + strings.Repeat("a", 3000): "/app/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLoginRedirectStaysOnSite logs in with a next of "/\t/evil.example" and checks where
// the answer sends the browser.
func TestLoginRedirectStaysOnSite(t *testing.T) {
	e := newEnv(t, nil)
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := cl.Get(e.srv.URL + "/login?next=" + url.QueryEscape("/\t/evil.example"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(b), "evil.example") {
		t.Fatalf("the login page carries the foreign next:\n%s", b)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(b)[1]
	res, err = cl.PostForm(e.srv.URL+"/login", url.Values{"csrf": {string(csrf)}, "username": {"canbo"}, "password": {e.password}, "next": {"/\t/evil.example"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/app/" {
		t.Fatalf("login answered %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
}
