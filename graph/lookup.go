package graph

import (
	"context"
	"strconv"
	"time"

	"github.com/touchpoint/touchpoint/graph/model"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loader"
)

// MaxCustomers caps the customers query: it bounds one request's work
// (one batch of at most this many customers per interactions field).
const MaxCustomers = 100

// lookup finds one customer; not found is a null, not an error.
func lookup(ctx context.Context, id interaction.Identifier) (*interaction.Customer, error) {
	return found(loader.For(ctx).Customer(ctx, id))
}

// found turns a loader result into the resolver's: not found is a null.
func found(c interaction.Customer, err error) (*interaction.Customer, error) {
	if interaction.KindOf(err) == interaction.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// identifierOf is the one identifier Query.customer's arguments give.
func identifierOf(mobile, email, externalID *string, id *int64) (interaction.Identifier, error) {
	var ids []interaction.Identifier
	add := func(k interaction.IdentifierKind, v *string) {
		if v != nil {
			ids = append(ids, interaction.Identifier{Kind: k, Value: *v})
		}
	}
	add(interaction.ByMobile, mobile)
	add(interaction.ByEmail, email)
	add(interaction.ByExternalID, externalID)
	if id != nil {
		s := strconv.FormatInt(*id, 10)
		add(interaction.ByID, &s)
	}
	if len(ids) != 1 {
		return interaction.Identifier{}, interaction.Errorf(interaction.KindInvalid, "give exactly one of mobile, email, externalId or id (got %d)", len(ids))
	}
	return ids[0], nil
}

// checkCustomers bounds Query.customers' values.
func checkCustomers(values []string) error {
	if len(values) > MaxCustomers {
		return interaction.Errorf(interaction.KindInvalid, "at most %d values per customers query (got %d)", MaxCustomers, len(values))
	}
	return nil
}

// requestFromArgs is interactionsRequest for Customer.interactions'
// arguments as gqlgen coerced them (a field context's Args).
func requestFromArgs(ctx context.Context, args map[string]any) (interaction.Request, error) {
	network, _ := args["network"].(*interaction.Network)
	typ, _ := args["type"].(*interaction.Type)
	limit, _ := args["limit"].(*int)
	offset, _ := args["offset"].(*int)
	since, _ := args["since"].(*time.Time)
	until, _ := args["until"].(*time.Time)
	statuses, _ := args["statuses"].([]string)
	campaigns, _ := args["campaignIds"].([]int64)
	return interactionsRequest(ctx, network, typ, limit, offset, since, until, statuses, campaigns)
}

// interactionsFor reads req for the customers of a list (nil entries, the
// list's nulls, have none) and presents them in the list's order.
func interactionsFor(ctx context.Context, objs []*interaction.Customer, req interaction.Request) ([][]*model.NetworkInteractions, error) {
	ids := make([]int64, 0, len(objs))
	for _, c := range objs {
		if c != nil {
			ids = append(ids, c.ID)
		}
	}
	groups, err := loader.For(ctx).Interactions(ctx, ids, req)
	if err != nil {
		return nil, err
	}
	shown := presentFor(ctx, groups)
	out := make([][]*model.NetworkInteractions, len(objs))
	for i, c := range objs {
		if c != nil {
			out[i], shown = shown[0], shown[1:]
		}
	}
	return out, nil
}

// interactionsRequest is what Customer.interactions' arguments and
// selection (the field of ctx) ask of the read path.
func interactionsRequest(ctx context.Context, network *interaction.Network, typ *interaction.Type, limit, offset *int, since, until *time.Time, statuses []string, campaigns []int64) (interaction.Request, error) {
	f, err := interaction.NewFilter(network, typ, since, until)
	if err != nil {
		return interaction.Request{}, err
	}
	f = f.WithMessages(statuses, campaigns)
	page, err := interaction.NewPage(limit, offset)
	if err != nil {
		return interaction.Request{}, err
	}
	lists, fields, statusCounts := rendered(ctx)
	return interaction.Request{Filter: f, Page: page, Layout: interaction.LayoutV2, Lists: lists, Fields: fields,
		StatusCounts: statusCounts}, nil
}

// presentFor presents groups as the request's principal may see them.
func presentFor(ctx context.Context, groups [][]interaction.Group) [][]*model.NetworkInteractions {
	p, _ := interaction.FromContext(ctx)
	return present(groups, p.Org.MaskOTP && !p.Has(interaction.ScopeOTPRead))
}
