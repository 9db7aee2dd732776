package notify

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc/internal/testmail"
)

func TestSendThroughMailpit(t *testing.T) {
	mp := testmail.New(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	smtpAddr := mp.SMTP
	u := url.URL{Scheme: "smtp", User: url.UserPassword("canbo", "mật-khẩu"), Host: smtpAddr,
		RawQuery: url.Values{"from": {"UBND Phường Hòa Bình <motcua@phuonghoabinh.gov.vn>"}}.Encode()}
	m, err := ParseSMTPURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	msg := CertifiedMail("nguyen.van.an@example.vn", "Phường Hòa Bình", "HB-2026-000123", "Giấy khai sinh",
		"https://chungthuc.example/v/AbC123", "K7P-4QX-9MZ")
	msg.Subject += " (ữ)"
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	msgs := mp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("mailpit holds %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	wantSubject := "Bản sao chứng thực điện tử số HB-2026-000123 — Phường Hòa Bình (ữ)"
	if got.Subject != wantSubject {
		t.Errorf("subject %q, want %q", got.Subject, wantSubject)
	}
	if got.From.Address != "motcua@phuonghoabinh.gov.vn" || got.From.Name != "UBND Phường Hòa Bình" {
		t.Errorf("from %+v", got.From)
	}
	if len(got.To) != 1 || got.To[0].Address != "nguyen.van.an@example.vn" {
		t.Errorf("to %+v", got.To)
	}
	text := mp.Text(got.ID)
	for _, want := range []string{
		"Phường Hòa Bình đã chứng thực bản sao điện tử của giấy tờ \"Giấy khai sinh\", số chứng thực HB-2026-000123.",
		"https://chungthuc.example/v/AbC123",
		"Mã truy cập để tải bản sao: K7P-4QX-9MZ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("body lacks %q:\n%s", want, text)
		}
	}
	// The raw message is 7-bit (encoded word, quoted-printable), whatever the server.
	b := mp.Raw(got.ID)
	for _, c := range b {
		if c >= 0x80 {
			t.Fatalf("raw message has 8-bit bytes:\n%s", b)
		}
	}
	if !strings.Contains(string(b), "Subject: =?utf-8?b?") {
		t.Errorf("subject not an encoded word:\n%s", b)
	}
}

func TestSendRefused(t *testing.T) {
	// A server that requires authentication refuses a client that has no credentials; the
	// error names the step and never the password.
	smtpAddr := testmail.New(t, "--smtp-auth-file", writeAuth(t), "--smtp-auth-allow-insecure").SMTP
	m, err := ParseSMTPURL("smtp://" + smtpAddr + "?from=a@b.vn")
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), Message{To: "c@d.vn", Subject: "x", Body: "y"})
	if err == nil || !strings.Contains(err.Error(), "MAIL FROM") {
		t.Errorf("unauthenticated: %v", err)
	}
	m, _ = ParseSMTPURL("smtp://canbo:sai-mat-khau-bi-mat@" + smtpAddr + "?from=a@b.vn")
	err = m.Send(context.Background(), Message{To: "c@d.vn", Subject: "x", Body: "y"})
	if err == nil || !strings.Contains(err.Error(), "authentication failed") || strings.Contains(err.Error(), "sai-mat-khau-bi-mat") {
		t.Errorf("wrong password: %v", err)
	}
	// Nobody listening.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	_ = l.Close()
	m, _ = ParseSMTPURL("smtp://" + addr + "?from=a@b.vn")
	if err := m.Send(context.Background(), Message{To: "c@d.vn", Subject: "x", Body: "y"}); err == nil {
		t.Error("send to a closed port succeeded")
	}
}

func writeAuth(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "auth")
	if err := os.WriteFile(p, []byte("canbo:dung-mat-khau\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseSMTPURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://h?from=a@b.vn", "scheme"},
		{"smtp://?from=a@b.vn", "no host"},
		{"smtp://h", "sender is missing"},
		{"smtp://u:secretpw@h?from=notanaddress", "not an e-mail address"},
		{"::", "not a URL"},
	} {
		_, err := ParseSMTPURL(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secretpw") {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
	m, err := ParseSMTPURL("smtps://mail.example.vn?from=a@b.vn")
	if err != nil || m.addr != "mail.example.vn:465" || !m.implicit {
		t.Errorf("smtps default port: %+v %v", m, err)
	}
	m, err = ParseSMTPURL("smtp://mail.example.vn?from=a@b.vn")
	if err != nil || m.addr != "mail.example.vn:25" || m.implicit {
		t.Errorf("smtp default port: %+v %v", m, err)
	}
}

func TestValidAddressAndCompose(t *testing.T) {
	for _, bad := range []string{"", "a", "a@b", "A <a@b.vn>", "a@b.vn, c@d.vn", "a@b.vn\r\nBcc: x@y.vn", strings.Repeat("a", 250) + "@b.vn"} {
		if _, err := ValidAddress(bad); err == nil {
			t.Errorf("ValidAddress(%q) accepted", bad)
		}
	}
	if a, err := ValidAddress("  an@example.vn "); err != nil || a != "an@example.vn" {
		t.Errorf("good address: %q %v", a, err)
	}
	m, _ := ParseSMTPURL("smtp://h?from=a@b.vn")
	if _, err := m.Compose(Message{To: "c@d.vn", Subject: "x\r\nBcc: e@f.vn", Body: "y"}, time.Now()); err == nil {
		t.Error("subject with a newline accepted")
	}
	// NFD text becomes NFC.
	b, err := m.Compose(Message{To: "c@d.vn", Subject: "Vie\u0302\u0323t", Body: "Vie\u0302\u0323t"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "=E1=BB=87t") { // ệ (U+1EC7) in quoted-printable
		t.Errorf("body not NFC:\n%s", b)
	}
}
