package main

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestPdfsigOnlineOCSP runs the service with the development PKI, certifies a scan through
// the workspace, and has pdfsig (poppler over NSS) check the copy online — OCSP against the
// running service's /pki/ocsp, not -no-ocsp — with the development root trusted in a fresh
// NSS database: both signatures must be valid and their certificates trusted.
func TestPdfsigOnlineOCSP(t *testing.T) {
	for _, tool := range []string{"pdfsig", "certutil"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (poppler-utils, libnss3-tools)", tool)
		}
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	base, _ := startServe(t, map[string]string{"CHUNGTHUC_DATA": data})
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Timeout: time.Minute}
	get := func(path string) []byte {
		t.Helper()
		res, err := cl.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return b
	}
	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	res, err := cl.PostForm(base+"/login", url.Values{"csrf": {string(csrfRE.FindSubmatch(get("/login"))[1])}, "username": {"canbo"}, "password": {demoPassword(t, base, data)}, "next": {"/app/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("csrf", string(csrfRE.FindSubmatch(get("/app/certify"))[1]))
	_ = mw.WriteField("title", "Giấy khai sinh")
	_ = mw.WriteField("requester", "Nguyễn Thị Hồng Nhung")
	scan, err := os.ReadFile(writeScans(t, dir, 1, 100<<10)[0])
	if err != nil {
		t.Fatal(err)
	}
	fw, _ := mw.CreateFormFile("file", "trang1.jpg")
	_, _ = fw.Write(scan)
	_ = mw.Close()
	res, err = cl.Post(base+"/app/certify", mw.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`/app/c/[0-9]+/pdf`).Find(page)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("certify: %d\n%.500s", res.StatusCode, page)
	}
	copyPath := filepath.Join(dir, "copy.pdf")
	if err := os.WriteFile(copyPath, get(string(m)), 0o600); err != nil {
		t.Fatal(err)
	}
	nss := filepath.Join(dir, "nss")
	if err := os.Mkdir(nss, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-N", "-d", "sql:" + nss, "--empty-password"},
		{"-A", "-d", "sql:" + nss, "-n", "chungthuc-dev-root", "-t", "C,C,C", "-i", filepath.Join(data, "pki", "root.pem")},
	} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			t.Fatalf("certutil %v: %v\n%s", args, err, out)
		}
	}
	out, _ := exec.Command("pdfsig", "-nssdir", "sql:"+nss, copyPath).CombinedOutput()
	s := string(out)
	if strings.Count(s, "Signature is Valid.") < 2 || strings.Count(s, "Certificate is Trusted.") != 2 || strings.Contains(s, "Unknown issue") {
		t.Fatalf("pdfsig (online OCSP) does not report both signatures valid and trusted:\n%s", s)
	}
}
