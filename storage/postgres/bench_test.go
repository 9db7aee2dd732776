package postgres_test

import (
	"context"
	"testing"

	"github.com/chungthuc/chungthuc/storage/postgres"
	"github.com/chungthuc/chungthuc/storage/registertest"
)

func BenchmarkRegister(b *testing.B) {
	db := openFresh(b, postgres.Options{MaxConns: 20})
	if err := db.ExecSQL(ctx, `CREATE TABLE bench_bare (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		token text NOT NULL, title text NOT NULL, created_at timestamptz NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	registertest.Benchmark(b, db, func(ctx context.Context) error {
		return db.ExecSQL(ctx, `INSERT INTO bench_bare (token, title, created_at) VALUES (md5(random()::text), 'Giấy khai sinh', now())`)
	})
}
