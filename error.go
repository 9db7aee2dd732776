package chungthuc

import (
	"errors"
	"fmt"
	"strings"
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
// Messages never contain secrets. Cause, when set, is the lower-level error behind it
// (errors.Is and errors.As see it through Unwrap); it is for logs and operators, never
// part of Message.
type Error struct {
	Code    string
	Message string
	Cause   error
}

// Error implements the error interface: code, message and, when the message does not
// already say it, the cause — the text for logs.
func (e *Error) Error() string {
	if e.Cause != nil && !strings.Contains(e.Message, e.Cause.Error()) {
		return fmt.Sprintf("chungthuc: %s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return fmt.Sprintf("chungthuc: %s: %s", e.Code, e.Message)
}

// Unwrap returns the cause (nil when there is none).
func (e *Error) Unwrap() error { return e.Cause }

// Errorf returns an *Error with the given code and a formatted message. The first error
// among args, if any, becomes the Cause (so errors.Is sees through it); prefer Wrap, whose
// message does not repeat the cause.
func Errorf(code, format string, args ...any) *Error {
	e := &Error{Code: code, Message: fmt.Sprintf(format, args...)}
	for _, a := range args {
		if err, ok := a.(error); ok && err != nil {
			e.Cause = err
			break
		}
	}
	return e
}

// Wrap returns an *Error with the given code, a message written for the reader (format
// and args, which must not carry the cause's text, paths of the server or endpoints when
// the code is EUNAVAILABLE or EINTERNAL) and cause kept for logs and errors.Is/As.
func Wrap(cause error, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Cause: cause}
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

// ErrorDetail is ErrorMessage followed by the cause when the message does not already say
// it: the text for operators (the CLI, logs), never for the public.
func ErrorDetail(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if !errors.As(err, &e) {
		return err.Error()
	}
	if e.Cause == nil {
		return e.Message
	}
	cause := e.Cause.Error()
	var inner *Error
	if errors.As(e.Cause, &inner) {
		cause = ErrorDetail(e.Cause) // without the "chungthuc: code:" prefix
	}
	if strings.Contains(e.Message, cause) {
		return e.Message
	}
	return e.Message + ": " + cause
}
