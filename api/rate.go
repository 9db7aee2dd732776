package api

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
)

// The citizen's rating of the service (issue 13 item 7): after downloading the copy, or from
// the link on the receipt, the holder of the copy's link and access code may rate the service
// once — satisfied, neutral or not satisfied, with an optional comment. No login: the access
// code (the one in force; a reissue voids the old one) is what proves the citizen holds the
// receipt, so nobody else can rate someone's copy. Attempts are rate limited (the public
// limit and a tighter one for ratings, as for logins), every rating is audited, and no page
// shows a rating: only the statistics count them.

// rateLimitShare: ratings per minute per address are this fraction of the public limit.
const rateLimitShare = 5

// ratePage shows the rating form of a copy (or the thanks after a rating, ?done=1).
func (s *Server) ratePage(w http.ResponseWriter, r *http.Request) {
	c, u, token := s.tokenPage(w, r, "")
	if c == nil {
		return
	}
	s.render(w, r, "rate.html", s.rateData(r, c, u, token, r.URL.Query().Get("done") == "1"))
}

func (s *Server) rateData(r *http.Request, c *chungthuc.Certification, u *chungthuc.Unit, token string, done bool) map[string]any {
	return map[string]any{"C": c, "Unit": u, "Token": token, "Done": done, "Choices": chungthuc.Satisfactions,
		"MaxComment": chungthuc.MaxRatingComment, "CanRate": c.Status == chungthuc.StatusIssued}
}

// rate records a rating: the access code in force is required; a second rating of the same
// copy is refused (409), a wrong code gets 403 — the same answer as an unknown link.
func (s *Server) rate(w http.ResponseWriter, r *http.Request) {
	setLang(w, r)
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	token := chi.URLParam(r, "token")
	c, u, err := s.lookupToken(r, token)
	if err != nil && chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
		s.Error(w, r, err)
		return
	}
	ok, err := s.accessCodeMatches(r, c, token, r.FormValue("code"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !ok {
		s.metrics.count("chungthuc_ratings_total", `outcome="refused"`)
		w.WriteHeader(http.StatusForbidden)
		if c == nil {
			s.render(w, r, "token.html", map[string]any{"Error": wrongCode(r)})
			return
		}
		data := s.rateData(r, c, u, token, false)
		data["Error"] = wrongCode(r)
		s.render(w, r, "rate.html", data)
		return
	}
	rt := &chungthuc.Rating{CertificationID: c.ID, Value: chungthuc.Satisfaction(r.FormValue("rating")), Comment: r.FormValue("comment")}
	if err := s.Certify.Rate(r.Context(), rt, "citizen:"+clientAddr(r)); err != nil {
		status := http.StatusBadRequest
		msg := [2]string{fmt.Sprintf("Hãy chọn một mức đánh giá; ý kiến tối đa %d ký tự, không chứa ký tự điều khiển.", chungthuc.MaxRatingComment),
			fmt.Sprintf("Choose a rating; the comment may be up to %d characters, without control characters.", chungthuc.MaxRatingComment)}
		switch chungthuc.ErrorCode(err) {
		case chungthuc.EINVALID:
		case chungthuc.ECONFLICT:
			status = http.StatusConflict
			msg = [2]string{"Bản sao này đã được đánh giá: mỗi bản sao chỉ được đánh giá một lần. Cảm ơn bạn.",
				"This copy has already been rated: each copy can be rated once. Thank you."}
		default:
			s.Error(w, r, err)
			return
		}
		s.metrics.count("chungthuc_ratings_total", fmt.Sprintf(`outcome=%q`, chungthuc.ErrorCode(err)))
		w.WriteHeader(status)
		data := s.rateData(r, c, u, token, false)
		data["Error"] = msg[0]
		if langOf(r) == "en" {
			data["Error"] = msg[1]
		}
		s.render(w, r, "rate.html", data)
		return
	}
	s.metrics.count("chungthuc_ratings_total", `outcome="ok"`)
	http.Redirect(w, r, "/v/"+token+"/rate?done=1"+langParam(r), http.StatusSeeOther)
}
