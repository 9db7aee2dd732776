package api

import (
	"context"
	"net/http"
)

// contextWithoutCancel keeps the request's values (id, logger) but not its cancellation.
func contextWithoutCancel(r *http.Request) context.Context { return context.WithoutCancel(r.Context()) }
