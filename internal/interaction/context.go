package interaction

import (
	"context"
	"slices"
)

// Scope names a permission an API key can hold.
type Scope string

// Scopes.
const (
	// ScopeRead lets a key read its organisation's customers and interactions.
	ScopeRead Scope = "read"
	// ScopeOTPRead lets a key see one-time passwords unmasked.
	ScopeOTPRead Scope = "otp:read"
)

// Principal is who is making a request: an API key and the organisation it
// belongs to. Authentication middleware puts it into the request context;
// everything downstream reads the organisation from it and nowhere else.
type Principal struct {
	Org    Org
	KeyID  string
	Scopes []Scope
}

// Has reports whether the principal holds scope s.
func (p Principal) Has(s Scope) bool { return slices.Contains(p.Scopes, s) }

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal in ctx, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
