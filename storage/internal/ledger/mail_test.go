package ledger

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chungthuc/chungthuc"
)

func TestMailChecks(t *testing.T) {
	long := strings.Repeat("ệ", 300) // 900 bytes
	r, d := MailFailure(long, true)
	if len(r) > 500 || !utf8.ValidString(r) || d["final"] != true || d["reason"] != r {
		t.Errorf("MailFailure: %d bytes, valid %v, %v", len(r), utf8.ValidString(r), d["final"])
	}
	if r, d := MailFailure("550", false); r != "550" || d["final"] != nil {
		t.Errorf("short reason: %q %v", r, d)
	}
	for _, bad := range []*chungthuc.MailRequest{{To: ""}, {To: "a@b.vn\nBcc: c@d.vn"}, {To: "nobody"}, {To: strings.Repeat("a", 250) + "@b.vn"}, {To: "a@b.vn", AccessCode: "A\rB"}} {
		if CheckMail(bad) == nil {
			t.Errorf("CheckMail(%+v) accepted", bad)
		}
	}
	if CheckMail(nil) != nil || CheckMail(&chungthuc.MailRequest{To: "a@b.vn"}) != nil {
		t.Error("a good request refused")
	}
	for in, want := range map[string]string{"nguyen@example.vn": "n…@example.vn", "Đức@x.vn": "Đ…@x.vn", "nope": "…", "@x.vn": "…"} {
		if got := chungthuc.MailHint(in); got != want {
			t.Errorf("MailHint(%q) = %q, want %q", in, got, want)
		}
	}
}
