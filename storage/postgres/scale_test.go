package postgres

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/storage/internal/ledger"
)

// TestScale loads 100 units × 2 years × per numbers with generate_series and checks with
// EXPLAIN ANALYZE that the lookups and listings the register issues use indexes, not a scan
// of the table. By default it loads 100,000 entries (per = 500: a few seconds, run in CI);
// with CHUNGTHUC_TEST_SCALE=1 it loads 1,000,000 (per = 5,000: a minute or two). Run it
// with -v to see the plans.
func TestScale(t *testing.T) {
	per := 500
	if os.Getenv("CHUNGTHUC_TEST_SCALE") == "1" {
		per = 5000
	} else if testing.Short() {
		t.Skip("short: loads 100,000 entries")
	}
	total := 100 * 2 * per
	ctx := context.Background()
	db, err := Open(ctx, NewTestDatabase(t), Options{AutoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	// The load writes finished rows directly, which the permanent-record triggers of 0004
	// rightly refuse (counters step by one, entries are born pending): it runs on one
	// connection with triggers disabled (session_replication_role needs a superuser, which
	// test databases have). A GIN index is built faster in one go than row by row: drop it for
	// the load.
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, q := range []string{
		`SET session_replication_role = replica`,
		`DROP INDEX certifications_search`,
		`INSERT INTO units (code, name, place, created_at)
			SELECT 'U' || g, 'Phường ' || g, 'Nơi ' || g, now() FROM generate_series(1, 100) g`,
		`INSERT INTO officers (unit_id, name, title, role, active, created_at)
			SELECT id, 'Cán bộ ' || id, 'CHỦ TỊCH', 'officer', true, now() FROM units ORDER BY id`,
		`INSERT INTO books (unit_id, year, seq, code, first_number, last_number, opened_at)
			SELECT u.id, y, 1, '01/' || y || '-SCTĐT/BS', 1, $1::int, make_timestamptz(y, 1, 1, 0, 0, 0, 'Asia/Ho_Chi_Minh')
			FROM units u, generate_series(2025, 2026) y`,
		`INSERT INTO number_counters (unit_id, year, last_number) SELECT unit_id, year, $1::int FROM books`,
		`INSERT INTO certifications (unit_id, book_id, book_code, year, number, token, access_code_hash,
			title, issuer, requester, search, officer_id, officer_name, officer_title, pages, fee_vnd,
			sha256, object_key, scan_keys, status, void_reason, certified_at, created_at)
		SELECT b.unit_id, b.id, b.code, b.year, s.number, md5('t' || s.g) || md5('u' || s.g), '',
			(ARRAY['Giấy khai sinh', 'Bằng tốt nghiệp THPT', 'Sổ hộ khẩu', 'Giấy chứng nhận quyền sử dụng đất'])[s.g % 4 + 1],
			'UBND xã ' || (s.g % 997),
			(ARRAY['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng'])[s.g % 5 + 1] || ' Văn ' || (s.g % 1009),
			(ARRAY['giay khai sinh', 'bang tot nghiep thpt', 'so ho khau', 'giay chung nhan quyen su dung dat'])[s.g % 4 + 1]
				|| E'\n' || 'ubnd xa ' || (s.g % 997) || E'\n'
				|| (ARRAY['nguyen', 'tran', 'le', 'pham', 'hoang'])[s.g % 5 + 1] || ' van ' || (s.g % 1009),
			b.unit_id, 'Cán bộ ' || b.unit_id, 'CHỦ TỊCH', 3, 5000,
			encode(sha256(('s' || s.g)::bytea), 'hex'), 'copies/' || s.g || '.pdf', '{}',
			CASE WHEN s.g % 20 = 0 THEN 'void' WHEN s.g % 50 = 1 THEN 'pending' ELSE 'issued' END,
			CASE WHEN s.g % 20 = 0 THEN 'ký số thất bại' ELSE '' END,
			make_timestamptz(b.year, 1, 1, 8, 0, 0, 'Asia/Ho_Chi_Minh') + s.number * interval '100 minutes', now()
		FROM (SELECT g, g % 100 + 1 AS unit, 2025 + (g / 100) / $1::int AS year, (g / 100) % $1::int + 1 AS number
		      FROM generate_series(0, 200 * $1::int - 1) g) s
		JOIN books b ON b.unit_id = s.unit AND b.year = s.year`,
		`CREATE INDEX certifications_search ON certifications USING gin (search gin_trgm_ops)`,
		`RESET session_replication_role`,
		`ANALYZE`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, per)
		}
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%.60s…: %v", q, err)
		}
	}
	t.Logf("loaded %d entries in %v", total, time.Since(start).Round(time.Second))

	var token, sha string
	if err := db.pool.QueryRow(ctx, `SELECT token, sha256 FROM certifications WHERE unit_id = 42 AND year = 2026 AND number = $1`, per/2).
		Scan(&token, &sha); err != nil {
		t.Fatal(err)
	}
	explain := func(name, query string, args ...any) {
		t.Helper()
		rows, err := db.pool.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF) `+query, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		text := strings.Join(plan, "\n")
		t.Logf("%s:\n%s", name, text)
		if strings.Contains(text, "Seq Scan on certifications") || !strings.Contains(text, "Index") {
			t.Errorf("%s does not use an index", name)
		}
	}
	explain("token lookup", `SELECT `+certificationColumns+` FROM certifications WHERE token = $1`, token)
	explain("SHA-256 lookup", `SELECT `+certificationColumns+` FROM certifications WHERE sha256 = $1`, sha)
	for name, f := range map[string]chungthuc.CertificationFilter{
		"unit listing, page 3":       {UnitID: 42, Offset: 100},
		"unit, year, status listing": {UnitID: 42, Year: 2026, Status: chungthuc.StatusIssued},
		"unit, number":               {UnitID: 42, Year: 2026, Number: int64(per / 2)},
		"unit, text query":           {UnitID: 42, Query: "Trần Văn 12"},
		"all units, text query":      {Query: "ubnd xã 996"},
	} {
		f, err := ledger.Filter(f)
		if err != nil {
			t.Fatal(err)
		}
		countSQL, listSQL, args := listQuery(f)
		explain(name+" (count)", countSQL, args...)
		explain(name+" (page)", listSQL, append(args, f.Limit, f.Offset)...)
	}

	// The register keeps working on the loaded data: numbering continues from the counter.
	c := &chungthuc.Certification{UnitID: 42, OfficerID: 42, Token: strings.Repeat("x", 30), Title: "Giấy khai sinh",
		CertifiedAt: time.Date(2026, 12, 30, 9, 0, 0, 0, chungthuc.Vietnam)}
	if err := db.Reserve(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.Number != int64(per+1) {
		t.Fatalf("next number after the load: %d", c.Number)
	}
	cs, total, err := db.Certifications(ctx, chungthuc.CertificationFilter{UnitID: 42, Query: "tran van 12"})
	if err != nil || len(cs) == 0 || total < len(cs) {
		t.Fatalf("listing: %d of %d, %v", len(cs), total, err)
	}
}
