package loader

import (
	"context"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// Customer returns the customer id names in the request's organisation, or
// an error of kind KindNotFound (KindInvalid for a malformed identifier).
// Asking twice for one customer reads it once.
func (l *Loaders) Customer(ctx context.Context, id interaction.Identifier) (interaction.Customer, error) {
	id, err := id.Normalize()
	if err != nil {
		return interaction.Customer{}, err
	}
	return l.customers.Load(ctx, id)()
}

// Customers looks up many customers by one kind of identifier, queued
// together: those not already loaded in this request are read with one
// statement. The results are in the order of values; an entry whose value
// names no customer (or is malformed) has its error instead.
func (l *Loaders) Customers(ctx context.Context, kind interaction.IdentifierKind, values []string) ([]interaction.Customer, []error) {
	out := make([]interaction.Customer, len(values))
	errs := make([]error, len(values))
	ids := make([]interaction.Identifier, len(values))
	var missing []interaction.Identifier
	queued := make(map[interaction.Identifier]bool)
	for i, v := range values {
		id, err := interaction.Identifier{Kind: kind, Value: v}.Normalize()
		if err != nil {
			errs[i] = err
			continue
		}
		ids[i] = id
		if _, ok := l.cache.Get(ctx, id); !ok && !queued[id] {
			queued[id] = true
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		for i, r := range l.loadCustomers(ctx, missing) {
			l.cache.Set(ctx, missing[i], resolved(r))
		}
	}
	for i, id := range ids {
		if errs[i] != nil {
			continue
		}
		if thunk, ok := l.cache.Get(ctx, id); ok {
			out[i], errs[i] = thunk()
		} else { // forgotten meanwhile (the cache does not evict, but be safe)
			out[i], errs[i] = l.customers.Load(ctx, id)()
		}
	}
	return out, errs
}

func resolved(r *dataloader.Result[interaction.Customer]) dataloader.Thunk[interaction.Customer] {
	return func() (interaction.Customer, error) { return r.Data, r.Error }
}

// Interactions reads the interactions of the customers under req (see
// interaction.Read): one statement for their summaries and one for each
// kind of page, however many customers there are.
func (l *Loaders) Interactions(ctx context.Context, customerIDs []int64, req interaction.Request) ([][]interaction.Group, error) {
	if l.observe != nil {
		l.observe("interactions", len(customerIDs))
	}
	return interaction.Read(ctx, l.store, l.org, customerIDs, req)
}

// Timeline reads a page of the timeline of each of the customers (see
// interaction.ReadTimeline): one statement for the entries of them all,
// and one for their totals when those are asked for.
func (l *Loaders) Timeline(ctx context.Context, customerIDs []int64, req interaction.TimelineRequest) ([]interaction.TimelinePage, error) {
	if l.observe != nil {
		l.observe("timeline", len(customerIDs))
	}
	return interaction.ReadTimeline(ctx, l.store, l.org, customerIDs, req)
}

// loadCustomers answers a batch of normalised identifiers with one query
// per identifier kind present in the batch (usually one).
func (l *Loaders) loadCustomers(ctx context.Context, ids []interaction.Identifier) []*dataloader.Result[interaction.Customer] {
	if l.observe != nil {
		l.observe("customers", len(ids))
	}
	byKind := make(map[interaction.IdentifierKind][]string)
	for _, id := range ids {
		byKind[id.Kind] = append(byKind[id.Kind], id.Value)
	}
	found := make(map[interaction.Identifier]interaction.Customer, len(ids))
	failed := make(map[interaction.IdentifierKind]error)
	for kind, values := range byKind {
		cs, err := l.store.CustomersByIdentifier(ctx, l.org, kind, values)
		if err != nil {
			failed[kind] = err
			continue
		}
		for _, c := range cs {
			found[interaction.Identifier{Kind: kind, Value: c.Identifier(kind)}] = c
		}
	}
	out := make([]*dataloader.Result[interaction.Customer], len(ids))
	for i, id := range ids {
		switch c, ok := found[id]; {
		case failed[id.Kind] != nil:
			out[i] = &dataloader.Result[interaction.Customer]{Error: failed[id.Kind]}
		case ok:
			out[i] = &dataloader.Result[interaction.Customer]{Data: c}
		default:
			out[i] = &dataloader.Result[interaction.Customer]{Error: notFound(id)}
		}
	}
	return out
}

func notFound(id interaction.Identifier) error {
	return interaction.Errorf(interaction.KindNotFound, "no customer with %s %q", id.Kind, id.Value)
}

// ReadsByIdentifier reports whether the store finds customers and reads
// their summaries, and perhaps their first pages, with one statement
// (interaction.HeadReader or interaction.SummaryFinder), which
// CustomersWithInteractions then does.
func (l *Loaders) ReadsByIdentifier() bool {
	if _, ok := l.store.(interaction.HeadReader); ok {
		return true
	}
	_, ok := l.store.(interaction.SummaryFinder)
	return ok
}

// CustomersWithInteractions is Customers and then Interactions for the
// customers found, in the order of values: where an entry has its error
// (not found, malformed) its groups are nil. When the store can find the
// customers and read their interactions with one statement
// (interaction.ReadByIdentifier) it does, and caches the customers as
// Customers would have; otherwise, or when some of the customers are
// loaded already, it is the two calls.
func (l *Loaders) CustomersWithInteractions(ctx context.Context, kind interaction.IdentifierKind, values []string, req interaction.Request) ([]interaction.Customer, []error, [][]interaction.Group, error) {
	ids := make([]interaction.Identifier, len(values))
	var wanted []string
	queued := make(map[interaction.Identifier]bool, len(values))
	together := true
	for i, v := range values {
		id, err := interaction.Identifier{Kind: kind, Value: v}.Normalize()
		if err != nil {
			together = false // Customers answers it with its error
			break
		}
		ids[i] = id
		if _, ok := l.cache.Get(ctx, id); ok {
			together = false
			break
		}
		if !queued[id] {
			queued[id] = true
			wanted = append(wanted, id.Value)
		}
	}
	if together && len(wanted) > 0 {
		cs, groups, ok, err := interaction.ReadByIdentifier(ctx, l.store, l.org, kind, wanted, req)
		if err != nil {
			return nil, nil, nil, err
		}
		if ok {
			if l.observe != nil {
				l.observe("customers", len(wanted))
				l.observe("interactions", len(cs))
			}
			return l.remember(ctx, kind, ids, wanted, cs, groups)
		}
	}
	cs, errs := l.Customers(ctx, kind, values)
	var found []int64
	for i := range cs {
		if errs[i] == nil {
			found = append(found, cs[i].ID)
		}
	}
	var groups [][]interaction.Group
	if len(found) > 0 {
		read, err := l.Interactions(ctx, found, req)
		if err != nil {
			return nil, nil, nil, err
		}
		groups = make([][]interaction.Group, len(values))
		for i := range cs {
			if errs[i] == nil {
				groups[i], read = read[0], read[1:]
			}
		}
	}
	return cs, errs, groups, nil
}

// remember caches what one lookup with interactions found for the
// identifiers wanted, and lays it out in the order of ids (the values' own).
func (l *Loaders) remember(ctx context.Context, kind interaction.IdentifierKind, ids []interaction.Identifier, wanted []string, cs []interaction.Customer, groups [][]interaction.Group) ([]interaction.Customer, []error, [][]interaction.Group, error) {
	at := make(map[string]int, len(cs))
	for i, c := range cs {
		at[c.Identifier(kind)] = i
	}
	for _, v := range wanted {
		id := interaction.Identifier{Kind: kind, Value: v}
		var r *dataloader.Result[interaction.Customer]
		if i, ok := at[v]; ok {
			r = &dataloader.Result[interaction.Customer]{Data: cs[i]}
		} else {
			r = &dataloader.Result[interaction.Customer]{Error: notFound(id)}
		}
		l.cache.Set(ctx, id, resolved(r))
	}
	out := make([]interaction.Customer, len(ids))
	errs := make([]error, len(ids))
	gs := make([][]interaction.Group, len(ids))
	for i, id := range ids {
		k, ok := at[id.Value]
		if !ok {
			errs[i] = notFound(id)
			continue
		}
		out[i], gs[i] = cs[k], groups[k]
	}
	return out, errs, gs, nil
}
