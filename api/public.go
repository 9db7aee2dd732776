package api

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
	"github.com/chungthuc/chungthuc/verify"
)

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	setLang(w, r)
	if s.sessionFrom(r) != nil {
		http.Redirect(w, r, "/app/", http.StatusSeeOther)
		return
	}
	s.render(w, r, "home.html", nil)
}

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9_-]{22,128}$`)

// noToken is looked up in place of a malformed token: it matches no entry (tokens never
// contain '.'), so a malformed token costs the same database round trip as an unknown one.
const noToken = "....................."

// lookupToken finds an issued or revoked entry by its token; anything else (malformed,
// unknown, pending, void) is ENOTFOUND — one answer, after the same work, for every way of
// guessing wrong.
func (s *Server) lookupToken(r *http.Request, token string) (*chungthuc.Certification, *chungthuc.Unit, error) {
	notFound := bi(chungthuc.ENOTFOUND, "Không có bản sao chứng thực nào với đường dẫn này.", "No certified copy has this link.")
	if !tokenRE.MatchString(token) {
		token = noToken
	}
	c, err := s.Public.CertificationByToken(r.Context(), token)
	if err != nil {
		if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
			return nil, nil, notFound
		}
		return nil, nil, err
	}
	if c.Status != chungthuc.StatusIssued && c.Status != chungthuc.StatusRevoked {
		return nil, nil, notFound
	}
	u, err := s.Public.UnitByID(r.Context(), c.UnitID)
	if err != nil {
		return nil, nil, err
	}
	return c, u, nil
}

// tokenPage finds the issued or revoked entry of a page's {token}. When there is none it
// answers itself — the not-found page (404), counted under notFoundMetric when not empty, or
// the error — and returns a nil entry.
func (s *Server) tokenPage(w http.ResponseWriter, r *http.Request, notFoundMetric string) (*chungthuc.Certification, *chungthuc.Unit, string) {
	setLang(w, r)
	token := chi.URLParam(r, "token")
	c, u, err := s.lookupToken(r, token)
	if err != nil && chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		s.Error(w, r, err)
		return nil, nil, token
	}
	if c == nil {
		if notFoundMetric != "" {
			s.metrics.count("chungthuc_verifications_total", notFoundMetric)
		}
		w.WriteHeader(http.StatusNotFound)
		s.render(w, r, "token.html", map[string]any{})
	}
	return c, u, token
}

// verifyToken is the QR target: the copy's status and public facts, never its content.
func (s *Server) verifyToken(w http.ResponseWriter, r *http.Request) {
	c, u, token := s.tokenPage(w, r, `kind="link",outcome="not_found"`)
	if c == nil {
		return
	}
	s.metrics.count("chungthuc_verifications_total", fmt.Sprintf(`kind="link",outcome=%q`, publicStatus(c)))
	data := tokenData(r, c, u, token)
	data["Log"] = s.logLine(r, c)
	if msg, ok := storedCopyMessages[s.storedCopy(r, c)]; ok {
		data["StoredCopyMessage"] = msg[0]
		if langOf(r) == "en" {
			data["StoredCopyMessage"] = msg[1]
		}
	}
	s.render(w, r, "token.html", data)
}

// storedCopy is what is known of an entry's stored copy ("ok", or the kind of an open
// finding: missing, damaged, overwritten, deleted). When the register cannot say, "ok" is
// assumed and the error logged: the public answer is about the certification.
func (s *Server) storedCopy(r *http.Request, c *chungthuc.Certification) string {
	state, err := s.Certify.StoredCopyState(r.Context(), c)
	if err != nil {
		s.log.Warn("stored copy state unknown", "request_id", requestID(r), "certification", c.ID, "err", err)
		return "ok"
	}
	return state
}

// publicStatus is "valid" or "revoked".
func publicStatus(c *chungthuc.Certification) string {
	if c.Status == chungthuc.StatusRevoked {
		return "revoked"
	}
	return "valid"
}

// download gives the citizen the PDF for the link and the access code. A wrong code and an
// unknown link get the same answer; each attempt is rate limited and every download audited.
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	token := chi.URLParam(r, "token")
	code := r.FormValue("code")
	c, u, err := s.lookupToken(r, token)
	if err != nil && chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		s.Error(w, r, err)
		return
	}
	ok, err := s.accessCodeMatches(r, c, token, code)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !ok {
		s.metrics.count("chungthuc_downloads_total", `outcome="refused"`)
		w.WriteHeader(http.StatusForbidden)
		msg := wrongCode(r)
		if c == nil {
			s.render(w, r, "token.html", map[string]any{"Error": msg})
			return
		}
		data := tokenData(r, c, u, token)
		data["Error"] = msg
		s.render(w, r, "token.html", data)
		return
	}
	// No download without its audit record.
	if err := s.audit(r, &chungthuc.AuditEntry{Action: "download", UnitID: c.UnitID, Actor: "citizen:" + clientAddr(r),
		Subject: fmt.Sprintf("certification:%d", c.ID), Detail: `{"via":"link+access_code"}`}); err != nil {
		s.Error(w, r, err)
		return
	}
	s.streamPDF(w, r, c)
}

// accessCodeMatches reports whether code is the access code in force of c, an issued entry
// found by token (nil: unknown — the same hashing work is done either way).
func (s *Server) accessCodeMatches(r *http.Request, c *chungthuc.Certification, token, code string) (bool, error) {
	if c == nil {
		certify.HashAccessCode(token, code) // same work either way
		return false, nil
	}
	// The code in force: a reissued code voids the ones before it.
	want, err := s.Public.AccessCodeHash(r.Context(), c)
	if err != nil {
		return false, err
	}
	return c.Status == chungthuc.StatusIssued &&
		subtle.ConstantTimeCompare([]byte(certify.HashAccessCode(c.Token, code)), []byte(want)) == 1, nil
}

// wrongCode is the answer to a wrong access code (or an unknown link).
func wrongCode(r *http.Request) string {
	if langOf(r) == "en" {
		return "Wrong access code: type the code printed on the receipt again."
	}
	return "Mã truy cập không đúng: hãy nhập lại đúng mã in trên biên nhận."
}

// streamPDF sends a stored copy: the version recorded when it was issued, read in full and
// checked against the register's SHA-256 before the first byte goes out (certify.ReadCopy),
// so a swapped, truncated, forged or missing object never yields a 200. A copy that fails
// the check gets a plain error page (no key, bucket or endpoint), is logged at ERROR with
// the entry and the request, counted, recorded as a finding and audited.
// With ?inline=1 the browser shows it (the officer's preview of the stamped result).
func (s *Server) streamPDF(w http.ResponseWriter, r *http.Request, c *chungthuc.Certification) {
	cp, err := s.Certify.ReadCopy(r.Context(), c)
	if err != nil {
		var f *certify.CopyFault
		if errors.As(err, &f) {
			s.log.Error("stored copy failed its check", "request_id", requestID(r), "certification", c.ID,
				"number", c.Number, "year", c.Year, "kind", f.Kind, "detail", f.Detail)
			s.metrics.count("chungthuc_downloads_total", `outcome="integrity_failure"`)
			s.integrityError(w, r, f)
			return
		}
		s.Error(w, r, err)
		return
	}
	defer func() { _ = cp.Close() }() // removes the spool file; nothing to tell the client
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", fmt.Sprint(cp.Size))
	disposition := "attachment"
	if r.URL.Query().Get("inline") == "1" {
		disposition = "inline"
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`%s; filename="ban-sao-%d-%d.pdf"`, disposition, c.Year, c.Number))
	w.Header().Set("Cache-Control", "no-store")
	s.metrics.count("chungthuc_downloads_total", `outcome="ok"`)
	if _, err := io.Copy(w, cp); err != nil {
		// The headers are sent: the client sees a short file (Content-Length says so).
		s.log.Warn("download interrupted", "request_id", requestID(r), "certification", c.ID, "err", err)
	}
}

// integrityError answers a download whose stored copy is missing or damaged: 500 with a
// message for people, the request ID, and nothing about where objects live.
func (s *Server) integrityError(w http.ResponseWriter, r *http.Request, f *certify.CopyFault) {
	const status = http.StatusInternalServerError
	msg := chungthuc.ErrorMessage(f)
	if isAPI(r) {
		writeJSON(w, status, map[string]any{"error": map[string]string{"code": chungthuc.EINTERNAL, "message": msg},
			"stored_copy": f.Kind, "request_id": requestID(r)})
		return
	}
	w.WriteHeader(status)
	s.render(w, r, "error.html", map[string]any{"Status": status, "Message": msg, "Code": "stored_copy_" + f.Kind, "RequestID": requestID(r)})
}

func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) {
	setLang(w, r)
	s.render(w, r, "verify.html", map[string]any{"MaxUpload": s.MaxUpload})
}

// verifyUpload checks an uploaded PDF and shows the report.
func (s *Server) verifyUpload(w http.ResponseWriter, r *http.Request) {
	rep, err := s.verifyRequest(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := reportVerdict(rep, langOf(r))
	s.render(w, r, "verify.html", map[string]any{"Report": rep, "Verdict": v, "MaxUpload": s.MaxUpload})
}

// tokenData is what the verification page of a copy shows: the verdict first, and the page
// count as the copy's own footer counts it (the original's pages plus the statement page).
func tokenData(r *http.Request, c *chungthuc.Certification, u *chungthuc.Unit, token string) map[string]any {
	lang := langOf(r)
	note := fmt.Sprintf("%d trang bản chính và 1 trang lời chứng", c.Pages)
	if lang == "en" {
		note = fmt.Sprintf("%d of the original and 1 statement page", c.Pages)
	}
	return map[string]any{"C": c, "Unit": u, "Token": token, "Verdict": entryVerdict(c, lang),
		"CopyPages": c.Pages + 1, "PagesNote": note}
}

// verifyRequest runs the verification engine on the PDF of a request: a multipart field
// "file" or the raw body (application/pdf).
func (s *Server) verifyRequest(w http.ResponseWriter, r *http.Request) (*verify.Report, error) {
	limit := s.MaxUpload
	var path string
	if isMultipart(r) {
		u, err := s.readUpload(w, r, "file", "pdf", limit)
		if err != nil {
			return nil, err
		}
		defer u.cleanup()
		if len(u.files) != 1 {
			return nil, bi(chungthuc.EINVALID, "Hãy chọn đúng một tệp PDF để kiểm tra.", "Choose exactly one PDF file to check.")
		}
		path = u.files[0].path
	} else {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/pdf") && !strings.HasPrefix(ct, "application/octet-stream") {
			return nil, bi(chungthuc.EUNSUPPORTED, "Hãy gửi một tệp PDF (application/pdf) hoặc biểu mẫu tải tệp có ô “file”.", "Send a PDF (application/pdf) or an upload form with the field “file”.")
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		f, err := os.CreateTemp("", "chungthuc-verify-*")
		if err != nil {
			return nil, err
		}
		defer os.Remove(f.Name())
		_, err = io.Copy(f, r.Body)
		if cerr := f.Close(); err == nil && cerr != nil {
			return nil, cerr
		}
		if err != nil {
			return nil, uploadErr(err, limit)
		}
		path = f.Name()
		if err := checkMagic(path, "upload", "pdf"); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	release, err := s.verifying.enter(r.Context())
	if err != nil {
		return nil, err
	}
	defer release()
	rep, err := s.Verify(r.Context(), f, st.Size())
	if err != nil {
		s.metrics.count("chungthuc_verifications_total", `kind="upload",outcome="error"`)
		return nil, err
	}
	outcome := "invalid"
	if rep.Valid {
		outcome = "valid"
	}
	s.metrics.count("chungthuc_verifications_total", fmt.Sprintf(`kind="upload",outcome=%q`, outcome))
	return rep, nil
}

func (s *Server) apiVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := s.verifyRequest(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// storedCopyMessages explain a stored copy that is not "ok", in Vietnamese and English.
var storedCopyMessages = map[string][2]string{
	chungthuc.FindingMissing: {"Bản lưu trữ của bản sao này không còn trong kho của cơ quan chứng thực; cơ quan đã được thông báo.",
		"The office's stored copy of this certification is missing; the office has been notified."},
	chungthuc.FindingDamaged: {"Bản lưu trữ của bản sao này trong kho không còn nguyên vẹn; cơ quan chứng thực đã được thông báo.",
		"The office's stored copy of this certification is damaged; the office has been notified."},
	chungthuc.FindingOverwritten: {"Có người đã ghi đè lên bản lưu trữ trong kho; bản gốc vẫn còn nguyên và cơ quan chứng thực đã được thông báo.",
		"Someone wrote over the stored copy; the original is still intact and the office has been notified."},
	chungthuc.FindingDeleted: {"Có người đã xóa bản lưu trữ trong kho; bản gốc vẫn còn nguyên và cơ quan chứng thực đã được thông báo.",
		"Someone deleted the stored copy; the original is still intact and the office has been notified."},
}

// publicJSON is what anyone may learn about a copy from its link or its hash. stored is the
// state of the office's stored copy ("ok", missing, damaged, overwritten, deleted): a
// certification stays valid or revoked whatever happened to the office's copy, but the
// answer says when that copy is missing or damaged (stored_copy, stored_copy_message_*).
func publicJSON(c *chungthuc.Certification, u *chungthuc.Unit, stored string) map[string]any {
	m := map[string]any{
		"status": publicStatus(c), "unit": u.Name, "number": c.Number, "book": c.BookCode,
		"certified_at":  c.CertifiedAt.In(chungthuc.Vietnam).Format(time.RFC3339),
		"officer_title": c.OfficerTitle, "officer_name": c.OfficerName, "pages": c.Pages, "sha256": c.SHA256,
		"stored_copy": stored,
	}
	if msg, ok := storedCopyMessages[stored]; ok {
		m["stored_copy_message_vi"], m["stored_copy_message_en"] = msg[0], msg[1]
	}
	if c.Status == chungthuc.StatusRevoked {
		m["revoke_reason"] = c.RevokeReason
		if c.RevokedAt != nil {
			m["revoked_at"] = c.RevokedAt.In(chungthuc.Vietnam).Format(time.RFC3339)
		}
		m["message_vi"] = fmt.Sprintf("Bản sao số %d đã bị thu hồi: %s", c.Number, c.RevokeReason)
		m["message_en"] = fmt.Sprintf("Copy number %d was revoked: %s", c.Number, c.RevokeReason)
	} else {
		m["message_vi"] = fmt.Sprintf("Được chứng thực bởi %s ngày %s, số %d", u.Name, c.CertifiedAt.In(chungthuc.Vietnam).Format("02/01/2006"), c.Number)
		m["message_en"] = fmt.Sprintf("Certified by %s on %s, number %d", u.Name, c.CertifiedAt.In(chungthuc.Vietnam).Format("2006-01-02"), c.Number)
	}
	return m
}

func (s *Server) apiVerifyToken(w http.ResponseWriter, r *http.Request) {
	c, u, err := s.lookupToken(r, chi.URLParam(r, "token"))
	if err != nil {
		s.metrics.count("chungthuc_verifications_total", `kind="api_link",outcome="not_found"`)
		s.Error(w, r, err)
		return
	}
	s.metrics.count("chungthuc_verifications_total", fmt.Sprintf(`kind="api_link",outcome=%q`, publicStatus(c)))
	writeJSON(w, http.StatusOK, s.withLog(r, publicJSON(c, u, s.storedCopy(r, c)), c))
}

var sha256RE = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// apiVerifyHash answers "was a file with this SHA-256 certified?" for holders of the file
// who prefer not to upload it.
func (s *Server) apiVerifyHash(w http.ResponseWriter, r *http.Request) {
	sum := strings.ToLower(chi.URLParam(r, "sum"))
	notFound := map[string]any{"status": "not_registered", "sha256": sum,
		"message_vi": "Không có bản sao nào với mã băm này trong sổ chứng thực.",
		"message_en": "No certified copy with this hash is in the register."}
	if !sha256RE.MatchString(sum) {
		s.Error(w, r, bi(chungthuc.EINVALID, "Mã băm SHA-256 gồm 64 chữ số thập lục phân.", "A SHA-256 is 64 hexadecimal digits."))
		return
	}
	c, err := s.Public.CertificationBySHA256(r.Context(), sum)
	if err != nil {
		if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND {
			s.metrics.count("chungthuc_verifications_total", `kind="hash",outcome="not_registered"`)
			writeJSON(w, http.StatusNotFound, notFound)
			return
		}
		s.Error(w, r, err)
		return
	}
	if c.Status != chungthuc.StatusIssued && c.Status != chungthuc.StatusRevoked {
		writeJSON(w, http.StatusNotFound, notFound)
		return
	}
	u, err := s.Public.UnitByID(r.Context(), c.UnitID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.metrics.count("chungthuc_verifications_total", fmt.Sprintf(`kind="hash",outcome=%q`, publicStatus(c)))
	writeJSON(w, http.StatusOK, s.withLog(r, publicJSON(c, u, s.storedCopy(r, c)), c))
}
