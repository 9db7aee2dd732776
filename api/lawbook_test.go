package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/credentials"
	"github.com/chungthuc/chungthuc/internal/testscan"
	"github.com/chungthuc/chungthuc/storage/sqlite"
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

// regAdmin is a UnitAdmin over the test register (the command's wiring does the same with
// the signer for printouts; here they are stand-in bytes).
type regAdmin struct{ reg *sqlite.DB }

func (x regAdmin) SetSeal(ctx context.Context, unitID int64, png []byte, mm float64) error {
	u, err := x.reg.UnitByID(ctx, unitID)
	if err != nil {
		return err
	}
	u.SealImage, u.SealMM = png, mm
	return x.reg.UpdateUnit(ctx, u)
}
func (x regAdmin) SetSignature(ctx context.Context, unitID, officerID int64, png []byte) error {
	o, err := x.reg.OfficerByID(ctx, officerID)
	if err != nil || o.UnitID != unitID {
		return chungthuc.Errorf(chungthuc.ENOTFOUND, "officer %d not found", officerID)
	}
	o.SignatureImage = png
	return x.reg.UpdateOfficer(ctx, o)
}
func (x regAdmin) Books(ctx context.Context, unitID int64, year int) ([]*chungthuc.Book, error) {
	return x.reg.Books(ctx, unitID, year)
}
func (x regAdmin) BookPrint(ctx context.Context, unitID, bookID int64, csv bool) ([]byte, error) {
	return []byte("%PDF-book"), nil
}
func (x regAdmin) RefusalSlip(ctx context.Context, unitID, refusalID int64) ([]byte, error) {
	r, err := x.reg.RefusalByID(ctx, refusalID)
	if err != nil || r.UnitID != unitID {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "refusal %d not found", refusalID)
	}
	return []byte("%PDF-slip"), nil
}

// TestUnitAdminUploads: only the unit administrator uploads the seal and signature images;
// a PNG without transparency is refused (400) and changes nothing; after a refusal the page
// links its slip.
func TestUnitAdminUploads(t *testing.T) {
	e := newEnv(t, func(d *Deps) { d.UnitAdmin = regAdmin{reg: d.Register.(*sqlite.DB)} })
	ctx := context.Background()
	hash, _ := credentials.HashPassword(e.password)
	if err := e.reg.CreateAccount(ctx, &chungthuc.Account{UnitID: e.tm.ID, OfficerID: e.tmOff.ID, Username: "quantri.tm", Role: chungthuc.RoleUnitAdmin, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	upload := func(cl *http.Client, path string, fields map[string]string, file, name string, data []byte) int {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("csrf", fields["csrf"]) // first, as the form sends it: the CSRF check reads only the first part
		for k, v := range fields {
			if k != "csrf" {
				mw.WriteField(k, v)
			}
		}
		fw, _ := mw.CreateFormFile(file, name)
		fw.Write(data)
		mw.Close()
		res, err := cl.Post(e.srv.URL+path, mw.FormDataContentType(), &b)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	seal := testscan.SealPNG(150)
	officer, csrf, _ := e.login("canbo.tm", e.password)
	if code := upload(officer, "/app/unit/seal", map[string]string{"csrf": csrf, "seal_mm": "36"}, "seal", "seal.png", seal); code != 403 {
		t.Fatalf("an officer uploaded the seal: %d", code)
	}
	admin, csrf, _ := e.login("quantri.tm", e.password)
	opaque := testscan.PNG(testscan.Page(1, 20), 20)
	if code := upload(admin, "/app/unit/seal", map[string]string{"csrf": csrf, "seal_mm": "36"}, "seal", "seal.png", opaque); code != 400 {
		t.Fatalf("an opaque seal: %d", code)
	}
	if code := upload(admin, "/app/unit/seal", map[string]string{"csrf": csrf, "seal_mm": "38"}, "seal", "seal.png", seal); code != 303 {
		t.Fatalf("seal upload: %d", code)
	}
	u, _ := e.reg.UnitByID(ctx, e.tm.ID)
	if string(u.SealImage) != string(seal) || u.SealMM != 38 {
		t.Fatalf("the seal was not recorded: %d bytes, %v mm", len(u.SealImage), u.SealMM)
	}
	sig := testscan.SignaturePNG(300, 100)
	if code := upload(admin, "/app/unit/signature", map[string]string{"csrf": csrf, "officer": strconv.FormatInt(e.plOff.ID, 10)}, "signature", "sig.png", sig); code != 404 {
		t.Fatalf("a signature for another unit's officer: %d", code)
	}
	if code := upload(admin, "/app/unit/signature", map[string]string{"csrf": csrf, "officer": strconv.FormatInt(e.tmOff.ID, 10)}, "signature", "sig.png", sig); code != 303 {
		t.Fatalf("signature upload: %d", code)
	}
	if o, _ := e.reg.OfficerByID(ctx, e.tmOff.ID); string(o.SignatureImage) != string(sig) {
		t.Fatal("the signature was not recorded")
	}
	res, err := admin.Get(e.srv.URL + "/app/unit")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "38 mm") {
		t.Fatalf("unit page: %d %s", res.StatusCode, page)
	}
	// A refusal links its slip; another unit's slip is not found.
	cl, csrf2, _ := e.login("canbo", e.password)
	res, err = cl.PostForm(e.srv.URL+"/app/refuse", url.Values{"csrf": {csrf2}, "reason": {"other"}, "note": {"Bản chính là bản photocopy"}})
	if err != nil || res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/app/refuse?done=") {
		t.Fatalf("refuse: %v %d", err, res.StatusCode)
	}
	loc := res.Header.Get("Location")
	lu, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	id := lu.Query().Get("slip")
	res, _ = cl.Get(e.srv.URL + loc)
	page, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(page), "/app/refusals/"+id+"/slip") {
		t.Fatalf("no slip link:\n%s", page)
	}
	if res, _ = cl.Get(e.srv.URL + "/app/refusals/" + id + "/slip"); res.StatusCode != 200 {
		t.Fatalf("slip: %d", res.StatusCode)
	}
	if res, _ = admin.Get(e.srv.URL + "/app/refusals/" + id + "/slip"); res.StatusCode != 404 {
		t.Fatalf("another unit's slip: %d", res.StatusCode)
	}
	res, _ = cl.PostForm(e.srv.URL+"/app/refuse", url.Values{"csrf": {csrf2}, "reason": {"other"}, "note": {"a\u202eb"}})
	if res.StatusCode != 400 {
		t.Fatalf("a refusal note with U+202E: %d", res.StatusCode)
	}
}
