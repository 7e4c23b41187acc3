// Package graph is Touchpoint's GraphQL API: gqlgen's generated executor
// (generated.go, never edited by hand), the thin resolvers that read through
// the per-request loaders, and the production HTTP handler.
package graph

//go:generate go run github.com/99designs/gqlgen generate

// Resolver is the root resolver: the one place dependencies would come in.
// It holds none: data is read only through loader.For(ctx), which
// middleware installs per request for the authenticated organisation, and
// errors are logged by the handler that presents them, not by the
// resolvers.
type Resolver struct{}
