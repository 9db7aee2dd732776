package registertest

import (
	"context"
	"runtime"
	"testing"

	"github.com/chungthuc/chungthuc"
)

// Benchmark measures a register with 16 concurrent writers (b.SetParallelism) on one unit:
//
//   - Reserve: allocate a number and record the Pending entry (one transaction);
//   - ReserveIssue: the whole register part of a certification, Reserve + Seal + Issue
//     (three transactions, four audit entries);
//   - BareInsert: bareInsert, a plain one-row INSERT on the same database, the floor that the
//     register's cost is compared against.
func Benchmark(b *testing.B, r chungthuc.Register, bareInsert func(ctx context.Context) error) {
	ctx := context.Background()
	u := &chungthuc.Unit{Code: "BENCH", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	if err := r.CreateUnit(ctx, u); err != nil {
		b.Fatal(err)
	}
	o := &chungthuc.Officer{UnitID: u.ID, Name: "Nguyễn Thị Hằng", Title: "PHÓ CHỦ TỊCH", Active: true}
	if err := r.CreateOfficer(ctx, o); err != nil {
		b.Fatal(err)
	}
	parallel := max(1, 16/runtime.GOMAXPROCS(0))
	at := vn(2026, 6, 1, 9, 0)
	run := func(name string, op func() error) {
		b.Run(name, func(b *testing.B) {
			b.SetParallelism(parallel)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := op(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	run("Reserve", func() error { return r.Reserve(ctx, entry(u, o, at)) })
	run("ReserveIssue", func() error {
		c := entry(u, o, at)
		if err := r.Reserve(ctx, c); err != nil {
			return err
		}
		sha := SHA(c.Token)
		if err := r.Seal(ctx, c.ID, sha, "copies/"+sha+".pdf", []string{"scans/" + sha + ".jpg"}); err != nil {
			return err
		}
		return r.Issue(ctx, c.ID, "v1", "etag")
	})
	run("BareInsert", func() error { return bareInsert(ctx) })
}
