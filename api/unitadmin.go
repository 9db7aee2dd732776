package api

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
)

// UnitAdmin is what the unit administrator's page and the printouts need beyond the
// workflow (implemented by the command's wiring over the register and the signer): the
// unit's registered seal image and an officer's signature image (both validated and
// audited by the register), the printed register book (PDF — the signed one once the book
// is closed — or CSV) and refusal slips. Every method is scoped by unitID: ENOTFOUND for a
// book, officer or refusal of another unit.
type UnitAdmin interface {
	SetSeal(ctx context.Context, unitID int64, png []byte, mm float64) error
	SetSignature(ctx context.Context, unitID, officerID int64, png []byte) error
	Books(ctx context.Context, unitID int64, year int) ([]*chungthuc.Book, error)
	BookPrint(ctx context.Context, unitID, bookID int64, csv bool) ([]byte, error)
	RefusalSlip(ctx context.Context, unitID, refusalID int64) ([]byte, error)
}

func canAdminister(p *principal) error {
	if p.Role != chungthuc.RoleUnitAdmin || p.UnitID == 0 {
		return chungthuc.Errorf(chungthuc.EFORBIDDEN, "only the unit's administrator can change the unit's seal and signatures")
	}
	return nil
}

func (s *Server) unitAdminReady(w http.ResponseWriter, r *http.Request) bool {
	if s.UnitAdmin == nil {
		s.Error(w, r, chungthuc.Errorf(chungthuc.ENOTFOUND, "not available"))
		return false
	}
	return true
}

// unitPage: the unit's seal and signatures (administrator) and its register books.
func (s *Server) unitPage(w http.ResponseWriter, r *http.Request) {
	if !s.unitAdminReady(w, r) {
		return
	}
	p := who(r)
	u, err := s.Register.UnitByID(r.Context(), p.UnitID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	books, err := s.UnitAdmin.Books(r.Context(), u.ID, 0)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.render(w, r, "unit.html", map[string]any{"Unit": u, "Books": books, "Admin": canAdminister(p) == nil,
		"HasSeal": len(u.SealImage) > 0, "Done": r.URL.Query().Get("done")})
}

// readPNG reads the uploaded file of a form field, bounded.
func readPNG(r *http.Request, field string, limit int) ([]byte, error) {
	f, _, err := r.FormFile(field)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "a PNG file is required (field %q)", field)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "the upload could not be read")
	}
	if len(b) > limit {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "the image is over %d bytes", limit)
	}
	return b, nil
}

// unitSeal: POST /app/unit/seal (multipart: seal, seal_mm) by the unit administrator.
func (s *Server) unitSeal(w http.ResponseWriter, r *http.Request) {
	if !s.unitAdminReady(w, r) {
		return
	}
	p := who(r)
	if err := canAdminister(p); err != nil {
		s.Error(w, r, err)
		return
	}
	img, err := readPNG(r, "seal", chungthuc.MaxSealImage)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	mm, err := strconv.ParseFloat(trim(r.FormValue("seal_mm")), 64)
	if err != nil {
		s.Error(w, r, chungthuc.Errorf(chungthuc.EINVALID, "the seal's size in mm is required (field \"seal_mm\")"))
		return
	}
	if err := s.UnitAdmin.SetSeal(r.Context(), p.UnitID, img, mm); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/app/unit?done=seal", http.StatusSeeOther)
}

// unitSignature: POST /app/unit/signature (multipart: officer, signature) by the unit
// administrator.
func (s *Server) unitSignature(w http.ResponseWriter, r *http.Request) {
	if !s.unitAdminReady(w, r) {
		return
	}
	p := who(r)
	if err := canAdminister(p); err != nil {
		s.Error(w, r, err)
		return
	}
	id, err := strconv.ParseInt(trim(r.FormValue("officer")), 10, 64)
	if err != nil || id <= 0 {
		s.Error(w, r, chungthuc.Errorf(chungthuc.EINVALID, "the officer's number is required (field \"officer\")"))
		return
	}
	img, err := readPNG(r, "signature", chungthuc.MaxSignatureImage)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.UnitAdmin.SetSignature(r.Context(), p.UnitID, id, img); err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/app/unit?done=signature", http.StatusSeeOther)
}

// bookPrint: GET /app/books/{id}/pdf and /app/books/{id}/csv — the unit's register book.
func (s *Server) bookPrint(csv bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.unitAdminReady(w, r) {
			return
		}
		id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
		if err != nil {
			s.Error(w, r, chungthuc.Errorf(chungthuc.ENOTFOUND, "book not found"))
			return
		}
		b, err := s.UnitAdmin.BookPrint(r.Context(), who(r).UnitID, id, csv)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if csv {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", `attachment; filename="so-chung-thuc-`+strconv.FormatInt(id, 10)+`.csv"`)
		} else {
			w.Header().Set("Content-Type", "application/pdf")
			w.Header().Set("Content-Disposition", `inline; filename="so-chung-thuc-`+strconv.FormatInt(id, 10)+`.pdf"`)
		}
		_, _ = w.Write(b) // the client went away: nothing to do
	}
}

// refusalSlip: GET /app/refusals/{id}/slip — the refusal slip for the citizen.
func (s *Server) refusalSlip(w http.ResponseWriter, r *http.Request) {
	if !s.unitAdminReady(w, r) {
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.Error(w, r, chungthuc.Errorf(chungthuc.ENOTFOUND, "refusal not found"))
		return
	}
	b, err := s.UnitAdmin.RefusalSlip(r.Context(), who(r).UnitID, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="phieu-tu-choi-`+strconv.FormatInt(id, 10)+`.pdf"`)
	_, _ = w.Write(b) // the client went away: nothing to do
}
