package httpapi

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loader"
)

// NewServer returns the service's handler. Every route is listed here.
func NewServer(cfg Config, d Deps) http.Handler {
	d.mustBeComplete()
	cfg = cfg.withDefaults()
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &server{cfg: cfg, d: d}
	if cfg.MaxInFlight > 0 {
		s.turns = newTurns(cfg.MaxInFlight)
	}
	mux := http.NewServeMux()

	// The API: authenticated, rate limited, answered from the cache or
	// else with per-request loaders (built only for a miss).
	lo := loader.DefaultOptions
	if d.Observer != nil {
		lo.Observe = d.Observer.ObserveBatch
	}
	loaders := loader.Middleware(d.Reader, lo)
	if d.GraphQL != nil {
		gql := s.api("graphql", d.GraphQLError, s.cached("graphql", graphQLKey, loaders(d.GraphQL)))
		mux.Handle("GET /graphql", gql)
		mux.Handle("POST /graphql", gql)
		mux.Handle("/graphql", s.open("graphql", notAllowed(d.GraphQLError, "GET", "HEAD", "POST")))
	}
	if d.Schema != nil {
		mux.Handle("GET /graphql/schema.graphql", s.api("graphql-schema", d.GraphQLError, d.Schema))
		mux.Handle("/graphql/schema.graphql", s.open("graphql-schema", notAllowed(d.GraphQLError, "GET", "HEAD")))
	}
	if d.V11 != nil {
		mux.Handle("GET /v1.1/customer/interaction", s.api("v1.1", d.V11Error, s.cached("v1.1", restKey, loaders(d.V11))))
		mux.Handle("/v1.1/customer/interaction", s.open("v1.1", notAllowed(d.V11Error, "GET", "HEAD")))
	}
	if d.V2 != nil {
		mux.Handle("GET /v2/customers/interaction", s.api("v2", d.V2Error, s.cached("v2", restKey, loaders(d.V2))))
		mux.Handle("/v2/customers/interaction", s.open("v2", notAllowed(d.V2Error, "GET", "HEAD")))
	}

	// Open routes.
	if d.Playground != nil {
		mux.Handle("GET /{$}", s.open("playground", d.Playground))
		mux.Handle("GET /playground/", s.open("playground", d.Playground))
	}
	if d.OpenAPI != nil {
		mux.Handle("GET /openapi.json", s.open("openapi", d.OpenAPI))
	}
	mux.Handle("GET /healthz", s.open("healthz", http.HandlerFunc(healthz)))
	mux.Handle("GET /readyz", s.open("readyz", http.HandlerFunc(s.readyz)))
	if d.Metrics != nil {
		mux.Handle("GET /metrics", s.open("metrics", d.Metrics))
	}
	var h http.Handler = mux
	if len(cfg.CORSOrigins) > 0 {
		h = cors(cfg.CORSOrigins, mux) // outside the routes: preflights pass no authentication
	}
	return s.open("", h) // request id and recovery for unmatched routes too
}

// notAllowed answers the methods other than served (those the route's own
// patterns take) with 405 in the route's error format: ServeMux's own 405
// is text/plain, outside the envelope a REST caller or a GraphQL client
// parses. The Allow header and the message name the same methods.
func notAllowed(ew ErrorWriter, served ...string) http.Handler {
	if ew == nil {
		ew = writePlainError
	}
	allow := strings.Join(served, ", ")
	last := len(served) - 1
	words := strings.Join(served[:last], ", ") + " and " + served[last]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		ew(w, r, interaction.Errorf(interaction.KindMethodNotAllowed, "method %s is not allowed: this route serves %s", r.Method, words))
	})
}
