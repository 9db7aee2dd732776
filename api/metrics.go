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
//
// Its label sets are fixed: a method outside knownMethods is "other", a request that no
// route matched is "unmatched", a status class outside 1xx–5xx is "other" — whatever a
// client sends, the series stay a few hundred. The mutex guards only updates and a copy
// taken for a scrape; formatting happens without it.
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

// knownMethods are the methods that keep their name in labels.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// methodLabel is method when it is one of knownMethods, else "other".
func methodLabel(method string) string {
	if knownMethods[method] {
		return method
	}
	return "other"
}

// observe records one request: method (any string: labelled by methodLabel), route (the
// router's pattern; "" for none: "unmatched"), status and duration.
func (m *metrics) observe(method, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	class := "other"
	if status >= 100 && status < 600 {
		class = strconv.Itoa(status/100) + "xx"
	}
	labels := fmt.Sprintf(`method=%q,route=%q,status=%q`, methodLabel(method), route, class)
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

// snapshot copies the series under the lock.
func (m *metrics) snapshot() (map[string]histogram, map[string]float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	hist := make(map[string]histogram, len(m.hist))
	for k, h := range m.hist {
		hist[k] = histogram{counts: slices.Clone(h.counts), sum: h.sum, n: h.n}
	}
	counters := make(map[string]float64, len(m.counters))
	for k, v := range m.counters {
		counters[k] = v
	}
	return hist, counters
}

// handler renders a copy of the series: requests being counted meanwhile wait only for the
// copy, never for the rendering or for a slow scraper.
func (m *metrics) handler(w http.ResponseWriter, r *http.Request) {
	hist, counters := m.snapshot()
	var b strings.Builder
	b.WriteString("# HELP chungthuc_http_request_duration_seconds HTTP request latency.\n# TYPE chungthuc_http_request_duration_seconds histogram\n")
	keys := make([]string, 0, len(hist))
	for k := range hist {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h := hist[k]
		for i, le := range latencyBuckets {
			fmt.Fprintf(&b, "chungthuc_http_request_duration_seconds_bucket{%s,le=\"%s\"} %d\n", k, strconv.FormatFloat(le, 'g', -1, 64), h.counts[i])
		}
		fmt.Fprintf(&b, "chungthuc_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", k, h.n)
		fmt.Fprintf(&b, "chungthuc_http_request_duration_seconds_sum{%s} %g\n", k, h.sum)
		fmt.Fprintf(&b, "chungthuc_http_request_duration_seconds_count{%s} %d\n", k, h.n)
	}
	keys = keys[:0]
	for k := range counters {
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
		fmt.Fprintf(&b, "%s %g\n", series, counters[k])
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
