package engine

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in server/errors.go and to one
// exit status in cmd/passerelle.
const (
	ECONFLICT  = "conflict"  // the action conflicts with stored state
	EINTERNAL  = "internal"  // a bug or an unavailable dependency
	EINVALID   = "invalid"   // the input is wrong; the message says how
	ENOTFOUND  = "not_found" // the thing asked for does not exist
	EFORBIDDEN = "forbidden" // the caller may not do this
	EUNAUTH    = "unauthorized"
	ETOOLARGE  = "too_large"  // an upload or input over its limit
	ERATELIMIT = "rate_limit" // out of budget; retry later
)

// Error is the application error: a code for machines and a message that is
// safe to show the person who asked. Internal detail goes in Err, which is
// logged but never shown.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Message != "" {
		return e.Message + ": " + e.Err.Error()
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted public message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the public message of the first *Error in err's chain,
// and a generic text for anything else, whose detail must not leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error"
}
