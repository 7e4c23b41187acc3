package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/importer"
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

// TestHeldSnapshotsSeeEveryCommit: a connection that keeps its read
// transaction between statements (readPool's held snapshots) reuses it
// only while nothing is committed: every commit, by this handle or by
// another process's, is seen by the next read, on every connection.
func TestHeldSnapshotsSeeEveryCommit(t *testing.T) {
	ctx := context.Background()
	db, other, org := openTwice(t)
	for i := range 40 {
		by := db
		if i%2 == 1 {
			by = other // another process's commit
		}
		mobile := fmt.Sprint(919000000000 + i)
		importCustomer(t, by, org, i+1, mobile)
		// As many reads as the pool has connections, at once, so that each
		// connection's held snapshot is put to the test.
		var wg sync.WaitGroup
		errs := make(chan error, db.reads.max)
		for range db.reads.max {
			wg.Go(func() {
				cs, err := db.CustomersByIdentifier(ctx, org.ID, interaction.ByMobile, []string{mobile})
				if err == nil && len(cs) != 1 {
					err = fmt.Errorf("after commit %d: customer %s not found", i, mobile)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestStaleSnapshotsAreReleased: an idle connection's snapshot, made stale
// by a commit, is let go, so that a checkpoint can copy the whole WAL back
// into the database (while it is held, the checkpoint stops short of it
// and the WAL grows with every import).
func TestStaleSnapshotsAreReleased(t *testing.T) {
	ctx := context.Background()
	db, other, org := openTwice(t)
	if _, err := db.CustomersByIdentifier(ctx, org.ID, interaction.ByMobile, []string{"919000000001"}); err != nil {
		t.Fatal(err) // a connection now holds a snapshot
	}
	importCustomer(t, other, org, 1, "919000000001")
	var log, done int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(releaseEvery) {
		var busy int
		if err := other.w.QueryRowxContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil {
			t.Fatal(err)
		}
		if done == log {
			return
		}
	}
	t.Errorf("the WAL's %d frames never all checkpointed (%d): an idle connection kept its stale snapshot", log, done)
}

// openTwice opens a store with an organisation, and a second handle on
// its file that stands for another process's.
func openTwice(t *testing.T) (db, other *DB, org interaction.Org) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	db, other = openAt(t, path), openAt(t, path)
	org, err := db.EnsureOrg(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return db, other, org
}

// importCustomer commits one customer through db's importer.
func importCustomer(t *testing.T, db *DB, org interaction.Org, id int, mobile string) {
	t.Helper()
	rec := fmt.Sprintf(`{"record":"customer","id":%d,"mobile":"%s"}`+"\n", id, mobile)
	if rep, err := importer.Import(context.Background(), strings.NewReader(rec), db, org.ID, importer.Options{}); err != nil || rep.Rejected > 0 {
		t.Fatal(err, rep.Rejections)
	}
}

// TestCanceledReadsLeaveSnapshotsUsable: a read whose context has ended
// fails, and the connection it ran on goes on answering, with the latest
// commit, afterwards.
func TestCanceledReadsLeaveSnapshotsUsable(t *testing.T) {
	ctx := context.Background()
	db, other, org := openTwice(t)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for i := range 3 * db.reads.max {
		if _, err := db.CustomersByIdentifier(ctx, org.ID, interaction.ByMobile, []string{"919000000001"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CustomersByIdentifier(canceled, org.ID, interaction.ByMobile, []string{"919000000001"}); err == nil {
			t.Fatalf("read %d under a canceled context: no error", i)
		}
	}
	importCustomer(t, other, org, 1, "919000000001")
	for range 3 * db.reads.max {
		if cs, err := db.CustomersByIdentifier(ctx, org.ID, interaction.ByMobile, []string{"919000000001"}); err != nil || len(cs) != 1 {
			t.Fatalf("after canceled reads and a commit: %v, %v; want the customer", cs, err)
		}
	}
}
