package registertest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
)

// testWebhooks: the outbox. Issue, Revoke and CreateRefusal write an event and one delivery
// per endpoint in their transaction (a refused change writes none); claims are leases; only
// the lease holder settles a delivery; failures wait for their next attempt; giving up is final.
func testWebhooks(t *testing.T, r chungthuc.Register) {
	w, ok := r.(chungthuc.Webhooks)
	if !ok {
		t.Fatalf("%T does not implement chungthuc.Webhooks", r)
	}
	code(t, "short secret", w.AddWebhookEndpoint(ctx, &chungthuc.WebhookEndpoint{URL: "https://x.vn/h", Secret: []byte("short")}), chungthuc.EINVALID)
	code(t, "no URL", w.AddWebhookEndpoint(ctx, &chungthuc.WebhookEndpoint{Secret: []byte("0123456789abcdef")}), chungthuc.EINVALID)
	e1 := &chungthuc.WebhookEndpoint{URL: "https://motcua.example.vn/hook", Secret: []byte("bí mật thứ nhất 0123")}
	e2 := &chungthuc.WebhookEndpoint{URL: "https://tinh.example.vn/hook", Secret: []byte("second secret 456789")}
	must(t, "AddWebhookEndpoint", w.AddWebhookEndpoint(ctx, e1))
	must(t, "AddWebhookEndpoint", w.AddWebhookEndpoint(ctx, e2))
	es, err := w.WebhookEndpoints(ctx)
	must(t, "WebhookEndpoints", err)
	if len(es) != 2 || es[0].ID != e1.ID || string(es[0].Secret) != string(e1.Secret) || es[1].URL != e2.URL || es[0].CreatedAt.IsZero() {
		t.Fatalf("endpoints %+v", es)
	}

	u := newUnit(t, r, "WH")
	o := newOfficer(t, r, u.ID)
	c1 := reserve(t, r, entry(u, o, time.Now()))
	issue(t, r, c1)
	must(t, "Revoke", r.Revoke(ctx, c1.ID, "Cấp nhầm", time.Time{}))
	c2 := reserve(t, r, entry(u, o, time.Now()))
	must(t, "Void", r.Void(ctx, c2.ID, "Hủy thử")) // no event: nothing was handed out
	code(t, "revoke a void entry", r.Revoke(ctx, c2.ID, "x", time.Time{}), chungthuc.ECONFLICT)
	f := &chungthuc.Refusal{UnitID: u.ID, OfficerID: o.ID, Reason: chungthuc.RefuseDamaged, Title: "Bằng", Requester: "Hoàng Văn Em"}
	must(t, "CreateRefusal", r.CreateRefusal(ctx, f))

	now := time.Now()
	ds, err := w.ClaimDeliveries(ctx, "a", now, now.Add(time.Minute), 100)
	must(t, "ClaimDeliveries", err)
	if len(ds) != 6 {
		t.Fatalf("%d deliveries, want 3 events × 2 endpoints", len(ds))
	}
	types := map[string]int{}
	events := map[string]bool{}
	for _, d := range ds {
		types[d.Type]++
		events[d.EventID] = true
		var body struct {
			ID, Type string
			Data     map[string]any
		}
		if err := json.Unmarshal(d.Body, &body); err != nil || body.ID != d.EventID || body.Type != d.Type {
			t.Fatalf("body %s of %s/%s: %v", d.Body, d.EventID, d.Type, err)
		}
		if strings.Contains(string(d.Body), "Hoàng Văn Em") || strings.Contains(string(d.Body), "Trần Văn Bình") || strings.Contains(string(d.Body), c1.Token) {
			t.Errorf("event carries personal data or the token: %s", d.Body)
		}
		if d.Endpoint.ID != e1.ID && d.Endpoint.ID != e2.ID || len(d.Endpoint.Secret) < 16 || d.Endpoint.URL == "" {
			t.Errorf("delivery endpoint %+v", d.Endpoint)
		}
	}
	if types["certification.issued"] != 2 || types["certification.revoked"] != 2 || types["certification.refused"] != 2 || len(events) != 3 {
		t.Fatalf("types %v, %d events", types, len(events))
	}
	// Leased: nobody else gets them until the lease ends.
	if more, _ := w.ClaimDeliveries(ctx, "b", now.Add(30*time.Second), now.Add(2*time.Minute), 100); len(more) != 0 {
		t.Fatalf("b claimed %d leased deliveries", len(more))
	}
	code(t, "settle by a non-holder", w.DeliverySucceeded(ctx, ds[0].ID, "b", now), chungthuc.ECONFLICT)
	must(t, "DeliverySucceeded", w.DeliverySucceeded(ctx, ds[0].ID, "a", now))
	code(t, "settle twice", w.DeliverySucceeded(ctx, ds[0].ID, "a", now), chungthuc.ECONFLICT)
	must(t, "DeliveryFailed", w.DeliveryFailed(ctx, ds[1].ID, "a", now.Add(5*time.Minute), "receiver answered 503"))
	must(t, "DeliveryFailed (give up)", w.DeliveryFailed(ctx, ds[2].ID, "a", time.Time{}, "receiver answered 410"))
	// After the lease: the 3 deliveries a left unsettled return; ds[1] waits for its next
	// attempt; ds[0] is done and ds[2] given up.
	later := now.Add(61 * time.Second)
	back, err := w.ClaimDeliveries(ctx, "b", later, later.Add(time.Minute), 100)
	must(t, "ClaimDeliveries after the lease", err)
	if len(back) != 3 {
		t.Fatalf("after the lease: %d deliveries, want 3", len(back))
	}
	for _, d := range back {
		if d.ID == ds[0].ID || d.ID == ds[1].ID || d.ID == ds[2].ID {
			t.Errorf("delivery %d claimed again", d.ID)
		}
		must(t, "DeliverySucceeded", w.DeliverySucceeded(ctx, d.ID, "b", later))
	}
	code(t, "late settle by the expired holder", w.DeliverySucceeded(ctx, back[0].ID, "a", later), chungthuc.ECONFLICT)
	retry, err := w.ClaimDeliveries(ctx, "c", now.Add(6*time.Minute), now.Add(7*time.Minute), 100)
	must(t, "ClaimDeliveries retry", err)
	if len(retry) != 1 || retry[0].ID != ds[1].ID || retry[0].Attempts != 1 {
		t.Fatalf("retry: %+v", retry)
	}
	// A removed endpoint takes its undelivered deliveries with it; limit is honoured.
	c3 := reserve(t, r, entry(u, o, time.Now()))
	issue(t, r, c3)
	c4 := reserve(t, r, entry(u, o, time.Now()))
	issue(t, r, c4)
	must(t, "RemoveWebhookEndpoint", w.RemoveWebhookEndpoint(ctx, e2.ID))
	code(t, "remove twice", w.RemoveWebhookEndpoint(ctx, e2.ID), chungthuc.ENOTFOUND)
	t2 := now.Add(10 * time.Minute)
	one, err := w.ClaimDeliveries(ctx, "d", t2, t2.Add(time.Minute), 1)
	must(t, "ClaimDeliveries limit", err)
	rest, err := w.ClaimDeliveries(ctx, "d", t2, t2.Add(time.Minute), 100)
	must(t, "ClaimDeliveries", err)
	if len(one) != 1 || len(rest) != 1 || one[0].Endpoint.ID != e1.ID || rest[0].Endpoint.ID != e1.ID || one[0].EventID == rest[0].EventID {
		t.Fatalf("after removing an endpoint: %+v then %+v, want one delivery each to endpoint %d", one, rest, e1.ID)
	}
}

// testWebhookStates: per endpoint, deliveries counted by state with the newest error.
func testWebhookStates(t *testing.T, r chungthuc.Register) {
	w := r.(chungthuc.Webhooks)
	ss, err := w.WebhookStates(ctx)
	must(t, "WebhookStates", err)
	if len(ss) != 0 {
		t.Fatalf("states of an empty outbox: %+v", ss)
	}
	e := &chungthuc.WebhookEndpoint{URL: "https://motcua.example.vn/hook", Secret: []byte("0123456789abcdef")}
	must(t, "AddWebhookEndpoint", w.AddWebhookEndpoint(ctx, e))
	u := newUnit(t, r, "WS")
	o := newOfficer(t, r, u.ID)
	for range 3 {
		issue(t, r, reserve(t, r, entry(u, o, time.Now())))
	}
	now := time.Now()
	ds, err := w.ClaimDeliveries(ctx, "a", now, now.Add(time.Minute), 10)
	must(t, "ClaimDeliveries", err)
	if len(ds) != 3 {
		t.Fatalf("%d deliveries", len(ds))
	}
	must(t, "DeliverySucceeded", w.DeliverySucceeded(ctx, ds[0].ID, "a", now))
	must(t, "DeliveryFailed", w.DeliveryFailed(ctx, ds[1].ID, "a", now.Add(time.Minute), "receiver answered 503"))
	must(t, "DeliveryFailed (give up)", w.DeliveryFailed(ctx, ds[2].ID, "a", time.Time{}, "receiver answered 410"))
	_, err = w.SendTestEvent(ctx, 999999)
	code(t, "SendTestEvent to an unknown endpoint", err, chungthuc.ENOTFOUND)
	other := &chungthuc.WebhookEndpoint{URL: "https://khac.example.vn/hook", Secret: []byte("0123456789abcdef")}
	must(t, "AddWebhookEndpoint", w.AddWebhookEndpoint(ctx, other))
	ev, err := w.SendTestEvent(ctx, other.ID)
	must(t, "SendTestEvent", err)
	later := time.Now() // the test event is due from when it was sent
	tds, err := w.ClaimDeliveries(ctx, "b", later, later.Add(time.Minute), 10)
	must(t, "ClaimDeliveries", err)
	if len(tds) != 1 || tds[0].EventID != ev || tds[0].Type != "webhook.test" || tds[0].Endpoint.ID != other.ID {
		t.Fatalf("test event deliveries %+v", tds)
	}
	must(t, "DeliverySucceeded", w.DeliverySucceeded(ctx, tds[0].ID, "b", later))
	ss, err = w.WebhookStates(ctx)
	must(t, "WebhookStates", err)
	if len(ss) != 2 || ss[1] != (chungthuc.WebhookState{EndpointID: other.ID, Delivered: 1}) {
		t.Fatalf("states with the test event %+v", ss)
	}
	ss = ss[:1]
	want := chungthuc.WebhookState{EndpointID: e.ID, Pending: 1, Failed: 1, Delivered: 1, LastError: "receiver answered 410"}
	if len(ss) != 1 || ss[0] != want {
		t.Fatalf("states %+v, want %+v", ss, want)
	}
}
