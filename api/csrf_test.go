package api

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
)

// TestCSRFEveryRoute walks the router: every POST, PUT, PATCH and DELETE route that is not
// exempt (csrfExempt, each with its reason) refuses a logged-in officer's request without
// the session's token with 403 — URL-encoded, multipart (a token anywhere but first, too) —
// and nothing happens: the register is unchanged. A new route is checked without anyone
// remembering to.
func TestCSRFEveryRoute(t *testing.T) {
	e := newEnv(t, nil)
	out := e.certifyPL()
	cl, csrf, _ := e.login("canbo", e.password)
	id := fmt.Sprint(out.Certification.ID)
	checked, exempt := 0, 0
	err := chi.Walk(e.handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		switch method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			return nil
		}
		if csrfExempted(route) {
			exempt++
			return nil
		}
		checked++
		path := strings.NewReplacer("{id}", id, "{token}", out.Certification.Token, "*", "x").Replace(route)
		send := func(what, ct string, body io.Reader, hdr string) {
			t.Helper()
			req, _ := http.NewRequest(method, e.srv.URL+path, body)
			req.Header.Set("Content-Type", ct)
			if hdr != "" {
				req.Header.Set("X-CSRF-Token", hdr)
			}
			res, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "CSRF") {
				t.Errorf("%s %s %s: %d, want 403 (CSRF)\n%.300s", method, route, what, res.StatusCode, b)
			}
		}
		form := url.Values{"reason": {"Cấp nhầm"}, "title": {"x"}}
		send("no token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), "")
		form.Set("csrf", "forged")
		send("forged token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), "")
		send("forged header", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), "forged")
		mb, mct := multipartBody([][2]string{{"a.jpg", string(scan)}}, map[string]string{"reason": "Cấp nhầm", "title": "x", "requester": "y"})
		send("multipart, no token", mct, mb, "")
		// The right token, but after a file: the file would be read before the check.
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, _ := mw.CreateFormFile("file", "a.jpg")
		fw.Write(scan)
		mw.WriteField("csrf", csrf)
		mw.WriteField("reason", "Cấp nhầm")
		mw.WriteField("title", "x")
		mw.Close()
		send("multipart, token after the file", mw.FormDataContentType(), &b, "")
		send("no body", "", nil, "")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 5 || exempt < 4 {
		t.Fatalf("walked %d checked and %d exempt routes: the router was not walked", checked, exempt)
	}
	c, err := e.reg.CertificationByID(t.Context(), out.Certification.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != chungthuc.StatusIssued {
		t.Fatalf("status after refused requests: %s", c.Status)
	}
	// The session still works, and the same requests with the token pass the check.
	res, err := cl.PostForm(e.srv.URL+"/app/c/"+id+"/revoke", url.Values{"csrf": {csrf}, "reason": {"Cấp nhầm"}, "confirm": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusOK {
		t.Fatalf("revoke with the token: %d", res.StatusCode)
	}
	mb, mct := multipartBody([][2]string{{"a.jpg", string(scan)}}, map[string]string{"csrf": csrf, "title": "Giấy khai sinh", "requester": "Phạm Thị Ánh"})
	res, err = cl.Post(e.srv.URL+"/app/certify", mct, mb)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	// Post/Redirect/Get: the workspace answers a certification with 303 to the entry.
	if res.StatusCode != http.StatusSeeOther || !regexp.MustCompile(`^/app/c/\d+`).MatchString(res.Header.Get("Location")) {
		t.Fatalf("certify with the token first: %d %q\n%.500s", res.StatusCode, res.Header.Get("Location"), body)
	}
}
