package api

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// routes declares every route of the service, in one place.
func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(s.withRequestID, s.observe, securityHeaders)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) { Error(w, r, errNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) { Error(w, r, errMethod) })

	// Operations.
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", s.Metrics)
	r.Handle("/static/*", http.StripPrefix("/static/", staticHandler()))
	for prefix, h := range s.mounts {
		r.Mount(strings.TrimRight(prefix, "/"), h)
	}

	// Public pages and endpoints: read-only views of the register, rate limited per client.
	r.Group(func(r chi.Router) {
		pub := &public{s: s, reg: s.reg, objects: s.objects}
		r.Use(s.rateLimit(s.publicLimit))
		r.Get("/", pub.home)
		r.Get("/lang/{lang}", s.setLang)
		r.Get("/v/{token}", pub.verifyToken)
		r.Get("/v/{token}/qr.png", pub.qr)
		r.Post("/v/{token}/download", pub.download)
		r.Get("/verify", pub.verifyPage)
		r.Post("/verify", pub.verifyUploadPage)
		r.Post("/api/v1/verify", pub.apiVerifyFile)
		r.Post("/api/v1/verify/hash", pub.apiVerifyHash)
		r.Get("/api/v1/verify/{token}", pub.apiVerifyToken)
		r.Get("/api/openapi.json", s.openAPI)
	})

	// Login.
	r.Group(func(r chi.Router) {
		r.Use(s.rateLimit(s.loginLimit))
		r.Get("/login", s.loginPage)
		r.Post("/login", s.loginSubmit)
	})

	// Officer workspace: a logged-in account; CSRF-checked; every query scoped by unit.
	r.Route("/ws", func(r chi.Router) {
		r.Use(s.requireLogin)
		r.Post("/logout", s.logout)
		r.Get("/", s.dashboard)
		r.Get("/new", s.newPage)
		r.With(s.tracked).Post("/new", s.newSubmit)
		r.Get("/register", s.registerPage)
		r.Get("/c/{id}", s.certPage)
		r.Get("/c/{id}/pdf", s.certPDF)
		r.Post("/c/{id}/revoke", s.revokeSubmit)
		r.Get("/refuse", s.refusePage)
		r.Post("/refuse", s.refuseSubmit)
		r.Get("/stats", s.statsPage)
		r.Get("/stats.csv", s.statsCSV)
	})

	// JSON API for integrations: bearer tokens, scoped to the token's unit and officer.
	r.Route("/api/v1/certifications", func(r chi.Router) {
		r.Use(s.requireToken)
		r.With(s.tracked).Post("/", s.apiCertify)
		r.Get("/{id}", s.apiCertification)
		r.Get("/{id}/pdf", s.apiCertificationPDF)
		r.Post("/{id}/revoke", s.apiRevoke)
	})
	return r
}

func staticHandler() http.Handler {
	fs := http.FileServerFS(staticFiles)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fs.ServeHTTP(w, r)
	})
}
