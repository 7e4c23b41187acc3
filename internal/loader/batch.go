package loader

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// Customer returns the customer id names in the request's organisation, or
// an error of kind KindNotFound.
func (l *Loaders) Customer(ctx context.Context, id interaction.Identifier) (interaction.Customer, error) {
	return l.CustomerLater(ctx, id)()
}

// CustomerLater queues a Customer load and returns a func that waits for
// it (see MessagesLater).
func (l *Loaders) CustomerLater(ctx context.Context, id interaction.Identifier) func() (interaction.Customer, error) {
	id, err := id.Normalize()
	if err != nil {
		return func() (interaction.Customer, error) { return interaction.Customer{}, err }
	}
	return l.customers.Load(ctx, id)
}

// Summaries returns the raw summaries of a customer's interactions under f
// (see interaction.Assemble to present them).
func (l *Loaders) Summaries(ctx context.Context, customerID int64, f interaction.Filter) ([]interaction.Summary, error) {
	return l.SummariesLater(ctx, customerID, f)()
}

// SummariesLater queues a Summaries load and returns a func that waits for
// it (see MessagesLater).
func (l *Loaders) SummariesLater(ctx context.Context, customerID int64, f interaction.Filter) func() ([]interaction.Summary, error) {
	return l.summaries.Load(ctx, summaryKey{customerID, f})
}

// Messages returns one page of a customer's messages of one group.
func (l *Loaders) Messages(ctx context.Context, customerID int64, q interaction.PageQuery) ([]interaction.Message, error) {
	return l.MessagesLater(ctx, customerID, q)()
}

// MessagesLater queues the load of one page of a customer's messages and
// returns a func that waits for it. Queueing every page a response will
// need before waiting on any lets them share one batch even when the
// resolvers that consume them are scheduled over a longer time than the
// loader's wait.
func (l *Loaders) MessagesLater(ctx context.Context, customerID int64, q interaction.PageQuery) func() ([]interaction.Message, error) {
	if !q.Type.IsMessage() || q.Limit == 0 {
		return none[interaction.Message]
	}
	if q.Network == "" {
		q.Network = interaction.HomeNetwork(q.Type)
	}
	g := interaction.GroupKey{Network: q.Network, Type: q.Type}
	pages := l.MessageGroupsLater(ctx, customerID, []interaction.GroupKey{g}, interaction.Span{Since: q.Since, Until: q.Until}, q.Page)
	return func() ([]interaction.Message, error) {
		m, err := pages()
		return m[g], err
	}
}

// MessageGroupsLater queues the load of a customer's pages of several
// message groups (groups of other kinds are ignored) and returns a func
// that waits for them, by group.
func (l *Loaders) MessageGroupsLater(ctx context.Context, customerID int64, groups []interaction.GroupKey, span interaction.Span, page interaction.Page) func() (map[interaction.GroupKey][]interaction.Message, error) {
	enc := encodeGroups(groups)
	if enc == "" || page.Limit == 0 {
		return func() (map[interaction.GroupKey][]interaction.Message, error) { return nil, nil }
	}
	return l.messages.Load(ctx, groupsKey{customerID: customerID, groups: enc, span: span, page: page})
}

// encodeGroups gives a set of message groups one canonical string, so the
// same set asked for twice is the same loader key.
func encodeGroups(groups []interaction.GroupKey) string {
	var parts []string
	for _, g := range groups {
		if g.Type.IsMessage() && g.Network.Valid() {
			parts = append(parts, string(g.Network)+"/"+string(g.Type))
		}
	}
	slices.Sort(parts)
	return strings.Join(slices.Compact(parts), ",")
}

func decodeGroups(s string) []interaction.GroupKey {
	var out []interaction.GroupKey
	for p := range strings.SplitSeq(s, ",") {
		n, t, _ := strings.Cut(p, "/")
		out = append(out, interaction.GroupKey{Network: interaction.Network(n), Type: interaction.Type(t)})
	}
	return out
}

// MissedCalls returns one page of a customer's missed calls.
func (l *Loaders) MissedCalls(ctx context.Context, customerID int64, q interaction.PageQuery) ([]interaction.MissedCall, error) {
	return l.MissedCallsLater(ctx, customerID, q)()
}

// MissedCallsLater is MessagesLater for missed calls.
func (l *Loaders) MissedCallsLater(ctx context.Context, customerID int64, q interaction.PageQuery) func() ([]interaction.MissedCall, error) {
	if q.Limit == 0 {
		return none[interaction.MissedCall]
	}
	q.Network, q.Type = interaction.Capillary, interaction.MissedCallType
	return l.missedCalls.Load(ctx, pageKey{customerID, q})
}

// Surveys returns one page of a customer's surveys.
func (l *Loaders) Surveys(ctx context.Context, customerID int64, q interaction.PageQuery) ([]interaction.Survey, error) {
	return l.SurveysLater(ctx, customerID, q)()
}

// SurveysLater is MessagesLater for surveys.
func (l *Loaders) SurveysLater(ctx context.Context, customerID int64, q interaction.PageQuery) func() ([]interaction.Survey, error) {
	if q.Limit == 0 {
		return none[interaction.Survey]
	}
	q.Network, q.Type = interaction.Capillary, interaction.SurveyType
	return l.surveys.Load(ctx, pageKey{customerID, q})
}

func none[V any]() ([]V, error) { return nil, nil }

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

// loadMessages answers a batch of message pages with one store call per
// page shape (time bounds and page) and up to MaxBatch customers: every
// customer and every group of the batch go into that one statement, so the
// number of statements grows neither with the customers nor their groups.
func (l *Loaders) loadMessages(ctx context.Context, keys []groupsKey) []*dataloader.Result[map[interaction.GroupKey][]interaction.Message] {
	type shape struct {
		span interaction.Span
		page interaction.Page
	}
	type want struct {
		customers []int64
		groups    []interaction.GroupKey
		seenC     map[int64]bool
		seenG     map[interaction.GroupKey]bool
	}
	type rowKey struct {
		customer int64
		group    interaction.GroupKey
	}
	shapes := make(map[shape]*want)
	for _, k := range keys {
		s := shape{k.span, k.page}
		w := shapes[s]
		if w == nil {
			w = &want{seenC: map[int64]bool{}, seenG: map[interaction.GroupKey]bool{}}
			shapes[s] = w
		}
		if !w.seenC[k.customerID] {
			w.seenC[k.customerID] = true
			w.customers = append(w.customers, k.customerID)
		}
		for _, g := range decodeGroups(k.groups) {
			if !w.seenG[g] {
				w.seenG[g] = true
				w.groups = append(w.groups, g)
			}
		}
	}
	rows := make(map[shape]map[rowKey][]interaction.Message, len(shapes))
	errs := make(map[shape]error)
	for s, w := range shapes {
		byKey := make(map[rowKey][]interaction.Message)
		rows[s] = byKey
		for chunk := range slices.Chunk(w.customers, l.maxBatch) {
			ms, err := l.store.Messages(ctx, l.org, chunk, w.groups, s.span, s.page)
			if err != nil {
				errs[s] = fmt.Errorf("load message pages: %w", err)
				break
			}
			for _, m := range ms {
				k := rowKey{m.CustomerID, m.Group}
				byKey[k] = append(byKey[k], m.Message)
			}
		}
	}
	out := make([]*dataloader.Result[map[interaction.GroupKey][]interaction.Message], len(keys))
	for i, k := range keys {
		s := shape{k.span, k.page}
		res := make(map[interaction.GroupKey][]interaction.Message)
		for _, g := range decodeGroups(k.groups) {
			res[g] = rows[s][rowKey{k.customerID, g}]
		}
		out[i] = &dataloader.Result[map[interaction.GroupKey][]interaction.Message]{Data: res, Error: errs[s]}
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
