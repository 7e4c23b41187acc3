package storetest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// sharedFixture has a customer with no identifiers but its id, customers
// without an email or an external id, and messages in several partitions; it is loaded
// into two organisations, whose customers share ids and identifiers.
const sharedFixture = `{"record":"customer","id":1,"mobile":"9100","email":"one@x.com","external_id":"E1"}
{"record":"customer","id":2,"mobile":"9200","email":"two@x.com","external_id":""}
{"record":"customer","id":3,"mobile":"","email":"","external_id":""}
{"record":"customer","id":4,"mobile":"9400","email":"","external_id":"E4"}
{"record":"message","id":10,"customer_id":1,"network":"capillary","type":"sms","subject":"%[1]s s10","status":"DELIVERED","sent_at":"2025-01-01T10:00:00Z"}
{"record":"message","id":11,"customer_id":1,"network":"capillary","type":"sms","subject":"%[1]s s11","status":"FAILED","sent_at":"2025-01-02T10:00:00Z"}
{"record":"message","id":12,"customer_id":1,"network":"capillary","type":"email","subject":"%[1]s e12","status":"OPENED","sent_at":"2025-01-03T10:00:00Z"}
{"record":"message","id":13,"customer_id":2,"network":"capillary","type":"email","subject":"%[1]s e13","status":"SENT","sent_at":"2025-01-04T10:00:00Z"}
{"record":"message","id":14,"customer_id":2,"network":"twitter","type":"tweet","subject":"%[1]s t14","status":"SENT","sent_at":"2025-01-05T10:00:00Z"}
{"record":"message","id":15,"customer_id":3,"network":"capillary","type":"sms","subject":"%[1]s s15","status":"SENT","sent_at":"2025-01-06T10:00:00Z"}
{"record":"message","id":16,"customer_id":4,"network":"capillary","type":"email","subject":"%[1]s e16","status":"SENT","sent_at":"2025-01-07T10:00:00Z"}
{"record":"message","id":17,"customer_id":4,"network":"capillary","type":"email","subject":"%[1]s e17","status":"SENT","sent_at":"2025-01-08T10:00:00Z"}
{"record":"missed_call","id":1,"customer_id":4,"called_at":"2025-01-01T00:00:00Z","used":false}
`

// testConcurrentLookups: the read path by identifier answers each of many
// callers at once what it answers each alone (a store may share statements
// between concurrent callers: their answers must not mix), across
// organisations whose customers share ids and identifiers, and for
// identifiers that name no one, or a customer only by the integer they
// parse to.
func testConcurrentLookups(t *testing.T, open Opener) {
	db := open(t)
	ctx := context.Background()
	orgs := []interaction.OrgID{load(t, db, "a", fmt.Sprintf(sharedFixture, "a")).ID, load(t, db, "b", fmt.Sprintf(sharedFixture, "b")).ID}
	lookups := []struct {
		kind   interaction.IdentifierKind
		values []string
	}{
		{interaction.ByMobile, []string{"9100"}}, {interaction.ByMobile, []string{"9400", "9200", "9100"}},
		{interaction.ByMobile, []string{""}}, {interaction.ByMobile, []string{"nobody"}}, {interaction.ByMobile, []string{"9400"}},
		{interaction.ByID, []string{"1"}}, {interaction.ByID, []string{"0003"}}, {interaction.ByID, []string{"+4", "2", "2"}},
		{interaction.ByID, []string{"x"}}, {interaction.ByEmail, []string{"one@x.com"}}, {interaction.ByEmail, []string{""}},
		{interaction.ByEmail, []string{"two@x.com", "one@x.com"}}, {interaction.ByExternalID, []string{"E1", "E4", ""}},
	}
	type call struct {
		org    interaction.OrgID
		kind   interaction.IdentifierKind
		values []string
		f      interaction.Filter
		rows   int
		order  interaction.Order
	}
	answer := func(c call) (string, error) {
		req := interaction.Request{Filter: c.f, Page: interaction.Page{Limit: c.rows, Order: c.order}, Layout: interaction.LayoutV2,
			Lists: interaction.AllLists, Fields: interaction.AllMessageFields}
		cs, groups, _, err := interaction.ReadByIdentifier(ctx, db, c.org, c.kind, c.values, req)
		lines := make([]string, len(cs)) // customers in no particular order
		for i, c := range cs {
			lines[i] = string(must(json.Marshal(struct {
				C interaction.Customer
				G []interaction.Group
			}{c, groups[i]})))
		}
		slices.Sort(lines)
		return strings.Join(lines, "\n"), err
	}
	var calls []call
	for _, f := range []interaction.Filter{{}, {Network: interaction.Capillary}, {Type: interaction.Email}} {
		for _, rows := range []int{1, 2} {
			for _, org := range orgs {
				for _, l := range lookups {
					calls = append(calls, call{org, l.kind, l.values, f, rows, interaction.Order(rows % 2)})
				}
			}
		}
	}
	want := make([]string, len(calls))
	for i, c := range calls {
		want[i] = must(answer(c))
	}
	// Every call four times at once, so that calls of one shape wait
	// beside each other.
	for round := range 3 {
		var wg sync.WaitGroup
		got := make([]string, 4*len(calls))
		errs := make([]error, len(got))
		for j := range got {
			wg.Go(func() { got[j], errs[j] = answer(calls[j%len(calls)]) })
		}
		wg.Wait()
		for j, g := range got {
			if errs[j] != nil {
				t.Fatal(errs[j])
			}
			if w := want[j%len(calls)]; g != w {
				t.Fatalf("round %d: %+v at once with others:\n got %s\nwant %s", round, calls[j%len(calls)], g, w)
			}
		}
	}
}
