package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc/internal/webdriver"
)

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startServe runs `chungthuc serve` in-process on a free loopback port with env and returns
// its base URL; the server stops when the test ends.
func startServe(t *testing.T, env map[string]string) (string, *syncBuffer) {
	t.Helper()
	base, out, _ := startServeStop(t, env)
	return base, out
}

// startServeStop is startServe with a function that stops the service and waits for it
// (a restart; the test's cleanup then has nothing left to stop).
func startServeStop(t *testing.T, env map[string]string) (string, *syncBuffer, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return startServeAt(t, env, addr)
}

// startServeAt is startServeStop on a chosen loopback address (one reserved earlier, when
// something started before the service must know its origin).
func startServeAt(t *testing.T, env map[string]string, addr string) (string, *syncBuffer, func()) {
	t.Helper()
	base := "http://" + addr
	env["CHUNGTHUC_ADDR"], env["CHUNGTHUC_BASE_URL"] = addr, base
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"serve"}, strings.NewReader(""), out, &syncBuffer{}, func(k string) string { return env[k] })
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(70 * time.Second):
				t.Error("serve did not stop")
			}
		})
	}
	t.Cleanup(stop)
	for i := 0; i < 200; i++ {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base, out, stop
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("serve did not become ready:\n%s", out.String())
	return "", nil, nil
}

// demoPassword reads the demo officer's generated password from the first-start note,
// makes the change the service requires at the first login (choosePassword) and returns the
// password now in force. Call it once per service.
func demoPassword(t *testing.T, base, dataDir string) string {
	return demoLogin(t, base, dataDir, "canbo")
}

// demoAdminPassword is demoPassword for the demo system administrator.
func demoAdminPassword(t *testing.T, base, dataDir string) string {
	return demoLogin(t, base, dataDir, "quantri")
}

// demoLogin reads the generated password of a demo login from the first-start note, makes
// the forced change and returns the password now in force.
func demoLogin(t *testing.T, base, dataDir, user string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "first-login.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(regexp.QuoteMeta(user) + ` / (\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no demo login %s in %s", user, b)
	}
	return choosePassword(t, base, user, string(m[1]))
}

// choosePassword logs user in with a generated password, which the service sends to the
// password page, sets a chosen one there and returns it.
func choosePassword(t *testing.T, base, user, generated string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	get := func(path string) (string, string) {
		res, err := cl.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		m := csrfRE.FindSubmatch(b)
		if m == nil {
			t.Fatalf("GET %s: %d, no CSRF token", path, res.StatusCode)
		}
		return res.Request.URL.Path, string(m[1])
	}
	_, csrf := get("/login")
	res, err := cl.PostForm(base+"/login", url.Values{"csrf": {csrf}, "username": {user}, "password": {generated}, "next": {"/app/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/app/password" {
		t.Fatalf("first login of %s ended at %s, not the password page", user, res.Request.URL.Path)
	}
	_, csrf = get("/app/password")
	chosen := "mật khẩu tự chọn của " + user
	res, err = cl.PostForm(base+"/app/password", url.Values{"csrf": {csrf}, "current": {generated}, "new": {chosen}, "new2": {chosen}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Request.URL.RawQuery != "changed=1" {
		t.Fatalf("password change of %s: %d %s", user, res.StatusCode, res.Request.URL)
	}
	return chosen
}

// TestBrowser drives headless Chromium (through chromedriver) through the whole officer flow:
// log in, upload a scan, certify, open the verification link from the result and see
// "valid". It saves screenshots (to $CHUNGTHUC_SCREENSHOTS when set) for a person to look at.
func TestBrowser(t *testing.T) {
	if _, err := exec.LookPath("chromedriver"); err != nil {
		t.Skip("chromium/chromedriver not installed: browser test skipped")
	}
	dir := t.TempDir()
	env := map[string]string{"CHUNGTHUC_DATA": filepath.Join(dir, "data")}
	base, _ := startServe(t, env)
	password := demoPassword(t, base, env["CHUNGTHUC_DATA"])
	scans := writeScans(t, dir, 1, 200<<10)
	b := loggedIn(t, dir, base, "canbo", password)
	shots := os.Getenv("CHUNGTHUC_SCREENSHOTS")
	if shots == "" {
		shots = dir
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	must(b.Screenshot(filepath.Join(shots, "1-dashboard.png")))
	must(b.Navigate(base + "/app/certify"))
	must(b.Type("#files", scans[0]))
	_, err = b.Find("#file-list li")
	must(err)
	must(b.Type("#document", "Giấy khai sinh"))
	must(b.Type("#requester", "Nguyễn Thị Hồng Nhung"))
	must(b.Screenshot(filepath.Join(shots, "2-certify-form.png")))
	must(b.Click("#certify-button"))
	notice, err := b.Text(".fresh")
	must(err)
	must(b.Screenshot(filepath.Join(shots, "3-result.png")))
	href, err := b.Attr(`dl.facts a[href*="/v/"]`, "href")
	must(err)
	if href == "" || !strings.Contains(notice, "Mã truy cập") {
		t.Fatalf("result page: notice %q, link %q", notice, href)
	}
	must(b.Navigate(href))
	status, err := b.Text("#verdict")
	must(err)
	must(b.Screenshot(filepath.Join(shots, "4-verify.png")))
	if !strings.Contains(status, "Bản sao hợp lệ") {
		t.Fatalf("verification page says %q, want valid (link %s)", status, href)
	}
	t.Logf("screenshots in %s", shots)
}

// loggedIn starts Chromium with a profile under dir (closed when the test ends) and logs
// username in to the service at base, waiting for the dashboard.
func loggedIn(t *testing.T, dir, base, username, password string) *webdriver.Session {
	t.Helper()
	b, err := webdriver.Start(filepath.Join(dir, "profile"))
	if err != nil {
		t.Fatalf("starting the browser: %v", err)
	}
	t.Cleanup(b.Close)
	for _, err := range []error{b.Navigate(base + "/login"), b.Type("#username", username), b.Type("#password", password), b.Click("button[type=submit]")} {
		if err != nil {
			t.Fatalf("logging in as %s: %v", username, err)
		}
	}
	if _, err := b.Find(".tiles"); err != nil {
		t.Fatalf("no dashboard after logging in as %s: %v", username, err)
	}
	return b
}
