// Package notify tells people and other systems that something happened in the register:
// e-mail to the citizen (SMTP, configured by CHUNGTHUC_SMTP_URL) with the verification link
// and the access code, and signed webhooks for the one-stop software.
//
// Both are delivered from outboxes in the register, written in the transactions of the
// register changes they report (chungthuc.Webhooks, chungthuc.Mails), by workers that lease
// rows and retry with the same backoff (Worker, MailWorker). Why the access code travels by
// e-mail, and how long the address is kept, is said at CertifiedMail and chungthuc.Mails.
//
// Outbound webhook requests go through the project's one address guard (certs.PublicAddress):
// only public addresses, unless loopback is explicitly allowed (tests, a receiver on the
// same host).
package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Mailer sends e-mail through one SMTP server. Safe for concurrent use (one connection per
// message).
type Mailer struct {
	addr     string // host:port
	host     string
	implicit bool // smtps:// (TLS from the first byte); smtp:// uses STARTTLS when offered
	user     string
	pass     string
	from     mail.Address
	timeout  time.Duration
	tls      *tls.Config
}

// ParseSMTPURL reads CHUNGTHUC_SMTP_URL: smtp://[user:pass@]host[:port]?from=ADDRESS (port
// 25 by default, STARTTLS when the server offers it) or smtps://… (implicit TLS, port 465).
// The from parameter is required ("Name <addr>" allowed). The error never contains the
// password.
func ParseSMTPURL(raw string) (*Mailer, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("CHUNGTHUC_SMTP_URL is not a URL")
	}
	m := &Mailer{timeout: 30 * time.Second}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		m.implicit = true
	default:
		return nil, fmt.Errorf("CHUNGTHUC_SMTP_URL: scheme %q; want smtp or smtps", u.Scheme)
	}
	m.host = u.Hostname()
	if m.host == "" {
		return nil, errors.New("CHUNGTHUC_SMTP_URL: no host")
	}
	port := u.Port()
	if port == "" {
		port = "25"
		if m.implicit {
			port = "465"
		}
	}
	m.addr = net.JoinHostPort(m.host, port)
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, _ = u.User.Password()
	}
	from := u.Query().Get("from")
	if from == "" {
		return nil, errors.New("CHUNGTHUC_SMTP_URL: the sender is missing (?from=address)")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("CHUNGTHUC_SMTP_URL: from %q is not an e-mail address", from)
	}
	m.from = *a
	m.tls = &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
	return m, nil
}

// WithTLSConfig returns a copy of m that uses c for TLS (tests: a private root).
func (m *Mailer) WithTLSConfig(c *tls.Config) *Mailer {
	n := *m
	n.tls = c
	return &n
}

// Message is one e-mail: plain text, UTF-8.
type Message struct {
	To      string // one address, checked by ValidAddress
	Subject string // one line
	Body    string
}

// ValidAddress checks an address a citizen typed: one plain address (no display name, no
// list), at most 254 bytes, with a domain that has a dot. The error is a sentence for the form.
func ValidAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || strings.ContainsAny(s, "\r\n<>,;\"") {
		return "", errors.New("địa chỉ thư điện tử không hợp lệ")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", errors.New("địa chỉ thư điện tử không hợp lệ")
	}
	_, domain, _ := strings.Cut(a.Address, "@")
	if !strings.Contains(domain, ".") {
		return "", errors.New("địa chỉ thư điện tử không hợp lệ")
	}
	return a.Address, nil
}

// Compose returns the message as RFC 5322 bytes: UTF-8 text in NFC, the subject as an
// encoded word, the body quoted-printable, with Date and Message-ID.
func (m *Mailer) Compose(msg Message, now time.Time) ([]byte, error) {
	to, err := ValidAddress(msg.To)
	if err != nil {
		return nil, err
	}
	subject := norm.NFC.String(msg.Subject)
	if strings.ContainsAny(subject, "\r\n") {
		return nil, errors.New("notify: subject must be one line")
	}
	var id [12]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails
	_, domain, _ := strings.Cut(m.from.Address, "@")
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", m.from.String())
	fmt.Fprintf(&b, "To: %s\r\n", to)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.BEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id[:]), domain)
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	b.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(norm.NFC.String(msg.Body), "\r\n", "\n")
	if _, err := qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Send delivers msg. It returns when the server accepted the message, or an error (the
// server's reply, never the password) when it did not or ctx ended first.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	data, err := m.Compose(msg, time.Now())
	if err != nil {
		return err
	}
	to, _ := ValidAddress(msg.To) // checked by Compose
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	d := net.Dialer{}
	var conn net.Conn
	if m.implicit {
		td := tls.Dialer{NetDialer: &d, Config: m.tls}
		conn, err = td.DialContext(ctx, "tcp", m.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", m.addr)
	}
	if err != nil {
		return fmt.Errorf("smtp %s: %w", m.addr, err)
	}
	defer func() { _ = conn.Close() }() // after QUIT, or on failure: nothing left to report
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl) // a net.Conn deadline on a live connection does not fail
	}
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return fmt.Errorf("smtp %s: %w", m.addr, err)
	}
	if !m.implicit {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tls); err != nil {
				return fmt.Errorf("smtp %s: STARTTLS: %w", m.addr, err)
			}
		}
	}
	if m.user != "" {
		if err := c.Auth(smtp.PlainAuth("", m.user, m.pass, m.host)); err != nil {
			return fmt.Errorf("smtp %s: authentication failed: %w", m.addr, err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("smtp %s: MAIL FROM: %w", m.addr, err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("smtp %s: RCPT TO: %w", m.addr, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", m.addr, err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("smtp %s: DATA: %w", m.addr, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp %s: message refused: %w", m.addr, err)
	}
	return c.Quit()
}

// CertifiedMail is the citizen's message after a certification: what was certified, the
// verification link, and the access code when it is given (otherwise where to get it), in
// Vietnamese then English.
//
// Why the code travels by e-mail (the default; CHUNGTHUC_MAIL_ACCESS_CODE=false turns it
// off): the citizen asked for it by giving the address, and the code opens only the copy of
// the citizen's own document, which the receipt already hands over in clear. The code is
// kept in the register's outbox only until the message is sent or given up (then erased
// with the address), is never in the subject or the logs, travels over STARTTLS when the
// server offers it, and a reissue (which voids it) also removes it from a message not yet
// sent. A stolen mailbox yields one copy, and the officer can reissue the code.
func CertifiedMail(to, unitName, number, title, link, accessCode string) Message {
	var b strings.Builder
	fmt.Fprintf(&b, "Kính gửi ông/bà,\n\n%s đã chứng thực bản sao điện tử của giấy tờ \"%s\", số chứng thực %s.\n\n", unitName, title, number)
	fmt.Fprintf(&b, "Xem, kiểm tra và tải bản sao tại:\n%s\n\n", link)
	if accessCode != "" {
		fmt.Fprintf(&b, "Mã truy cập để tải bản sao: %s\nVui lòng giữ bí mật mã này; bất kỳ ai có mã đều tải được bản sao.\n\n", accessCode)
	} else {
		b.WriteString("Mã truy cập để tải bản sao được in trên biên nhận; nếu bị mất, vui lòng liên hệ bộ phận một cửa để được cấp lại.\n\n")
	}
	b.WriteString("Đây là thư tự động, vui lòng không trả lời.\n\n---\n")
	fmt.Fprintf(&b, "%s has certified an electronic copy of \"%s\" (number %s).\nView, check and download it at the link above.\n", unitName, title, number)
	if accessCode != "" {
		b.WriteString("The access code to download it is given above; keep it private.\n")
	} else {
		b.WriteString("The access code to download it is printed on your receipt.\n")
	}
	b.WriteString("This message was sent automatically; please do not reply.\n")
	return Message{To: to, Subject: fmt.Sprintf("Bản sao chứng thực điện tử số %s — %s", number, unitName), Body: b.String()}
}
