package graph

import (
	"context"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/touchpoint/touchpoint/graph/model"
	"github.com/touchpoint/touchpoint/graph/scalar"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loader"
)

// lists says which of an Interaction's page lists the operation selects.
type lists struct{ messages, missedCalls, surveys bool }

// selectedLists looks ahead from Customer.interactions into the selection
// of NetworkInteractions.interactions, so the pages can be queued before
// any of them is waited on. Without this, a page's load starts only when
// gqlgen gets round to marshalling its group; with a hundred customers that
// spreads the keys over more time than the loader waits, and the batch
// splits into several statements.
func selectedLists(ctx context.Context) lists {
	return listsIn(graphql.GetOperationContext(ctx), graphql.GetFieldContext(ctx).Field.Selections)
}

// plan is the loads one customer's interactions field needs.
type plan struct {
	customerID  int64
	msgGroups   []interaction.GroupKey
	missedCalls bool
	surveys     bool
}

func planFor(customerID int64, groups []interaction.Group, want lists) plan {
	p := plan{customerID: customerID}
	for _, g := range groups {
		for _, s := range g.Items {
			switch {
			case s.Count == 0:
			case want.messages && s.Type.IsMessage():
				p.msgGroups = append(p.msgGroups, interaction.GroupKey{Network: s.Network, Type: s.Type})
			case want.missedCalls && s.Type == interaction.MissedCallType:
				p.missedCalls = true
			case want.surveys && s.Type == interaction.SurveyType:
				p.surveys = true
			}
		}
	}
	return p
}

// queued are the waits for a plan's loads; nil where nothing was queued.
type queued struct {
	pages   func() (map[interaction.GroupKey][]interaction.Message, error)
	calls   func() ([]interaction.MissedCall, error)
	surveys func() ([]interaction.Survey, error)
}

// queue makes the plan's loader calls and nothing else, so that many
// customers' plans can be queued in a loop tight enough for one batch.
func (p plan) queue(ctx context.Context, l *loader.Loaders, f interaction.Filter, page interaction.Page) queued {
	var q queued
	if len(p.msgGroups) > 0 {
		q.pages = l.MessageGroupsLater(ctx, p.customerID, p.msgGroups, interaction.Span{Since: f.Since, Until: f.Until}, page)
	}
	if p.missedCalls {
		q.calls = l.MissedCallsLater(ctx, p.customerID, f.Query(interaction.Capillary, interaction.MissedCallType, page))
	}
	if p.surveys {
		q.surveys = l.SurveysLater(ctx, p.customerID, f.Query(interaction.Capillary, interaction.SurveyType, page))
	}
	return q
}

// interactionsFor builds a customer's groups with their pages' loads
// queued (or found already queued by prefetch). Groups with nothing to page
// queue nothing, so a count-only query reads no rows.
func interactionsFor(ctx context.Context, customerID int64, groups []interaction.Group, f interaction.Filter, page interaction.Page, want lists) []*model.NetworkInteractions {
	q := planFor(customerID, groups, want).queue(ctx, loader.For(ctx), f, page)
	out := make([]*model.NetworkInteractions, len(groups))
	for i, g := range groups {
		items := make([]*model.Interaction, len(g.Items))
		for j, s := range g.Items {
			it := &model.Interaction{
				Network: s.Network, Type: s.Type, Count: s.Count, LastInteractionTime: s.Last, UsedStatus: s.Used,
				CustomerID: customerID, Query: f.Query(s.Network, s.Type, page),
			}
			switch {
			case s.Count == 0:
			case q.pages != nil && s.Type.IsMessage():
				key := interaction.GroupKey{Network: s.Network, Type: s.Type}
				pages := q.pages
				it.MessagePage = func() ([]interaction.Message, error) {
					m, err := pages()
					return m[key], err
				}
			case s.Type == interaction.MissedCallType:
				it.MissedCallPage = q.calls
			case s.Type == interaction.SurveyType:
				it.SurveyPage = q.surveys
			}
			items[j] = it
		}
		out[i] = &model.NetworkInteractions{Network: g.Network, Interactions: items}
	}
	return out
}

// prefetch runs in a root resolver that holds every customer of the
// response at once. For each interactions field selected on them it queues
// all the summaries, waits for them (one batch), and queues every page the
// field resolvers will ask for, in one tight loop: the keys then reach the
// loaders together however slowly gqlgen later walks the response, and the
// field resolvers find their loads already in the loaders' caches. Fields
// with invalid arguments are skipped; their resolvers report the error.
func prefetch(ctx context.Context, customers []*interaction.Customer) {
	if len(customers) < 2 {
		return // nothing to batch across
	}
	op := graphql.GetOperationContext(ctx)
	l := loader.For(ctx)
	for _, f := range graphql.CollectFieldsCtx(ctx, []string{"Customer"}) {
		if f.Name != "interactions" {
			continue
		}
		filter, page, err := interactionArgs(f.ArgumentMap(op.Variables))
		if err != nil {
			continue
		}
		want := listsIn(op, f.Selections)
		waits := make([]func() ([]interaction.Summary, error), len(customers))
		for i, c := range customers {
			if c != nil {
				waits[i] = l.SummariesLater(ctx, c.ID, filter)
			}
		}
		// Plan every customer first, then queue all the loads in one tight
		// loop: the loader's wait runs from the first key.
		plans := make([]plan, 0, len(customers))
		for i, c := range customers {
			if c == nil {
				continue
			}
			sums, err := waits[i]()
			if err != nil {
				return
			}
			plans = append(plans, planFor(c.ID, interaction.Assemble(c.ID, sums, filter, interaction.LayoutV2), want))
		}
		for _, p := range plans {
			p.queue(ctx, l, filter, page)
		}
	}
}

// interactionArgs reads Customer.interactions' arguments as gqlparser
// coerced them, through the same constructors the field resolver uses, so
// the loader keys come out identical.
func interactionArgs(args map[string]any) (interaction.Filter, interaction.Page, error) {
	var network *interaction.Network
	var typ *interaction.Type
	var since, until *time.Time
	var limit, offset *int
	if v, ok := args["network"].(string); ok {
		n := interaction.Network(strings.ToLower(v))
		network = &n
	}
	if v, ok := args["type"].(string); ok {
		t := interaction.Type(strings.ToLower(v))
		typ = &t
	}
	for name, dst := range map[string]**time.Time{"since": &since, "until": &until} {
		if v, ok := args[name]; ok && v != nil {
			t, err := scalar.UnmarshalTime(context.Background(), v)
			if err != nil {
				return interaction.Filter{}, interaction.Page{}, err
			}
			*dst = &t
		}
	}
	for name, dst := range map[string]**int{"limit": &limit, "offset": &offset} {
		if v, ok := args[name].(int64); ok {
			n := int(v)
			*dst = &n
		}
	}
	f, err := interaction.NewFilter(network, typ, since, until)
	if err != nil {
		return f, interaction.Page{}, err
	}
	p, err := interaction.NewPage(limit, offset)
	return f, p, err
}

func listsIn(op *graphql.OperationContext, sel ast.SelectionSet) lists {
	var l lists
	for _, f := range graphql.CollectFields(op, sel, []string{"NetworkInteractions"}) {
		if f.Name != "interactions" {
			continue
		}
		for _, g := range graphql.CollectFields(op, f.Selections, []string{"Interaction"}) {
			switch g.Name {
			case "messages":
				l.messages = true
			case "missedCalls":
				l.missedCalls = true
			case "surveys":
				l.surveys = true
			}
		}
	}
	return l
}
