package storetest

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"testing"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// checkLookupSummaries: CustomersWithSummaries finds what
// CustomersByIdentifier finds (by id, with an unknown id and a repeat
// among them, and by mobile) and answers for them what Summaries answers
// under f.
func checkLookupSummaries(t *testing.T, i int, sf interaction.SummaryFinder, org interaction.OrgID, customers []int64, f interaction.Filter) {
	t.Helper()
	ctx := context.Background()
	ids := lookupIDs(customers)
	var mobiles []string
	for _, c := range must(sf.CustomersByIdentifier(ctx, org, interaction.ByID, ids)) {
		if c.Mobile != "" {
			mobiles = append(mobiles, c.Mobile, c.Mobile)
		}
	}
	byID := func(a, b interaction.Customer) int { return cmp.Compare(a.ID, b.ID) }
	for _, q := range []struct {
		kind   interaction.IdentifierKind
		values []string
	}{{interaction.ByID, ids}, {interaction.ByMobile, mobiles}} {
		want := slices.CompactFunc(slices.SortedFunc(slices.Values(must(sf.CustomersByIdentifier(ctx, org, q.kind, q.values))), byID),
			func(a, b interaction.Customer) bool { return a.ID == b.ID })
		var wantIDs []int64
		for _, c := range want {
			wantIDs = append(wantIDs, c.ID)
		}
		cs, sums, err := sf.CustomersWithSummaries(ctx, org, q.kind, q.values, f)
		if err != nil {
			t.Fatal(err)
		}
		if g := slices.SortedFunc(slices.Values(cs), byID); !slices.Equal(g, want) {
			t.Fatalf("query %d: customers by %s %v with summaries:\n got %v\nwant %v", i, q.kind, q.values, cs, want)
		}
		if g, w := renderSummaries(sums), renderSummaries(must(sf.Summaries(ctx, org, wantIDs, f))); !slices.Equal(g, w) {
			t.Fatalf("query %d: summaries of customers by %s %v under %+v:\n got %v\nwant %v", i, q.kind, q.values, f, g, w)
		}
	}
}

// lookupIDs are customers' ids as lookup values, with an unknown id before
// them and the first of them again after.
func lookupIDs(customers []int64) []string {
	ids := []string{"999999999"}
	for _, c := range customers {
		ids = append(ids, strconv.FormatInt(c, 10))
	}
	if len(customers) > 0 {
		ids = append(ids, strconv.FormatInt(customers[0], 10))
	}
	return ids
}
