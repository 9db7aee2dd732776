package api

import (
	"encoding/csv"
	"encoding/json"
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
		return nil, chungthuc.Errorf(chungthuc.EFORBIDDEN, "this account belongs to no certifying unit")
	}
	return s.Register.UnitByID(r.Context(), p.UnitID)
}

// entryOf returns certification {id} if the principal may see it: only entries of their own
// unit (system administrators: any). Another unit's entry is ENOTFOUND, like a missing one.
func (s *Server) entryOf(r *http.Request) (*chungthuc.Certification, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	notFound := chungthuc.Errorf(chungthuc.ENOTFOUND, "certification not found")
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
		return chungthuc.Errorf(chungthuc.EFORBIDDEN, "only a certifying officer can certify")
	}
	return nil
}

// canRevoke reports whether the principal may revoke c: only within c's own unit, and only
// its certifying officers (API tokens act as one) and its administrator — not its records
// clerks, and not the system administrator, who reads every unit's register but acts on none.
func canRevoke(p *principal, c *chungthuc.Certification) error {
	if p == nil || p.UnitID == 0 || p.UnitID != c.UnitID ||
		!(p.Role == chungthuc.RoleUnitAdmin || (p.Role == chungthuc.RoleOfficer && p.OfficerID != 0)) {
		return chungthuc.Errorf(chungthuc.EFORBIDDEN, "only a certifying officer or the administrator of the unit can revoke its copies")
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
type period struct {
	Unit                   string
	Copies, Revoked, Pages int64
	Fees                   int64
}

func (s *Server) sumPeriod(r *http.Request, unitID int64, from, to time.Time) (period, error) {
	var p period
	for off := 0; ; off += 500 {
		list, total, err := s.Register.Certifications(r.Context(), chungthuc.CertificationFilter{UnitID: unitID, From: from, To: to, Offset: off, Limit: 500})
		if err != nil {
			return p, err
		}
		for _, c := range list {
			switch c.Status {
			case chungthuc.StatusIssued, chungthuc.StatusRevoked:
				p.Copies++
				p.Pages += int64(c.Pages)
				p.Fees += c.FeeVND
				if c.Status == chungthuc.StatusRevoked {
					p.Revoked++
				}
			}
		}
		if off+len(list) >= total || len(list) == 0 {
			return p, nil
		}
	}
}

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
	d, err := s.sumPeriod(r, u.ID, today, today.AddDate(0, 0, 1))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	m, err := s.sumPeriod(r, u.ID, month, month.AddDate(0, 1, 0))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	list, _, err := s.Register.Certifications(r.Context(), chungthuc.CertificationFilter{UnitID: u.ID, Limit: 10})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.render(w, r, "dashboard.html", map[string]any{"Unit": u, "TodayCount": d.Copies, "TodayFee": d.Fees,
		"MonthCount": m.Copies, "MonthFee": m.Fees, "Entries": list})
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
	s.render(w, r, "certify.html", map[string]any{"OfficerTitle": o.Title})
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
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "at least one scan is required (field \"file\")")
	}
	if trim(up.fields["title"]) == "" {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the document title is required (field \"title\")")
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
	out, err := s.Certify.Certify(r.Context(), certify.Input{
		UnitCode: u.Code, OfficerID: p.OfficerID, Title: up.fields["officer_title"], DocTitle: up.fields["title"],
		Issuer: up.fields["issuer"], Requester: up.fields["requester"], Scans: scans, KeepScans: true,
		IdempotencyKey: key,
	})
	outcome := "ok"
	switch {
	case err != nil:
		outcome = chungthuc.ErrorCode(err)
	case out.Replayed:
		outcome = "replayed"
	}
	s.metrics.count("chungthuc_certifications_total", fmt.Sprintf(`outcome=%q`, outcome))
	return out, err
}

func (s *Server) certifyForm(w http.ResponseWriter, r *http.Request) {
	out, err := s.certify(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	u, _ := s.unitOf(r)
	s.render(w, r, "certification.html", map[string]any{"C": out.Certification, "Unit": u, "Fresh": !out.Replayed,
		"Replayed": out.Replayed, "AccessCode": out.AccessCode, "Dropped": out.Dropped, "VerifyURL": out.VerifyURL, "QR": qrSVG(out.VerifyURL)})
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
	s.render(w, r, "certification.html", map[string]any{"C": c, "Unit": u, "VerifyURL": s.Certify.VerifyURL(c.Token),
		"CanRevoke": c.Status == chungthuc.StatusIssued && canRevoke(who(r), c) == nil})
}

func (s *Server) certificationPDF(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if c.Status != chungthuc.StatusIssued && c.Status != chungthuc.StatusRevoked {
		s.Error(w, r, chungthuc.Errorf(chungthuc.ENOTFOUND, "this entry has no stored copy"))
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
	s.render(w, r, "receipt.html", map[string]any{"C": c, "Unit": u, "VerifyURL": link, "QR": qrSVG(link)})
}

func (s *Server) revokeForm(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if _, err := s.revoke(r, c, r.FormValue("reason")); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/app/c/%d", c.ID), http.StatusSeeOther)
}

func (s *Server) refusePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "refuse.html", map[string]any{"Reasons": chungthuc.RefusalReasons, "Done": r.URL.Query().Get("done") == "1"})
}

func (s *Server) refuseForm(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	if err := canCertify(p); err != nil {
		s.Error(w, r, err)
		return
	}
	err := s.Certify.Refuse(r.Context(), &chungthuc.Refusal{UnitID: p.UnitID, OfficerID: p.OfficerID,
		Reason: chungthuc.RefusalReason(r.FormValue("reason")), Note: r.FormValue("note"), Title: r.FormValue("title"), Requester: r.FormValue("requester")})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/app/refuse?done=1", http.StatusSeeOther)
}

// stats shows counts and fees per unit for a period: the unit's own for its staff, every
// unit's for a system administrator (the figures a city reports upward); CSV on request.
func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	p := who(r)
	q := r.URL.Query()
	now := dayStart(s.Now())
	from := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, chungthuc.Vietnam)
	to := now
	if t, err := time.ParseInLocation("2006-01-02", q.Get("from"), chungthuc.Vietnam); err == nil {
		from = t
	}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("to"), chungthuc.Vietnam); err == nil {
		to = t
	}
	var units []*chungthuc.Unit
	if p.Role == chungthuc.RoleSystemAdmin {
		all, err := s.Register.Units(r.Context())
		if err != nil {
			s.Error(w, r, err)
			return
		}
		units = all
	} else if p.Role == chungthuc.RoleUnitAdmin || p.Role == chungthuc.RoleOfficer || p.Role == chungthuc.RoleClerk {
		u, err := s.unitOf(r)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		units = []*chungthuc.Unit{u}
	}
	var rows []period
	var sum period
	for _, u := range units {
		pr, err := s.sumPeriod(r, u.ID, from, to.AddDate(0, 0, 1))
		if err != nil {
			s.Error(w, r, err)
			return
		}
		pr.Unit = u.Name
		rows = append(rows, pr)
		sum.Copies += pr.Copies
		sum.Revoked += pr.Revoked
		sum.Pages += pr.Pages
		sum.Fees += pr.Fees
	}
	if q.Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="thong-ke-%s-%s.csv"`, from.Format("20060102"), to.Format("20060102")))
		w.Write([]byte("\xEF\xBB\xBF")) // BOM, so spreadsheet software reads UTF-8
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"Đơn vị", "Từ ngày", "Đến ngày", "Số bản sao", "Đã thu hồi", "Số trang", "Lệ phí (VNĐ)"})
		for _, x := range append(rows, period{Unit: "Tổng cộng", Copies: sum.Copies, Revoked: sum.Revoked, Pages: sum.Pages, Fees: sum.Fees}) {
			_ = cw.Write([]string{csvCell(x.Unit), from.Format("2006-01-02"), to.Format("2006-01-02"), fmt.Sprint(x.Copies), fmt.Sprint(x.Revoked), fmt.Sprint(x.Pages), fmt.Sprint(x.Fees)})
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			s.log.Warn("statistics CSV not sent whole", "request_id", requestID(r), "err", err)
		}
		return
	}
	data := map[string]any{"Rows": rows, "Sum": sum, "From": from.Format("2006-01-02"), "To": to.Format("2006-01-02")}
	if p.Role == chungthuc.RoleSystemAdmin {
		// What the storage checks found, for the one who can act on it.
		if fs, err := s.Certify.RefreshFindings(r.Context()); err != nil {
			s.log.Error("reading findings", "request_id", requestID(r), "err", err)
		} else if len(fs) > 0 {
			data["Findings"] = fs[:min(len(fs), 100)]
		}
	}
	s.render(w, r, "stats.html", data)
}

// csvCell neutralises a text cell against formula injection: spreadsheet software runs a
// cell that starts with =, +, -, @, a tab or a carriage return as a formula, so such a cell
// gets a leading apostrophe (OWASP "CSV injection").
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
