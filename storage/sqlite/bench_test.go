package sqlite_test

import (
	"context"
	"testing"

	"github.com/chungthuc/chungthuc/storage/registertest"
)

func BenchmarkRegister(b *testing.B) {
	db := openTemp(b)
	defer db.Close()
	if err := db.ExecSQL(ctx, `CREATE TABLE bench_bare (id INTEGER PRIMARY KEY, token TEXT NOT NULL, title TEXT NOT NULL, created_at TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	registertest.Benchmark(b, db, func(ctx context.Context) error {
		return db.ExecSQL(ctx, `INSERT INTO bench_bare (token, title, created_at) VALUES (hex(randomblob(16)), 'Giấy khai sinh', strftime('%Y-%m-%dT%H:%M:%fZ'))`)
	})
}
