package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
)

// Event types sent to webhooks.
const (
	EventIssued  = "certification.issued"
	EventRevoked = "certification.revoked"
	EventRefused = "certification.refused"
	EventTest    = "webhook.test" // sent on request to one endpoint (data: endpoint_id)
)

// Headers of a webhook request. The receiver checks the signature, rejects timestamps far
// from its clock (replays), and keeps the event ids it has processed: a delivery can arrive
// more than once (the sender died after the receiver answered), never with another body.
const (
	HeaderEventID   = "Chungthuc-Event-Id"
	HeaderEventType = "Chungthuc-Event-Type"
	HeaderTimestamp = "Chungthuc-Timestamp" // Unix seconds
	HeaderSignature = "Chungthuc-Signature" // "v1=" + hex HMAC-SHA256(secret, timestamp "." body)
)

// Endpoint is a receiver registered by the system administrator.
type Endpoint = chungthuc.WebhookEndpoint

// Delivery is one event to deliver to one endpoint, claimed by one worker until its lease
// ends.
type Delivery = chungthuc.WebhookDelivery

// Outbox is what the delivery worker needs from the register (chungthuc.Webhooks has it). Claims are leases: a claimed
// delivery is not handed to another worker until leaseUntil, so a worker that dies leaves
// its rows to be claimed again after the lease; Succeeded and Failed apply only while owner
// still holds the lease (ECONFLICT otherwise, and the worker drops the row).
type Outbox interface {
	ClaimDeliveries(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]Delivery, error)
	DeliverySucceeded(ctx context.Context, id int64, owner string, at time.Time) error
	// DeliveryFailed records a failed attempt; next is when to try again, zero to give up.
	DeliveryFailed(ctx context.Context, id int64, owner string, next time.Time, reason string) error
}

// Sign returns the signature header value for body sent at ts with secret.
func Sign(secret []byte, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a received request's headers and body (what a receiver does): the
// signature must match and the timestamp be within tolerance of now.
func VerifySignature(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(h.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return errors.New("webhook: no timestamp")
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook: timestamp %s too far from now", ts.UTC().Format(time.RFC3339))
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(h.Get(HeaderSignature))) {
		return errors.New("webhook: bad signature")
	}
	return nil
}

// ValidEndpointURL checks an address the administrator typed: http or https, a host, no
// user info or fragment.
func ValidEndpointURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("webhook: %q is not an http(s) URL without credentials", s)
	}
	return nil
}

// Worker delivers the outbox: claims a batch, posts each delivery, records the outcome,
// retries failures with exponential backoff. Several workers (instances) may run at once.
type Worker struct {
	Outbox Outbox
	Owner  string // unique per process, e.g. host:pid:random
	Now    func() time.Time
	Log    *slog.Logger

	Lease       time.Duration // how long a claim holds (default 2m; longer than Timeout)
	Timeout     time.Duration // one request (default 10s)
	Batch       int           // deliveries per claim (default 20)
	Poll        time.Duration // wait when the outbox is empty (default 2s)
	BaseBackoff time.Duration // first retry delay (default 10s), doubled per attempt
	MaxBackoff  time.Duration // cap of the delay (default 1h)
	MaxAttempts int           // give up after this many failures (default 20)

	// AllowLoopback lets deliveries reach loopback addresses (tests, a receiver on the same
	// host); every other non-public address stays refused.
	AllowLoopback bool

	client *http.Client
}

func (w *Worker) defaults() {
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	if w.Timeout == 0 {
		w.Timeout = 10 * time.Second
	}
	if w.Lease == 0 {
		w.Lease = 2 * time.Minute
	}
	if w.Batch == 0 {
		w.Batch = 20
	}
	if w.Poll == 0 {
		w.Poll = 2 * time.Second
	}
	if w.BaseBackoff == 0 {
		w.BaseBackoff = 10 * time.Second
	}
	if w.MaxBackoff == 0 {
		w.MaxBackoff = time.Hour
	}
	if w.MaxAttempts == 0 {
		w.MaxAttempts = 20
	}
	if w.client == nil {
		allowLoopback := w.AllowLoopback
		dialer := &net.Dialer{Timeout: w.Timeout, Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("webhook: cannot judge address %q", address)
			}
			ip := ap.Addr().Unmap()
			if certs.PublicAddress(ip) || (allowLoopback && ip.IsLoopback()) {
				return nil
			}
			return fmt.Errorf("webhook: address %s is not public", ip)
		}}
		w.client = &http.Client{
			Timeout:   w.Timeout,
			Transport: &http.Transport{DialContext: dialer.DialContext, Proxy: nil, TLSHandshakeTimeout: w.Timeout, MaxIdleConnsPerHost: 2},
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // a redirect is a failed delivery, not a new target
			},
		}
	}
}

// Backoff returns the delay after the n-th failure (n ≥ 1): BaseBackoff·2^(n-1), capped at
// MaxBackoff, with up to 10% random jitter so instances do not retry in step.
func (w *Worker) Backoff(n int) time.Duration {
	w.defaults()
	return backoff(w.BaseBackoff, w.MaxBackoff, n)
}

func backoff(base, maxDelay time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	w.defaults()
	poll(ctx, w.Poll, w.Log, "webhook outbox unavailable", w.RunOnce)
}

// poll runs once until ctx ends, waiting p when it found nothing or failed.
func poll(ctx context.Context, p time.Duration, log *slog.Logger, warning string, once func(context.Context) (int, error)) {
	for ctx.Err() == nil {
		n, err := once(ctx)
		if err != nil && ctx.Err() == nil {
			log.Warn(warning, "err", err)
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(p):
			}
		}
	}
}

// RunOnce claims one batch and delivers it; it returns how many deliveries it handled.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.defaults()
	now := w.Now()
	ds, err := w.Outbox.ClaimDeliveries(ctx, w.Owner, now, now.Add(w.Lease), w.Batch)
	if err != nil {
		return 0, err
	}
	for _, d := range ds {
		if ctx.Err() != nil {
			return len(ds), ctx.Err() // the lease returns the rest to the outbox
		}
		w.deliver(ctx, d)
	}
	return len(ds), nil
}

func (w *Worker) deliver(ctx context.Context, d Delivery) {
	err := w.post(ctx, d)
	if ctx.Err() != nil {
		return // shutting down: the lease ends and another attempt follows; nothing recorded
	}
	if err == nil {
		if err := w.Outbox.DeliverySucceeded(ctx, d.ID, w.Owner, w.Now()); err != nil {
			w.Log.Warn("webhook delivered but not recorded (it will be sent again)", "delivery", d.ID, "event", d.EventID, "err", err)
		}
		return
	}
	attempts := d.Attempts + 1
	var next time.Time
	if attempts < w.MaxAttempts {
		next = w.Now().Add(w.Backoff(attempts))
	}
	w.Log.Warn("webhook delivery failed", "delivery", d.ID, "event", d.EventID, "endpoint", d.Endpoint.ID, "attempt", attempts, "give_up", next.IsZero(), "err", err)
	if err := w.Outbox.DeliveryFailed(ctx, d.ID, w.Owner, next, truncate(err.Error(), 500)); err != nil {
		w.Log.Warn("webhook failure not recorded", "delivery", d.ID, "err", err)
	}
}

func (w *Worker) post(ctx context.Context, d Delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Endpoint.URL, bytes.NewReader(d.Body))
	if err != nil {
		return err
	}
	ts := w.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "chungthuc-webhook/1")
	req.Header.Set(HeaderEventID, d.EventID)
	req.Header.Set(HeaderEventType, d.Type)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(d.Endpoint.Secret, ts, d.Body))
	res, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }() // drained below; nothing to report
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", res.Status)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// CheckEndpoint checks an address the administrator typed before it is recorded: an http(s)
// URL (ValidEndpointURL) whose host resolves only to public addresses — the address guard
// (certs.PublicAddress) the worker applies again at each connection; loopback only when
// allowLoopback. The error is a sentence for the administrator.
func CheckEndpoint(ctx context.Context, raw string, allowLoopback bool, resolver *net.Resolver) error {
	if err := ValidEndpointURL(raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw) // parsed by ValidEndpointURL
	if resolver == nil {
		resolver = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := resolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("webhook: the host %q cannot be resolved", u.Hostname())
	}
	for _, ip := range ips {
		ip = ip.Unmap()
		if !certs.PublicAddress(ip) && !(allowLoopback && ip.IsLoopback()) {
			return fmt.Errorf("webhook: %s resolves to %s, which is not a public address", u.Hostname(), ip)
		}
	}
	return nil
}

// NewSecret returns a fresh endpoint secret: 32 random bytes, base64url (43 characters).
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = crand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
