package api

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
)

// scanTypes are the file types accepted as scans of an original.
var scanTypes = []string{"image/jpeg", "image/png", "application/pdf"}

// certifyUpload reads a certification request (scans in "file" fields, in order, plus
// doc_title, issuer, requester, officer_title) and runs the workflow for p. Nothing is
// written to the register unless the scans are accepted (certify reserves the number only
// then, and voids it on any later failure).
func (s *Server) certifyUpload(w http.ResponseWriter, r *http.Request, p *principal) (*certify.Output, error) {
	if !p.canCertify() {
		return nil, chungthuc.Errorf(chungthuc.EFORBIDDEN, "Only a certifying officer can certify copies.")
	}
	up, err := s.readUpload(w, r, "file", s.maxFiles, scanTypes)
	if err != nil {
		return nil, err
	}
	defer up.Close()
	docTitle := up.field("doc_title")
	switch {
	case len(up.files) == 0:
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "Add at least one scan of the original (JPEG, PNG or PDF).")
	case docTitle == "":
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "Enter the title of the document (e.g. Giấy khai sinh).")
	}
	unit, err := s.reg.UnitByID(r.Context(), p.UnitID)
	if err != nil {
		return nil, err
	}
	scans := make([]chungthuc.Scan, 0, len(up.files))
	for _, f := range up.files {
		b, err := f.readAll()
		if err != nil {
			return nil, err
		}
		scans = append(scans, chungthuc.Scan{Name: f.Name, Data: b})
	}
	// The request's context would cancel on a client disconnect; a certification, once
	// started, finishes (or voids its number) on its own.
	out, err := s.certifier.Certify(contextWithoutCancel(r), certify.Input{
		UnitCode: unit.Code, OfficerID: p.OfficerID, Title: up.field("officer_title"),
		DocTitle: docTitle, Issuer: up.field("issuer"), Requester: up.field("requester"),
		Scans: scans, KeepScans: true,
	})
	if err != nil {
		switch chungthuc.ErrorCode(err) {
		case chungthuc.EINVALID, chungthuc.EUNSUPPORTED, chungthuc.ETOOLARGE:
			s.Metrics.certification("refused_input")
		default:
			s.Metrics.certification("failed")
		}
		return nil, err
	}
	s.Metrics.certification("issued")
	return out, nil
}

// entryFor loads a certification the principal may see; ENOTFOUND otherwise (never
// EFORBIDDEN: another unit's entries do not exist for this caller).
func (s *Server) entryFor(r *http.Request, p *principal) (*chungthuc.Certification, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "Certification not found.")
	}
	c, err := s.reg.CertificationByID(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !p.sees(c.UnitID) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "Certification %d not found.", id)
	}
	return c, nil
}

// revoke revokes an entry of the principal's unit with a reason.
func (s *Server) revoke(r *http.Request, p *principal, reason string) (*chungthuc.Certification, error) {
	c, err := s.entryFor(r, p)
	if err != nil {
		return nil, err
	}
	if !p.canRevoke() || c.UnitID != p.UnitID {
		return nil, chungthuc.Errorf(chungthuc.EFORBIDDEN, "Only an officer or the administrator of the unit can revoke its copies.")
	}
	out, err := s.certifier.Revoke(contextWithoutCancel(r), p.UnitID, c.ID, reason)
	if err != nil {
		return nil, err
	}
	s.auditEvent(r.Context(), "revoke.request", c.UnitID, p.actor(), "certification:"+strconv.FormatInt(c.ID, 10), "")
	return out, nil
}

// streamCopy writes the signed PDF of an entry.
func (s *Server) streamCopy(w http.ResponseWriter, r *http.Request, p *principal, c *chungthuc.Certification) {
	if c.ObjectKey == "" || (c.Status != chungthuc.StatusIssued && c.Status != chungthuc.StatusRevoked) {
		Error(w, r, chungthuc.Errorf(chungthuc.ECONFLICT, "This entry has no stored copy (status %s).", c.Status))
		return
	}
	rc, info, err := s.objects.Get(r.Context(), c.ObjectKey)
	if err != nil {
		Error(w, r, err)
		return
	}
	defer rc.Close()
	s.auditEvent(r.Context(), "download", c.UnitID, p.actor(), "certification:"+strconv.FormatInt(c.ID, 10), "")
	servePDF(w, rc, info.Size, pdfName(c))
}
