// Package loader holds the per-request dataloaders through which every
// transport (GraphQL and the REST shims alike) reads the store. Loaders are
// created fresh for each request, bound to the request's organisation, so
// their caches and batches can never mix tenants or outlive a request.
package loader

import (
	"context"
	"net/http"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// Options tune batching.
type Options struct {
	// Wait is how long a batch collects keys after its first one. The
	// library's 16 ms default would add 16 ms to every lookup; a fraction of a
	// millisecond is enough for GraphQL's concurrent field resolvers to
	// enqueue their keys. Zero dispatches each key at once (the REST shims
	// load one customer at a time and gain nothing from waiting).
	Wait time.Duration
	// MaxBatch caps the keys in one batch so that one IN (...) list stays far
	// below SQLite's bound-parameter limit (32,766) and PostgreSQL's (65,535).
	MaxBatch int
	// Observe, when set, is told the size of every batch (for metrics).
	Observe func(loader string, keys int)
}

// DefaultOptions are the settings for GraphQL requests. The resolvers queue
// a whole level of the response (every customer's summaries, then every
// customer's pages) from one goroutine in a tight loop, so a batch only has
// to outlast that loop: about 0.3 ms for a hundred customers, with room for
// a GC pause on a busy 2-core machine. Over-running it costs one more
// statement, never one per customer.
var DefaultOptions = Options{Wait: time.Millisecond, MaxBatch: 1000}

// Loaders is the set of loaders for one request.
type Loaders struct {
	org         interaction.OrgID
	store       interaction.Reader
	maxBatch    int
	customers   *dataloader.Loader[interaction.Identifier, interaction.Customer]
	summaries   *dataloader.Loader[summaryKey, []interaction.Summary]
	messages    *dataloader.Loader[groupsKey, map[interaction.GroupKey][]interaction.Message]
	missedCalls *dataloader.Loader[pageKey, []interaction.MissedCall]
	surveys     *dataloader.Loader[pageKey, []interaction.Survey]
}

type summaryKey struct {
	customerID int64
	filter     interaction.Filter
}

// groupsKey asks for one customer's pages of several message groups at
// once: a dashboard needs about ten groups a customer, and one key per
// customer keeps a batch's keys as few as its customers.
type groupsKey struct {
	customerID int64
	groups     string // canonical, see encodeGroups
	span       interaction.Span
	page       interaction.Page
}

type pageKey struct {
	customerID int64
	query      interaction.PageQuery
}

// New returns loaders reading org's data from store.
func New(store interaction.Reader, org interaction.OrgID, o Options) *Loaders {
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultOptions.MaxBatch
	}
	l := &Loaders{org: org, store: store, maxBatch: o.MaxBatch}
	l.customers = dataloader.NewBatchedLoader(observed(o, "customers", l.loadCustomers), options[interaction.Identifier, interaction.Customer](o)...)
	l.summaries = dataloader.NewBatchedLoader(observed(o, "summaries", l.loadSummaries), options[summaryKey, []interaction.Summary](o)...)
	l.messages = dataloader.NewBatchedLoader(observed(o, "messages", l.loadMessages), options[groupsKey, map[interaction.GroupKey][]interaction.Message](o)...)
	l.missedCalls = dataloader.NewBatchedLoader(observed(o, "missed_calls", pageBatch(l, store.MissedCalls, func(m interaction.MissedCall) int64 { return m.CustomerID })), options[pageKey, []interaction.MissedCall](o)...)
	l.surveys = dataloader.NewBatchedLoader(observed(o, "surveys", pageBatch(l, store.Surveys, func(s interaction.Survey) int64 { return s.CustomerID })), options[pageKey, []interaction.Survey](o)...)
	return l
}

// observed reports each batch's size to o.Observe, when set.
func observed[K comparable, V any](o Options, name string, f dataloader.BatchFunc[K, V]) dataloader.BatchFunc[K, V] {
	if o.Observe == nil {
		return f
	}
	return func(ctx context.Context, keys []K) []*dataloader.Result[V] {
		o.Observe(name, len(keys))
		return f(ctx, keys)
	}
}

func options[K comparable, V any](o Options) []dataloader.Option[K, V] {
	return []dataloader.Option[K, V]{
		dataloader.WithWait[K, V](o.Wait),
		dataloader.WithBatchCapacity[K, V](o.MaxBatch),
	}
}

type ctxKey struct{}

// NewContext returns ctx carrying l.
func NewContext(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// For returns the request's loaders. It panics when the middleware did not
// install them: that is a wiring bug, and the recovery middleware turns it
// into a 500 that is logged.
func For(ctx context.Context) *Loaders {
	l, ok := ctx.Value(ctxKey{}).(*Loaders)
	if !ok {
		panic("loader: no loaders in context; is loader.Middleware installed?")
	}
	return l
}

// Middleware installs fresh loaders for the authenticated organisation on
// every request. It must run after authentication; a request without a
// principal passes through without loaders.
func Middleware(store interaction.Reader, o Options) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := interaction.FromContext(r.Context())
			if ok {
				r = r.WithContext(NewContext(r.Context(), New(store, p.Org.ID, o)))
			}
			next.ServeHTTP(w, r)
		})
	}
}
