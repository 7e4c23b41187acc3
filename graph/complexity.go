package graph

import (
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// DefaultComplexityLimit bounds what one operation may cost. The dashboard
// case (100 customers, every group's counts and a 20-message page of a
// dozen fields) costs about 100 × 12 × (17 + 20) ≈ 44,000; the limit leaves
// room for several times that and rejects 100 customers at page size 500,
// which would return up to 600,000 rows.
const DefaultComplexityLimit = 200_000

// groupsPerCustomer is the number of interaction groups a customer may
// show, for costing: the capillary layout plus a few social groups.
const groupsPerCustomer = 12

// setComplexity makes list fields cost their length: customers by the
// number of values; interactions by the groups it may return, each costing
// its selection plus its page size (the rows a message, missed-call or
// survey page can return).
func setComplexity(c *ComplexityRoot) {
	c.Query.Customers = func(child int, _ interaction.IdentifierKind, values []string) int {
		return 1 + child*max(1, len(values))
	}
	c.Customer.Interactions = func(child int, _ *interaction.Network, _ *interaction.Type, limit, _ *int, _, _ *time.Time) int {
		page := interaction.DefaultLimit
		if limit != nil {
			page = max(1, *limit)
		}
		return 1 + groupsPerCustomer*(child+page)
	}
}
