// Package httpapi is Touchpoint's HTTP edge: the routes, and the middleware
// every API request passes through (request id, access log, recovery, body
// limit, authentication, per-key rate limit, per-request loaders, the
// response cache and its validators). It takes
// the GraphQL handler, the REST shims and the store as dependencies, so it
// imports none of them and can be tested with small handlers of its own.
// What an error looks like is each transport's: the edge raises an error
// of an interaction.Kind and writes it with the route's ErrorWriter, which
// the transport provides (graph.WriteError, rest.WriteV11Error, ...).
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/ratelimit"
	"github.com/touchpoint/touchpoint/internal/respcache"
)

// Config is the HTTP edge's configuration. The timeouts and header limit
// are for the http.Server the main package builds. NewServer gives a zero
// (or negative) DefaultRateLimit or MaxBodyBytes DefaultConfig's value, so
// a partly filled Config never means "refuse every body" or "no limit".
type Config struct {
	// DefaultRateLimit is requests a minute per key when neither the key nor
	// its organisation sets one: the vendor's documented 1,000.
	DefaultRateLimit int
	// MaxBodyBytes bounds a request body; larger ones get 413.
	MaxBodyBytes int64
	// MaxInFlight bounds the API requests served at once; the others wait
	// their turn (until their client gives up or the deadline passes), the
	// request of the connection answered longest ago first (turns.go). 0
	// means no bound. Requests are authenticated and rate limited before
	// they queue.
	MaxInFlight int
	// RequestTimeout bounds an API request from its arrival to its answer:
	// authentication, the rate limit, the wait for a turn and every store
	// statement run under a context with this deadline, and a request that
	// runs out of it gets 503 with Retry-After. 0 means no bound.
	RequestTimeout time.Duration
	// CORSOrigins are the browser origins allowed to call the API, as
	// ParseOrigins returns them; none means no CORS headers at all.
	CORSOrigins []string

	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
}

// DefaultConfig returns production defaults: slow clients cannot hold
// connections open (slowloris), a request's work is bounded at 10 s (an
// answer from a healthy store takes milliseconds; a store that has not
// answered in 10 s is not going to, and the client is better told so
// than left waiting), a response may take up to 30 s to write, headers are
// bounded at 64 KiB and bodies at 256 KiB. Bodies are GraphQL documents
// (REST requests have none); 256 KiB is far beyond any real query and
// bounds the JSON decoding a hostile body can cost to about 2 ms.
func DefaultConfig() Config {
	return Config{
		DefaultRateLimit:  1000,
		MaxBodyBytes:      256 << 10,
		RequestTimeout:    10 * time.Second,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// withDefaults fills the fields NewServer reads that are left unset.
func (c Config) withDefaults() Config {
	def := DefaultConfig()
	if c.DefaultRateLimit <= 0 {
		c.DefaultRateLimit = def.DefaultRateLimit
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = def.MaxBodyBytes
	}
	return c
}

// Authenticator turns a request's credentials into a principal or an error
// of kind KindUnauthorized.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (interaction.Principal, error)
}

// ErrorWriter writes err in a route's own error format, with the status
// the transport gives the error's interaction.Kind.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Deps are the handlers and services the server wires together. Auth,
// Limiter and Reader are required: NewServer panics when one is missing, at
// start-up rather than on the first request. A route whose handler is nil
// is not served (404), so a tool can mount only what it measures; an
// error writer left nil falls back to a plain JSON error.
type Deps struct {
	Logger  *slog.Logger
	Auth    Authenticator
	Limiter ratelimit.Limiter
	Reader  interaction.Reader
	// Ready reports whether the store can serve (for /readyz).
	Ready func(context.Context) error
	// Degraded, when set, says what the server is running without (for
	// /readyz), or "" when nothing; a degraded server is still ready.
	Degraded func() string

	GraphQL      http.Handler
	V11          http.Handler
	V2           http.Handler
	GraphQLError ErrorWriter
	V11Error     ErrorWriter
	V2Error      ErrorWriter
	Playground   http.Handler // serves "/" and the assets under /playground/
	Metrics      http.Handler // optional, served at /metrics
	OpenAPI      http.Handler // optional, the REST shims' description at /openapi.json
	// Schema, optional, serves the GraphQL schema as SDL at
	// /graphql/schema.graphql, authenticated and rate limited like
	// /graphql (it says what introspection says).
	Schema http.Handler
	// Observer, when set, is told about every API request (for metrics).
	Observer Observer
	// Now is the clock the rate limits are decided by; nil means
	// time.Now. Tests set it to move time instead of sleeping through a
	// window. (The access log's durations are measured, not decided, and
	// keep the monotonic clock.)
	Now func() time.Time
	// Cache, when set, keeps the API routes' successful answers under
	// their organisation's data version, read from Versions (then
	// required) on every request, and gives them ETags made from it; see
	// cache.go. Nil: no cache, no version read, and the handlers' own
	// validators.
	Cache    *respcache.Cache
	Versions interaction.Versioner
	// Scope, when set, is given each API request's context before
	// authentication, for what the store keeps for one request (SQLite:
	// one stamp of its WAL-index for the credential and the data version,
	// and one read transaction for its reads). The edge calls release
	// when the answer starts to be written, or the handler returns
	// without writing: a client slow to read its answer holds nothing of
	// the store's.
	Scope func(context.Context) (_ context.Context, release func())
}

// Observer receives what the access log records, and loader batch sizes,
// for metrics.
type Observer interface {
	ObserveRequest(route string, status int, d time.Duration)
	ObserveRateLimited(route string)
	ObserveBatch(loader string, keys int)
}

// StatusClientClosedRequest is the status a request is logged and counted
// with when its client went away before the answer (nginx's 499): it is
// never sent, and it is not a server error.
const StatusClientClosedRequest = 499

// retryAfterUnavailable is the Retry-After, in seconds, of a 503: long
// enough for a stalled store to be noticed by /readyz and a load balancer.
const retryAfterUnavailable = "1"

// StatusOf maps an error kind to its HTTP status for the edge's own plain
// JSON errors (routes without a transport's error writer); each transport
// keeps its own table for its envelope.
func StatusOf(k interaction.Kind) int {
	switch k {
	case interaction.KindInvalid:
		return http.StatusBadRequest
	case interaction.KindNotFound:
		return http.StatusNotFound
	case interaction.KindUnauthorized:
		return http.StatusUnauthorized
	case interaction.KindForbidden:
		return http.StatusForbidden
	case interaction.KindRateLimited:
		return http.StatusTooManyRequests
	case interaction.KindConflict:
		return http.StatusConflict
	case interaction.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case interaction.KindNotAcceptable:
		return http.StatusNotAcceptable
	case interaction.KindUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case interaction.KindMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case interaction.KindUnavailable:
		return http.StatusServiceUnavailable
	case interaction.KindCanceled:
		return StatusClientClosedRequest
	}
	return http.StatusInternalServerError
}

// mustBeComplete panics, naming it, when a required dependency is missing:
// wiring is a programming error, best found when the server is built.
func (d Deps) mustBeComplete() {
	var missing []string
	for name, ok := range map[string]bool{
		"Auth": d.Auth != nil, "Limiter": d.Limiter != nil, "Reader": d.Reader != nil,
		"Versions": d.Cache == nil || d.Versions != nil,
	} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		panic("httpapi: NewServer: missing dependencies: " + strings.Join(missing, ", "))
	}
}
