package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/touchpoint/touchpoint/graph/model"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// rendered reads, from the selection of the field being resolved
// (Customer.interactions), which lists of each group and which message
// columns the response shows, and whether it shows counts by status, so
// the store reads only those. It looks no further than the field's own
// selection set.
func rendered(ctx context.Context) (lists interaction.Lists, fields interaction.MessageFields, statusCounts bool) {
	op := graphql.GetOperationContext(ctx)
	for _, ni := range graphql.CollectFields(op, graphql.GetFieldContext(ctx).Field.Selections, []string{"NetworkInteractions"}) {
		if ni.Name != "interactions" {
			continue
		}
		for _, it := range graphql.CollectFields(op, ni.Selections, []string{"Interaction"}) {
			switch it.Name {
			case "messages":
				lists |= interaction.ListMessages
				for _, m := range graphql.CollectFields(op, it.Selections, []string{"Message"}) {
					fields |= messageFields[m.Name]
				}
			case "missedCalls":
				lists |= interaction.ListMissedCalls
			case "surveys":
				lists |= interaction.ListSurveys
			case "statusCounts":
				statusCounts = true
			}
		}
	}
	return lists, fields, statusCounts
}

// messageFields maps Message's fields to the columns they render; id,
// network, type and sentAt are always read.
var messageFields = map[string]interaction.MessageFields{
	"sender":      interaction.FieldSender,
	"receiver":    interaction.FieldReceiver,
	"subject":     interaction.FieldSubject,
	"body":        interaction.FieldBody,
	"status":      interaction.FieldStatus,
	"campaignId":  interaction.FieldCampaign,
	"userId":      interaction.FieldUser,
	"deliveredAt": interaction.FieldDelivered,
}

// present turns the read path's groups into the schema's shape. Each
// customer's values are allocated in one block per kind, not one by one.
func present(groups [][]interaction.Group, maskOTP bool) [][]*model.NetworkInteractions {
	out := make([][]*model.NetworkInteractions, len(groups))
	for i, gs := range groups {
		n := 0
		for _, g := range gs {
			n += len(g.Items)
		}
		nis := make([]model.NetworkInteractions, len(gs))
		ptrs := make([]*model.NetworkInteractions, len(gs))
		items := make([]model.Interaction, n)
		itemPtrs := make([]*model.Interaction, n)
		k := 0
		for j, g := range gs {
			start := k
			for x := range g.Items {
				items[k] = model.NewInteraction(&g.Items[x], maskOTP)
				itemPtrs[k] = &items[k]
				k++
			}
			nis[j] = model.NetworkInteractions{Network: g.Network, Interactions: itemPtrs[start:k:k]}
			ptrs[j] = &nis[j]
		}
		out[i] = ptrs
	}
	return out
}

// renderedTimeline reads, from the timeline field's selection, which
// message columns its nodes show and whether totalCount is asked for.
func renderedTimeline(ctx context.Context) (fields interaction.MessageFields, total bool) {
	op := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFields(op, graphql.GetFieldContext(ctx).Field.Selections, []string{"TimelineConnection"}) {
		switch f.Name {
		case "totalCount":
			total = true
		case "edges":
			for _, e := range graphql.CollectFields(op, f.Selections, []string{"TimelineEdge"}) {
				if e.Name != "node" {
					continue
				}
				for _, m := range graphql.CollectFields(op, e.Selections, []string{"Message", "TimelineItem"}) {
					fields |= messageFields[m.Name]
				}
			}
		}
	}
	return fields, total
}

// presentTimeline turns one customer's page into the connection, each
// edge's cursor its position under base (the organisation, customer and
// filter).
func presentTimeline(page interaction.TimelinePage, base interaction.Cursor, maskOTP bool) *model.TimelineConnection {
	edges := make([]model.TimelineEdge, len(page.Entries))
	ptrs := make([]*model.TimelineEdge, len(page.Entries))
	for i := range page.Entries {
		edges[i] = model.TimelineEdge{Entry: &page.Entries[i], Base: base, MaskOTP: maskOTP}
		ptrs[i] = &edges[i]
	}
	info := &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: page.HasPrevious}
	if n := len(edges); n > 0 {
		start, end := edges[0].Cursor(), edges[n-1].Cursor()
		info.StartCursor, info.EndCursor = &start, &end
	}
	return &model.TimelineConnection{Edges: ptrs, PageInfo: info, TotalCount: page.Total}
}

// given reports whether the field being resolved was given the argument
// name: in the document, and not as a variable the request left out or
// set to null (for which the argument's default, or null, stands).
func given(ctx context.Context, name string) bool {
	a := graphql.GetFieldContext(ctx).Field.Arguments.ForName(name)
	if a == nil {
		return false
	}
	if a.Value.Kind != ast.Variable {
		return true
	}
	v, ok := graphql.GetOperationContext(ctx).Variables[a.Value.Raw]
	return ok && v != nil
}
