// Package cpubench measures benchmarks by process CPU time (user + system, all threads),
// which on a shared machine is steadier than wall time. Test code only.
package cpubench

import (
	"syscall"
	"testing"
	"time"
)

// PerOp resets b's timer and returns a function that reports the process CPU time per
// operation since then as "cpu-ms/op". Call as defer cpubench.PerOp(b)().
func PerOp(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	start := cpu()
	return func() {
		b.StopTimer()
		b.ReportMetric(float64(cpu()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}
