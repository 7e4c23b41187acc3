package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/touchpoint/touchpoint/graph/model"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// rendered reads, from the selection of the field being resolved
// (Customer.interactions), which lists of each group and which message
// columns the response shows, so the store reads only those. It looks no
// further than the field's own selection set.
func rendered(ctx context.Context) (interaction.Lists, interaction.MessageFields) {
	op := graphql.GetOperationContext(ctx)
	var lists interaction.Lists
	var fields interaction.MessageFields
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
			}
		}
	}
	return lists, fields
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
