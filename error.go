package chungthuc

import (
	"errors"
	"fmt"
)

// Error codes. Every layer returns *Error with one of these codes for failures a user can
// act on; anything else is treated as EINTERNAL. The HTTP layer maps codes to statuses in
// one table, the CLI maps them to exit codes.
const (
	ECONFLICT     = "conflict"     // state does not allow the action (e.g. revoking twice)
	EINTERNAL     = "internal"     // a bug or an outage; details are logged, not shown
	EINVALID      = "invalid"      // the request or input is malformed
	ENOTFOUND     = "not_found"    // the thing does not exist (or is not visible to the caller)
	EUNAUTHORIZED = "unauthorized" // no or wrong credentials
	EFORBIDDEN    = "forbidden"    // authenticated, but not allowed
	ETOOLARGE     = "too_large"    // an input exceeds a configured limit
	EUNSUPPORTED  = "unsupported"  // an input type the service does not accept
	ERATELIMIT    = "rate_limited" // too many requests
	EUNAVAILABLE  = "unavailable"  // a dependency (database, object store, key token) is down
)

// Error is a domain error: a code from the list above and a message fit to show a user.
// Messages never contain secrets.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string { return fmt.Sprintf("chungthuc: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil, and
// EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the first *Error in err's chain, and a
// generic message for any other error (whose details must be logged, not shown).
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
