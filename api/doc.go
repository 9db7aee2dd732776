// Package api is the HTTP face of chungthuc: the officer workspace (server-rendered HTML,
// Vietnamese by default), the citizen download, public verification (pages and JSON), the
// JSON API for integrations with its OpenAPI document, health, readiness and metrics.
//
// All routes are declared in one function (routes). Handlers are methods on Server, a struct
// of the domain's interfaces; middleware is func(http.Handler) http.Handler; every error goes
// through Error, which maps the domain's error codes to HTTP statuses in one table. Public
// routes only read. The package returns an http.Handler; cmd/chungthuc owns the http.Server.
package api
