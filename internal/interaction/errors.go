package interaction

import (
	"errors"
	"fmt"
)

// Kind is a small vocabulary of error kinds. Each transport maps a kind to
// its own representation exactly once (an HTTP status and vendor code on
// REST, an extensions.code on GraphQL), so callers see stable codes while
// internal detail stays in the logs.
type Kind uint8

// The error kinds.
const (
	KindInternal         Kind = iota // a bug or an unavailable dependency; details are logged, never shown
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

// KindOf returns the kind of the first *Error in err's chain, or
// KindInternal when there is none (an unclassified error is a bug).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// MessageOf returns the caller-safe message of err: the message of the first
// *Error in its chain, or a generic text for internal errors so that no
// internal detail reaches a response.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindInternal && e.Message != "" {
		return e.Message
	}
	return "internal error"
}
