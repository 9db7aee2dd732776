package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/deadline"
)

// fakeClock is the register's clock in the seeded tests: a fixed time when set, else now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *fakeClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func vnTime(m time.Month, d, hh, mm int) time.Time {
	return time.Date(2026, m, d, hh, mm, 0, 0, chungthuc.Vietnam)
}

// seededEntry is one request of the seeded month, with its due day written by hand.
type seededEntry struct {
	name            string
	unit            string // "HB" or "TM"
	received        time.Time
	dueDay          string // the due day by hand (Decree 23/2015 art. 21 over the 2026 calendar)
	certified       time.Time
	pages, copies   int
	state           string // issued, revoked, pending, void
	rating          chungthuc.Satisfaction
	ratedAt         time.Time
	refusal         chungthuc.RefusalReason // a refusal instead of a certification
	certifiedOrDone time.Time               // refusals: when refused
}

// seedMonth records April 2026 for HB (and one entry of TM): weekends, the holidays of
// 27/4 (Hùng Kings, compensated) and 30/4–1/5, and the 15:00 cut-off.
func seedMonth(t *testing.T, e *env, clk *fakeClock) {
	t.Helper()
	ctx := context.Background()
	cal := deadline.Default()
	entries := []seededEntry{
		{name: "C1 Thu 9:00 → same day", unit: "HB", received: vnTime(4, 9, 9, 0), dueDay: "2026-04-09", certified: vnTime(4, 9, 10, 0), pages: 1, copies: 1, state: "issued", rating: chungthuc.Satisfied, ratedAt: vnTime(4, 9, 12, 0)},
		{name: "C2 Thu 15:30 → Fri", unit: "HB", received: vnTime(4, 9, 15, 30), dueDay: "2026-04-10", certified: vnTime(4, 10, 9, 0), pages: 3, copies: 2, state: "issued", rating: chungthuc.Satisfied, ratedAt: vnTime(4, 10, 12, 0)},
		{name: "C3 Fri 16:00 → Mon, returned Tue (late)", unit: "HB", received: vnTime(4, 10, 16, 0), dueDay: "2026-04-13", certified: vnTime(4, 14, 8, 0), pages: 2, copies: 1, state: "issued", rating: chungthuc.NotSatisfied, ratedAt: vnTime(4, 14, 12, 0)},
		{name: "C4 Sat (day off) → Mon", unit: "HB", received: vnTime(4, 11, 10, 0), dueDay: "2026-04-13", certified: vnTime(4, 13, 14, 0), pages: 5, copies: 1, state: "issued", rating: chungthuc.Neutral, ratedAt: vnTime(4, 13, 15, 0)},
		{name: "C5 Fri 15:00:00 sharp → same day", unit: "HB", received: vnTime(4, 24, 15, 0), dueDay: "2026-04-24", certified: vnTime(4, 24, 16, 30), pages: 1, copies: 1, state: "issued", rating: chungthuc.Satisfied, ratedAt: vnTime(4, 24, 17, 0)},
		{name: "C6 Fri 15:01 → Tue (Mon 27/4 is a holiday)", unit: "HB", received: vnTime(4, 24, 15, 1), dueDay: "2026-04-28", certified: vnTime(4, 28, 11, 0), pages: 2, copies: 1, state: "issued", rating: chungthuc.Satisfied, ratedAt: vnTime(4, 28, 12, 0)},
		{name: "C7 Wed 29/4 16:00 → Mon 4/5, certified in May", unit: "HB", received: vnTime(4, 29, 16, 0), dueDay: "2026-05-04", certified: vnTime(5, 4, 10, 0), pages: 4, copies: 1, state: "issued", rating: chungthuc.NotSatisfied, ratedAt: vnTime(5, 4, 12, 0)},
		{name: "C8 Tue 9:00, returned Wed (late), rated, revoked", unit: "HB", received: vnTime(4, 28, 9, 0), dueDay: "2026-04-28", certified: vnTime(4, 29, 9, 0), pages: 1, copies: 1, state: "revoked", rating: chungthuc.Satisfied, ratedAt: vnTime(4, 29, 9, 30)},
		{name: "C9 Wed 10:00, never returned (overdue)", unit: "HB", received: vnTime(4, 29, 10, 0), dueDay: "2026-04-29", certified: vnTime(4, 29, 10, 5), pages: 1, copies: 1, state: "pending"},
		{name: "C10 void", unit: "HB", received: vnTime(4, 15, 9, 0), dueDay: "2026-04-15", certified: vnTime(4, 15, 9, 5), pages: 1, copies: 1, state: "void"},
		{name: "R1 Mon 9:00 refused 11:00", unit: "HB", received: vnTime(4, 20, 9, 0), dueDay: "2026-04-20", refusal: chungthuc.RefuseAltered, certifiedOrDone: vnTime(4, 20, 11, 0)},
		{name: "R2 Tue 15:30 → Wed, refused Thu (late)", unit: "HB", received: vnTime(4, 21, 15, 30), dueDay: "2026-04-22", refusal: chungthuc.RefuseDamaged, certifiedOrDone: vnTime(4, 23, 9, 0)},
		{name: "R3 Wed 8:00 refused 9:00", unit: "HB", received: vnTime(4, 22, 8, 0), dueDay: "2026-04-22", refusal: chungthuc.RefuseAltered, certifiedOrDone: vnTime(4, 22, 9, 0)},
		{name: "T1 TM Thu 9:00", unit: "TM", received: vnTime(4, 9, 9, 0), dueDay: "2026-04-09", certified: vnTime(4, 9, 9, 30), pages: 1, copies: 1, state: "issued", rating: chungthuc.Satisfied, ratedAt: vnTime(4, 9, 10, 0)},
	}
	for i, s := range entries {
		due := cal.DueAt(s.received)
		if got := deadline.DueDate(due).Format("2006-01-02"); got != s.dueDay {
			t.Fatalf("%s: due %s, by hand %s", s.name, got, s.dueDay)
		}
		unit, off := e.pl, e.plOff
		if s.unit == "TM" {
			unit, off = e.tm, e.tmOff
		}
		recv := s.received
		if s.refusal != "" {
			clk.set(s.certifiedOrDone)
			if err := e.reg.CreateRefusal(ctx, &chungthuc.Refusal{UnitID: unit.ID, OfficerID: off.ID, Reason: s.refusal, ReceivedAt: &recv, DueAt: &due}); err != nil {
				t.Fatal(s.name, err)
			}
			continue
		}
		clk.set(s.certified)
		c := &chungthuc.Certification{UnitID: unit.ID, OfficerID: off.ID, Token: fmt.Sprintf("seeded-token-%02d-aaaaaaaaaaaaaaa", i), AccessCodeHash: "x",
			Title: "Giấy khai sinh", Requester: "Nguyễn Văn An", Pages: s.pages, Copies: s.copies, FeeVND: chungthuc.FeeFor(s.pages, s.copies),
			CertifiedAt: s.certified, ReceivedAt: &recv, DueAt: &due}
		if err := e.reg.Reserve(ctx, c); err != nil {
			t.Fatal(s.name, err)
		}
		switch s.state {
		case "pending":
			continue
		case "void":
			if err := e.reg.Void(ctx, c.ID, "lỗi ký"); err != nil {
				t.Fatal(err)
			}
			continue
		}
		sha := fmt.Sprintf("%064x", i+1)
		if err := e.reg.Seal(ctx, c.ID, sha, "copies/"+sha+".pdf", nil); err != nil {
			t.Fatal(err)
		}
		if err := e.reg.Issue(ctx, c.ID, "", ""); err != nil {
			t.Fatal(err)
		}
		if s.rating != "" {
			clk.set(s.ratedAt)
			if err := e.reg.Rate(ctx, &chungthuc.Rating{CertificationID: c.ID, Value: s.rating}, "citizen:test"); err != nil {
				t.Fatal(s.name, err)
			}
		}
		if s.state == "revoked" {
			if err := e.reg.Revoke(ctx, c.ID, "cấp nhầm", s.ratedAt.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	clk.set(time.Time{})
}

// TestStatisticsSeededMonth: the statistics of a seeded month match counts made by hand —
// on the page (the officer's unit; every unit for the system administrator), in the CSV and
// in the XLSX read back.
func TestStatisticsSeededMonth(t *testing.T) {
	clk := &fakeClock{}
	e := newEnvClock(t, clk.now, nil)
	seedMonth(t, e, clk)

	// By hand, unit HB, April 2026:
	// certified in April: C1 C2 C3 C4 C5 C6 C8 = 7 (C7 was certified in May, C9 is pending,
	// C10 void); copies 1+2+1+1+1+1+1 = 8; pages 1+3+2+5+1+2+1 = 15;
	// fees 2,000 + 2×5,000 + 4,000 + 7,000 + 2,000 + 4,000 + 2,000 = 31,000; revoked: C8.
	// refusals: R1 R2 R3 (altered 2, damaged 1).
	// received in April: C1–C9 and R1–R3 = 12 (C10 void left out); on time C1 C2 C4 C5 C6 C7
	// R1 R3 = 8; late C3 C8 R2 = 3; overdue C9 = 1 → on-time rate 8/11 = 72,73 %.
	// ratings given in April: C1 S, C2 S, C3 N-S, C4 N, C5 S, C6 S, C8 S = 7 (C7's was in May),
	// satisfied 5 → 5/7 = 71,43 %.
	want := []string{"Phường Hòa Bình", "2026-04-01", "2026-04-30", "7", "8", "1", "15", "31000", "3", "12", "8", "3", "1", "0", "72.73", "5", "1", "1", "7", "71.43"}
	// With TM's one entry (on time, satisfied, 1 page, 2,000 VND): the total for every unit.
	wantTotal := []string{"Tổng cộng", "2026-04-01", "2026-04-30", "8", "9", "1", "16", "33000", "3", "13", "9", "3", "1", "0", "75.00", "6", "1", "1", "8", "75.00"}

	cl, _, code := e.login("canbo", e.password)
	if code != 303 {
		t.Fatal("login", code)
	}
	get := func(cl *http.Client, path string) (*http.Response, []byte) {
		t.Helper()
		res, err := cl.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d\n%s", path, res.StatusCode, b)
		}
		return res, b
	}
	const period = "from=2026-04-01&to=2026-04-30"
	_, page := get(cl, "/app/stats?"+period)
	for _, s := range []string{`id="sum-certified">7<`, `id="sum-ontime">72,73 %<`, `id="sum-satisfaction">71,43 %<`, "31.000 ₫",
		`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"`, "Trả đúng hạn: 8", "Hài lòng: 5", "Không hài lòng: 1",
		"Bản chính bị tẩy xóa, sửa chữa, thêm, bớt nội dung không hợp lệ: 2"} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("statistics page lacks %q", s)
		}
	}
	if bytes.Contains(page, []byte("Xã Trung Minh")) {
		t.Error("an officer's statistics show another unit")
	}

	_, body := get(cl, "/app/stats?"+period+"&format=csv")
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || strings.Join(recs[0], "|") != strings.Join(statsColumns, "|") {
		t.Fatalf("CSV: %q", recs)
	}
	if got := strings.Join(recs[1], "|"); got != strings.Join(want, "|") {
		t.Errorf("CSV row:\n got %s\nwant %s", got, strings.Join(want, "|"))
	}

	res, body := get(cl, "/app/stats?"+period+"&format=xlsx")
	if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, "spreadsheetml") {
		t.Errorf("XLSX content type %q", ct)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(statsSheet)
	if err != nil {
		t.Fatal(err)
	}
	// The sheet shows rates as numbers (72.73), counts as numbers.
	wantX := append([]string{}, want...)
	if len(rows) != 3 || strings.Join(rows[1], "|") != strings.Join(wantX, "|") {
		t.Errorf("XLSX rows:\n got %q\nwant %q", rows, wantX)
	}
	if typ, _ := f.GetCellType(statsSheet, "D2"); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
		t.Errorf("XLSX counts are stored as text (%v)", typ)
	}

	// The system administrator sees every unit and the total.
	admin := e.loginAny("quantri")
	_, body = get(admin, "/app/stats?"+period+"&format=csv")
	recs, err = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[3], "|") != strings.Join(wantTotal, "|") {
		t.Errorf("admin CSV total:\n got %q\nwant %s", recs, strings.Join(wantTotal, "|"))
	}
	_, page = get(admin, "/app/stats?"+period)
	for _, s := range []string{"Xã Trung Minh", `id="sum-ontime">75,00 %<`, `id="sum-satisfaction">75,00 %<`, "Số chứng thực theo đơn vị"} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("admin statistics page lacks %q", s)
		}
	}
	// A period with nothing: rates are undefined, not 0 % or 100 %.
	_, page = get(cl, "/app/stats?from=2025-01-01&to=2025-01-31")
	if !bytes.Contains(page, []byte(`id="sum-ontime">—<`)) || !bytes.Contains(page, []byte(`id="sum-satisfaction">—<`)) {
		t.Error("an empty period shows a rate")
	}
}

// TestRating: the citizen rates once with the link and the access code; a wrong code, a
// second rating and a bad value are refused; attempts are rate limited; each rating is
// audited and never shown on the public pages.
func TestRating(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.RateLimit = 60 }) // ratings: 12 a minute per address
	out := e.certifyPL()
	c := out.Certification
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(v url.Values) (int, string, string) {
		t.Helper()
		res, err := noRedirect.PostForm(e.srv.URL+"/v/"+c.Token+"/rate", v)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Location"), string(b)
	}
	chain := func() int64 {
		_, n, err := e.reg.VerifyChain(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	res, page := e.get("/v/" + c.Token + "/rate")
	if res.StatusCode != 200 || !strings.Contains(page, "Mức độ hài lòng") || !strings.Contains(page, `name="code"`) {
		t.Fatalf("rating page: %d\n%s", res.StatusCode, page)
	}
	before := chain()
	if code, _, body := post(url.Values{"code": {"WRONGCODE2"}, "rating": {"satisfied"}}); code != 403 || !strings.Contains(body, "Mã truy cập không đúng") {
		t.Fatalf("wrong code: %d", code)
	}
	if code, _, _ := post(url.Values{"code": {out.AccessCode}, "rating": {"great"}}); code != 400 {
		t.Fatalf("bad value: %d", code)
	}
	if n := chain(); n != before {
		t.Fatalf("refused ratings were audited as ratings: %d → %d", before, n)
	}
	comment := "Cán bộ hướng dẫn tận tình — rất nhanh"
	code, loc, _ := post(url.Values{"code": {out.AccessCode}, "rating": {"satisfied"}, "comment": {comment}})
	if code != 303 || !strings.HasSuffix(loc, "/rate?done=1") {
		t.Fatalf("rating: %d %q", code, loc)
	}
	if n := chain(); n != before+1 {
		t.Fatalf("a rating added %d audit entries, want 1", n-before)
	}
	if code, _, body := post(url.Values{"code": {out.AccessCode}, "rating": {"neutral"}}); code != 409 || !strings.Contains(body, "chỉ được đánh giá một lần") {
		t.Fatalf("second rating: %d", code)
	}
	st, err := e.reg.Statistics(context.Background(), e.pl.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), time.Now())
	if err != nil || st.Ratings[chungthuc.Satisfied] != 1 || st.Rated() != 1 {
		t.Fatalf("ratings counted: %+v %v", st, err)
	}
	// Never shown publicly per entry.
	for _, path := range []string{"/v/" + c.Token, "/v/" + c.Token + "/rate", "/v/" + c.Token + "/rate?done=1", "/api/v1/verify/" + c.Token} {
		res, body := e.get(path)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		for _, leak := range []string{comment, `checked`} {
			if strings.Contains(body, leak) {
				t.Errorf("%s shows %q", path, leak)
			}
		}
	}
	var pub map[string]any
	_, body := e.get("/api/v1/verify/" + c.Token)
	if err := json.Unmarshal([]byte(body), &pub); err != nil {
		t.Fatal(err)
	}
	for k := range pub {
		if strings.Contains(k, "rat") || strings.Contains(k, "satisf") {
			t.Errorf("the public JSON has %q", k)
		}
	}
	// English, when chosen.
	if _, body := e.get("/v/" + c.Token + "/rate?lang=en"); !strings.Contains(body, "Rate the service") || !strings.Contains(body, "Not satisfied") ||
		strings.Contains(body, "Không hài lòng") {
		t.Error("the rating page in English")
	}
	// An unknown link gets the same answer as a wrong code.
	res2, err := noRedirect.PostForm(e.srv.URL+"/v/AAAAAAAAAAAAAAAAAAAAAAAAAA/rate", url.Values{"code": {out.AccessCode}, "rating": {"satisfied"}})
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != 403 {
		t.Fatalf("unknown link: %d", res2.StatusCode)
	}
	// Rate limit: 12 a minute per address for the rating page and its form together.
	limited := false
	for i := 0; i < 13; i++ {
		if code, _, _ := post(url.Values{"code": {"GUESS" + fmt.Sprint(i)}, "rating": {"satisfied"}}); code == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("rating attempts are not rate limited")
	}
}

// TestIntakeThroughAPI: received_at from the one-stop software, the due time by the rule and
// the returned time come back in the API's JSON; a malformed or future received time is 400.
func TestIntakeThroughAPI(t *testing.T) {
	e := newEnv(t, nil)
	post := func(received string) (int, map[string]any) {
		t.Helper()
		body, ct := multipartBody([][2]string{{"a.jpg", string(scan)}}, map[string]string{"document": "Giấy khai sinh", "requester": "Nguyễn Văn An", "received_at": received})
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/certifications", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+e.plToken)
		res, b := e.do(req)
		var m map[string]any
		_ = json.Unmarshal([]byte(b), &m)
		return res.StatusCode, m
	}
	// Friday 24/4/2026 15:01 → due Tuesday 28/4 (27/4 is a holiday), returned now (late).
	code, m := post("2026-04-24T15:01:00+07:00")
	if code != 201 {
		t.Fatalf("certify: %d %v", code, m)
	}
	if m["received_at"] != "2026-04-24T15:01:00+07:00" || m["due_at"] != "2026-04-29T00:00:00+07:00" || m["on_time"] != false || m["returned_at"] != m["certified_at"] {
		t.Fatalf("intake fields: received %v due %v returned %v on_time %v", m["received_at"], m["due_at"], m["returned_at"], m["on_time"])
	}
	req, _ := http.NewRequest("GET", e.srv.URL+fmt.Sprintf("/api/v1/certifications/%v", m["id"]), nil)
	req.Header.Set("Authorization", "Bearer "+e.plToken)
	_, b := e.do(req)
	var got map[string]any
	if err := json.Unmarshal([]byte(b), &got); err != nil || got["due_at"] != m["due_at"] || got["on_time"] != false {
		t.Fatalf("GET: %v %s", err, b)
	}
	// Without received_at: received now, due by the end of a working day, returned on time.
	code, m = post("")
	if code != 201 || m["received_at"] == nil || m["due_at"] == nil || m["on_time"] != true {
		t.Fatalf("certify now: %d received %v due %v on_time %v", code, m["received_at"], m["due_at"], m["on_time"])
	}
	for _, bad := range []string{"yesterday", time.Now().Add(48 * time.Hour).Format(time.RFC3339)} {
		if code, m := post(bad); code != 400 {
			t.Errorf("received_at %q: %d %v", bad, code, m)
		}
	}
	// The workspace form carries the time it was shown.
	cl, _, _ := e.login("canbo", e.password)
	res, err := cl.Get(e.srv.URL + "/app/certify")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Contains(page, []byte(`name="received_at" value="`)) {
		t.Fatal("the certify form does not record when the case was opened")
	}
	// Two requests not returned yet: one due by the end of today, one overdue (recorded as
	// pending, as an entry between its reservation and its issue is).
	now := time.Now()
	for i, received := range []time.Time{now.Add(-time.Minute), now.Add(-72 * time.Hour)} {
		due := deadline.Default().DueAt(received)
		if i == 0 {
			due = deadline.DueDate(now).AddDate(0, 0, 1) // the end of today, whatever day it is
		}
		c := &chungthuc.Certification{UnitID: e.pl.ID, OfficerID: e.plOff.ID, Token: fmt.Sprintf("pending-token-%d-aaaaaaaaaaaaaaaa", i), AccessCodeHash: "x",
			Title: "Giấy khai sinh", Pages: 1, CertifiedAt: now, ReceivedAt: &received, DueAt: &due}
		if err := e.reg.Reserve(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	res, err = cl.Get(e.srv.URL + "/app/register")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Contains(page, []byte(`<tr class="due-today">`)) || !bytes.Contains(page, []byte(`<tr class="due-overdue">`)) ||
		!bytes.Contains(page, []byte("Đến hạn hôm nay")) {
		t.Error("the register does not highlight what is due today and what is overdue")
	}
	if !bytes.Contains(page, []byte("28/04/2026")) || !bytes.Contains(page, []byte(`pill due-late`)) || !bytes.Contains(page, []byte(`pill due-on_time`)) {
		t.Fatalf("the register does not show the deadlines:\n%s", page)
	}
	// The dashboard counts this month's returns against their deadlines; the receipt carries
	// the rating link (and its QR code).
	res, err = cl.Get(e.srv.URL + "/app/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Contains(page, []byte(`id="month-ontime">`)) {
		t.Fatal("the dashboard has no on-time figure")
	}
	res, err = cl.Get(e.srv.URL + fmt.Sprintf("/app/c/%v/receipt", m["id"]))
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(page, []byte("/rate</span>")) || bytes.Count(page, []byte(`class="qr`)) != 2 {
		t.Fatalf("the receipt lacks the rating link and QR: %d", res.StatusCode)
	}
}
