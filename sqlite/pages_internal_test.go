package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// TestCutPageReadsItsPartition: a long partition's page (the cut part of
// the page statement) reads about its own rows, however many messages of
// other types the customer has in the same time: SQLite, replanning with
// the span's bound values, once read such a page through
// messages_timeline, every message of the customer (27 times the time on
// a partition of 106 rows). Counted in the statement's virtual machine
// steps.
func TestCutPageReadsItsPartition(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"record":"customer","id":1,"mobile":"919800000001"}` + "\n")
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3000 {
		typ := "sms"
		if i%25 == 0 {
			typ = "email"
		}
		fmt.Fprintf(&b, `{"record":"message","id":%d,"customer_id":1,"network":"capillary","type":"%s","status":"SENT","sent_at":"%s"}`+"\n",
			i+1, typ, at.Add(time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	db, orgs := openLoaded(t, b.String(), "acme")
	ctx := context.Background()
	for _, order := range []interaction.Order{interaction.NewestFirst, interaction.OldestFirst} {
		text := pageQuery(pageShape{fields: interaction.FieldStatus, parts: partCut, order: order})
		var steps, rows int
		err := db.reads.query(ctx, text, func(st *sqlite3.Stmt) error {
			return bindAll(bindKey(st, 1, int64(orgs[0])), st.BindText(6, `[[1,"capillary","email"]]`),
				st.BindInt64(7, -1<<63), st.BindInt64(8, 1<<63-1), bindKey(st, 9, 19))
		}, func(_ *readConn, st *sqlite3.Stmt) error {
			rows++
			steps = st.Status(sqlite3.STMTSTATUS_VM_STEP, false)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// 20 rows of 120 emails: about 350 steps. Read through
		// messages_timeline, past the customer's sms, it was 2,000 newest
		// first and 11,000 oldest first.
		if rows != 20 || steps > 1000 {
			t.Errorf("order %v: %d rows in %d steps; want 20 rows in under 1,000", order, rows, steps)
		}
	}
}
