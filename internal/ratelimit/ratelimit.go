// Package ratelimit decides whether an API key may make another request.
//
// The Limiter interface is what the HTTP middleware depends on, so the
// in-process implementation here can be replaced by a shared one (Redis)
// when several gateway replicas must enforce one budget per key.
package ratelimit

import (
	"context"
	"time"
)

// Decision is the outcome of one request against a key's budget, with what
// the X-RateLimit-* and Retry-After headers need.
type Decision struct {
	Allowed    bool
	Limit      int           // requests allowed per window
	Remaining  int           // requests left in the current window (never negative)
	Reset      time.Time     // when the budget is fully restored
	RetryAfter time.Duration // when not allowed: how long until one request would be
}

// Limiter enforces a per-key request budget of limit requests a minute.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, now time.Time) (Decision, error)
}

// Window is the period a limit is expressed over.
const Window = time.Minute
