package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// TestSplitHeads: each call of a shared statement gets the customers its
// own identifiers name, as the statement matched them, with their
// summaries and heads in the statement's order, and nothing of the others'.
func TestSplitHeads(t *testing.T) {
	cs := []interaction.Customer{{ID: 7, Mobile: "91", Email: "a@x", ExternalID: "E7"}, {ID: 8, Mobile: "92"}, {ID: 9}}
	sums := []interaction.Summary{{CustomerID: 9, Count: 1}, {CustomerID: 7, Count: 2}, {CustomerID: 8, Count: 3}, {CustomerID: 7, Count: 4}}
	heads := []interaction.Message{{CustomerID: 7, ID: 1}, {CustomerID: 7, ID: 2}, {CustomerID: 8, ID: 3}, {CustomerID: 9, ID: 4}}
	render := func(a headsAnswer) string {
		s := ""
		for _, c := range a.customers {
			s += fmt.Sprintf("c%d ", c.ID)
		}
		for _, x := range a.summaries {
			s += fmt.Sprintf("s%d ", x.Count)
		}
		for _, m := range a.heads {
			s += fmt.Sprintf("m%d ", m.ID)
		}
		return s
	}
	for _, tc := range []struct {
		kind interaction.IdentifierKind
		ins  [][]string
		want []string
	}{
		{interaction.ByMobile, [][]string{{"91"}, {"92", "91"}, {""}, {"93"}, {"91", "91"}},
			[]string{"c7 s2 s4 m1 m2 ", "c7 c8 s2 s3 s4 m1 m2 m3 ", "", "", "c7 s2 s4 m1 m2 "}},
		{interaction.ByID, [][]string{{"9"}, {"007", "+8"}, {"x", "-9"}},
			[]string{"c9 s1 m4 ", "c7 c8 s2 s3 s4 m1 m2 m3 ", ""}},
		{interaction.ByEmail, [][]string{{"a@x"}, {""}}, []string{"c7 s2 s4 m1 m2 ", ""}},
		{interaction.ByExternalID, [][]string{{"E8"}, {"E7", ""}}, []string{"", "c7 s2 s4 m1 m2 "}},
	} {
		got := splitHeads(tc.kind, tc.ins, cs, sums, heads)
		for i := range tc.ins {
			if g := render(got[i]); g != tc.want[i] {
				t.Errorf("by %s %q: got %q, want %q", tc.kind, tc.ins[i], g, tc.want[i])
			}
		}
	}
}

// TestOneHeadsStatementAtATime: while a heads statement is under way, the
// questions of its shape that arrive wait for it instead of starting
// statements of their own, and then share one.
func TestOneHeadsStatementAtATime(t *testing.T) {
	ctx := context.Background()
	db, other, org, _ := openPair(t)
	ask := func() error {
		_, _, _, err := db.CustomersWithHeads(ctx, org.ID, interaction.ByMobile, []string{"919000000001"},
			interaction.Filter{}, 5, interaction.NewestFirst, interaction.FieldReceiver)
		return err
	}
	if err := ask(); err != nil { // the statement prepared, so every later one is a single execution
		t.Fatal(err)
	}

	// Hold the first statement on a lock of the table it reads.
	tx, err := other.w.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `LOCK TABLE customers IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	before := db.Statements()
	const callers = 20
	errs := make(chan error, callers+1)
	go func() { errs <- ask() }()
	eventually(t, "the first statement to wait for the lock", func() bool {
		var n int
		other.w.GetContext(ctx, &n, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)
		return n == 1
	})
	var ready sync.WaitGroup
	ready.Add(callers)
	for range callers {
		go func() {
			ready.Done()
			errs <- ask()
		}()
	}
	ready.Wait()
	time.Sleep(100 * time.Millisecond) // time enough for a second statement, were one allowed
	if n := db.Statements() - before; n != 1 {
		t.Errorf("%d statements under way while the first waits, want 1", n)
	}

	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	for range callers + 1 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// All of them waited beside each other (a caller held up before it
	// asked may have come after the shared statement and run its own).
	if n := db.Statements() - before; n > 3 {
		t.Errorf("%d statements for %d questions asked together, want 2 (at most 3)", n, callers+1)
	}
}
