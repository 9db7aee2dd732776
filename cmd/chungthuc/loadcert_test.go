package main

import (
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestLoadCertify measures certification throughput alone: CHUNGTHUC_LOAD_CLIENTS (default 4)
// API clients certify one 300 KB scan each, back to back, for CHUNGTHUC_LOAD_SECONDS, on
// CHUNGTHUC_LOAD_BACKEND ("embedded" or "postgres+s3"). It fails on any answer other
// than 201, and logs certifications per second with p50 and p99. Without CHUNGTHUC_LOAD_SECONDS it runs for 2 seconds (a
// correctness check under concurrency in CI; measure with a longer window).
func TestLoadCertify(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	secs, _ := strconv.Atoi(os.Getenv("CHUNGTHUC_LOAD_SECONDS"))
	if secs <= 0 {
		secs = 2
	}
	clients, _ := strconv.Atoi(os.Getenv("CHUNGTHUC_LOAD_CLIENTS"))
	if clients <= 0 {
		clients = 4
	}
	backend := "embedded"
	if os.Getenv("CHUNGTHUC_LOAD_BACKEND") == "postgres+s3" {
		backend = "postgres+s3"
	}
	s := newService(t, backend, map[string]string{"CHUNGTHUC_RATE_LIMIT": "100000000"})
	paths := writeScans(t, t.TempDir(), 1, 300<<10)
	scan, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	for range 3 { // warm up
		if st, m := s.apiCertify(scan, "Giấy khai sinh"); st != 201 {
			t.Fatalf("warm-up: %d %v", st, m)
		}
	}
	// CHUNGTHUC_LOAD_START (Unix seconds) starts the measured window at that instant, so that
	// two builds measured side by side share the machine's background load.
	if at, _ := strconv.ParseInt(os.Getenv("CHUNGTHUC_LOAD_START"), 10, 64); at > 0 {
		time.Sleep(time.Until(time.Unix(at, 0)))
	}
	var mu sync.Mutex
	var lat []time.Duration
	bad := 0
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				t0 := time.Now()
				st, _ := s.apiCertify(scan, "Giấy khai sinh")
				d := time.Since(t0)
				mu.Lock()
				lat = append(lat, d)
				if st != 201 {
					bad++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	slices.Sort(lat)
	t.Logf("%s, %d clients, 300 KB scan: %d certifications in %v = %.1f/s, p50 %.1f ms, p99 %.1f ms; this process's CPU %.1f ms per certification (service and clients)",
		backend, clients, len(lat), el.Round(time.Millisecond), float64(len(lat))/el.Seconds(),
		float64(lat[len(lat)/2].Microseconds())/1000, float64(lat[len(lat)*99/100].Microseconds())/1000,
		float64(cpu.Microseconds())/1000/float64(len(lat)))
	if bad > 0 {
		t.Fatalf("%d certifications did not answer 201", bad)
	}
}
