package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
)

// unitOf returns the unit the principal works in; EFORBIDDEN for accounts without one.
func (s *Server) unitOf(r *http.Request) (*chungthuc.Unit, error) {
	p := who(r)
	if p == nil || p.UnitID == 0 {
		return nil, bi(chungthuc.EFORBIDDEN, "Tài khoản này không thuộc cơ quan chứng thực nào.", "This account belongs to no certifying unit.")
	}
	return s.Register.UnitByID(r.Context(), p.UnitID)
}

// entryOf returns certification {id} if the principal may see it: only entries of their own
// unit (system administrators: any). Another unit's entry is ENOTFOUND, like a missing one.
func (s *Server) entryOf(r *http.Request) (*chungthuc.Certification, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	notFound := bi(chungthuc.ENOTFOUND, "Không tìm thấy mục này trong sổ chứng thực của đơn vị.", "This entry is not in your unit's register.")
	if err != nil || id <= 0 {
		return nil, notFound
	}
	c, err := s.Register.CertificationByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	p := who(r)
	if p.Role != chungthuc.RoleSystemAdmin && c.UnitID != p.UnitID {
		return nil, notFound
	}
	return c, nil
}

// canCertify reports whether the principal may certify: an officer linked to an officer record.
func canCertify(p *principal) error {
	if p.OfficerID == 0 || (p.Role != chungthuc.RoleOfficer && p.Role != chungthuc.RoleUnitAdmin) {
		return bi(chungthuc.EFORBIDDEN, "Chỉ người thực hiện chứng thực mới được chứng thực.", "Only a certifying officer can certify.")
	}
	return nil
}

// canRevoke reports whether the principal may revoke c: only within c's own unit, and only
// its certifying officers (API tokens act as one) and its administrator — not its records
// clerks, and not the system administrator, who reads every unit's register but acts on none.
func canRevoke(p *principal, c *chungthuc.Certification) error {
	if p == nil || p.UnitID == 0 || p.UnitID != c.UnitID ||
		!(p.Role == chungthuc.RoleUnitAdmin || (p.Role == chungthuc.RoleOfficer && p.OfficerID != 0)) {
		return bi(chungthuc.EFORBIDDEN, "Chỉ người thực hiện chứng thực hoặc quản trị viên của đơn vị mới được thu hồi bản sao của đơn vị.", "Only a certifying officer or the administrator of the unit can revoke its copies.")
	}
	return nil
}

// revoke revokes c for the principal, with a reason, and audit-logs who asked (the
// register's own audit entry of the revocation cannot know the caller).
func (s *Server) revoke(r *http.Request, c *chungthuc.Certification, reason string) (*chungthuc.Certification, error) {
	p := who(r)
	if err := canRevoke(p, c); err != nil {
		return nil, err
	}
	out, err := s.Certify.Revoke(r.Context(), c.UnitID, c.ID, reason)
	if err != nil {
		return nil, err
	}
	detail, err := json.Marshal(map[string]string{"reason": out.RevokeReason})
	if err != nil {
		return nil, err
	}
	// The revocation itself is done and audited by the register in its own transaction;
	// a failure to record who asked is logged with the request id (s.audit).
	_ = s.audit(r, &chungthuc.AuditEntry{Action: "revoke.request", UnitID: c.UnitID, Actor: p.actor(),
		Subject: fmt.Sprintf("certification:%d", c.ID), Detail: string(detail)})
	return out, nil
}

// period sums a unit's entries certified in [from, to).
func dayStart(t time.Time) time.Time {
	t = t.In(chungthuc.Vietnam)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, chungthuc.Vietnam)
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	setLang(w, r)
	p := who(r)
	if p.UnitID == 0 {
		http.Redirect(w, r, "/app/stats", http.StatusSeeOther)
		return
	}
	u, err := s.unitOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	now := s.Now()
	today := dayStart(now)
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, chungthuc.Vietnam)
	d, err := s.Register.Statistics(r.Context(), u.ID, today, today.AddDate(0, 0, 1), now)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	m, err := s.Register.Statistics(r.Context(), u.ID, month, month.AddDate(0, 1, 0), now)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	list, _, err := s.Register.Certifications(r.Context(), chungthuc.CertificationFilter{UnitID: u.ID, Limit: 10})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	toSign, toSeal, err := s.waitCounts(r, p)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.render(w, r, "dashboard.html", map[string]any{"Unit": u, "ToSign": toSign, "ToSeal": toSeal, "TodayCount": d.Certifications, "TodayFee": d.Fees,
		"MonthCount": m.Certifications, "MonthFee": m.Fees, "Month": m, "MonthOnTime": percent(m.OnTimeRate()), "Entries": list})
}

func (s *Server) certifyPage(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	if err := canCertify(p); err != nil {
		s.Error(w, r, err)
		return
	}
	o, err := s.Register.OfficerByID(r.Context(), p.OfficerID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.unitOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.render(w, r, "certify.html", map[string]any{"OfficerTitle": o.Title, "Titles": o.AllowedTitles(), "MaxCopies": chungthuc.MaxCopies,
		// Signing with the officer's own device is offered when a certificate of it is
		// registered; the unit's default (external_signing) is preselected.
		"CanExternal": len(o.CertPEM) > 0, "DefaultExternal": u.ExternalSigning && len(o.CertPEM) > 0,
		"FormKey": newFormKey(), "ReceivedAt": receivedNow(s.Now()), "MaxUploadMB": max(s.MaxUpload>>20-1, 1), // the files; a megabyte is left for the form
		// Not no-store: Back must bring this same form (and its one-time key) back from the
		// browser's cache, so that sending it again replays the first outcome.
		"CacheControl": "private, no-cache", "MaxUpload": s.MaxUpload, "MailEnabled": s.MailEnabled})
}

// certify runs one certification for the principal from an upload.
func (s *Server) certify(w http.ResponseWriter, r *http.Request) (*certify.Output, error) {
	p := who(r)
	if err := canCertify(p); err != nil {
		return nil, err
	}
	u, err := s.unitOf(r)
	if err != nil {
		return nil, err
	}
	up, err := s.readUpload(w, r, "file", "scan", s.MaxUpload)
	if err != nil {
		return nil, err
	}
	defer up.cleanup()
	if len(up.files) == 0 {
		return nil, bi(chungthuc.EINVALID, "Chưa có ảnh chụp bản chính: hãy chọn ít nhất một tệp JPEG, PNG hoặc PDF.", "No scan of the original was attached: choose at least one JPEG, PNG or PDF file.")
	}
	// "document" names the original; "title" is its deprecated alias (one release).
	doc := up.fields["document"]
	if trim(doc) == "" {
		doc = up.fields["title"]
	}
	if trim(doc) == "" {
		return nil, bi(chungthuc.EINVALID, "Chưa nhập tên giấy tờ: hãy điền ô “Tên giấy tờ” rồi gửi lại.", "The document title is missing: fill in “Document title” and send again.")
	}
	copies := 1
	if v := trim(up.fields["copies"]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, bi(chungthuc.EINVALID, fmt.Sprintf("Số bản sao phải là số nguyên từ 1 đến %d.", chungthuc.MaxCopies),
				fmt.Sprintf("The number of copies must be a whole number from 1 to %d.", chungthuc.MaxCopies))
		}
		copies = n
	}
	received, err := parseReceived(up.fields[receivedField])
	if err != nil {
		return nil, err
	}
	// Who signs ("signing": server or external; empty: the unit's default) — the JSON API's
	// field, or the workspace form's choice (signing.go serves the external steps).
	signing := trim(up.fields["signing"])
	in := certify.Input{
		UnitCode: u.Code, OfficerID: p.OfficerID, Title: up.fields["officer_title"], DocTitle: doc, Signing: signing,
		Issuer: up.fields["issuer"], Requester: up.fields["requester"], Copies: copies, KeepScans: true,
		Email:                up.fields["email"],
		ConfirmLowResolution: isTrue(up.fields["confirm_low_resolution"]), ReceivedAt: received,
	}
	// Everything printed under the signatures is checked before the scans are read (400).
	if err := certify.CheckInput(&in); err != nil {
		return nil, err
	}
	// The scans are read into memory and decoded from here on: one slot of the process-wide
	// budget (the upload itself was spooled to disk without one).
	release, err := s.certifying.enter(r.Context())
	if err != nil {
		return nil, err
	}
	defer release()
	scans, err := up.scans()
	if err != nil {
		return nil, err
	}
	// An idempotency key makes a retried submission return the first outcome: the
	// Idempotency-Key header (the JSON API) or the form field "idempotency_key" (a one-time
	// submission key a web form can carry).
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = up.fields["idempotency_key"]
	}
	if pk, ok := r.Context().Value(formKeyCtx{}).(*string); ok {
		*pk = key
	}
	in.Scans, in.IdempotencyKey = scans, key
	// The workspace form shows what will be removed from a PDF scan before anything is
	// signed, and certifies only after the officer confirms (certify/confirm).
	if _, web := r.Context().Value(formKeyCtx{}).(*string); web && strings.HasPrefix(key, formKeyPrefix) && p.Session != nil {
		if dropped := droppedBeforeSigning(scans); len(dropped) > 0 {
			s.codes.putUpload(p.Session.TokenHash, key, in, s.Now())
			return nil, &needsConfirm{Dropped: dropped, Pages: len(scans)}
		}
	}
	return s.runCertify(r, in)
}

// runCertify runs the workflow and counts its outcome.
func (s *Server) runCertify(r *http.Request, in certify.Input) (*certify.Output, error) {
	out, err := s.Certify.Certify(r.Context(), in)
	outcome := "ok"
	switch {
	case err != nil:
		outcome = chungthuc.ErrorCode(err)
	case out.Replayed:
		outcome = "replayed"
	case out.Awaiting != nil:
		outcome = "awaiting_signature" // counted "ok" when it is issued (apiSignature)
	}
	s.metrics.count("chungthuc_certifications_total", fmt.Sprintf(`outcome=%q`, outcome))
	return out, err
}

// isTrue reads a form or multipart boolean: "1", "true", "on", "yes".
func isTrue(v string) bool {
	switch strings.ToLower(trim(v)) {
	case "1", "true", "on", "yes":
		return true
	}
	return false
}

// certifyForm certifies from the workspace form and redirects (303) to the entry's page,
// where the new access code stays visible until the officer confirms it was handed over.
// The form's one-time key is the workflow's idempotency key: a second POST with it (a
// reload, Back-and-submit, a double click) creates nothing and is sent to the first entry.
func (s *Server) certifyForm(w http.ResponseWriter, r *http.Request) {
	var key string
	r = r.WithContext(context.WithValue(r.Context(), formKeyCtx{}, &key))
	out, err := s.certify(w, r)
	var nc *needsConfirm
	if errors.As(err, &nc) {
		s.render(w, r, "confirm.html", map[string]any{"Dropped": nc.lines(langOf(r)), "Key": key, "Files": nc.Pages})
		return
	}
	s.finishCertify(w, r, key, out, err)
}

// certifyConfirm certifies the upload the officer saw the removal report of (kept for the
// session under the form's key), exactly as it was checked.
func (s *Server) certifyConfirm(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	if err := canCertify(p); err != nil {
		s.Error(w, r, err)
		return
	}
	key := r.FormValue("idempotency_key")
	in, ok := s.codes.takeUpload(p.Session.TokenHash, key, s.Now())
	if !ok {
		// Already confirmed (a reload or double click) or expired: the first outcome, if any.
		if c, err := s.Register.CertificationByIdempotencyKey(r.Context(), p.UnitID, key); err == nil && strings.HasPrefix(key, formKeyPrefix) {
			http.Redirect(w, r, fmt.Sprintf("/app/c/%d?again=1%s", c.ID, langParam(r)), http.StatusSeeOther)
			return
		}
		s.Error(w, r, bi(chungthuc.ENOTFOUND, "Tệp đã tải lên không còn được giữ (quá 30 phút hoặc đã xử lý): hãy tải lên lại.",
			"The upload is no longer kept (over 30 minutes, or already handled): upload it again."))
		return
	}
	out, err := s.runCertify(r, in)
	s.finishCertify(w, r, key, out, err)
}

// certifyPreview: GET /app/certify/preview?key=K — the upload the session holds for
// confirmation (removed content), stamped as it will be signed but without a number and
// without any signature, marked "BẢN XEM TRƯỚC – CHƯA KÝ" on every page (certify.Service.
// Preview): nothing is reserved or stored. It takes a slot of the certification budget, as
// signing would.
func (s *Server) certifyPreview(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	if err := canCertify(p); err != nil {
		s.Error(w, r, err)
		return
	}
	in, ok := s.codes.peekUpload(p.Session.TokenHash, r.URL.Query().Get("key"), s.Now())
	if !ok {
		s.Error(w, r, bi(chungthuc.ENOTFOUND, "Tệp đã tải lên không còn được giữ (quá 30 phút hoặc đã xử lý): hãy tải lên lại.",
			"The upload is no longer kept (over 30 minutes, or already handled): upload it again."))
		return
	}
	release, err := s.certifying.enter(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	defer release()
	cp, err := s.Certify.Preview(r.Context(), in)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="ban-xem-truoc-chua-ky.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(cp.PDF) // a client that went away needs no answer
}

// finishCertify answers a certification from the workspace: 303 to the entry (the code kept
// for the session), or to the first entry when the key was used before, or the error page.
func (s *Server) finishCertify(w http.ResponseWriter, r *http.Request, key string, out *certify.Output, err error) {
	if err != nil {
		if c := s.priorForm(r, key, err); c != nil {
			http.Redirect(w, r, fmt.Sprintf("/app/c/%d?again=1%s", c.ID, langParam(r)), http.StatusSeeOther)
			return
		}
		s.Error(w, r, err)
		return
	}
	if out.Awaiting != nil {
		// Signed outside the service: the signing page of the entry (issue 14).
		http.Redirect(w, r, fmt.Sprintf("/app/c/%d/sign", out.Certification.ID), http.StatusSeeOther)
		return
	}
	if p := who(r); !out.Replayed && p.Session != nil {
		s.codes.put(p.Session.TokenHash, out.Certification.ID, out.AccessCode, out.Dropped, s.Now())
	}
	again := ""
	if out.Replayed {
		again = "?again=1" + langParam(r)
	} else if lp := langParam(r); lp != "" {
		again = "?" + lp[1:]
	}
	http.Redirect(w, r, fmt.Sprintf("/app/c/%d%s", out.Certification.ID, again), http.StatusSeeOther)
}

// formKeyCtx carries a pointer through which certify reports the form's one-time key.
type formKeyCtx struct{}

// priorForm returns the entry a form's one-time key already made, when err says the key was
// used before (still running, void, or sent again with other files): the officer is sent
// to that entry rather than shown an error. A request still running is waited for (up to
// a minute) so a double click lands on the finished entry.
func (s *Server) priorForm(r *http.Request, key string, err error) *chungthuc.Certification {
	var o *certify.Outcome
	if !strings.HasPrefix(key, formKeyPrefix) || (!errors.As(err, &o) && !errors.Is(err, certify.ErrKeyReused)) {
		return nil
	}
	p := who(r)
	for deadline := s.Now().Add(time.Minute); ; {
		c, lerr := s.Register.CertificationByIdempotencyKey(r.Context(), p.UnitID, key)
		if lerr != nil {
			return nil
		}
		if c.Status != chungthuc.StatusPending || s.Now().After(deadline) {
			return c
		}
		if _, err := s.Certify.ToSignOf(r.Context(), p.UnitID, c.ID); err == nil {
			return c // done for now: waiting for a signature made outside (signing.go)
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// langParam is "&lang=xx" when the request chose a language with ?lang=, else "".
func langParam(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "en" || l == "vi" {
		return "&lang=" + l
	}
	return ""
}

func (s *Server) registerPage(w http.ResponseWriter, r *http.Request) {
	setLang(w, r)
	u, err := s.unitOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	q := r.URL.Query()
	f := chungthuc.CertificationFilter{UnitID: u.ID, Query: trim(q.Get("q")), Status: chungthuc.Status(q.Get("status")), Limit: 50}
	f.Number, _ = strconv.ParseInt(q.Get("number"), 10, 64)
	f.Offset, _ = strconv.Atoi(q.Get("offset"))
	if t, err := time.ParseInLocation("2006-01-02", q.Get("from"), chungthuc.Vietnam); err == nil {
		f.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("to"), chungthuc.Vietnam); err == nil {
		f.To = t.AddDate(0, 0, 1)
	}
	switch f.Status {
	case "", chungthuc.StatusIssued, chungthuc.StatusRevoked, chungthuc.StatusVoid, chungthuc.StatusPending:
	default:
		f.Status = ""
	}
	list, total, err := s.Register.Certifications(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	page := func(off int) string {
		v := url.Values{}
		for k := range q {
			v.Set(k, q.Get(k))
		}
		v.Set("offset", strconv.Itoa(off))
		return "/app/register?" + v.Encode()
	}
	data := map[string]any{"Unit": u, "Entries": list, "Total": total,
		"F":        map[string]string{"q": q.Get("q"), "number": q.Get("number"), "status": q.Get("status"), "from": q.Get("from"), "to": q.Get("to")},
		"Statuses": []string{"issued", "revoked", "void", "pending"}}
	if f.Offset > 0 {
		data["PrevURL"] = page(max(0, f.Offset-f.Limit))
	}
	if f.Offset+len(list) < total {
		data["NextURL"] = page(f.Offset + len(list))
	}
	s.render(w, r, "register.html", data)
}

func (s *Server) certificationPage(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.Register.UnitByID(r.Context(), c.UnitID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	data := map[string]any{"C": c, "Unit": u, "VerifyURL": s.Certify.VerifyURL(c.Token),
		"CanRevoke": c.Status == chungthuc.StatusIssued && canRevoke(who(r), c) == nil,
		"Again":     r.URL.Query().Get("again") == "1", "RevokeKey": newFormKey(), "ReissueKey": newFormKey(),
		"Reissued": r.URL.Query().Get("reissued") == "1"}
	if s.Mail != nil {
		// The e-mail's fate: shown to the officer; a register that cannot say is not an error.
		if st, err := s.Mail.MailStatusOf(r.Context(), c.ID); err == nil {
			data["Mail"] = st
		} else if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
			s.log.Warn("mail status unavailable", "certification", c.ID, "err", err)
		}
	}
	if c.Status == chungthuc.StatusPending {
		// Waiting for a signature made outside: which step, until when, and the signing page
		// for who may do it.
		if a, err := s.Certify.ToSignOf(r.Context(), c.UnitID, c.ID); err == nil {
			data["Awaiting"], data["WaitStep"] = a, string(a.Step)
			data["CanSign"] = mayComplete(who(r), a.Certification, a.Step)
			data["Signed"] = r.URL.Query().Get("signed") == "1" && a.Step == chungthuc.StepSeal
		}
	}
	if p := who(r); p.Session != nil && c.Status == chungthuc.StatusIssued {
		if h, ok := s.codes.get(p.Session.TokenHash, c.ID, s.Now()); ok {
			data["AccessCode"], data["Dropped"], data["Fresh"] = h.code, h.dropped, true
			data["QR"] = qrSVG(s.Certify.VerifyURL(c.Token))
			data["FileCode"] = fileCode(u, c)
		}
	}
	s.render(w, r, "certification.html", data)
}

// codeHandedOver is the officer's confirmation that the new access code was printed or
// handed to the citizen: the server forgets it (audited).
func (s *Server) codeHandedOver(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	p := who(r)
	if p.Session != nil && s.codes.drop(p.Session.TokenHash, c.ID) {
		if err := s.audit(r, &chungthuc.AuditEntry{Action: "access_code.handed_over", UnitID: c.UnitID, Actor: p.actor(),
			Subject: fmt.Sprintf("certification:%d", c.ID)}); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	http.Redirect(w, r, fmt.Sprintf("/app/c/%d", c.ID), http.StatusSeeOther)
}

func (s *Server) certificationPDF(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if c.Status != chungthuc.StatusIssued && c.Status != chungthuc.StatusRevoked {
		s.Error(w, r, bi(chungthuc.ENOTFOUND, "Mục này không có bản sao được lưu trữ.", "This entry has no stored copy."))
		return
	}
	p := who(r)
	// No download without its audit record.
	if err := s.audit(r, &chungthuc.AuditEntry{Action: "download", UnitID: c.UnitID, Actor: p.actor(),
		Subject: fmt.Sprintf("certification:%d", c.ID), Detail: `{"via":"workspace"}`}); err != nil {
		s.Error(w, r, err)
		return
	}
	s.streamPDF(w, r, c)
}

func (s *Server) receipt(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.Register.UnitByID(r.Context(), c.UnitID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	link := s.Certify.VerifyURL(c.Token)
	data := map[string]any{"C": c, "Unit": u, "VerifyURL": link, "QR": qrSVG(link), "FileCode": fileCode(u, c),
		"RateURL": link + "/rate", "RateQR": qrSVG(link + "/rate")}
	if p := who(r); p.Session != nil {
		if h, ok := s.codes.get(p.Session.TokenHash, c.ID, s.Now()); ok {
			data["AccessCode"] = h.code
		}
	}
	s.render(w, r, "receipt.html", data)
}

func (s *Server) revokeForm(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := canRevoke(who(r), c); err != nil {
		s.Error(w, r, err)
		return
	}
	// The reason is published on the verification page: the form asks the officer to confirm
	// that, with a checkbox the server requires (no script needed).
	if r.FormValue("confirm") != "1" {
		s.Error(w, r, bi(chungthuc.EINVALID, "Chưa thu hồi: hãy đánh dấu ô xác nhận rằng lý do thu hồi sẽ được công bố trên trang kiểm tra.",
			"Not revoked: tick the box confirming that the reason will be published on the verification page."))
		return
	}
	if trim(r.FormValue("reason")) == "" {
		s.Error(w, r, bi(chungthuc.EINVALID, "Chưa thu hồi: hãy nhập lý do thu hồi.", "Not revoked: enter the reason for revoking."))
		return
	}
	// A second POST of the same form (reload, Back-and-submit) changes nothing.
	if key := r.FormValue("idempotency_key"); key != "" && !s.codes.useOnce(fmt.Sprintf("revoke:%d", c.ID), key, s.Now()) {
		http.Redirect(w, r, fmt.Sprintf("/app/c/%d?again=1%s", c.ID, langParam(r)), http.StatusSeeOther)
		return
	}
	if _, err := s.revoke(r, c, r.FormValue("reason")); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/app/c/%d", c.ID), http.StatusSeeOther)
}

func (s *Server) refusePage(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	reasons := make([]map[string]string, 0, len(chungthuc.RefusalReasons))
	for _, x := range chungthuc.RefusalReasons {
		label := x.Label
		if langOf(r) == "en" && refusalReasonsEN[x.Code] != "" {
			label = refusalReasonsEN[x.Code]
		}
		reasons = append(reasons, map[string]string{"Code": string(x.Code), "Label": label})
	}
	q := r.URL.Query()
	data := map[string]any{"Reasons": reasons, "Done": q.Get("done") == "1", "Again": q.Get("again") == "1", "FormKey": newFormKey(),
		"ReceivedAt": receivedNow(s.Now())}
	// The numbered refusal slip as a PDF (phiếu từ chối, signed off by the unit) when the
	// workspace can print it.
	if id, err := strconv.ParseInt(q.Get("slip"), 10, 64); err == nil && s.UnitAdmin != nil {
		data["SlipPDF"] = id
	}
	// The refusal slip (the written answer the requester takes away), for the refusal this
	// session just recorded.
	if id, err := strconv.ParseInt(q.Get("slip"), 10, 64); err == nil && p.Session != nil {
		if ref, ok := s.codes.refusal(p.Session.TokenHash, id, s.Now()); ok {
			u, err := s.unitOf(r)
			if err != nil {
				s.Error(w, r, err)
				return
			}
			o, err := s.Register.OfficerByID(r.Context(), ref.OfficerID)
			if err != nil {
				s.Error(w, r, err)
				return
			}
			label := string(ref.Reason)
			for _, x := range reasons {
				if x["Code"] == string(ref.Reason) {
					label = x["Label"]
				}
			}
			data["Slip"] = map[string]any{"R": ref, "Unit": u, "Officer": o, "Reason": label}
		}
	}
	s.render(w, r, "refuse.html", data)
}

// refusalReasonsEN are the refusal reasons in English (the register keeps the code).
var refusalReasonsEN = map[chungthuc.RefusalReason]string{
	chungthuc.RefuseAltered:      "The original was erased, corrected, added to or cut unlawfully",
	chungthuc.RefuseDamaged:      "The original is damaged or worn so that its content cannot be read",
	chungthuc.RefuseClassified:   "The original is stamped secret or says it must not be copied",
	chungthuc.RefuseUnlawful:     "The original's content is against the law or social morality",
	chungthuc.RefuseNotLegalised: "A foreign document without consular legalisation",
	chungthuc.RefuseSelfMade:     "A document made by an individual without confirmation by a competent authority",
	chungthuc.RefuseOther:        "Another reason (stated below)",
}

func (s *Server) refuseForm(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	if err := canCertify(p); err != nil {
		s.Error(w, r, err)
		return
	}
	if key := r.FormValue("idempotency_key"); key != "" && p.Session != nil && !s.codes.useOnce("refuse:"+p.Session.TokenHash, key, s.Now()) {
		http.Redirect(w, r, "/app/refuse?done=1&again=1"+langParam(r), http.StatusSeeOther)
		return
	}
	received, err := parseReceived(r.FormValue(receivedField))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ref := &chungthuc.Refusal{UnitID: p.UnitID, OfficerID: p.OfficerID,
		Reason: chungthuc.RefusalReason(r.FormValue("reason")), Note: r.FormValue("note"), Title: r.FormValue("title"), Requester: r.FormValue("requester")}
	if !received.IsZero() {
		ref.ReceivedAt = &received
	}
	if err := s.Certify.Refuse(r.Context(), ref); err != nil {
		s.Error(w, r, err)
		return
	}
	slip := ""
	if ref.ID != 0 {
		slip = "&slip=" + strconv.FormatInt(ref.ID, 10)
		if p.Session != nil {
			s.codes.putRefusal(p.Session.TokenHash, *ref, s.Now())
		}
	}
	http.Redirect(w, r, "/app/refuse?done=1"+slip+langParam(r), http.StatusSeeOther)
}

// fileCode is the one-stop file code printed on a receipt: unit code, date of certification
// and the register number ("PL-20261204-000017").
func fileCode(u *chungthuc.Unit, c *chungthuc.Certification) string {
	return fmt.Sprintf("%s-%s-%06d", u.Code, c.CertifiedAt.In(chungthuc.Vietnam).Format("20060102"), c.Number)
}

// reissueCode gives c a new access code for the principal — an officer or the administrator
// of c's unit, like revoking — and forgets any code held for it (the old ones stop working).
func (s *Server) reissueCode(r *http.Request, c *chungthuc.Certification) (string, *chungthuc.Certification, error) {
	p := who(r)
	if err := canRevoke(p, c); err != nil {
		return "", nil, bi(chungthuc.EFORBIDDEN, "Chỉ người thực hiện chứng thực hoặc quản trị viên của đơn vị mới được cấp lại mã truy cập.",
			"Only a certifying officer or the administrator of the unit can reissue an access code.")
	}
	if c.Status != chungthuc.StatusIssued {
		return "", nil, bi(chungthuc.ECONFLICT, "Chỉ bản sao đang có hiệu lực mới được cấp lại mã truy cập.", "Only a copy in force gets a new access code.")
	}
	code, c, err := s.Certify.ReissueAccessCode(r.Context(), c.UnitID, c.ID, p.actor())
	if err != nil {
		return "", nil, err
	}
	s.codes.dropAll(c.ID)
	return code, c, nil
}

// reissueForm: the officer's "Reissue code" (a confirmation box, a one-time key). The new
// code is kept for the session like a new certification's and shown on the entry's page and
// its receipt until handed over.
func (s *Server) reissueForm(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if r.FormValue("confirm") != "1" {
		s.Error(w, r, bi(chungthuc.EINVALID, "Chưa cấp lại: hãy đánh dấu ô xác nhận rằng mã cũ sẽ không dùng được nữa.",
			"Not reissued: tick the box confirming that the old code will stop working."))
		return
	}
	if key := r.FormValue("idempotency_key"); key != "" && !s.codes.useOnce(fmt.Sprintf("reissue:%d", c.ID), key, s.Now()) {
		http.Redirect(w, r, fmt.Sprintf("/app/c/%d?again=1%s", c.ID, langParam(r)), http.StatusSeeOther)
		return
	}
	code, c, err := s.reissueCode(r, c)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if p := who(r); p.Session != nil {
		s.codes.put(p.Session.TokenHash, c.ID, code, nil, s.Now())
	}
	http.Redirect(w, r, fmt.Sprintf("/app/c/%d?reissued=1", c.ID), http.StatusSeeOther)
}
