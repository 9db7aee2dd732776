package api

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetricsFixedLabels sends 600 requests with invented 16 KB methods and to unknown
// paths: the scrape stays small, the methods are "other" and the paths "unmatched", and
// /healthz answers meanwhile.
func TestMetricsFixedLabels(t *testing.T) {
	e := newEnv(t, nil)
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	for i := range 600 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		method := fmt.Sprintf("X%d%s", i, strings.Repeat("A", 16<<10))
		fmt.Fprintf(conn, "%s /nowhere/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", method, i)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		conn.Close()
	}
	res, body := e.get("/metrics")
	if res.StatusCode != 200 {
		t.Fatalf("/metrics: %d", res.StatusCode)
	}
	if len(body) > 64<<10 {
		t.Fatalf("/metrics is %d bytes after 600 junk requests", len(body))
	}
	if strings.Contains(body, "AAAA") || strings.Contains(body, "/nowhere") {
		t.Fatalf("a client's method or path became a label:\n%.2000s", body)
	}
	if !strings.Contains(body, `method="other",route="unmatched"`) {
		t.Fatalf("no other/unmatched series:\n%s", body)
	}
	if res, _ := e.get("/healthz"); res.StatusCode != 200 {
		t.Fatalf("/healthz: %d", res.StatusCode)
	}
	if got := methodLabel("get"); got != "other" {
		t.Fatalf("methodLabel(get) = %q", got)
	}
}

// TestMetricsElsewhere: with ServeMetrics set, the service's listener does not serve
// /metrics, and the handler it was given does.
func TestMetricsElsewhere(t *testing.T) {
	var mh http.Handler
	e := newEnv(t, func(d *Deps) { d.ServeMetrics = func(h http.Handler) { mh = h } })
	if res, _ := e.get("/metrics"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the service's listener: %d, want 404", res.StatusCode)
	}
	e.get("/healthz")
	rec := httptest.NewRecorder()
	mh.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `route="/healthz"`) {
		t.Fatalf("metrics elsewhere: %d\n%s", rec.Code, rec.Body.String())
	}
}
