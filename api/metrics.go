package api

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Metrics are the service's Prometheus metrics, written in the text exposition format by
// hand (a few counters and one histogram do not need a client library).
type Metrics struct {
	mu       sync.Mutex
	requests map[[3]string]uint64      // route, method, code → count
	latency  map[string]*histogram     // route → request duration
	certs    map[string]uint64         // outcome → count
	verifs   map[[2]string]uint64      // kind, outcome → count
	downs    map[string]uint64         // outcome → count
	logins   map[string]uint64         // outcome → count
	gauges   map[string]func() float64 // name → value
}

// Latency buckets in seconds: certification takes tens of milliseconds, verification a few.
var buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	counts []uint64 // per bucket, cumulative at output
	sum    float64
	n      uint64
}

func newMetrics() *Metrics {
	return &Metrics{
		requests: map[[3]string]uint64{}, latency: map[string]*histogram{},
		certs: map[string]uint64{}, verifs: map[[2]string]uint64{}, downs: map[string]uint64{},
		logins: map[string]uint64{}, gauges: map[string]func() float64{},
	}
}

func (m *Metrics) observeRequest(route, method string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[3]string{route, method, fmt.Sprint(code)}]++
	h := m.latency[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(buckets))}
		m.latency[route] = h
	}
	sec := d.Seconds()
	for i, b := range buckets {
		if sec <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += sec
	h.n++
}

// certification counts a certification attempt by outcome ("issued", "refused_input",
// "failed").
func (m *Metrics) certification(outcome string) { m.inc(m.certs, outcome) }

// download counts a citizen download attempt ("ok", "denied").
func (m *Metrics) download(outcome string) { m.inc(m.downs, outcome) }

// login counts a login attempt ("ok", "failed", "locked", "throttled").
func (m *Metrics) login(outcome string) { m.inc(m.logins, outcome) }

// verification counts a verification by kind ("token", "file", "hash") and outcome
// ("valid", "revoked", "invalid", "not_found", "error").
func (m *Metrics) verification(kind, outcome string) {
	m.mu.Lock()
	m.verifs[[2]string{kind, outcome}]++
	m.mu.Unlock()
}

func (m *Metrics) inc(c map[string]uint64, k string) {
	m.mu.Lock()
	c[k]++
	m.mu.Unlock()
}

// Gauge registers a value read at every scrape (e.g. certifications in progress).
func (m *Metrics) Gauge(name string, fn func() float64) {
	m.mu.Lock()
	m.gauges[name] = fn
	m.mu.Unlock()
}

// ServeHTTP writes the metrics in the Prometheus text exposition format 0.0.4.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.write(w)
}

func (m *Metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP chungthuc_http_requests_total HTTP requests by route, method and status code.")
	fmt.Fprintln(w, "# TYPE chungthuc_http_requests_total counter")
	for _, k := range sortedKeys3(m.requests) {
		fmt.Fprintf(w, "chungthuc_http_requests_total{route=%q,method=%q,code=%q} %d\n", k[0], k[1], k[2], m.requests[k])
	}
	fmt.Fprintln(w, "# HELP chungthuc_http_request_duration_seconds HTTP request latency by route.")
	fmt.Fprintln(w, "# TYPE chungthuc_http_request_duration_seconds histogram")
	routes := make([]string, 0, len(m.latency))
	for r := range m.latency {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		h := m.latency[r]
		var cum uint64
		for i, b := range buckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "chungthuc_http_request_duration_seconds_bucket{route=%q,le=%q} %d\n", r, fmtFloat(b), cum)
		}
		fmt.Fprintf(w, "chungthuc_http_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", r, h.n)
		fmt.Fprintf(w, "chungthuc_http_request_duration_seconds_sum{route=%q} %s\n", r, fmtFloat(h.sum))
		fmt.Fprintf(w, "chungthuc_http_request_duration_seconds_count{route=%q} %d\n", r, h.n)
	}
	counter := func(name, help, label string, c map[string]uint64) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s{%s=%q} %d\n", name, label, k, c[k])
		}
	}
	counter("chungthuc_certifications_total", "Certification attempts by outcome.", "outcome", m.certs)
	counter("chungthuc_downloads_total", "Citizen download attempts by outcome.", "outcome", m.downs)
	counter("chungthuc_logins_total", "Login attempts by outcome.", "outcome", m.logins)
	fmt.Fprintln(w, "# HELP chungthuc_verifications_total Verifications by kind and outcome.")
	fmt.Fprintln(w, "# TYPE chungthuc_verifications_total counter")
	vk := make([][2]string, 0, len(m.verifs))
	for k := range m.verifs {
		vk = append(vk, k)
	}
	sort.Slice(vk, func(i, j int) bool { return vk[i][0]+"\x00"+vk[i][1] < vk[j][0]+"\x00"+vk[j][1] })
	for _, k := range vk {
		fmt.Fprintf(w, "chungthuc_verifications_total{kind=%q,outcome=%q} %d\n", k[0], k[1], m.verifs[k])
	}
	names := make([]string, 0, len(m.gauges))
	for n := range m.gauges {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %s\n", n, n, fmtFloat(m.gauges[n]()))
	}
}

func sortedKeys3(m map[[3]string]uint64) [][3]string {
	keys := make([][3]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return strings.Join(keys[i][:], "\x00") < strings.Join(keys[j][:], "\x00") })
	return keys
}

func fmtFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return fmt.Sprintf("%g", f)
}
