package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chungthuc/chungthuc"
)

// metrics is a small Prometheus registry: counters with one label set each, and a request
// latency histogram by method, route and status class. Exposed in the text format.
type metrics struct {
	mu       sync.Mutex
	counters map[string]float64 // "name{labels}" → value
	hist     map[string]*histogram
	// extra writes series kept elsewhere (the workflow's integrity counters and findings).
	extra func(b *strings.Builder)
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
	if m.extra != nil {
		m.extra(&b)
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}

// integrityMetrics writes the workflow's integrity series: stored objects that failed a
// check (downloads, fsck, the periodic sample), by kind, and the open findings — orphan
// objects among them — as last read from the register.
func (s *Server) integrityMetrics(b *strings.Builder) {
	kinds := []string{chungthuc.FindingMissing, chungthuc.FindingDamaged, chungthuc.FindingOverwritten, chungthuc.FindingDeleted, chungthuc.FindingOrphan}
	failures := s.Certify.IntegrityFailures()
	b.WriteString("# HELP chungthuc_object_integrity_failures_total Stored objects found missing, damaged, overwritten, deleted or orphaned.\n# TYPE chungthuc_object_integrity_failures_total counter\n")
	for _, k := range kinds {
		fmt.Fprintf(b, "chungthuc_object_integrity_failures_total{kind=%q} %d\n", k, failures[k])
	}
	open := s.Certify.OpenFindings()
	b.WriteString("# HELP chungthuc_orphan_objects Objects in the store that no register entry refers to (kept as evidence).\n# TYPE chungthuc_orphan_objects gauge\n")
	fmt.Fprintf(b, "chungthuc_orphan_objects %d\n", open[chungthuc.FindingOrphan])
	b.WriteString("# HELP chungthuc_object_findings Open findings about stored objects, by kind.\n# TYPE chungthuc_object_findings gauge\n")
	for _, k := range kinds {
		fmt.Fprintf(b, "chungthuc_object_findings{kind=%q} %d\n", k, open[k])
	}
	fmt.Fprintf(b, "# HELP chungthuc_voids_pending Voids being retried in the background.\n# TYPE chungthuc_voids_pending gauge\nchungthuc_voids_pending %d\n", s.Certify.PendingVoids())
}
