package api

import (
	"strings"
	"testing"
)

// TestHSTSAndNoListing: with an https base URL every answer carries HSTS (none with an
// http one); /static/ lists nothing, its files are served.
func TestHSTSAndNoListing(t *testing.T) {
	e := newEnv(t, nil) // BaseURL https://ct.example.vn
	res, _ := e.get("/healthz")
	if !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("no HSTS with an https base URL: %q", res.Header.Get("Strict-Transport-Security"))
	}
	for _, p := range []string{"/static/", "/static"} {
		if res, body := e.get(p); res.StatusCode == 200 || strings.Contains(body, `href="app.css"`) {
			t.Errorf("%s: %d, lists the folder:\n%.300s", p, res.StatusCode, body)
		}
	}
	if res, _ := e.get("/static/app.css"); res.StatusCode != 200 {
		t.Fatalf("/static/app.css: %d", res.StatusCode)
	}
	plain := newEnv(t, func(d *Deps) { d.BaseURL = "http://127.0.0.1:8080" })
	if res, _ := plain.get("/healthz"); res.Header.Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS with an http base URL")
	}
}
