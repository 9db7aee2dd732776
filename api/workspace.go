package api

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if p, _ := s.session(r); p != nil {
		http.Redirect(w, r, "/ws/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", "", map[string]any{"Next": r.URL.Query().Get("next")})
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	user, pass, next := r.PostFormValue("username"), r.PostFormValue("password"), r.PostFormValue("next")
	a, err := s.login(r.Context(), user, pass)
	if err != nil {
		if chungthuc.ErrorCode(err) != chungthuc.EUNAUTHORIZED {
			Error(w, r, err)
			return
		}
		pg := newPage(r, "", map[string]any{"Next": next, "Username": user})
		pg.Problem = pg.T("login.failed")
		renderPage(w, r, http.StatusUnauthorized, "login", pg)
		return
	}
	if err := s.startSession(w, r, a); err != nil {
		Error(w, r, err)
		return
	}
	if !localPath(next) || strings.HasPrefix(next, "/login") {
		next = "/ws/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.endSession(w, r, principalFrom(r.Context()))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// Totals are counts and fees of a unit over a period.
type Totals struct {
	UnitID   int64
	UnitCode string
	UnitName string
	Issued   int   // issued and still valid
	Revoked  int   // issued, later revoked (the fee was charged)
	Void     int   // numbers used by failed attempts
	Pages    int   // pages of the originals of issued and revoked copies
	FeeVND   int64 // fees of issued and revoked copies
}

// totals sums a unit's register over [from, to).
func (s *Server) totals(r *http.Request, u *chungthuc.Unit, from, to time.Time) (*Totals, error) {
	t := &Totals{UnitID: u.ID, UnitCode: u.Code, UnitName: u.Name}
	f := chungthuc.CertificationFilter{UnitID: u.ID, From: from, To: to, Limit: 500}
	for {
		list, total, err := s.reg.Certifications(r.Context(), f)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			switch c.Status {
			case chungthuc.StatusIssued:
				t.Issued++
			case chungthuc.StatusRevoked:
				t.Revoked++
			case chungthuc.StatusVoid:
				t.Void++
				continue
			default:
				continue
			}
			t.Pages += c.Pages
			t.FeeVND += c.FeeVND
		}
		f.Offset += len(list)
		if len(list) == 0 || f.Offset >= total {
			return t, nil
		}
	}
}

func startOfDay(t time.Time) time.Time {
	t = t.In(chungthuc.Vietnam)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, chungthuc.Vietnam)
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	if p.UnitID == 0 {
		http.Redirect(w, r, "/ws/stats", http.StatusSeeOther)
		return
	}
	u, err := s.reg.UnitByID(r.Context(), p.UnitID)
	if err != nil {
		Error(w, r, err)
		return
	}
	today := startOfDay(s.now())
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, chungthuc.Vietnam)
	td, err := s.totals(r, u, today, today.AddDate(0, 0, 1))
	if err != nil {
		Error(w, r, err)
		return
	}
	mo, err := s.totals(r, u, month, month.AddDate(0, 1, 0))
	if err != nil {
		Error(w, r, err)
		return
	}
	recent, _, err := s.reg.Certifications(r.Context(), chungthuc.CertificationFilter{UnitID: u.ID, Limit: 8})
	if err != nil {
		Error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "dashboard", "", map[string]any{"Unit": u, "Today": td, "Month": mo, "Recent": recent})
}

func (s *Server) newPage(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	if !p.canCertify() {
		Error(w, r, chungthuc.Errorf(chungthuc.EFORBIDDEN, "Only a certifying officer can certify copies."))
		return
	}
	o, err := s.reg.OfficerByID(r.Context(), p.OfficerID)
	if err != nil {
		Error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "new", "", map[string]any{"Officer": o, "MaxMB": s.maxUpload >> 20, "MaxFiles": s.maxFiles})
}

// newSubmit certifies the uploaded scans and shows the stamped result with the citizen's
// receipt (the only time the access code is shown).
func (s *Server) newSubmit(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	out, err := s.certifyUpload(w, r, p)
	if err != nil {
		Error(w, r, err)
		return
	}
	u, err := s.reg.UnitByID(r.Context(), out.Certification.UnitID)
	if err != nil {
		Error(w, r, err)
		return
	}
	s.render(w, r, http.StatusCreated, "result", "", map[string]any{"C": out.Certification, "Unit": u, "Code": out.AccessCode, "URL": out.VerifyURL, "Dropped": out.Dropped})
}

// listFilter reads the register filters of a request.
func listFilter(r *http.Request, unitID int64) (chungthuc.CertificationFilter, url.Values) {
	q := r.URL.Query()
	f := chungthuc.CertificationFilter{UnitID: unitID, Limit: 50}
	f.Query = strings.TrimSpace(norm.NFC.String(q.Get("q")))
	if len(f.Query) > 200 {
		f.Query = f.Query[:200]
	}
	if n, err := strconv.ParseInt(q.Get("number"), 10, 64); err == nil && n > 0 {
		f.Number = n
	}
	switch st := chungthuc.Status(q.Get("status")); st {
	case chungthuc.StatusIssued, chungthuc.StatusRevoked, chungthuc.StatusVoid, chungthuc.StatusPending:
		f.Status = st
	}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("from"), chungthuc.Vietnam); err == nil {
		f.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("to"), chungthuc.Vietnam); err == nil {
		f.To = t.AddDate(0, 0, 1)
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 && n < 100000 {
		f.Offset = (n - 1) * f.Limit
	}
	return f, q
}

func (s *Server) registerPage(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	unitID := p.UnitID
	if p.Role == chungthuc.RoleSystemAdmin {
		unitID, _ = strconv.ParseInt(r.URL.Query().Get("unit"), 10, 64)
	}
	f, q := listFilter(r, unitID)
	list, total, err := s.reg.Certifications(r.Context(), f)
	if err != nil {
		Error(w, r, err)
		return
	}
	page := f.Offset/f.Limit + 1
	pageURL := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			if k != "page" {
				v[k] = vs
			}
		}
		v.Set("page", strconv.Itoa(n))
		return "/ws/register?" + v.Encode()
	}
	d := map[string]any{"List": list, "Total": total, "Q": q, "Page": page, "Statuses": []chungthuc.Status{chungthuc.StatusIssued, chungthuc.StatusRevoked, chungthuc.StatusVoid, chungthuc.StatusPending}}
	if page > 1 {
		d["Prev"] = pageURL(page - 1)
	}
	if f.Offset+len(list) < total {
		d["Next"] = pageURL(page + 1)
	}
	s.render(w, r, http.StatusOK, "register", "", d)
}

func (s *Server) certPage(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	c, err := s.entryFor(r, p)
	if err != nil {
		Error(w, r, err)
		return
	}
	u, err := s.reg.UnitByID(r.Context(), c.UnitID)
	if err != nil {
		Error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "cert", "", map[string]any{"C": c, "Unit": u, "URL": s.verifyURL(c.Token), "CanRevoke": p.canRevoke() && c.UnitID == p.UnitID && c.Status == chungthuc.StatusIssued})
}

func (s *Server) certPDF(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	c, err := s.entryFor(r, p)
	if err != nil {
		Error(w, r, err)
		return
	}
	s.streamCopy(w, r, p, c)
}

func (s *Server) revokeSubmit(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	c, err := s.revoke(r, p, r.PostFormValue("reason"))
	if err != nil {
		Error(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/ws/c/%d", c.ID), http.StatusSeeOther)
}

func (s *Server) refusePage(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	if !p.canCertify() {
		Error(w, r, chungthuc.Errorf(chungthuc.EFORBIDDEN, "Only a certifying officer can refuse a request."))
		return
	}
	s.render(w, r, http.StatusOK, "refuse", "", map[string]any{"Reasons": chungthuc.RefusalReasons})
}

func (s *Server) refuseSubmit(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	if !p.canCertify() {
		Error(w, r, chungthuc.Errorf(chungthuc.EFORBIDDEN, "Only a certifying officer can refuse a request."))
		return
	}
	ref := &chungthuc.Refusal{
		UnitID: p.UnitID, OfficerID: p.OfficerID, Reason: chungthuc.RefusalReason(r.PostFormValue("reason")),
		Note: strings.TrimSpace(r.PostFormValue("note")), Title: strings.TrimSpace(r.PostFormValue("doc_title")),
		Requester: strings.TrimSpace(r.PostFormValue("requester")), CreatedAt: s.now(),
	}
	if err := s.certifier.Refuse(r.Context(), ref); err != nil {
		Error(w, r, err)
		return
	}
	pg := newPage(r, "", map[string]any{"Reasons": chungthuc.RefusalReasons})
	pg.Notice = pg.T("refuse.done")
	renderPage(w, r, http.StatusOK, "refuse", pg)
}

// statsPeriod reads from/to (YYYY-MM-DD, inclusive); the default is the current month.
func (s *Server) statsPeriod(r *http.Request) (time.Time, time.Time) {
	today := startOfDay(s.now())
	from := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, chungthuc.Vietnam)
	to := from.AddDate(0, 1, 0)
	if t, err := time.ParseInLocation("2006-01-02", r.URL.Query().Get("from"), chungthuc.Vietnam); err == nil {
		from = t
	}
	if t, err := time.ParseInLocation("2006-01-02", r.URL.Query().Get("to"), chungthuc.Vietnam); err == nil {
		to = t.AddDate(0, 0, 1)
	}
	if !to.After(from) {
		to = from.AddDate(0, 0, 1)
	}
	return from, to
}

// stats computes per-unit totals for the units the principal administers.
func (s *Server) stats(r *http.Request) ([]*Totals, *Totals, time.Time, time.Time, error) {
	p := principalFrom(r.Context())
	if !p.canStats() {
		return nil, nil, time.Time{}, time.Time{}, chungthuc.Errorf(chungthuc.EFORBIDDEN, "Statistics are for unit and system administrators.")
	}
	from, to := s.statsPeriod(r)
	var units []*chungthuc.Unit
	if p.Role == chungthuc.RoleSystemAdmin {
		var err error
		if units, err = s.reg.Units(r.Context()); err != nil {
			return nil, nil, from, to, err
		}
	} else {
		u, err := s.reg.UnitByID(r.Context(), p.UnitID)
		if err != nil {
			return nil, nil, from, to, err
		}
		units = []*chungthuc.Unit{u}
	}
	sum := &Totals{UnitName: "Σ"}
	var rows []*Totals
	for _, u := range units {
		t, err := s.totals(r, u, from, to)
		if err != nil {
			return nil, nil, from, to, err
		}
		rows = append(rows, t)
		sum.Issued += t.Issued
		sum.Revoked += t.Revoked
		sum.Void += t.Void
		sum.Pages += t.Pages
		sum.FeeVND += t.FeeVND
	}
	return rows, sum, from, to, nil
}

func (s *Server) statsPage(w http.ResponseWriter, r *http.Request) {
	rows, sum, from, to, err := s.stats(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "stats", "", map[string]any{"Rows": rows, "Sum": sum, "From": from, "To": to.AddDate(0, 0, -1), "Query": r.URL.RawQuery})
}

// statsCSV exports the statistics as CSV (UTF-8 with a byte-order mark, so spreadsheet
// programs show the Vietnamese names correctly).
func (s *Server) statsCSV(w http.ResponseWriter, r *http.Request) {
	rows, sum, from, to, err := s.stats(r)
	if err != nil {
		Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="thong-ke-%s-%s.csv"`, from.Format("20060102"), to.AddDate(0, 0, -1).Format("20060102")))
	w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	cw.Write([]string{"unit_code", "unit_name", "from", "to", "issued", "revoked", "void", "pages", "fee_vnd"})
	for _, t := range append(rows, sum) {
		cw.Write([]string{t.UnitCode, csvSafe(t.UnitName), from.Format("2006-01-02"), to.AddDate(0, 0, -1).Format("2006-01-02"),
			strconv.Itoa(t.Issued), strconv.Itoa(t.Revoked), strconv.Itoa(t.Void), strconv.Itoa(t.Pages), strconv.FormatInt(t.FeeVND, 10)})
	}
	cw.Flush()
}

// csvSafe defuses spreadsheet formulas in a cell.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@", rune(v[0])) {
		return "'" + v
	}
	return v
}
