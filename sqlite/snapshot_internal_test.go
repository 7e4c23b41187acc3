package sqlite

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
)

const snapshotCustomer = `{"record":"customer","id":1,"mobile":"911"}
{"record":"message","id":1,"customer_id":1,"network":"capillary","type":"sms","sent_at":"2025-01-01T10:00:00Z"}
`

// importMore commits one more SMS for the customer of snapshotCustomer.
func importMore(t *testing.T, db *DB, org interaction.OrgID, id string) {
	t.Helper()
	rec := `{"record":"message","id":` + id + `,"customer_id":1,"network":"capillary","type":"sms","sent_at":"2025-01-02T10:00:00Z"}`
	if rep, err := importer.Import(context.Background(), strings.NewReader(rec), db, org, importer.Options{}); err != nil || rep.Rejected > 0 {
		t.Fatal(err, rep.Rejections)
	}
}

// smsSeen reads the customer's SMS count and page as one request does,
// with ctx.
func smsSeen(t *testing.T, db *DB, ctx context.Context, org interaction.OrgID) (count, page int) {
	t.Helper()
	cs, err := db.CustomersByIdentifier(ctx, org, interaction.ByMobile, []string{"911"})
	if err != nil || len(cs) != 1 {
		t.Fatal(cs, err)
	}
	got, err := interaction.Read(ctx, db, org, []int64{cs[0].ID}, interaction.Request{
		Filter: interaction.Filter{Type: interaction.SMS}, Page: interaction.Page{Limit: 10}, Lists: interaction.AllLists})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got[0] {
		for _, it := range g.Items {
			if it.Type == interaction.SMS {
				count += it.Count
				page += len(it.Messages)
			}
		}
	}
	return count, page
}

// TestScopeReadsOneSnapshot: a request's reads run in one read
// transaction, so a commit half-way through the request is not seen by
// its later reads (its counts and its pages agree), and is seen by the
// next request, and by reads outside a scope, at once.
func TestScopeReadsOneSnapshot(t *testing.T) {
	db, orgs := openLoaded(t, snapshotCustomer, "acme")
	org := orgs[0]
	ctx := context.Background()

	req, release := db.Scope(ctx)
	if c, p := smsSeen(t, db, req, org); c != 1 || p != 1 {
		t.Fatalf("before the commit: count %d, page %d; want 1, 1", c, p)
	}
	importMore(t, db, org, "2")
	if c, p := smsSeen(t, db, req, org); c != 1 || p != 1 {
		t.Errorf("the same request after a commit: count %d, page %d; want the snapshot's 1, 1", c, p)
	}
	if c, p := smsSeen(t, db, ctx, org); c != 2 || p != 2 {
		t.Errorf("outside the scope: count %d, page %d; want 2, 2", c, p)
	}
	release()
	if c, p := smsSeen(t, db, req, org); c != 2 || p != 2 {
		t.Errorf("after release: count %d, page %d; want 2, 2 (reads no longer scoped)", c, p)
	}
	release() // a second release is harmless
	next, done := db.Scope(ctx)
	defer done()
	if c, p := smsSeen(t, db, next, org); c != 2 || p != 2 {
		t.Errorf("the next request: count %d, page %d; want 2, 2", c, p)
	}
}

// TestScopeReleaseFreesConnectionAndCheckpoint: while a scope's
// transaction is open it holds one connection and keeps the checkpoint
// from the frames committed since; release gives both back, so the WAL
// can be checkpointed whole and the connection serves the next request.
func TestScopeReleaseFreesConnectionAndCheckpoint(t *testing.T) {
	db, orgs := openLoaded(t, snapshotCustomer, "acme")
	org := orgs[0]
	ctx := context.Background()

	req, release := db.Scope(ctx)
	smsSeen(t, db, req, org)
	if s := db.Stats(); s.InUse != 1 {
		t.Errorf("during the request: %d connections in use, want 1 (one a request)", s.InUse)
	}
	importMore(t, db, org, "2")
	if busy := checkpoint(t, db); !busy {
		t.Error("a checkpoint completed past an open snapshot")
	}
	release()
	if s := db.Stats(); s.InUse != 0 {
		t.Errorf("after release: %d connections in use, want 0", s.InUse)
	}
	if busy := checkpoint(t, db); busy {
		t.Error("after release the checkpoint still could not finish")
	}
}

// checkpoint asks for a whole checkpoint of the WAL and reports whether a
// reader kept it from finishing.
func checkpoint(t *testing.T, db *DB) (busy bool) {
	t.Helper()
	var b, logFrames, done int
	if err := db.w.QueryRowx(`PRAGMA wal_checkpoint(FULL)`).Scan(&b, &logFrames, &done); err != nil {
		t.Fatal(err)
	}
	return b != 0 || done != logFrames
}

// TestScopeStatementsRunOneAtATime: a request's statements may be asked
// for from several goroutines (gqlgen resolves root fields concurrently);
// on the one connection they take turns, and each gets its own rows.
func TestScopeStatementsRunOneAtATime(t *testing.T) {
	db, orgs := openLoaded(t, snapshotCustomer, "acme")
	req, release := db.Scope(context.Background())
	defer release()
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			cs, err := db.CustomersByIdentifier(req, orgs[0], interaction.ByMobile, []string{"911"})
			if err == nil && (len(cs) != 1 || cs[0].Mobile != "911") {
				err = fmt.Errorf("rows %v", cs)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if s := db.Stats(); s.InUse != 1 {
		t.Errorf("%d connections in use by one request, want 1", s.InUse)
	}
}

// TestReleaseDiscardsAConnectionStillInATransaction: a connection whose
// transaction did not end at release is closed, not pooled, and frees
// its place: the next request gets a connection that sees the latest
// commit, not the old snapshot.
func TestReleaseDiscardsAConnectionStillInATransaction(t *testing.T) {
	db, orgs := openLoaded(t, snapshotCustomer, "acme")
	org := orgs[0]
	req, release := db.Scope(context.Background())
	smsSeen(t, db, req, org)
	rc := scopeOf(req).snap.rc
	// Its COMMIT now ends nothing, as a COMMIT that failed would.
	fake, _, err := rc.c.Prepare(`SELECT 1`)
	if err != nil {
		t.Fatal(err)
	}
	rc.stmts["COMMIT"].Close()
	rc.stmts["COMMIT"] = fake
	importMore(t, db, org, "2")
	release() // closes rc: it is not to be used after
	for _, c := range db.reads.all {
		if c == rc {
			t.Fatal("a connection still in its transaction went back to the pool")
		}
	}
	// Every place under the bound can be taken again (all at once: a
	// place lost would leave the last waiting out the deadline), each
	// connection seeing the commit made after the old snapshot began.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range db.reads.max {
		next, done := db.Scope(ctx)
		defer done()
		if c, p := smsSeen(t, db, next, org); c != 2 || p != 2 {
			t.Errorf("a later request: count %d, page %d; want 2, 2", c, p)
		}
	}
}

// quiet waits until the sweeper has seen the database's latest commit and
// then declares the writes over, as quietAfter later it would.
func quiet(t *testing.T, db *DB) {
	t.Helper()
	time.Sleep(3 * sweepEvery)
	db.reads.writing.Store(false)
}

// beginsRun is how many times rc has run BEGIN.
func beginsRun(rc *readConn) int {
	st, ok := rc.stmts["BEGIN"]
	if !ok {
		return 0
	}
	return st.Status(sqlite3.STMTSTATUS_RUN, false)
}

// quietLoaded is openLoaded(snapshotCustomer) with the writes over.
func quietLoaded(t *testing.T) (*DB, interaction.OrgID) {
	t.Helper()
	db, orgs := openLoaded(t, snapshotCustomer, "acme")
	quiet(t, db)
	return db, orgs[0]
}

// readOnce runs one request's reads and returns its connection, how many
// times that had run BEGIN by the end of the request, and the SMS count
// and page the request saw. (The connection is the pool's again after:
// it is looked at only while a request holds it, as the sweeper may take
// an idle one.)
func readOnce(t *testing.T, db *DB, org interaction.OrgID) (rc *readConn, begins, count, page int) {
	t.Helper()
	req, release := db.Scope(context.Background())
	defer release()
	count, page = smsSeen(t, db, req, org)
	rc = scopeOf(req).snap.rc
	return rc, beginsRun(rc), count, page
}

// TestSnapshotCarriedOnWhileNothingIsCommitted: while nothing is
// committed, a request's read transaction outlives it and the next
// request carries it on (no BEGIN, no COMMIT); a commit between them is
// seen by the next request all the same, scoped or not.
func TestSnapshotCarriedOnWhileNothingIsCommitted(t *testing.T) {
	db, org := quietLoaded(t)
	rc, begins, _, _ := readOnce(t, db, org)
	next, nextBegins, c, p := readOnce(t, db, org)
	if c != 1 || p != 1 {
		t.Errorf("carried on: count %d, page %d; want 1, 1", c, p)
	}
	if next != rc || nextBegins != begins {
		t.Errorf("the next request began a transaction (BEGIN run %d times, was %d) instead of carrying on", nextBegins, begins)
	}

	importMore(t, db, org, "2")
	if _, _, c, p := readOnce(t, db, org); c != 2 || p != 2 {
		t.Errorf("after a commit: count %d, page %d; want the commit's 2, 2", c, p)
	}
	if c, p := smsSeen(t, db, context.Background(), org); c != 2 || p != 2 {
		t.Errorf("after a commit, unscoped: count %d, page %d; want 2, 2", c, p)
	}
}

// TestKeptSnapshotsEndSoonAfterACommit: an idle connection's kept
// transaction holds a read mark, which keeps a checkpoint from finishing;
// after a commit (here another connection's, as an import's in another
// process would be) the sweeper ends it within a few sweeps, and while
// commits keep coming no transaction is kept.
func TestKeptSnapshotsEndSoonAfterACommit(t *testing.T) {
	db, org := quietLoaded(t)
	readOnce(t, db, org)
	importMore(t, db, org, "2")
	deadline := time.Now().Add(2 * time.Second)
	for checkpoint(t, db) {
		if time.Now().After(deadline) {
			t.Fatal("an idle connection's kept transaction still held the checkpoint back 2 s after a commit")
		}
		time.Sleep(sweepEvery)
	}
	if !db.reads.writing.Load() {
		t.Fatal("the sweeper did not see the commit")
	}
	rc, begins, _, _ := readOnce(t, db, org)
	if next, nextBegins, _, _ := readOnce(t, db, org); next == rc && nextBegins == begins {
		t.Error("a transaction was carried on while commits come")
	}
}
