package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/chungthuc/chungthuc"
)

// CertificationJSON is a register entry as the JSON API returns it.
type CertificationJSON struct {
	ID           int64      `json:"id"`
	Number       int64      `json:"number"`
	Book         string     `json:"book"`
	Year         int        `json:"year"`
	Status       string     `json:"status"`
	Title        string     `json:"title"`
	Issuer       string     `json:"issuer"`
	Requester    string     `json:"requester"`
	OfficerName  string     `json:"officer_name"`
	OfficerTitle string     `json:"officer_title"`
	Pages        int        `json:"pages"`
	FeeVND       int64      `json:"fee_vnd"`
	SHA256       string     `json:"sha256"`
	VerifyURL    string     `json:"verify_url"`
	CertifiedAt  time.Time  `json:"certified_at"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
	RevokeReason string     `json:"revoke_reason,omitempty"`
	VoidReason   string     `json:"void_reason,omitempty"`
	// AccessCode is returned once, by the request that certified the copy.
	AccessCode string `json:"access_code,omitempty"`
	// Dropped lists what intake removed from PDF scans (scripts, forms, links…).
	Dropped []string `json:"dropped,omitempty"`
}

func (s *Server) certJSON(c *chungthuc.Certification) *CertificationJSON {
	j := &CertificationJSON{
		ID: c.ID, Number: c.Number, Book: c.BookCode, Year: c.Year, Status: string(c.Status),
		Title: c.Title, Issuer: c.Issuer, Requester: c.Requester, OfficerName: c.OfficerName, OfficerTitle: c.OfficerTitle,
		Pages: c.Pages, FeeVND: c.FeeVND, SHA256: c.SHA256, VerifyURL: s.verifyURL(c.Token),
		CertifiedAt: c.CertifiedAt.In(chungthuc.Vietnam), RevokeReason: c.RevokeReason, VoidReason: c.VoidReason,
	}
	if c.RevokedAt != nil {
		t := c.RevokedAt.In(chungthuc.Vietnam)
		j.RevokedAt = &t
	}
	return j
}

// apiCertify is POST /api/v1/certifications.
func (s *Server) apiCertify(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	out, err := s.certifyUpload(w, r, p)
	if err != nil {
		Error(w, r, err)
		return
	}
	j := s.certJSON(out.Certification)
	j.AccessCode, j.Dropped = out.AccessCode, out.Dropped
	w.Header().Set("Location", "/api/v1/certifications/"+strconv.FormatInt(j.ID, 10))
	writeJSON(w, http.StatusCreated, j)
}

// apiCertification is GET /api/v1/certifications/{id}.
func (s *Server) apiCertification(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryFor(r, principalFrom(r.Context()))
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.certJSON(c))
}

// apiCertificationPDF is GET /api/v1/certifications/{id}/pdf.
func (s *Server) apiCertificationPDF(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	c, err := s.entryFor(r, p)
	if err != nil {
		Error(w, r, err)
		return
	}
	s.streamCopy(w, r, p, c)
}

// apiRevoke is POST /api/v1/certifications/{id}/revoke {"reason": "…"}.
func (s *Server) apiRevoke(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&in); err != nil {
		Error(w, r, chungthuc.Errorf(chungthuc.EINVALID, `The body must be JSON: {"reason": "…"}.`))
		return
	}
	c, err := s.revoke(r, principalFrom(r.Context()), in.Reason)
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.certJSON(c))
}
