package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
)

// certificationJSON is the API's view of an entry of the caller's own unit.
func (s *Server) certificationJSON(c *chungthuc.Certification) map[string]any {
	m := map[string]any{
		"id": c.ID, "number": c.Number, "book": c.BookCode, "year": c.Year, "status": c.Status,
		"document": c.Title, "title": c.Title, "issuer": c.Issuer, "requester": c.Requester,
		"officer_name": c.OfficerName, "officer_title": c.OfficerTitle,
		"pages": c.Pages, "copies": c.Copies, "fee_vnd": c.FeeVND, "sha256": c.SHA256,
		"verify_url":   s.Certify.VerifyURL(c.Token),
		"certified_at": c.CertifiedAt.In(chungthuc.Vietnam).Format(time.RFC3339),
	}
	if c.Status == chungthuc.StatusRevoked {
		m["revoke_reason"] = c.RevokeReason
		if c.RevokedAt != nil {
			m["revoked_at"] = c.RevokedAt.In(chungthuc.Vietnam).Format(time.RFC3339)
		}
	}
	if c.Status == chungthuc.StatusVoid {
		m["void_reason"] = c.VoidReason
	}
	return m
}

// apiCertify: POST /api/v1/certifications (multipart: file…, document (or its deprecated
// alias title), requester, issuer, copies, officer_title, confirm_low_resolution) → 201 with the entry and the citizen's access code (shown only here).
//
// With an Idempotency-Key header the request is safe to retry: a retry with the same key
// and the same request gets the first outcome — 200 with the issued (or since revoked)
// entry, without the access code; 409 with the void entry and its reason when the first
// request failed after its number was reserved; 409 with Retry-After while the first
// request is still running — and a key reused with a different request gets 422.
func (s *Server) apiCertify(w http.ResponseWriter, r *http.Request) {
	out, err := s.certify(w, r)
	var outcome *certify.Outcome
	switch {
	case errors.Is(err, certify.ErrKeyReused):
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": map[string]string{"code": chungthuc.EINVALID,
			"message": chungthuc.ErrorMessage(err)}, "request_id": requestID(r)})
		return
	case errors.As(err, &outcome):
		state := "void"
		if outcome.InProgress() {
			state = "in_progress"
			w.Header().Set("Retry-After", "5")
		}
		writeJSON(w, http.StatusConflict, map[string]any{"error": map[string]string{"code": chungthuc.ECONFLICT,
			"message": chungthuc.ErrorMessage(err)}, "outcome": state, "certification": s.certificationJSON(outcome.Certification),
			"request_id": requestID(r)})
		return
	case err != nil:
		s.Error(w, r, err)
		return
	case out.Awaiting != nil:
		// Signing outside the service: 202 with what to sign (again, for a retry).
		if out.Replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		s.writeAwaiting(w, out.Awaiting)
		return
	case out.Replayed:
		w.Header().Set("Idempotent-Replayed", "true")
		w.Header().Set("Location", "/api/v1/certifications/"+itoa(out.Certification.ID))
		writeJSON(w, http.StatusOK, s.certificationJSON(out.Certification))
		return
	}
	m := s.certificationJSON(out.Certification)
	m["access_code"] = out.AccessCode
	m["dropped"] = append([]string{}, out.Dropped...)
	w.Header().Set("Location", "/api/v1/certifications/"+itoa(out.Certification.ID))
	writeJSON(w, http.StatusCreated, m)
}

func (s *Server) apiCertification(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.certificationJSON(c))
}

func (s *Server) apiCertificationPDF(w http.ResponseWriter, r *http.Request) {
	s.certificationPDF(w, r)
}

// apiRevoke: POST /api/v1/certifications/{id}/revoke with JSON {"reason": "…"} or a form.
func (s *Server) apiRevoke(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	reason, err := jsonOrForm(w, r, "reason")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	c, err = s.revoke(r, c, reason)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.certificationJSON(c))
}

// apiReissueCode: POST /api/v1/certifications/{id}/access-code — a new access code for an
// issued copy (the old ones stop working), returned once as "access_code".
func (s *Server) apiReissueCode(w http.ResponseWriter, r *http.Request) {
	c, err := s.entryOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	code, c, err := s.reissueCode(r, c)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	m := s.certificationJSON(c)
	m["access_code"] = code
	writeJSON(w, http.StatusOK, m)
}
