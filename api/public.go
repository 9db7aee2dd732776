package api

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/skip2/go-qrcode"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/verify"
)

// publicRegister is all the public pages may ask of the register: read-only lookups.
type publicRegister interface {
	CertificationByToken(ctx context.Context, token string) (*chungthuc.Certification, error)
	CertificationBySHA256(ctx context.Context, sha256 string) (*chungthuc.Certification, error)
	UnitByID(ctx context.Context, id int64) (*chungthuc.Unit, error)
}

// objectReader is all the public pages may ask of the object store.
type objectReader interface {
	Get(ctx context.Context, key string) (io.ReadCloser, *chungthuc.ObjectInfo, error)
}

// public serves the pages anyone may open: the QR target, citizen download, upload-to-verify.
type public struct {
	s       *Server
	reg     publicRegister
	objects objectReader
}

// PublicStatus is what anyone with the link learns about a copy: metadata only, never the
// document's content.
type PublicStatus struct {
	Status       string     `json:"status"` // "valid" or "revoked"
	Unit         string     `json:"unit"`
	UnitCode     string     `json:"unit_code"`
	Number       int64      `json:"number"`
	Book         string     `json:"book"`
	CertifiedAt  time.Time  `json:"certified_at"`
	OfficerTitle string     `json:"officer_title"`
	OfficerName  string     `json:"officer_name"`
	Pages        int        `json:"pages"` // pages of the original
	SHA256       string     `json:"sha256"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
	VerifyURL    string     `json:"verify_url"`
	Token        string     `json:"-"`
}

// errNoCopy is the one answer for an unknown, malformed, pending or void token: nobody can
// tell them apart.
var errNoCopy = chungthuc.Errorf(chungthuc.ENOTFOUND, "No certified copy has this link. Check that the link or QR code was read completely.")

// lookupToken finds the issued or revoked entry of a token. Malformed tokens are looked up
// too (as an impossible value), so every miss costs the same database round trip.
func (p *public) lookupToken(ctx context.Context, token string) (*chungthuc.Certification, *chungthuc.Unit, error) {
	if !validToken(token) {
		token = "-"
	}
	c, err := p.reg.CertificationByToken(ctx, token)
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
		return nil, nil, errNoCopy
	} else if err != nil {
		return nil, nil, err
	}
	if c.Status != chungthuc.StatusIssued && c.Status != chungthuc.StatusRevoked {
		return nil, nil, errNoCopy
	}
	u, err := p.reg.UnitByID(ctx, c.UnitID)
	if err != nil {
		return nil, nil, err
	}
	return c, u, nil
}

// validToken: URL-safe base64, 16 to 64 characters.
func validToken(t string) bool {
	if len(t) < 16 || len(t) > 64 {
		return false
	}
	for _, c := range t {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (p *public) status(c *chungthuc.Certification, u *chungthuc.Unit) *PublicStatus {
	st := &PublicStatus{
		Status: "valid", Unit: u.Name, UnitCode: u.Code, Number: c.Number, Book: c.BookCode,
		CertifiedAt: c.CertifiedAt.In(chungthuc.Vietnam), OfficerTitle: c.OfficerTitle, OfficerName: c.OfficerName,
		Pages: c.Pages, SHA256: c.SHA256, VerifyURL: p.s.verifyURL(c.Token), Token: c.Token,
	}
	if c.Status == chungthuc.StatusRevoked {
		st.Status, st.RevokeReason = "revoked", c.RevokeReason
		if c.RevokedAt != nil {
			t := c.RevokedAt.In(chungthuc.Vietnam)
			st.RevokedAt = &t
		}
	}
	return st
}

func (p *public) home(w http.ResponseWriter, r *http.Request) {
	p.s.render(w, r, http.StatusOK, "home", "", nil)
}

// setLang remembers the chosen language in a cookie and returns to the page.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	l := chi.URLParam(r, "lang")
	if l != "en" {
		l = "vi"
	}
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, Secure: s.secure})
	next := r.URL.Query().Get("next")
	if !localPath(next) {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// localPath accepts only paths on this site (no scheme, no host, no "//"), so redirects
// cannot be turned into open redirects.
func localPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return false
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == ""
}

// verifyToken is the QR target: the public status of a copy.
func (p *public) verifyToken(w http.ResponseWriter, r *http.Request) {
	c, u, err := p.lookupToken(r.Context(), chi.URLParam(r, "token"))
	if err != nil {
		p.s.Metrics.verification("token", outcomeOf(err))
		Error(w, r, err)
		return
	}
	st := p.status(c, u)
	p.s.Metrics.verification("token", st.Status)
	p.s.render(w, r, http.StatusOK, "status", "", map[string]any{"S": st})
}

// apiVerifyToken is GET /api/v1/verify/{token}.
func (p *public) apiVerifyToken(w http.ResponseWriter, r *http.Request) {
	c, u, err := p.lookupToken(r.Context(), chi.URLParam(r, "token"))
	if err != nil {
		p.s.Metrics.verification("token", outcomeOf(err))
		Error(w, r, err)
		return
	}
	st := p.status(c, u)
	p.s.Metrics.verification("token", st.Status)
	writeJSON(w, http.StatusOK, st)
}

func outcomeOf(err error) string {
	switch chungthuc.ErrorCode(err) {
	case chungthuc.ENOTFOUND:
		return "not_found"
	case chungthuc.EINVALID, chungthuc.EUNSUPPORTED, chungthuc.ETOOLARGE:
		return "bad_input"
	}
	return "error"
}

// qr is the QR code (PNG) of a copy's link, for the receipt. Unknown tokens get the same
// 404 as on the status page.
func (p *public) qr(w http.ResponseWriter, r *http.Request) {
	c, _, err := p.lookupToken(r.Context(), chi.URLParam(r, "token"))
	if err != nil {
		Error(w, r, err)
		return
	}
	png, err := qrcode.Encode(p.s.verifyURL(c.Token), qrcode.Medium, 256)
	if err != nil {
		Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(png)
}

// errAccess is the one answer for a wrong code or an unknown link.
var errAccess = chungthuc.Errorf(chungthuc.EFORBIDDEN, "The access code does not match this link. Check the code on your receipt (biên nhận) and try again.")

// download gives the citizen the PDF for the link's token and the receipt's access code.
// A wrong code and an unknown token get the same answer after the same work; downloads and
// failed attempts are audit-logged.
func (p *public) download(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	code := r.PostFormValue("code")
	token := chi.URLParam(r, "token")
	c, _, err := p.lookupToken(r.Context(), token)
	if err != nil && chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		Error(w, r, err)
		return
	}
	want := strings.Repeat("0", 64)
	if c != nil {
		want = c.AccessCodeHash
	}
	got := certify.HashAccessCode(token, code)
	if c == nil || code == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		p.s.Metrics.download("denied")
		var unit int64
		subject := "token:unknown"
		if c != nil {
			unit, subject = c.UnitID, "certification:"+strconv.FormatInt(c.ID, 10)
		}
		p.s.auditEvent(r.Context(), "download.denied", unit, "public:"+clientIP(r), subject, "")
		if wantsJSON(r) {
			Error(w, r, errAccess)
			return
		}
		if c == nil {
			Error(w, r, errAccess)
			return
		}
		u, _ := p.reg.UnitByID(r.Context(), c.UnitID)
		pg := newPage(r, "", map[string]any{"S": p.status(c, u)})
		pg.Problem = pg.T("download.wrongcode")
		renderPage(w, r, http.StatusForbidden, "status", pg)
		return
	}
	rc, info, err := p.objects.Get(r.Context(), c.ObjectKey)
	if err != nil {
		Error(w, r, err)
		return
	}
	defer rc.Close()
	p.s.Metrics.download("ok")
	p.s.auditEvent(r.Context(), "download", c.UnitID, "public:"+clientIP(r), "certification:"+strconv.FormatInt(c.ID, 10), "")
	servePDF(w, rc, info.Size, pdfName(c))
}

func pdfName(c *chungthuc.Certification) string {
	return "ban-sao-chung-thuc-" + strconv.Itoa(c.Year) + "-" + strconv.FormatInt(c.Number, 10) + ".pdf"
}

func servePDF(w http.ResponseWriter, r io.Reader, size int64, name string) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("Cache-Control", "no-store")
	if size > 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	}
	io.Copy(w, r)
}

func (p *public) verifyPage(w http.ResponseWriter, r *http.Request) {
	p.s.render(w, r, http.StatusOK, "verify", "", map[string]any{})
}

// verifyUpload reads one PDF from a multipart upload (field "file") or a raw
// application/pdf body, to a temporary file, and verifies it.
func (p *public) verifyUpload(w http.ResponseWriter, r *http.Request) (*verify.Report, error) {
	var f *os.File
	var size int64
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/pdf" {
		if r.ContentLength > p.s.maxUpload {
			return nil, tooLarge(p.s.maxUpload)
		}
		tf, err := os.CreateTemp(p.s.tempDir, "chungthuc-verify-*")
		if err != nil {
			return nil, err
		}
		defer func() { tf.Close(); os.Remove(tf.Name()) }()
		n, err := io.Copy(tf, http.MaxBytesReader(w, r.Body, p.s.maxUpload))
		if err != nil {
			return nil, uploadErr(err, p.s.maxUpload)
		}
		head := make([]byte, 512)
		k, _ := tf.ReadAt(head, 0)
		if sniff(head[:k], []string{"application/pdf"}) == "" {
			return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "The file is not a PDF.")
		}
		f, size = tf, n
	} else {
		up, err := p.s.readUpload(w, r, "file", 1, []string{"application/pdf"})
		if err != nil {
			return nil, err
		}
		defer up.Close()
		if len(up.files) == 0 {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "Choose the PDF file to check.")
		}
		f, size = up.files[0].f, up.files[0].Size
	}
	return p.s.verify(r.Context(), f, size)
}

// reportOutcome names a report's outcome for the metrics.
func reportOutcome(rep *verify.Report) string {
	switch {
	case rep.Register != nil && rep.Register.Status == "revoked":
		return "revoked"
	case rep.Valid:
		return "valid"
	}
	return "invalid"
}

// apiVerifyFile is POST /api/v1/verify: a PDF in, the verification report out.
func (p *public) apiVerifyFile(w http.ResponseWriter, r *http.Request) {
	rep, err := p.verifyUpload(w, r)
	if err != nil {
		p.s.Metrics.verification("file", outcomeOf(err))
		Error(w, r, err)
		return
	}
	p.s.Metrics.verification("file", reportOutcome(rep))
	writeJSON(w, http.StatusOK, rep)
}

// verifyUploadPage is the no-script fallback of the verify page: the report as HTML.
func (p *public) verifyUploadPage(w http.ResponseWriter, r *http.Request) {
	rep, err := p.verifyUpload(w, r)
	if err != nil {
		p.s.Metrics.verification("file", outcomeOf(err))
		Error(w, r, err)
		return
	}
	p.s.Metrics.verification("file", reportOutcome(rep))
	p.s.render(w, r, http.StatusOK, "verify", "", map[string]any{"Report": rep})
}

// HashResult is the answer to a hash-only query: whether a file with this SHA-256 is a
// certified copy in the register (its signatures are not checked: the file was not sent).
type HashResult struct {
	Status       string     `json:"status"` // "valid", "revoked" or "not_registered"
	SHA256       string     `json:"sha256"`
	Unit         string     `json:"unit,omitempty"`
	Number       int64      `json:"number,omitempty"`
	Book         string     `json:"book,omitempty"`
	CertifiedAt  *time.Time `json:"certified_at,omitempty"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
}

// apiVerifyHash is POST /api/v1/verify/hash {"sha256": "…"}: the browser hashes the file
// and sends only the hash.
func (p *public) apiVerifyHash(w http.ResponseWriter, r *http.Request) {
	var in struct {
		SHA256 string `json:"sha256"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil {
		Error(w, r, chungthuc.Errorf(chungthuc.EINVALID, `The body must be JSON: {"sha256": "<64 hex digits>"}.`))
		return
	}
	sum := strings.ToLower(strings.TrimSpace(in.SHA256))
	if b, err := hex.DecodeString(sum); err != nil || len(b) != 32 {
		Error(w, r, chungthuc.Errorf(chungthuc.EINVALID, "sha256 must be 64 hexadecimal digits."))
		return
	}
	res := HashResult{Status: "not_registered", SHA256: sum}
	c, err := p.reg.CertificationBySHA256(r.Context(), sum)
	if err != nil && chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		Error(w, r, err)
		return
	}
	if err == nil && (c.Status == chungthuc.StatusIssued || c.Status == chungthuc.StatusRevoked) {
		u, err := p.reg.UnitByID(r.Context(), c.UnitID)
		if err != nil {
			Error(w, r, err)
			return
		}
		st := p.status(c, u)
		certAt := st.CertifiedAt
		res = HashResult{Status: st.Status, SHA256: sum, Unit: u.Name, Number: c.Number, Book: c.BookCode, CertifiedAt: &certAt, RevokedAt: st.RevokedAt, RevokeReason: st.RevokeReason}
	}
	p.s.Metrics.verification("hash", res.Status)
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers 200 when the register and the object store answer, 503 otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"register": "ok", "objects": "ok"}
	ok := true
	if _, err := s.reg.Units(ctx); err != nil {
		checks["register"], ok = chungthuc.ErrorMessage(err), false
	}
	if _, err := s.objects.Stat(ctx, "readyz-probe"); err != nil && chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		checks["objects"], ok = chungthuc.ErrorMessage(err), false
	}
	st := http.StatusOK
	if !ok {
		st = http.StatusServiceUnavailable
	}
	writeJSON(w, st, map[string]any{"ready": ok, "checks": checks})
}
