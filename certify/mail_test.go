package certify

import (
	"context"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
)

// TestCertifyEmail: an address is checked before a number is used (and refused when the
// service sends no e-mail); with one, the message is held with the entry and due once the
// copy is issued, carrying the code (or not, with MailWithoutCode).
func TestCertifyEmail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := e.input()
	in.Email = "an@example.vn"
	if _, err := e.svc.Certify(ctx, in); chungthuc.ErrorCode(err) != chungthuc.EINVALID || !strings.Contains(err.Error(), "CHUNGTHUC_SMTP_URL") {
		t.Fatalf("e-mail without SMTP: %v", err)
	}
	e.svc.Mail = true
	for _, bad := range []string{"an@example.vn\r\nBcc: x@y.vn", "An <an@example.vn>", "an@example.vn; b@example.vn", "an", "an@localhost"} {
		in.Email = bad
		if _, err := e.svc.Certify(ctx, in); chungthuc.ErrorCode(err) != chungthuc.EINVALID || !strings.Contains(err.Error(), "Địa chỉ thư điện tử không hợp lệ") {
			t.Fatalf("address %q: %v", bad, err)
		}
	}
	in.Email = "  an@example.vn "
	out, err := e.svc.Certify(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Certification.Number != 1 {
		t.Fatalf("number %d: a refused address used a number", out.Certification.Number)
	}
	js, err := e.reg.ClaimMails(ctx, "t", e.now, e.now.Add(60e9), 10)
	if err != nil || len(js) != 1 || js[0].To != "an@example.vn" || js[0].AccessCode != out.AccessCode || js[0].CertificationID != out.Certification.ID {
		t.Fatalf("queued %+v %v", js, err)
	}
	e.svc.MailWithoutCode = true
	out, err = e.svc.Certify(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	js, err = e.reg.ClaimMails(ctx, "t2", e.now, e.now.Add(60e9), 10)
	if err != nil || len(js) != 1 || js[0].AccessCode != "" || js[0].CertificationID != out.Certification.ID {
		t.Fatalf("queued without code %+v %v", js, err)
	}
}

// TestPreviewUsesNoNumber: a preview checks the request as Certify does and reserves nothing.
func TestPreviewUsesNoNumber(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cp, err := e.svc.Preview(ctx, e.input())
	if err != nil || len(cp.PDF) == 0 || cp.SHA256 != "" {
		t.Fatalf("preview: %v", err)
	}
	bad := e.input()
	bad.Requester = "x\ny"
	if _, err := e.svc.Preview(ctx, bad); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("preview of a bad request: %v", err)
	}
	out, err := e.svc.Certify(ctx, e.input())
	if err != nil || out.Certification.Number != 1 {
		t.Fatalf("after previews: %v %+v", err, out)
	}
}

// BenchmarkCertifyEmail: a certification with an e-mail queued against one without, in the
// same run (the difference is the outbox row written at Reserve and released at Issue).
func BenchmarkCertifyEmail(b *testing.B) {
	e := newEnv(b)
	e.svc.Mail = true
	ctx := context.Background()
	for _, tc := range []struct{ name, email string }{{"without", ""}, {"with-email", "nguyen.van.an@example.vn"}, {"without-again", ""}} {
		b.Run(tc.name, func(b *testing.B) {
			in := e.input()
			in.Email = tc.email
			for b.Loop() {
				if _, err := e.svc.Certify(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
