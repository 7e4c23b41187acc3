package loader

import (
	"context"
	"fmt"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// Customer returns the customer id names in the request's organisation, or
// an error of kind KindNotFound.
func (l *Loaders) Customer(ctx context.Context, id interaction.Identifier) (interaction.Customer, error) {
	id, err := id.Normalize()
	if err != nil {
		return interaction.Customer{}, err
	}
	return l.customers.Load(ctx, id)()
}

// Summaries returns the raw summaries of a customer's interactions under f
// (see interaction.Assemble to present them).
func (l *Loaders) Summaries(ctx context.Context, customerID int64, f interaction.Filter) ([]interaction.Summary, error) {
	return l.summaries.Load(ctx, summaryKey{customerID, f})()
}

// Messages returns one page of a customer's messages of one group.
func (l *Loaders) Messages(ctx context.Context, customerID int64, q interaction.PageQuery) ([]interaction.Message, error) {
	if !q.Type.IsMessage() || q.Limit == 0 {
		return nil, nil
	}
	return l.messages.Load(ctx, pageKey{customerID, q})()
}

// MissedCalls returns one page of a customer's missed calls.
func (l *Loaders) MissedCalls(ctx context.Context, customerID int64, q interaction.PageQuery) ([]interaction.MissedCall, error) {
	if q.Limit == 0 {
		return nil, nil
	}
	q.Network, q.Type = interaction.Capillary, interaction.MissedCallType
	return l.missedCalls.Load(ctx, pageKey{customerID, q})()
}

// Surveys returns one page of a customer's surveys.
func (l *Loaders) Surveys(ctx context.Context, customerID int64, q interaction.PageQuery) ([]interaction.Survey, error) {
	if q.Limit == 0 {
		return nil, nil
	}
	q.Network, q.Type = interaction.Capillary, interaction.SurveyType
	return l.surveys.Load(ctx, pageKey{customerID, q})()
}

// loadCustomers answers a batch of identifiers with one query per
// identifier kind present in the batch (usually one).
func (l *Loaders) loadCustomers(ctx context.Context, ids []interaction.Identifier) []*dataloader.Result[interaction.Customer] {
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
			for _, v := range values {
				id := interaction.Identifier{Kind: kind, Value: v}
				if c.Matches(id) {
					found[id] = c
				}
			}
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

// loadSummaries answers a batch with one query per distinct filter.
func (l *Loaders) loadSummaries(ctx context.Context, keys []summaryKey) []*dataloader.Result[[]interaction.Summary] {
	groups := make(map[interaction.Filter][]int64)
	for _, k := range keys {
		groups[k.filter] = append(groups[k.filter], k.customerID)
	}
	type res struct {
		sums map[int64][]interaction.Summary
		err  error
	}
	results := make(map[interaction.Filter]res, len(groups))
	for f, ids := range groups {
		sums, err := l.store.Summaries(ctx, l.org, ids, f)
		r := res{sums: make(map[int64][]interaction.Summary), err: err}
		for _, s := range sums {
			r.sums[s.CustomerID] = append(r.sums[s.CustomerID], s)
		}
		results[f] = r
	}
	out := make([]*dataloader.Result[[]interaction.Summary], len(keys))
	for i, k := range keys {
		r := results[k.filter]
		out[i] = &dataloader.Result[[]interaction.Summary]{Data: r.sums[k.customerID], Error: r.err}
	}
	return out
}

// pageBatch builds a batch function for a paged list: one store query per
// distinct page query, results split by customer and returned in key order.
func pageBatch[V any](
	l *Loaders,
	fetch func(context.Context, interaction.OrgID, []int64, interaction.PageQuery) ([]V, error),
	customerOf func(V) int64,
) dataloader.BatchFunc[pageKey, []V] {
	return func(ctx context.Context, keys []pageKey) []*dataloader.Result[[]V] {
		groups := make(map[interaction.PageQuery][]int64)
		for _, k := range keys {
			groups[k.query] = append(groups[k.query], k.customerID)
		}
		type res struct {
			rows map[int64][]V
			err  error
		}
		results := make(map[interaction.PageQuery]res, len(groups))
		for q, ids := range groups {
			rows, err := fetch(ctx, l.org, ids, q)
			if err != nil {
				err = fmt.Errorf("load %s page: %w", q.Type, err)
			}
			r := res{rows: make(map[int64][]V), err: err}
			for _, row := range rows {
				c := customerOf(row)
				r.rows[c] = append(r.rows[c], row)
			}
			results[q] = r
		}
		out := make([]*dataloader.Result[[]V], len(keys))
		for i, k := range keys {
			r := results[k.query]
			out[i] = &dataloader.Result[[]V]{Data: r.rows[k.customerID], Error: r.err}
		}
		return out
	}
}
