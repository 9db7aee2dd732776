package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/notify"
)

// WebhookAdmin is what the system administrator's webhook page needs of the register
// (chungthuc.Webhooks has it).
type WebhookAdmin interface {
	AddWebhookEndpoint(ctx context.Context, e *chungthuc.WebhookEndpoint) error
	WebhookEndpoints(ctx context.Context) ([]chungthuc.WebhookEndpoint, error)
	RemoveWebhookEndpoint(ctx context.Context, id int64) error
	WebhookStates(ctx context.Context) ([]chungthuc.WebhookState, error)
	SendTestEvent(ctx context.Context, endpoint int64) (string, error)
}

// Audit actions of the webhook page.
const (
	actionWebhookAdd    = "webhook.add"
	actionWebhookRemove = "webhook.remove"
	actionWebhookTest   = "webhook.test"
)

// canManageWebhooks: the receivers of register events are the system administrator's.
func canManageWebhooks(p *principal) error {
	if p == nil || p.Role != chungthuc.RoleSystemAdmin {
		return bi(chungthuc.EFORBIDDEN, "Chỉ quản trị viên hệ thống được quản lý điểm nhận sự kiện (webhook).",
			"Only the system administrator can manage webhook endpoints.")
	}
	return nil
}

// webhookRow is one endpoint as the page lists it (never its secret).
type webhookRow struct {
	chungthuc.WebhookEndpoint
	State chungthuc.WebhookState
}

// webhooksPage: GET /app/webhooks — the endpoints with their delivery state and the form to
// add one. A secret is shown only in the answer to the POST that created it (data["New"]).
func (s *Server) webhooksPage(w http.ResponseWriter, r *http.Request) {
	s.renderWebhooks(w, r, map[string]any{"Done": r.URL.Query().Get("done")})
}

func (s *Server) renderWebhooks(w http.ResponseWriter, r *http.Request, data map[string]any) {
	if err := s.webhooksReady(r); err != nil {
		s.Error(w, r, err)
		return
	}
	es, err := s.Webhooks.WebhookEndpoints(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	states, err := s.Webhooks.WebhookStates(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	byID := map[int64]chungthuc.WebhookState{}
	for _, st := range states {
		byID[st.EndpointID] = st
	}
	rows := make([]webhookRow, len(es))
	for i, e := range es {
		e.Secret = nil
		rows[i] = webhookRow{WebhookEndpoint: e, State: byID[e.ID]}
	}
	data["Endpoints"], data["FormKey"] = rows, newFormKey()
	s.render(w, r, "webhooks.html", data)
}

func (s *Server) webhooksReady(r *http.Request) error {
	if s.Webhooks == nil {
		return chungthuc.Errorf(chungthuc.ENOTFOUND, "Không tìm thấy trang. (Page not found.)")
	}
	return canManageWebhooks(who(r))
}

// webhookAdd: POST /app/webhooks (url) — checks the address with the address guard,
// generates the secret, records the endpoint (audited) and shows the secret this once. The
// answer is the page itself (no redirect: the secret must not travel in a URL), so the form
// carries a one-time key: a reload does not add a second endpoint.
func (s *Server) webhookAdd(w http.ResponseWriter, r *http.Request) {
	if err := s.webhooksReady(r); err != nil {
		s.Error(w, r, err)
		return
	}
	p := who(r)
	if key := r.FormValue("idempotency_key"); key == "" || p.Session == nil || !s.codes.useOnce("webhook:"+p.Session.TokenHash, key, s.Now()) {
		http.Redirect(w, r, "/app/webhooks?done=again"+langParam(r), http.StatusSeeOther)
		return
	}
	raw := trim(r.FormValue("url"))
	if err := notify.CheckEndpoint(r.Context(), raw, s.WebhookAllowLoopback, nil); err != nil {
		s.Error(w, r, bi(chungthuc.EINVALID, "Địa chỉ không dùng được: cần một địa chỉ http(s) đến máy chủ công khai, không kèm tên đăng nhập. ("+err.Error()+")",
			"The address cannot be used: it must be an http(s) URL of a public server, without credentials. ("+err.Error()+")"))
		return
	}
	secret := notify.NewSecret()
	e := &chungthuc.WebhookEndpoint{URL: raw, Secret: []byte(secret)}
	if err := s.Webhooks.AddWebhookEndpoint(r.Context(), e); err != nil {
		s.Error(w, r, err)
		return
	}
	detail, _ := json.Marshal(map[string]string{"url": raw}) // a string map always marshals
	// A failed audit append is logged by s.audit; the endpoint exists either way.
	_ = s.audit(r, &chungthuc.AuditEntry{Action: actionWebhookAdd, Actor: p.actor(), Subject: "webhook:" + strconv.FormatInt(e.ID, 10),
		Detail: string(detail)})
	s.renderWebhooks(w, r, map[string]any{"New": e, "NewSecret": secret})
}

// endpointOf checks the administrator and returns the endpoint id in the path.
func (s *Server) endpointOf(r *http.Request) (int64, error) {
	if err := s.webhooksReady(r); err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, chungthuc.Errorf(chungthuc.ENOTFOUND, "Không tìm thấy điểm nhận. (No such endpoint.)")
	}
	return id, nil
}

// webhookTest: POST /app/webhooks/{id}/test — queues a "webhook.test" event for that
// endpoint only (audited); its delivery shows in the counts like any other.
func (s *Server) webhookTest(w http.ResponseWriter, r *http.Request) {
	id, err := s.endpointOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ev, err := s.Webhooks.SendTestEvent(r.Context(), id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// A failed audit append is logged by s.audit; the event is queued either way.
	_ = s.audit(r, &chungthuc.AuditEntry{Action: actionWebhookTest, Actor: who(r).actor(), Subject: "webhook:" + strconv.FormatInt(id, 10),
		Detail: `{"event_id":"` + ev + `"}`}) // a hex id needs no escaping
	http.Redirect(w, r, "/app/webhooks?done=test"+langParam(r), http.StatusSeeOther)
}

// webhookRemove: POST /app/webhooks/{id}/remove (confirm=1) — stops deliveries to the
// endpoint and drops its undelivered ones (audited).
func (s *Server) webhookRemove(w http.ResponseWriter, r *http.Request) {
	id, err := s.endpointOf(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if r.FormValue("confirm") != "1" {
		s.Error(w, r, bi(chungthuc.EINVALID, "Chưa xóa: hãy đánh dấu ô xác nhận.", "Not removed: tick the confirmation box."))
		return
	}
	if err := s.Webhooks.RemoveWebhookEndpoint(r.Context(), id); err != nil {
		s.Error(w, r, err)
		return
	}
	// A failed audit append is logged by s.audit; the endpoint is gone either way.
	_ = s.audit(r, &chungthuc.AuditEntry{Action: actionWebhookRemove, Actor: who(r).actor(), Subject: "webhook:" + strconv.FormatInt(id, 10)})
	http.Redirect(w, r, "/app/webhooks?done=removed"+langParam(r), http.StatusSeeOther)
}
