package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/touchpoint/touchpoint/internal/loader"
)

// NewServer returns the service's handler. Every route is listed here.
func NewServer(cfg Config, d Deps) http.Handler {
	d.mustBeComplete()
	cfg = cfg.withDefaults()
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{cfg: cfg, d: d}
	if cfg.MaxInFlight > 0 {
		s.turns = make(chan struct{}, cfg.MaxInFlight)
	}
	mux := http.NewServeMux()

	// The API: authenticated, rate limited, with per-request loaders.
	loaders := loader.DefaultOptions
	if d.Observer != nil {
		loaders.Observe = d.Observer.ObserveBatch
	}
	if d.GraphQL != nil {
		gql := s.api("graphql", writeGraphQLError, loaders, graphQLBody(cfg.MaxBodyBytes)(d.GraphQL))
		mux.Handle("GET /graphql", gql)
		mux.Handle("POST /graphql", gql)
	}
	if d.V11 != nil {
		mux.Handle("GET /v1.1/customer/interaction", s.api("v1.1", d.V11Error, loaders, d.V11))
	}
	if d.V2 != nil {
		mux.Handle("GET /v2/customers/interaction", s.api("v2", d.V2Error, loaders, d.V2))
	}

	// Open routes.
	if d.Playground != nil {
		mux.Handle("GET /{$}", s.open("playground", d.Playground))
		mux.Handle("GET /playground/", s.open("playground", d.Playground))
	}
	mux.Handle("GET /healthz", s.open("healthz", http.HandlerFunc(healthz)))
	mux.Handle("GET /readyz", s.open("readyz", http.HandlerFunc(s.readyz)))
	if d.Metrics != nil {
		mux.Handle("GET /metrics", s.open("metrics", d.Metrics))
	}
	return s.open("", mux) // request id and recovery for unmatched routes too
}
