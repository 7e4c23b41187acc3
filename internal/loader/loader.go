// Package loader holds the per-request loaders through which every
// transport (GraphQL and the REST shims alike) reads the store. Loaders are
// created fresh for each request, bound to the request's organisation, so
// their caches can never mix tenants or outlive a request.
//
// Nothing here waits for keys to arrive. Customers are looked up through a
// dataloader (graph-gophers/dataloader/v7) that deduplicates and caches them
// within the request; a list of customers is queued together and read with
// one statement. Interactions are read for all the customers a GraphQL batch
// resolver (or a REST shim) holds at once, through interaction.Read.
package loader

import (
	"context"
	"net/http"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// Options tune the loaders.
type Options struct {
	// MaxBatch caps the identifiers in one lookup so that one IN (...) list
	// stays far below SQLite's bound-parameter limit (32,766) and
	// PostgreSQL's (65,535); 0 means DefaultOptions.MaxBatch.
	MaxBatch int
	// Observe, when set, is told the size of every batch (for metrics).
	Observe func(loader string, keys int)
}

// loadInputCapacity is the customer loader's input buffer (see New).
const loadInputCapacity = 16

// DefaultOptions are the production settings.
var DefaultOptions = Options{MaxBatch: 1000}

// Loaders is the set of loaders for one request.
type Loaders struct {
	org       interaction.OrgID
	store     interaction.Reader
	observe   func(string, int)
	cache     dataloader.Cache[interaction.Identifier, interaction.Customer]
	customers *dataloader.Loader[interaction.Identifier, interaction.Customer]
}

// New returns loaders reading org's data from store.
func New(store interaction.Reader, org interaction.OrgID, o Options) *Loaders {
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultOptions.MaxBatch
	}
	l := &Loaders{org: org, store: store, observe: o.Observe, cache: dataloader.NewCache[interaction.Identifier, interaction.Customer]()}
	// No wait: a lookup runs as soon as it is asked for. Lists of
	// identifiers are queued together by Customers instead. The batch's
	// input channel is small: the loader's default (1,000 entries, 8 KiB
	// allocated and zeroed for every batch) was a fifth of the bytes a
	// one-customer request allocated, for single lookups; a Load that finds
	// it full waits for the batch's goroutine to take an entry, and stays
	// in the batch.
	l.customers = dataloader.NewBatchedLoader(l.loadCustomers,
		dataloader.WithCache[interaction.Identifier, interaction.Customer](l.cache),
		dataloader.WithWait[interaction.Identifier, interaction.Customer](0),
		dataloader.WithInputCapacity[interaction.Identifier, interaction.Customer](loadInputCapacity),
		dataloader.WithBatchCapacity[interaction.Identifier, interaction.Customer](o.MaxBatch))
	return l
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
