package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// memOutbox is the lease semantics of Outbox in memory, for the worker's unit tests (the
// registers implement the same contract in SQL).
type memOutbox struct {
	mu   sync.Mutex
	rows []*memRow
}

var _ Outbox = chungthuc.Webhooks(nil)

type memRow struct {
	d          Delivery
	owner      string
	leaseUntil time.Time
	nextAt     time.Time
	done       bool
	gaveUp     bool
	lastErr    string
}

func (o *memOutbox) add(ep Endpoint, eventID, typ string, body string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rows = append(o.rows, &memRow{d: Delivery{ID: int64(len(o.rows) + 1), EventID: eventID, Type: typ, Body: []byte(body), Endpoint: ep}})
}

func (o *memOutbox) ClaimDeliveries(_ context.Context, owner string, now, leaseUntil time.Time, limit int) ([]Delivery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Delivery
	for _, r := range o.rows {
		if len(out) == limit {
			break
		}
		if r.done || r.gaveUp || r.nextAt.After(now) || r.leaseUntil.After(now) {
			continue
		}
		r.owner, r.leaseUntil = owner, leaseUntil
		out = append(out, r.d)
	}
	return out, nil
}

func (o *memOutbox) held(id int64, owner string) (*memRow, error) {
	r := o.rows[id-1]
	if r.owner != owner || r.done {
		return nil, chungthuc.Errorf(chungthuc.ECONFLICT, "lease lost")
	}
	return r, nil
}

func (o *memOutbox) DeliverySucceeded(_ context.Context, id int64, owner string, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, err := o.held(id, owner)
	if err != nil {
		return err
	}
	r.done, r.owner, r.leaseUntil = true, "", time.Time{}
	return nil
}

func (o *memOutbox) DeliveryFailed(_ context.Context, id int64, owner string, next time.Time, reason string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, err := o.held(id, owner)
	if err != nil {
		return err
	}
	r.d.Attempts++
	r.lastErr, r.owner, r.leaseUntil = reason, "", time.Time{}
	if next.IsZero() {
		r.gaveUp = true
	}
	r.nextAt = next
	return nil
}

// receiver is a loopback webhook receiver that checks signatures and processes each event
// id once.
type receiver struct {
	secret    []byte
	mu        sync.Mutex
	processed map[string]int // event id → times processed (must stay 1)
	received  map[string]int // event id → requests received
	fail      map[string]int // event id → answer 500 this many more times
	block     chan struct{}  // when set, the first request blocks until closed
	gotFirst  chan struct{}
	badSig    int
}

func newReceiver(secret string) *receiver {
	return &receiver{secret: []byte(secret), processed: map[string]int{}, received: map[string]int{}, fail: map[string]int{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := VerifySignature(rc.secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
		rc.mu.Lock()
		rc.badSig++
		rc.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	id := r.Header.Get(HeaderEventID)
	rc.mu.Lock()
	rc.received[id]++
	block := rc.block
	if block != nil {
		rc.block = nil
		close(rc.gotFirst)
	}
	if rc.fail[id] > 0 {
		rc.fail[id]--
		rc.mu.Unlock()
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	if rc.processed[id] == 0 {
		var ev struct{ ID string }
		if json.Unmarshal(body, &ev) != nil || ev.ID != id {
			rc.mu.Unlock()
			http.Error(w, "body does not match its event id", http.StatusBadRequest)
			return
		}
	}
	rc.processed[id] = 1 // dedup: an event id already processed is acknowledged, not redone
	rc.mu.Unlock()
	if block != nil {
		<-block // processed, but the answer is held back: the sender dies before it
	}
	w.WriteHeader(http.StatusNoContent)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func event(id, typ string) string {
	return fmt.Sprintf(`{"id":%q,"type":%q,"certification":{"number":"PL-2026-000001"}}`, id, typ)
}

func TestSignature(t *testing.T) {
	secret := []byte("0123456789abcdef0123")
	body := []byte(`{"id":"e1"}`)
	now := time.Unix(1_780_000_000, 0)
	h := http.Header{}
	h.Set(HeaderTimestamp, fmt.Sprint(now.Unix()))
	h.Set(HeaderSignature, Sign(secret, now, body))
	if err := VerifySignature(secret, h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := VerifySignature(secret, h, []byte(`{"id":"e2"}`), now, 5*time.Minute); err == nil {
		t.Error("changed body accepted")
	}
	if err := VerifySignature([]byte("another secret 1234"), h, body, now, 5*time.Minute); err == nil {
		t.Error("wrong secret accepted")
	}
	if err := VerifySignature(secret, h, body, now.Add(10*time.Minute), 5*time.Minute); err == nil || !strings.Contains(err.Error(), "too far") {
		t.Errorf("replayed after 10 minutes: %v", err)
	}
	h.Set(HeaderTimestamp, fmt.Sprint(now.Unix()+1)) // timestamp is signed too
	if err := VerifySignature(secret, h, body, now, 5*time.Minute); err == nil {
		t.Error("changed timestamp accepted")
	}
	for _, bad := range []string{"ftp://x/", "https://u:p@x/", "https://", "https://x/#f", "::"} {
		if ValidEndpointURL(bad) == nil {
			t.Errorf("ValidEndpointURL(%q) accepted", bad)
		}
	}
	if err := ValidEndpointURL("https://motcua.example.gov.vn/hooks/chungthuc"); err != nil {
		t.Error(err)
	}
}

func TestDeliverRetriesAndDedup(t *testing.T) {
	rc := newReceiver("bí mật của điểm nhận 1")
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ep := Endpoint{ID: 1, URL: srv.URL + "/hook", Secret: rc.secret}
	ob := &memOutbox{}
	for i := range 5 {
		ob.add(ep, fmt.Sprintf("ev-%d", i), EventIssued, event(fmt.Sprintf("ev-%d", i), EventIssued))
	}
	rc.fail["ev-2"] = 2
	clk := &clock{t: time.Now()}
	w := &Worker{Outbox: ob, Owner: "w1", Now: clk.now, AllowLoopback: true, BaseBackoff: time.Second}
	if n, err := w.RunOnce(context.Background()); n != 5 || err != nil {
		t.Fatalf("first run: %d, %v", n, err)
	}
	if r := ob.rows[2]; r.done || r.d.Attempts != 1 || !strings.Contains(r.lastErr, "503") {
		t.Fatalf("ev-2 after one 503: %+v", r)
	}
	// Not yet due: the backoff holds it.
	if n, _ := w.RunOnce(context.Background()); n != 0 {
		t.Fatalf("retried before its backoff: %d", n)
	}
	clk.add(1200 * time.Millisecond) // first backoff: 1 s + up to 10%
	if n, _ := w.RunOnce(context.Background()); n != 1 {
		t.Fatal("not retried after its backoff")
	}
	clk.add(1500 * time.Millisecond) // second backoff is 2 s: not yet
	if n, _ := w.RunOnce(context.Background()); n != 0 {
		t.Fatal("second backoff did not double")
	}
	clk.add(time.Second)
	if n, _ := w.RunOnce(context.Background()); n != 1 {
		t.Fatal("not retried after the second backoff")
	}
	for i, r := range ob.rows {
		if !r.done {
			t.Errorf("delivery %d not done: %+v", i, r)
		}
	}
	if rc.received["ev-2"] != 3 || rc.processed["ev-2"] != 1 || rc.badSig != 0 {
		t.Errorf("ev-2 received %d processed %d badSig %d", rc.received["ev-2"], rc.processed["ev-2"], rc.badSig)
	}
}

func TestBackoff(t *testing.T) {
	w := &Worker{BaseBackoff: 10 * time.Second, MaxBackoff: time.Hour}
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 5: 160 * time.Second, 30: time.Hour} {
		got := w.Backoff(n)
		if got < want || got > want+want/10 {
			t.Errorf("Backoff(%d) = %s, want %s..+10%%", n, got, want)
		}
	}
}

func TestGiveUpAndGuard(t *testing.T) {
	rc := newReceiver("secret secret secret")
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ob := &memOutbox{}
	ob.add(Endpoint{ID: 1, URL: srv.URL, Secret: rc.secret}, "ev-a", EventRevoked, event("ev-a", EventRevoked))
	// Without AllowLoopback the guard refuses 127.0.0.1 before connecting.
	w := &Worker{Outbox: ob, Owner: "w", MaxAttempts: 2, BaseBackoff: time.Nanosecond}
	_, _ = w.RunOnce(context.Background())
	if r := ob.rows[0]; r.done || !strings.Contains(r.lastErr, "not public") {
		t.Fatalf("guard: %+v", r)
	}
	time.Sleep(time.Millisecond)
	_, _ = w.RunOnce(context.Background())
	if r := ob.rows[0]; !r.gaveUp || r.d.Attempts != 2 {
		t.Fatalf("after MaxAttempts: %+v", r)
	}
	if n := len(rc.received); n != 0 {
		t.Fatalf("receiver reached %d times through the guard", n)
	}
	// A redirect is a failure, not a new target.
	redir := httptest.NewServer(http.RedirectHandler(srv.URL, http.StatusTemporaryRedirect))
	defer redir.Close()
	ob2 := &memOutbox{}
	ob2.add(Endpoint{ID: 2, URL: redir.URL, Secret: rc.secret}, "ev-b", EventRefused, event("ev-b", EventRefused))
	w2 := &Worker{Outbox: ob2, Owner: "w", AllowLoopback: true}
	_, _ = w2.RunOnce(context.Background())
	if r := ob2.rows[0]; r.done || !strings.Contains(r.lastErr, "307") || len(rc.received) != 0 {
		t.Fatalf("redirect: %+v, received %v", r, rc.received)
	}
}

// TestWorkerDiesMidDelivery: the receiver has processed an event but the worker dies before
// the answer; after the lease another worker sends it again; the receiver acknowledges the
// known event id without processing it twice.
func TestWorkerDiesMidDelivery(t *testing.T) {
	rc := newReceiver("secret secret secret")
	release := make(chan struct{})
	rc.block, rc.gotFirst = release, make(chan struct{})
	srv := httptest.NewServer(rc)
	defer srv.Close()
	ep := Endpoint{ID: 1, URL: srv.URL, Secret: rc.secret}
	ob := &memOutbox{}
	for i := range 3 {
		ob.add(ep, fmt.Sprintf("ev-%d", i), EventIssued, event(fmt.Sprintf("ev-%d", i), EventIssued))
	}
	clk := &clock{t: time.Now()}
	ctx, kill := context.WithCancel(context.Background())
	w1 := &Worker{Outbox: ob, Owner: "w1", Now: clk.now, AllowLoopback: true, Lease: time.Minute}
	done := make(chan struct{})
	go func() { _, _ = w1.RunOnce(ctx); close(done) }()
	<-rc.gotFirst
	kill() // the process dies with ev-0 processed by the receiver and unacknowledged
	<-done
	close(release)
	w2 := &Worker{Outbox: ob, Owner: "w2", Now: clk.now, AllowLoopback: true, Lease: time.Minute}
	if n, _ := w2.RunOnce(context.Background()); n != 0 {
		t.Fatalf("claimed %d rows still leased to the dead worker", n)
	}
	clk.add(time.Minute + time.Second)
	if n, err := w2.RunOnce(context.Background()); n != 3 || err != nil {
		t.Fatalf("after the lease: %d, %v", n, err)
	}
	for i, r := range ob.rows {
		if !r.done {
			t.Errorf("row %d not delivered: %+v", i, r)
		}
	}
	if rc.received["ev-0"] != 2 {
		t.Errorf("ev-0 received %d times, want 2 (the retry after the crash)", rc.received["ev-0"])
	}
	for id, n := range rc.processed {
		if n != 1 {
			t.Errorf("%s processed %d times", id, n)
		}
	}
	if len(rc.processed) != 3 {
		t.Errorf("processed %v, want 3 events", rc.processed)
	}
	// The dead worker's late acknowledgement is refused: it lost the lease.
	if err := ob.DeliverySucceeded(context.Background(), 1, "w1", clk.now()); chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		t.Errorf("late ack by the dead owner: %v", err)
	}
}

// TestTwoWorkers: two workers over one outbox deliver every event, none twice.
func TestTwoWorkers(t *testing.T) {
	var hits atomic.Int64
	rc := newReceiver("secret secret secret")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		rc.ServeHTTP(w, r)
	}))
	defer srv.Close()
	ob := &memOutbox{}
	for i := range 40 {
		ob.add(Endpoint{ID: 1, URL: srv.URL, Secret: rc.secret}, fmt.Sprintf("ev-%d", i), EventIssued, event(fmt.Sprintf("ev-%d", i), EventIssued))
	}
	var wg sync.WaitGroup
	for _, owner := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &Worker{Outbox: ob, Owner: owner, AllowLoopback: true, Batch: 3}
			for {
				if n, _ := w.RunOnce(context.Background()); n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if hits.Load() != 40 || len(rc.processed) != 40 {
		t.Errorf("%d requests, %d events processed; want 40 and 40", hits.Load(), len(rc.processed))
	}
}

func TestCheckEndpoint(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		url      string
		loopback bool
		want     string // "" = accepted
	}{
		{"https://8.8.8.8/hook", false, ""},
		{"http://127.0.0.1:9/hook", false, "not a public address"},
		{"http://127.0.0.1:9/hook", true, ""},
		{"https://localhost/hook", false, "not a public address"},
		{"https://10.1.2.3/hook", true, "not a public address"},
		{"https://[fd00::1]/hook", false, "not a public address"},
		{"https://169.254.169.254/latest", false, "not a public address"},
		{"https://khong-ton-tai.invalid/hook", false, "cannot be resolved"},
		{"ftp://8.8.8.8/", false, "not an http(s) URL"},
	} {
		err := CheckEndpoint(ctx, tc.url, tc.loopback, nil)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s (loopback %v): %v, want %q", tc.url, tc.loopback, err, tc.want)
		}
	}
	if s := NewSecret(); len(s) != 43 || s == NewSecret() {
		t.Errorf("secret %q", s)
	}
}
