package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
)

// TestAPIPrintedFields: a newline, a bidi override or a zero-width character in any printed
// field is a 400 naming the field, and uses no number; document, requester and copies are
// recorded under their names, title is accepted as the deprecated alias of document.
func TestAPIPrintedFields(t *testing.T) {
	e := newEnv(t, nil)
	post := func(fields map[string]string) (*http.Response, string) {
		body, ct := multipartBody([][2]string{{"a.jpg", string(scan)}}, fields)
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/certifications", body)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+e.plToken)
		return e.do(req)
	}
	base := func() map[string]string {
		return map[string]string{"document": "Giấy khai sinh", "requester": "Nguyễn Văn A", "issuer": "UBND xã Tân Lập"}
	}
	for _, bad := range []string{"Giấy khai sinh\nSố chứng thực 999, quyển số 99/2020-SCT/BS", "Nguyễn \u202eVăn A", "Nguyễn\u200bVăn A"} {
		for _, field := range []string{"document", "requester", "issuer", "officer_title"} {
			f := base()
			f[field] = bad
			res, body := post(f)
			if res.StatusCode != 400 || !strings.Contains(body, "invalid") {
				t.Fatalf("%s = %q: %d %s", field, bad, res.StatusCode, body)
			}
		}
	}
	for name, f := range map[string]map[string]string{
		"no requester":        {"document": "Giấy khai sinh"},
		"no document":         {"requester": "Nguyễn Văn A"},
		"a title not allowed": {"document": "Giấy khai sinh", "requester": "Nguyễn Văn A", "officer_title": "CHỦ TỊCH NƯỚC"},
		"copies 0":            {"document": "Giấy khai sinh", "requester": "Nguyễn Văn A", "copies": "0"},
		"copies x":            {"document": "Giấy khai sinh", "requester": "Nguyễn Văn A", "copies": "x"},
	} {
		if res, body := post(f); res.StatusCode != 400 {
			t.Fatalf("%s: %d %s", name, res.StatusCode, body)
		}
	}
	if _, n, _ := e.reg.Certifications(context.Background(), chungthuc.CertificationFilter{UnitID: e.pl.ID}); n != 0 {
		t.Fatalf("refused requests used %d numbers", n)
	}
	f := base()
	f["copies"], f["confirm_low_resolution"] = "2", "true"
	res, body := post(f)
	var c struct {
		Document, Title, Requester, OfficerTitle string
		Copies                                   int
		FeeVND                                   int64 `json:"fee_vnd"`
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(body, "officer_title", "officertitle")), &c); err != nil || res.StatusCode != 201 {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if c.Document != "Giấy khai sinh" || c.Title != c.Document || c.Requester != "Nguyễn Văn A" || c.Copies != 2 || c.FeeVND != 4000 ||
		c.OfficerTitle != e.plOff.Title {
		t.Fatalf("201 body: %s", body)
	}
	f = map[string]string{"title": "Bằng tốt nghiệp", "requester": "Nguyễn Văn B"}
	if res, body := post(f); res.StatusCode != 201 || !strings.Contains(body, `"document": "Bằng tốt nghiệp"`) {
		t.Fatalf("the deprecated alias title: %d %s", res.StatusCode, body)
	}
}
