package api

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestOutagesHideTheirCause: with the object store's directory removed, and then with the
// register closed, the public and workspace answers name neither paths nor low-level
// errors, and carry the request id (the full cause goes to the log with it).
func TestOutagesHideTheirCause(t *testing.T) {
	var logs lockedBuffer
	e := newEnv(t, func(d *Deps) { d.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	out := e.certifyPL()
	check := func(what string, res *http.Response, body string) {
		t.Helper()
		if res.StatusCode < 500 {
			t.Fatalf("%s: %d, want an outage", what, res.StatusCode)
		}
		id := res.Header.Get("X-Request-ID")
		if id == "" || !strings.Contains(body, id) {
			t.Errorf("%s: the answer lacks the request id %q:\n%s", what, id, body)
		}
		for _, leak := range []string{e.objDir, os.TempDir(), "r.db", "no such file", "database is closed", "sql:", "objects/"} {
			if strings.Contains(body, leak) {
				t.Errorf("%s: the answer shows %q:\n%s", what, leak, body)
			}
		}
	}
	if err := os.RemoveAll(e.objDir); err != nil {
		t.Fatal(err)
	}
	body, ct := multipartBody([][2]string{{"a.jpg", string(scan)}}, map[string]string{"title": "Giấy khai sinh", "requester": "Nguyễn Văn A"})
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/certifications", body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+e.plToken)
	res, b := e.do(req)
	check("certify with the store removed", res, b)
	// The log has the whole cause under the same request id.
	if l := logs.String(); !strings.Contains(l, "request_id="+res.Header.Get("X-Request-ID")) || !strings.Contains(l, e.objDir) || !strings.Contains(l, "no such file or directory") {
		t.Errorf("the log lacks the cause with the request id:\n%s", l)
	}
	res, b = e.get("/api/v1/certifications/"+itoa(out.Certification.ID)+"/pdf", "Authorization", "Bearer "+e.plToken)
	check("API download with the store removed", res, b)

	if err := e.reg.Close(); err != nil {
		t.Fatal(err)
	}
	res, b = e.get("/v/" + out.Certification.Token)
	check("verification page with the register closed", res, b)
	res, b = e.get("/api/v1/verify/" + out.Certification.Token)
	check("verification JSON with the register closed", res, b)
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
