package main

import (
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetricsAddr: with CHUNGTHUC_METRICS_ADDR, /metrics is served there and not on the
// service's listener.
func TestMetricsAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(t.TempDir(), "data"), "CHUNGTHUC_METRICS_ADDR": maddr}
	base, _ := startServe(t, env)
	get := func(u string) (int, string) {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get(base + "/metrics"); code != http.StatusNotFound {
		t.Fatalf("/metrics on the service's listener: %d, want 404", code)
	}
	if code, body := get("http://" + maddr + "/metrics"); code != 200 || !strings.Contains(body, `route="/readyz"`) {
		t.Fatalf("/metrics on %s: %d\n%.500s", maddr, code, body)
	}
	if code, _ := get("http://" + maddr + "/healthz"); code != http.StatusNotFound {
		t.Fatalf("the metrics listener serves more than /metrics: %d", code)
	}
}
