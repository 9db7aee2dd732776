package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// metrics is a small Prometheus registry: counters with one label set each, and a request
// latency histogram by method, route and status class. Exposed in the text format.
type metrics struct {
	mu       sync.Mutex
	counters map[string]float64 // "name{labels}" → value
	hist     map[string]*histogram
}

var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type histogram struct {
	counts []uint64
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{counters: map[string]float64{}, hist: map[string]*histogram{}}
}

// count adds one to counter name with labels (already formatted: `outcome="valid"`).
func (m *metrics) count(name, labels string) {
	m.mu.Lock()
	m.counters[name+"{"+labels+"}"]++
	m.mu.Unlock()
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	labels := fmt.Sprintf(`method=%q,route=%q,status="%dxx"`, method, route, status/100)
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.hist[labels]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets))}
		m.hist[labels] = h
	}
	sec := d.Seconds()
	for i, b := range latencyBuckets {
		if sec <= b {
			h.counts[i]++
		}
	}
	h.sum += sec
	h.n++
}

func (m *metrics) handler(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP chungthuc_http_request_duration_seconds HTTP request latency.\n# TYPE chungthuc_http_request_duration_seconds histogram\n")
	keys := make([]string, 0, len(m.hist))
	for k := range m.hist {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h := m.hist[k]
		for i, le := range latencyBuckets {
			fmt.Fprintf(&b, "chungthuc_http_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n", k, strconv.FormatFloat(le, 'g', -1, 64), h.counts[i])
		}
		fmt.Fprintf(&b, "chungthuc_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", k, h.n)
		fmt.Fprintf(&b, "chungthuc_http_request_duration_seconds_sum{%s} %g\n", k, h.sum)
		fmt.Fprintf(&b, "chungthuc_http_request_duration_seconds_count{%s} %d\n", k, h.n)
	}
	keys = keys[:0]
	for k := range m.counters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	typed := map[string]bool{}
	for _, k := range keys {
		name := k[:strings.IndexByte(k, '{')]
		if !typed[name] {
			fmt.Fprintf(&b, "# TYPE %s counter\n", name)
			typed[name] = true
		}
		series := k
		if strings.HasSuffix(k, "{}") {
			series = name
		}
		fmt.Fprintf(&b, "%s %g\n", series, m.counters[k])
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}
