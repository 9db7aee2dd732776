package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// bombRSSLimit is the bound on the service's peak resident memory while it is sent the
// bombs of issue #12 at once.
const bombRSSLimit = 300 << 20

// TestMemoryBombs builds the binary, runs `serve`, and sends at once what took the
// service to gigabytes before the decode budgets: 8 × a 256 KB PDF of compressed object
// streams (4 × 64 MB) to the public POST /api/v1/verify, 6 × a 7000×7000 16-bit RGBA PNG
// (≈ 380 KB), 2 × a scan PDF whose page content inflates to 1 GB and 2 × the object-stream
// PDF as a scan to certification as a logged-in officer — while /healthz is asked every 100 ms. It asserts that the peak
// resident memory of the process (VmHWM in /proc/PID/status) stays under bombRSSLimit,
// that no bomb is certified (4xx or 503 busy; verification answers its report), never 500, and that /healthz kept
// answering. CHUNGTHUC_BOMB_BINARY runs another binary instead (e.g. main's, to measure
// the "before"; the bound then fails).
func TestMemoryBombs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: cannot read peak RSS")
	}
	dir := t.TempDir()
	bin := os.Getenv("CHUNGTHUC_BOMB_BINARY")
	if bin == "" {
		bin = buildBinary(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	data := filepath.Join(dir, "data")
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "CHUNGTHUC_DATA="+data, "CHUNGTHUC_ADDR="+addr, "CHUNGTHUC_BASE_URL="+base, "CHUNGTHUC_RATE_LIMIT=600")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	ready := false
	for i := 0; i < 600 && !ready; i++ {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			ready = res.StatusCode == 200
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !ready {
		t.Fatalf("serve did not become ready")
	}
	before := vmHWM(t, cmd.Process.Pid)

	pdfBomb := objStreamBomb(4, 64<<20)
	pngBomb := png16Bomb(7000, 7000)
	scanBomb := contentBomb(40, 25<<20)
	t.Logf("bombs: object-stream PDF %d KB, PNG %d KB, scan PDF %d KB", len(pdfBomb)>>10, len(pngBomb)>>10, len(scanBomb)>>10)

	// Log in as the demo officer.
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Timeout: 5 * time.Minute}
	page := func(path string) string {
		res, err := cl.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	csrfRE := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	res, err := cl.PostForm(base+"/login", url.Values{"csrf": {csrfRE.FindStringSubmatch(page("/login"))[1]}, "username": {"canbo"}, "password": {demoPassword(t, base, data)}, "next": {"/app/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	m := csrfRE.FindStringSubmatch(page("/app/certify"))
	if m == nil {
		t.Fatal("not logged in")
	}
	csrf := m[1]

	var mu sync.Mutex
	statuses := map[string][]int{}
	record := func(kind string, code int) {
		mu.Lock()
		statuses[kind] = append(statuses[kind], code)
		mu.Unlock()
	}
	stop := make(chan struct{})
	var healthWorst time.Duration
	healthFailed := 0
	var hwg sync.WaitGroup
	hwg.Add(1)
	go func() {
		defer hwg.Done()
		hc := &http.Client{Timeout: 10 * time.Second}
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			start := time.Now()
			res, err := hc.Get(base + "/healthz")
			d := time.Since(start)
			mu.Lock()
			if err != nil || res.StatusCode != 200 {
				healthFailed++
			}
			healthWorst = max(healthWorst, d)
			mu.Unlock()
			if err == nil {
				res.Body.Close()
			}
		}
	}()
	var wg sync.WaitGroup
	send := func(kind string, req *http.Request, c *http.Client) {
		defer wg.Done()
		res, err := c.Do(req)
		if err != nil {
			record(kind, -1)
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		record(kind, res.StatusCode)
	}
	certifyReq := func(name string, file []byte) *http.Request {
		var b bytes.Buffer
		mw := newMultipart(&b)
		mw.field("csrf", csrf)
		mw.field("title", "Giấy khai sinh")
		mw.field("requester", "Nguyễn Văn A")
		mw.file("file", name, file)
		req, _ := http.NewRequest("POST", base+"/app/certify", &b)
		req.Header.Set("Content-Type", mw.contentType())
		return req
	}
	only := os.Getenv("CHUNGTHUC_BOMB_ONLY") // one kind alone, to see what each costs
	for range 8 {
		if only != "" && only != "verify" {
			break
		}
		req, _ := http.NewRequest("POST", base+"/api/v1/verify", bytes.NewReader(pdfBomb))
		req.Header.Set("Content-Type", "application/pdf")
		wg.Add(1)
		go send("verify object streams", req, &http.Client{Timeout: 5 * time.Minute})
	}
	for range 6 {
		if only != "" && only != "png" {
			break
		}
		wg.Add(1)
		go send("certify 16-bit PNG", certifyReq("anh.png", pngBomb), cl)
	}
	for range 2 {
		if only != "" && only != "scan" {
			break
		}
		wg.Add(1)
		go send("certify 1 GB scan", certifyReq("scan.pdf", scanBomb), cl)
	}
	for range 2 {
		if only != "" && only != "scanobjstm" {
			break
		}
		wg.Add(1)
		go send("certify object-stream scan", certifyReq("scan2.pdf", pdfBomb), cl)
	}
	wg.Wait()
	close(stop)
	hwg.Wait()
	peak := vmHWM(t, cmd.Process.Pid)
	t.Logf("peak RSS (VmHWM): %d MB before the bombs, %d MB after (bound %d MB); /healthz worst %v, failed %d; answers %v",
		before>>20, peak>>20, bombRSSLimit>>20, healthWorst.Round(time.Millisecond), healthFailed, statuses)
	for kind, codes := range statuses {
		for _, c := range codes {
			// A verification answers 200 with its report (the file is not valid); a
			// certification of a bomb must be refused.
			if c == -1 || c >= 500 && c != 503 || c == 200 && !strings.HasPrefix(kind, "verify") {
				t.Errorf("%s: answered %d", kind, c)
			}
		}
	}
	if healthFailed > 0 {
		t.Errorf("/healthz failed %d times under the bombs", healthFailed)
	}
	if peak > bombRSSLimit {
		t.Errorf("peak RSS %d MB, more than %d MB", peak>>20, bombRSSLimit>>20)
	}
}

// vmHWM reads the peak resident set size of a process, in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// deflated compresses prefix followed by fill up to n bytes (zlib, best compression).
func deflated(n int, fill byte, prefix []byte) []byte {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	_, _ = w.Write(prefix)
	chunk := bytes.Repeat([]byte{fill}, 1<<20)
	for left := n - len(prefix); left > 0; left -= len(chunk) {
		_, _ = w.Write(chunk[:min(left, len(chunk))])
	}
	_ = w.Close()
	return z.Bytes()
}

// pdfWriter assembles a classic PDF with an xref table (objects numbered from 1).
type pdfWriter struct {
	b    bytes.Buffer
	offs []int
}

func (p *pdfWriter) obj(body string, stream []byte) int {
	p.offs = append(p.offs, p.b.Len())
	n := len(p.offs)
	fmt.Fprintf(&p.b, "%d 0 obj\n%s", n, body)
	if stream != nil {
		fmt.Fprintf(&p.b, "\nstream\n")
		p.b.Write(stream)
		p.b.WriteString("\nendstream")
	}
	p.b.WriteString("\nendobj\n")
	return n
}

func (p *pdfWriter) finish(trailer string) []byte {
	xref := p.b.Len()
	fmt.Fprintf(&p.b, "xref\n0 %d\n0000000000 65535 f \n", len(p.offs)+1)
	for _, o := range p.offs {
		fmt.Fprintf(&p.b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&p.b, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", len(p.offs)+1, trailer, xref)
	return p.b.Bytes()
}

// objStreamBomb is a PDF 1.5 whose catalog, page tree, page and AcroForm each live in
// their own object stream, padded with spaces to size decoded bytes (a few hundred KB
// compressed): whoever resolves the catalog inflates them.
func objStreamBomb(n, size int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	bodies := []string{
		"<< /Type /Catalog /Pages 2 0 R /AcroForm 4 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
		"<< /Fields [] >>",
	}
	type ent struct{ typ, a, b int }
	entries := map[int]ent{}
	for i := 0; i < n && i < len(bodies); i++ {
		objNum, stmNum := i+1, 10+i
		head := fmt.Sprintf("%d 0 ", objNum)
		content := []byte(head + bodies[i] + " ")
		z := deflated(size, ' ', content)
		entries[stmNum] = ent{1, b.Len(), 0}
		fmt.Fprintf(&b, "%d 0 obj\n<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n", stmNum, len(head), len(z))
		b.Write(z)
		b.WriteString("\nendstream\nendobj\n")
		entries[objNum] = ent{2, stmNum, 0}
	}
	xrefNum := 20
	count := xrefNum + 1
	// The xref stream, W [1 4 1].
	var w bytes.Buffer
	xrefOff := b.Len()
	for i := 0; i < count; i++ {
		e, ok := entries[i]
		if i == xrefNum {
			e, ok = ent{1, xrefOff, 0}, true
		}
		if !ok {
			w.Write([]byte{0, 0, 0, 0, 0, 0})
			continue
		}
		w.WriteByte(byte(e.typ))
		w.Write(binary.BigEndian.AppendUint32(nil, uint32(e.a)))
		w.WriteByte(byte(e.b))
	}
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 1] /Root 1 0 R /Length %d >>\nstream\n", xrefNum, count, w.Len())
	b.Write(w.Bytes())
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xrefOff)
	return b.Bytes()
}

// png16Bomb is a w×h 16-bit RGBA PNG of transparent black: a few hundred KB that decode
// to w×h×8 bytes.
func png16Bomb(w, h int) []byte {
	chunk := func(typ string, data []byte) []byte {
		out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		out = append(out, typ...)
		out = append(out, data...)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(w))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(h))
	ihdr = append(ihdr, 16, 6, 0, 0, 0)
	b := []byte("\x89PNG\r\n\x1A\n")
	b = append(b, chunk("IHDR", ihdr)...)
	b = append(b, chunk("IDAT", deflated(h*(1+w*8), 0, nil))...)
	return append(b, chunk("IEND", nil)...)
}

// contentBomb is a one-page PDF whose page content is n streams of size bytes each
// (spaces and one path), all Flate: n × size bytes of page content to inflate.
func contentBomb(n, size int) []byte {
	p := &pdfWriter{}
	p.b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	p.obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	refs := make([]string, n)
	for i := range refs {
		refs[i] = fmt.Sprintf("%d 0 R", 4+i)
	}
	p.obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", nil)
	p.obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents ["+strings.Join(refs, " ")+"] >>", nil)
	z := deflated(size, ' ', []byte("0 0 m 10 10 l S\n"))
	for range n {
		p.obj(fmt.Sprintf("<< /Filter /FlateDecode /Length %d >>", len(z)), z)
	}
	return p.finish("/Root 1 0 R")
}

// multipartForm writes a multipart/form-data body in the order the fields are given.
type multipartForm struct {
	w        io.Writer
	boundary string
}

func newMultipart(w io.Writer) *multipartForm {
	return &multipartForm{w: w, boundary: "chungthucbombboundary7d2f"}
}

func (m *multipartForm) field(name, value string) {
	fmt.Fprintf(m.w, "--%s\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", m.boundary, name, value)
}

func (m *multipartForm) file(name, filename string, data []byte) {
	fmt.Fprintf(m.w, "--%s\r\nContent-Disposition: form-data; name=%q; filename=%q\r\nContent-Type: application/octet-stream\r\n\r\n", m.boundary, name, filename)
	_, _ = m.w.Write(data)
	fmt.Fprintf(m.w, "\r\n--%s--\r\n", m.boundary)
}

func (m *multipartForm) contentType() string {
	return "multipart/form-data; boundary=" + m.boundary
}
