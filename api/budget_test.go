package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/verify"
)

// TestVerifyGate: with one verification slot, a second upload waits QueueWait and is
// refused with 503 and Retry-After while the first runs; /healthz answers meanwhile, and
// once the first is done the next one runs.
func TestVerifyGate(t *testing.T) {
	started, unblock := make(chan struct{}, 4), make(chan struct{})
	e := newEnv(t, func(d *Deps) {
		d.MaxConcurrentVerify, d.QueueWait = 1, 200*time.Millisecond
		inner := d.Verify
		d.Verify = func(ctx context.Context, r io.ReaderAt, size int64) (*verify.Report, error) {
			started <- struct{}{}
			<-unblock
			return inner(ctx, r, size)
		}
	})
	pdf := e.certifyPL().PDF
	post := func() (*http.Response, string) {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/verify", bytes.NewReader(pdf))
		req.Header.Set("Content-Type", "application/pdf")
		return e.do(req)
	}
	type result struct {
		res  *http.Response
		body string
	}
	first := make(chan result, 1)
	go func() { res, body := post(); first <- result{res, body} }()
	<-started
	res, body := post()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "busy") {
		t.Fatalf("second verification while the slot is taken: %d Retry-After %q\n%s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	if res, _ := e.get("/healthz"); res.StatusCode != 200 {
		t.Fatalf("/healthz while busy: %d", res.StatusCode)
	}
	close(unblock)
	if r := <-first; r.res.StatusCode != 200 {
		t.Fatalf("first verification: %d %s", r.res.StatusCode, r.body)
	}
	if res, body := post(); res.StatusCode != 200 {
		t.Fatalf("verification after the slot was freed: %d %s", res.StatusCode, body)
	}
	if _, m := e.get("/metrics"); !strings.Contains(m, `chungthuc_busy_total{work="verify"} 1`) {
		t.Fatalf("busy refusal not counted:\n%s", m)
	}
}

// blockingCertifier holds every certification until unblock is closed.
type blockingCertifier struct {
	Certifier
	started chan struct{}
	unblock chan struct{}
}

func (b *blockingCertifier) Certify(ctx context.Context, in certify.Input) (*certify.Output, error) {
	b.started <- struct{}{}
	<-b.unblock
	return b.Certifier.Certify(ctx, in)
}

// TestCertifyGate: the same for certifications through the JSON API.
func TestCertifyGate(t *testing.T) {
	bc := &blockingCertifier{started: make(chan struct{}, 4), unblock: make(chan struct{})}
	e := newEnv(t, func(d *Deps) {
		d.MaxConcurrentCertify, d.QueueWait = 1, 200*time.Millisecond
		bc.Certifier = d.Certify
		d.Certify = bc
	})
	post := func() (*http.Response, string) {
		body, ct := multipartBody([][2]string{{"a.jpg", string(scan)}}, map[string]string{"title": "Giấy khai sinh", "requester": "Phạm Thị Ánh"})
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/certifications", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+e.plToken)
		return e.do(req)
	}
	first := make(chan int, 1)
	go func() { res, _ := post(); first <- res.StatusCode }()
	<-bc.started
	res, body := post()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("second certification while the slot is taken: %d Retry-After %q\n%s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	close(bc.unblock)
	if code := <-first; code != http.StatusCreated {
		t.Fatalf("first certification: %d", code)
	}
}
