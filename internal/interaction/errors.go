package interaction

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Kind is a small vocabulary of error kinds. Each transport maps a kind to
// its own representation exactly once (an HTTP status and vendor code on
// REST, an extensions.code on GraphQL), so callers see stable codes while
// internal detail stays in the logs.
type Kind uint8

// The error kinds.
const (
	KindInternal         Kind = iota // a bug or a failed dependency; details are logged, never shown
	KindInvalid                      // the caller sent bad input
	KindNotFound                     // the thing asked for does not exist in the caller's organisation
	KindUnauthorized                 // missing, malformed, wrong or revoked credentials
	KindForbidden                    // authenticated, but the key lacks the scope
	KindRateLimited                  // the key is over its request budget
	KindConflict                     // a uniqueness rule was broken
	KindTooLarge                     // the request is larger than the service accepts
	KindNotAcceptable                // the client accepts no media type the service can answer in
	KindUnsupportedMedia             // the request body's media type is not one the service reads
	KindMethodNotAllowed             // the route is served, but not for the request's method
	KindUnavailable                  // a dependency (the store) does not answer for now; retrying may succeed
	KindCanceled                     // the caller went away before the answer was ready
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not found"
	case KindUnauthorized:
		return "unauthorized"
	case KindForbidden:
		return "forbidden"
	case KindRateLimited:
		return "rate limited"
	case KindConflict:
		return "conflict"
	case KindTooLarge:
		return "too large"
	case KindNotAcceptable:
		return "not acceptable"
	case KindUnsupportedMedia:
		return "unsupported media type"
	case KindMethodNotAllowed:
		return "method not allowed"
	case KindUnavailable:
		return "unavailable"
	case KindCanceled:
		return "canceled"
	}
	return "internal"
}

// Error is a domain error: a kind, a message safe to show to the caller, and
// optionally the underlying cause (which is only ever logged).
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		if e.Message == "" {
			return e.Err.Error()
		}
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of kind k with a formatted, caller-safe message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's chain. An error
// without one (or an internal one) whose cause is a wait that ran out is
// KindUnavailable, and one whose cause is the caller cancelling is
// KindCanceled: the stores return their drivers' errors as they are, and
// this is the one place those are told apart from bugs. Anything else is
// KindInternal (an unclassified error is a bug).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindInternal {
		return e.Kind
	}
	if err == nil {
		return KindInternal
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), timedOut(err):
		return KindUnavailable
	case errors.Is(err, context.Canceled):
		return KindCanceled
	}
	return KindInternal
}

// timedOut reports whether err is a timeout by the conventions drivers
// share without this package importing them: a network error's Timeout()
// (an i/o deadline), or a SQLSTATE of class 57 (the server cancelled the
// statement, as PostgreSQL's statement_timeout and lock_timeout do, or is
// shutting down) or class 08 (the connection failed).
func timedOut(err error) bool {
	var t interface{ Timeout() bool }
	if errors.As(err, &t) && t.Timeout() {
		return true
	}
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		state := s.SQLState()
		return strings.HasPrefix(state, "57") || strings.HasPrefix(state, "08")
	}
	return false
}

// MessageOf returns the caller-safe message of err: the message of the first
// *Error in its chain, or a generic text for internal errors so that no
// internal detail reaches a response.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindInternal && e.Message != "" {
		return e.Message
	}
	switch KindOf(err) {
	case KindUnavailable:
		return "the service did not answer in time; retry later"
	case KindCanceled:
		return "the request was canceled"
	}
	return "internal error"
}
