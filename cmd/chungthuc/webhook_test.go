package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc/notify"
)

// TestWebhookKillMidDelivery: certifications made with the CLI leave issued events in the
// outbox; `serve` (the built binary) delivers them to a loopback receiver, which processes
// the first one and holds its answer while the test kills the process. A new `serve` claims
// the deliveries after the lease and sends them again; the receiver deduplicates by event
// id. Every event is processed exactly once, every signature checks.
func TestWebhookKillMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	env := []string{"CHUNGTHUC_DATA=" + filepath.Join(dir, "data"), "CHUNGTHUC_WEBHOOK_ALLOW_LOOPBACK=true", "CHUNGTHUC_WEBHOOK_LEASE=2s"}
	run := func(ctx context.Context, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), env...)
		return cmd
	}

	var mu sync.Mutex
	processed, received := map[string]int{}, map[string]int{}
	badSig := 0
	first := make(chan struct{})
	release := make(chan struct{})
	var secret []byte
	held := false
	recv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		if err := notify.VerifySignature(secret, r.Header, body, time.Now(), time.Minute); err != nil {
			badSig++
			mu.Unlock()
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		id := r.Header.Get(notify.HeaderEventID)
		received[id]++
		processed[id] = 1 // dedup by event id
		hold := !held
		held = true
		mu.Unlock()
		if hold {
			close(first)
			<-release // processed; the answer never reaches the killed sender
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = recv.Serve(ln) }()
	defer func() { _ = recv.Close() }()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()

	if out, err := run(context.Background(), "migrate").CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err := run(context.Background(), "webhook", "add", "--url", "http://"+ln.Addr().String()+"/hook").Output()
	if err != nil {
		t.Fatalf("webhook add: %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		t.Fatalf("webhook add printed %q", out)
	}
	mu.Lock()
	secret = []byte(f[1])
	mu.Unlock()
	if out, err := run(context.Background(), "webhook", "list").Output(); err != nil || !strings.Contains(string(out), ln.Addr().String()) || strings.Contains(string(out), f[1]) {
		t.Fatalf("webhook list: %v\n%s", err, out)
	}
	scans := writeScans(t, dir, 1, 50<<10)
	const n = 4
	for i := range n {
		if out, err := run(context.Background(), append([]string{"certify", "--unit", "HB", "--officer", "1", "--doc", "Giấy khai sinh", "--requester", "Nguyễn Văn An", "--out", filepath.Join(dir, fmt.Sprintf("c%d.pdf", i))}, scans...)...).CombinedOutput(); err != nil {
			t.Fatalf("certify: %v\n%s", err, out)
		}
	}
	serve := func() *exec.Cmd {
		cmd := run(context.Background(), "serve")
		cmd.Env = append(cmd.Env, "CHUNGTHUC_ADDR=127.0.0.1:0")
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	s1 := serve()
	select {
	case <-first:
	case <-time.After(60 * time.Second):
		_ = s1.Process.Kill()
		t.Fatal("no delivery within 60 s")
	}
	if err := s1.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = s1.Wait()
	close(release)
	s2 := serve()
	defer func() { _ = s2.Process.Kill(); _ = s2.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		done := len(processed)
		mu.Unlock()
		if done == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // longer than the lease: nothing more may arrive
	mu.Lock()
	defer mu.Unlock()
	got, _ := json.Marshal(received)
	if len(processed) != n || badSig != 0 {
		t.Fatalf("processed %d events of %d (received %s, bad signatures %d)", len(processed), n, got, badSig)
	}
	again := 0
	for _, c := range received {
		if c > 1 {
			again += c - 1
		}
	}
	if again < 1 {
		t.Errorf("no event was sent again after the kill (received %s): the kill did not land mid-delivery", got)
	}
	t.Logf("received %s; %d events, each processed once", got, n)
}
