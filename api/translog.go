package api

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/verify"
)

// logRoutes adds the public transparency log's routes (nothing without a log):
//
//	GET /log/checkpoint                    the newest signed checkpoint (text/plain, C2SP)
//	GET /log/key                           the log's public key (note verifier key)
//	GET /api/v1/log/proof/{token}          the leaves of a copy with their inclusion proofs
//	GET /api/v1/log/consistency?old=&new=  a consistency proof between two tree sizes
func (s *Server) logRoutes(r chi.Router) {
	if s.Log == nil {
		return
	}
	r.Get("/log/checkpoint", s.logCheckpoint)
	r.Get("/log/key", s.logKey)
	r.Get("/api/v1/log/proof/{token}", s.logProof)
	r.Get("/api/v1/log/consistency", s.logConsistency)
}

func (s *Server) logCheckpoint(w http.ResponseWriter, r *http.Request) {
	_, signed, ok := s.Log.Newest()
	if !ok {
		s.Error(w, r, chungthuc.Errorf(chungthuc.ENOTFOUND, "No checkpoint of the public log is stored yet."))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(signed)
}

func (s *Server) logKey(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	io.WriteString(w, s.Log.Key().Public+"\n")
}

// logProof serves the leaves of the copy with this token and their inclusion proofs in
// the newest checkpoint. Unknown, malformed, pending and void tokens get the same 404 as on
// the verification page.
func (s *Server) logProof(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	c, _, err := s.lookupToken(r, token)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	p, _, err := s.Log.EntryProof(r.Context(), c.ID, c.Token)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) logConsistency(w http.ResponseWriter, r *http.Request) {
	old, err1 := strconv.ParseInt(r.URL.Query().Get("old"), 10, 64)
	nw, err2 := strconv.ParseInt(r.URL.Query().Get("new"), 10, 64)
	if err1 != nil || err2 != nil {
		s.Error(w, r, chungthuc.Errorf(chungthuc.EINVALID, "old and new must be tree sizes (whole numbers)"))
		return
	}
	p, err := s.Log.Consistency(r.Context(), old, nw)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600") // a proof between two sizes never changes
	writeJSON(w, http.StatusOK, p)
}

// logInfo is the verification page's "in the public log" line.
type logInfo struct {
	Included bool
	VI, EN   string
	Index    int64
	Size     int64
	Time     time.Time
}

// logLine says where c is in the public log, when its proof checks; nil without a log or
// leaf (the line is then left out), Included false while its leaf awaits a checkpoint.
func (s *Server) logLine(r *http.Request, c *chungthuc.Certification) *logInfo {
	if s.Log == nil {
		return nil
	}
	_, in, err := s.Log.EntryProof(r.Context(), c.ID, c.Token)
	if err != nil {
		if chungthuc.ErrorCode(err) != chungthuc.ENOTFOUND {
			s.log.Error("public log proof", "certification", c.ID, "err", err)
		}
		return nil
	}
	li := &logInfo{Included: in.Included, Index: in.Index, Size: in.CheckpointSize, Time: in.CheckpointTime}
	if in.Included {
		li.VI, li.EN = verify.LogMessages(&verify.LogInclusion{Index: in.Index, CheckpointSize: in.CheckpointSize, CheckpointTime: in.CheckpointTime})
	}
	return li
}

// withLog adds to a public JSON answer where the copy is in the public log: "log" with the
// leaf's index and the checkpoint, and the sentence appended to the messages.
func (s *Server) withLog(r *http.Request, m map[string]any, c *chungthuc.Certification) map[string]any {
	li := s.logLine(r, c)
	if li == nil {
		return m
	}
	if !li.Included {
		m["log"] = map[string]any{"included": false}
		return m
	}
	m["log"] = map[string]any{"included": true, "index": li.Index, "checkpoint_size": li.Size,
		"checkpoint_time": li.Time.In(chungthuc.Vietnam).Format(time.RFC3339)}
	m["message_vi"] = fmt.Sprint(m["message_vi"], " ", li.VI)
	m["message_en"] = fmt.Sprint(m["message_en"], " ", li.EN)
	return m
}
