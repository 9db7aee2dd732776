// Package api is the HTTP face of chungthuc: the officer workspace (server-rendered HTML,
// Vietnamese by default), the citizen download, public verification (pages and JSON), the
// JSON API for integrations with its OpenAPI document, health, readiness and metrics.
//
// All routes are declared in one function (routes). Handlers are methods on Server, a struct
// of the domain's interfaces; middleware is func(http.Handler) http.Handler; every error goes
// through Error, which maps the domain's error codes to HTTP statuses in one table. Public
// routes only read. The package returns an http.Handler; cmd/chungthuc owns the http.Server.
//
// Logins (auth.go) are a password, throttled in the register, then — for an account with
// two-step verification — a one-time code on its own page, bound to a pending login kept in
// the register (totp.go); sessions are cookies whose hashes the register keeps.
package api
