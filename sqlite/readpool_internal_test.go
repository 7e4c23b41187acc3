package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

// TestReadStatementsArePreparedOnce: a read statement is compiled once per
// connection and then only rebound. (Clearing its bindings between runs
// made SQLite compile every statement again on every run: a third of a
// request's CPU.)
func TestReadStatementsArePreparedOnce(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	org, _ := db.EnsureOrg(ctx, "a")
	var b strings.Builder
	for c := 1; c <= 20; c++ {
		fmt.Fprintf(&b, `{"record":"customer","id":%d,"mobile":"91%d"}`+"\n", c, c)
		fmt.Fprintf(&b, `{"record":"message","id":%d,"customer_id":%d,"network":"capillary","type":"sms","sent_at":"2025-01-01T10:00:00Z"}`+"\n", c, c)
	}
	if _, err := importer.Import(ctx, strings.NewReader(b.String()), db, org.ID, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	for c := 1; c <= 20; c++ {
		cs, err := db.CustomersByIdentifier(ctx, org.ID, interaction.ByMobile, []string{fmt.Sprint("91", c)})
		if err != nil || len(cs) != 1 {
			t.Fatal(cs, err)
		}
		if _, err := interaction.Read(ctx, db, org.ID, []int64{cs[0].ID}, interaction.Request{Page: interaction.Page{Limit: 5},
			Lists: interaction.AllLists, Fields: interaction.FieldStatus}); err != nil {
			t.Fatal(err)
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
