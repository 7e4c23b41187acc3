package graph

import (
	"context"

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
