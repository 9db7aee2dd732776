package postgres_test

import (
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/postgres"
	"github.com/chungthuc/chungthuc/storage/registertest"
)

func TestAccounts(t *testing.T) {
	registertest.RunAccounts(t, func(t *testing.T) chungthuc.Accounts { return openFresh(t, postgres.Options{}) })
}

func TestUsernameUniqueInSchema(t *testing.T) {
	db := openFresh(t, postgres.Options{})
	if err := db.ExecSQL(ctx, `INSERT INTO accounts (username, password_hash, role, created_at)
		VALUES ('Root', 'x', 'system_admin', now())`); err == nil {
		t.Fatal("an upper-case username was stored")
	}
	if err := db.ExecSQL(ctx, `INSERT INTO accounts (username, password_hash, role, created_at)
		VALUES ('clerk', 'x', 'clerk', now())`); err == nil {
		t.Fatal("a clerk without a unit was stored")
	}
}

func BenchmarkAccounts(b *testing.B) {
	db := openFresh(b, postgres.Options{})
	registertest.BenchmarkAccounts(b, db)
}
