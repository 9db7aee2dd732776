// Package testmail runs a real SMTP server for tests: mailpit (built by scripts/mailpit.sh,
// or the binary named by CHUNGTHUC_TEST_MAILPIT) on free loopback ports, with its HTTP API
// to read the messages back. It can be stopped and started again on the same ports (an SMTP
// server that is down, then back).
package testmail

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Server is one mailpit for one test.
type Server struct {
	SMTP string // host:port of the SMTP listener
	API  string // base URL of the HTTP API, e.g. http://127.0.0.1:1234

	t    testing.TB
	bin  string
	args []string
	log  string
	cmd  *exec.Cmd
}

// New prepares mailpit on free loopback ports with the extra command-line flags and starts
// it; it is killed when the test ends. It skips the test, saying why, when mailpit cannot
// be built.
func New(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := os.Getenv("CHUNGTHUC_TEST_MAILPIT")
	if bin == "" {
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "mailpit.sh")
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, script).Output()
		if err != nil {
			t.Skipf("mailpit could not be built (scripts/mailpit.sh: %v); the SMTP test needs it", err)
		}
		bin = strings.TrimSpace(string(out))
	}
	s := &Server{t: t, bin: bin, SMTP: FreeAddr(t), log: filepath.Join(t.TempDir(), "mailpit.log")}
	httpAddr := FreeAddr(t)
	s.API = "http://" + httpAddr
	s.args = append([]string{"--smtp", s.SMTP, "--listen", httpAddr, "--database", filepath.Join(t.TempDir(), "mail.db")}, extra...)
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// FreeAddr returns a loopback address nobody listens on (at the time of the call).
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// Start starts the server (again) and waits until both listeners answer.
func (s *Server) Start() {
	s.t.Helper()
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = logf.Close() }() // the child has its own descriptor
	s.cmd = exec.Command(s.bin, s.args...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start mailpit: %v", err)
	}
	for i := 0; ; i++ {
		res, err := http.Get(s.API + "/api/v1/messages")
		if err == nil {
			_ = res.Body.Close()
			if c, err := net.Dial("tcp", s.SMTP); err == nil {
				_ = c.Close()
				return
			}
		}
		if i > 100 {
			b, _ := os.ReadFile(s.log)
			s.t.Fatalf("mailpit did not start: %v\n%s", err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop kills the server (its stored messages stay in its database).
func (s *Server) Stop() {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill() // already gone is fine
		_ = s.cmd.Wait()         // the exit status of a killed process says nothing
		s.cmd = nil
	}
}

// Summary is a message in mailpit's list.
type Summary struct {
	ID      string
	Subject string
	From    struct{ Name, Address string }
	To      []struct{ Address string }
}

// Messages lists the messages received, newest first.
func (s *Server) Messages() []Summary {
	s.t.Helper()
	var list struct {
		Messages []Summary `json:"messages"`
	}
	s.GetJSON("/api/v1/messages", &list)
	return list.Messages
}

// Text returns a message's decoded plain-text body.
func (s *Server) Text(id string) string {
	s.t.Helper()
	var full struct{ Text string }
	s.GetJSON("/api/v1/message/"+id, &full)
	return full.Text
}

// Raw returns a message as it arrived.
func (s *Server) Raw(id string) []byte {
	s.t.Helper()
	res, err := http.Get(s.API + "/api/v1/message/" + id + "/raw")
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }() // read below; nothing to report
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// GetJSON decodes the API's answer at path into v.
func (s *Server) GetJSON(path string, v any) {
	s.t.Helper()
	res, err := http.Get(s.API + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }() // decoded below; nothing to report
	if res.StatusCode != 200 {
		s.t.Fatalf("GET %s: %s", path, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		s.t.Fatal(err)
	}
}
