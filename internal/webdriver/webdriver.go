// Package webdriver is a small W3C WebDriver client for browser tests: it starts chromedriver
// with a headless Chromium and offers the few commands the tests need (navigate, find, type,
// click, read text, screenshot). No third-party module; the protocol is JSON over HTTP.
package webdriver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Session is one browser session.
type Session struct {
	base   string // chromedriver URL + /session/{id}
	driver *exec.Cmd
	client *http.Client
}

// Start launches chromedriver and a headless Chromium with a fresh profile in profileDir.
// It fails when chromium or chromedriver is not installed.
func Start(profileDir string) (*Session, error) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		return nil, err
	}
	driverPath, err := exec.LookPath("chromedriver")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return nil, err
	}
	cmd := exec.Command(driverPath, fmt.Sprintf("--port=%d", port), "--allowed-ips=127.0.0.1")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Session{driver: cmd, client: &http.Client{Timeout: 60 * time.Second}}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; ; i++ {
		if res, err := http.Get(url + "/status"); err == nil {
			res.Body.Close()
			break
		}
		if i > 100 {
			s.Close()
			return nil, fmt.Errorf("chromedriver did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"goog:chromeOptions": map[string]any{"binary": chromium, "args": []string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
			"--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage", "--window-size=1100,900",
			"--user-data-dir=" + profileDir,
		},
			"prefs": map[string]any{"download.default_directory": DownloadDir(profileDir), "download.prompt_for_download": false},
		}}}}
	var resp struct {
		SessionID string `json:"sessionId"`
	}
	s.base = url
	if err := s.call("POST", "/session", caps, &resp); err != nil {
		s.Close()
		return nil, err
	}
	s.base = url + "/session/" + resp.SessionID
	return s, nil
}

// DownloadDir is where the browser started with profileDir saves downloads.
func DownloadDir(profileDir string) string { return profileDir + "/downloads" }

// Close ends the session (if one was started) and chromedriver. Errors are ignored:
// chromedriver is killed either way, and Wait only reports that it was.
func (s *Session) Close() {
	if strings.Contains(s.base, "/session/") {
		_ = s.call("DELETE", "", nil, nil)
	}
	_ = s.driver.Process.Kill()
	_ = s.driver.Wait()
}

func (s *Session) call(method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, s.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("webdriver %s %s: %s", method, path, b)
	}
	if res.StatusCode != 200 {
		return fmt.Errorf("webdriver %s %s: %d %s", method, path, res.StatusCode, env.Value)
	}
	if out != nil {
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

// Navigate opens url.
func (s *Session) Navigate(url string) error {
	return s.call("POST", "/url", map[string]any{"url": url}, nil)
}

// URL is the current page's address.
func (s *Session) URL() (string, error) {
	var u string
	err := s.call("GET", "/url", nil, &u)
	return u, err
}

// Find waits up to 10 s for the first element matching a CSS selector and returns its id.
func (s *Session) Find(css string) (string, error) {
	var lastErr error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var el map[string]string
		if lastErr = s.call("POST", "/element", map[string]any{"using": "css selector", "value": css}, &el); lastErr == nil {
			for _, id := range el {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("element %q not found: %v", css, lastErr)
}

// Type sends keys to the element (for a file input: the path of the file to upload).
func (s *Session) Type(css, text string) error {
	id, err := s.Find(css)
	if err != nil {
		return err
	}
	return s.call("POST", "/element/"+id+"/value", map[string]any{"text": text}, nil)
}

// Click clicks the element.
func (s *Session) Click(css string) error {
	id, err := s.Find(css)
	if err != nil {
		return err
	}
	return s.call("POST", "/element/"+id+"/click", map[string]any{}, nil)
}

// Text is the element's visible text.
func (s *Session) Text(css string) (string, error) {
	id, err := s.Find(css)
	if err != nil {
		return "", err
	}
	var t string
	err = s.call("GET", "/element/"+id+"/text", nil, &t)
	return t, err
}

// Attr is the element's attribute (or property) value.
func (s *Session) Attr(css, name string) (string, error) {
	id, err := s.Find(css)
	if err != nil {
		return "", err
	}
	var v *string
	if err := s.call("GET", "/element/"+id+"/attribute/"+name, nil, &v); err != nil || v == nil {
		return "", err
	}
	return *v, nil
}

// Screenshot saves a PNG of the viewport to path.
func (s *Session) Screenshot(path string) error {
	var b64 string
	if err := s.call("GET", "/screenshot", nil, &b64); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Back goes one step back in the history (as the browser's Back button).
func (s *Session) Back() error { return s.call("POST", "/back", map[string]any{}, nil) }

// Refresh reloads the page (as F5).
func (s *Session) Refresh() error { return s.call("POST", "/refresh", map[string]any{}, nil) }

// Execute runs a script in the page (a function body; args are its arguments) and stores
// its return value in out (may be nil).
func (s *Session) Execute(script string, out any, args ...any) error {
	if args == nil {
		args = []any{}
	}
	return s.call("POST", "/execute/sync", map[string]any{"script": script, "args": args}, out)
}

// ExecuteAsync runs a script that reports its result by calling its last argument.
func (s *Session) ExecuteAsync(script string, out any, args ...any) error {
	if args == nil {
		args = []any{}
	}
	return s.call("POST", "/execute/async", map[string]any{"script": script, "args": args}, out)
}

// SetTimeouts sets the script timeout (for ExecuteAsync).
func (s *Session) SetTimeouts(script time.Duration) error {
	return s.call("POST", "/timeouts", map[string]any{"script": script.Milliseconds()}, nil)
}

// SetWindowSize resizes the browser window (the viewport follows in headless mode).
func (s *Session) SetWindowSize(width, height int) error {
	return s.call("POST", "/window/rect", map[string]any{"width": width, "height": height}, nil)
}

// PrintPDF prints the page to a PDF (A4, with backgrounds) and saves it to path.
func (s *Session) PrintPDF(path string) error {
	var b64 string
	if err := s.call("POST", "/print", map[string]any{"background": true, "page": map[string]any{"width": 21.0, "height": 29.7}}, &b64); err != nil {
		return err
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Source is the page's current HTML.
func (s *Session) Source() (string, error) {
	var src string
	err := s.call("GET", "/source", nil, &src)
	return src, err
}
