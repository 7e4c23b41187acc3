package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// TestReadStatementsArePreparedOnce: a read statement is compiled once per
// connection and then only rebound, whatever the organisation, customers
// and page. (Clearing its bindings between runs made SQLite compile every
// statement again on every run, a third of a request's CPU; so did
// binding organisation 1 after organisation 2, or an offset of 0 after 4.)
func TestReadStatementsArePreparedOnce(t *testing.T) {
	// The same records in two organisations.
	var b strings.Builder
	for c := 1; c <= 20; c++ {
		fmt.Fprintf(&b, `{"record":"customer","id":%d,"mobile":"91%d"}`+"\n", c, c)
		for k := range 40 * (c % 2) { // long partitions for the cut part
			fmt.Fprintf(&b, `{"record":"message","id":%d,"customer_id":%d,"network":"capillary","type":"sms","sent_at":"2025-01-01T10:00:00Z"}`+"\n", c*100+k, c)
		}
		fmt.Fprintf(&b, `{"record":"message","id":%d,"customer_id":%d,"network":"capillary","type":"email","sent_at":"2025-01-01T10:00:00Z"}`+"\n", c, c)
	}
	db, orgs := openLoaded(t, b.String(), "a", "b")
	ctx := context.Background()
	for k := 1; k <= 100; k++ {
		c, org, limit := k%20+1, orgs[k%2], 1+4*(k/2%2)
		cs, err := db.CustomersByIdentifier(ctx, org, interaction.ByMobile, []string{fmt.Sprint("91", c)})
		if err != nil || len(cs) != 1 {
			t.Fatal(cs, err)
		}
		for _, ids := range [][]int64{{cs[0].ID}, {cs[0].ID, cs[0].ID%20 + 1}} {
			for _, f := range []interaction.Filter{{}, {Type: interaction.SMS}} {
				page := interaction.Page{Limit: limit, Order: interaction.Order(k / 4 % 2)} // both orders' statements
				if _, err := interaction.Read(ctx, db, org, ids, interaction.Request{Filter: f, Page: page,
					Lists: interaction.AllLists, Fields: interaction.FieldStatus}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, rc := range db.reads.all {
		for q, st := range rc.stmts {
			if n := st.Status(sqlite3.STMTSTATUS_REPREPARE, false); n > 1 {
				t.Errorf("prepared %d times in %d runs: %.60s", n, st.Status(sqlite3.STMTSTATUS_RUN, false), q)
			}
		}
	}
}
