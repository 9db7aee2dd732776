package sqlite_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// BenchmarkStatistics measures a unit's statistics for a month of 10,000 entries (with
// refusals and ratings) against a peer on the same rows in the same run: a plain COUNT(*)
// of the month's entries of the unit (what the register must read at the least), and one
// SUM(pages) over them (a column of each row read from the covering index).
func BenchmarkStatistics(b *testing.B) {
	const n = 10000
	db := openTemp(b)
	defer db.Close()
	u := &chungthuc.Unit{Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	if err := db.CreateUnit(ctx, u); err != nil {
		b.Fatal(err)
	}
	o := &chungthuc.Officer{UnitID: u.ID, Name: "Nguyễn Thị Hằng", Title: "PHÓ CHỦ TỊCH", Active: true}
	if err := db.CreateOfficer(ctx, o); err != nil {
		b.Fatal(err)
	}
	first := &chungthuc.Certification{UnitID: u.ID, OfficerID: o.ID, Token: "bench-first-aaaaaaaaaaaaaaaa", AccessCodeHash: "x", Title: "Giấy khai sinh",
		Pages: 1, CertifiedAt: time.Date(2026, 4, 1, 8, 0, 0, 0, chungthuc.Vietnam)}
	if err := db.Reserve(ctx, first); err != nil {
		b.Fatal(err)
	}
	// Bulk load in one statement each, the permanent-record triggers off (as TestScale does):
	// entries over April 2026, received at hh:00 UTC, certified at hh:30 (every 7th 12 hours
	// later, after its due time: late), every 50th pending, every 20th revoked.
	load := []string{fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
		INSERT INTO certifications (unit_id, book_id, book_code, year, number, token, access_code_hash, title, issuer, requester, search,
			officer_id, officer_name, officer_title, pages, fee_vnd, sha256, object_key, scan_keys, status, certified_at, created_at, copies,
			received_at, due_at)
		SELECT %d, %d, '%s', 2026, 1 + i, 'bench-token-' || i, 'x', 'Giấy khai sinh', '', 'Nguyễn Văn An', '', %d, 'A', 'B', 1 + i %% 5, 2000,
			printf('%%064x', i), 'copies/' || i, '[]',
			CASE WHEN i %% 50 = 0 THEN 'pending' WHEN i %% 20 = 0 THEN 'revoked' ELSE 'issued' END,
			printf('2026-04-%%02dT%%02d:30:00.000000Z', 1 + i %% 28, i %% 10 + CASE WHEN i %% 7 = 0 THEN 12 ELSE 0 END),
			printf('2026-04-%%02dT%%02d:30:00.000000Z', 1 + i %% 28, i %% 10), 1,
			printf('2026-04-%%02dT%%02d:00:00.000000Z', 1 + i %% 28, i %% 10),
			printf('2026-04-%%02dT17:00:00.000000Z', 1 + i %% 28)
		FROM n`, n, u.ID, first.BookID, first.BookCode, o.ID),
		fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
		INSERT INTO refusals (unit_id, officer_id, year, number, reason, note, title, requester, created_at, received_at, due_at)
		SELECT %d, %d, 2026, i, CASE WHEN i %% 3 = 0 THEN 'damaged' ELSE 'altered' END, '', '', '',
			printf('2026-04-%%02dT05:00:00.000000Z', 1 + i %% 28), printf('2026-04-%%02dT02:00:00.000000Z', 1 + i %% 28),
			printf('2026-04-%%02dT17:00:00.000000Z', 1 + i %% 28) FROM n`, u.ID, o.ID),
		`INSERT INTO satisfaction_ratings (certification_id, unit_id, rating, comment, created_at)
		SELECT id, unit_id, CASE WHEN id % 10 = 0 THEN 'not_satisfied' WHEN id % 7 = 0 THEN 'neutral' ELSE 'satisfied' END, '', certified_at
		FROM certifications WHERE status = 'issued' AND id % 3 = 0`,
	}
	for _, q := range load {
		if err := db.Tamper(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	if p := os.Getenv("CHUNGTHUC_BENCH_KEEP"); p != "" {
		if err := db.Backup(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, chungthuc.Vietnam)
	to := from.AddDate(0, 1, 0)
	now := to.AddDate(0, 1, 0)
	st, err := db.Statistics(ctx, u.ID, from, to, now)
	if err != nil {
		b.Fatal(err)
	}
	count := func() (int64, error) {
		return db.QueryInt(ctx, `SELECT count(*) FROM certifications WHERE unit_id = ? AND certified_at >= ? AND certified_at < ?`,
			u.ID, ledger.FormatTime(from), ledger.FormatTime(to))
	}
	all, err := count()
	if err != nil {
		b.Fatal(err)
	}
	// The bulk load is what the statistics see: every non-pending entry certified in April.
	if pending := int64(n / 50); st.Certifications != all-pending-1 || st.Refusals != 500 || st.Late == 0 || st.Rated() == 0 {
		b.Fatalf("statistics of the bulk load: %+v (count %d)", st, all)
	}
	b.Run("Statistics", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := db.Statistics(ctx, u.ID, from, to, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A second peer: one aggregate that reads a column of each row (SUM(pages)).
	b.Run("SumPages", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := db.QueryInt(ctx, `SELECT COALESCE(SUM(pages), 0) FROM certifications WHERE unit_id = ? AND certified_at >= ? AND certified_at < ?`,
				u.ID, ledger.FormatTime(from), ledger.FormatTime(to)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CountStar", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := count(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
