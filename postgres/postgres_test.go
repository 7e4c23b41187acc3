package postgres_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/pgtest"
	"github.com/touchpoint/touchpoint/internal/storetest"
	"github.com/touchpoint/touchpoint/postgres"
)

func open(t testing.TB, o postgres.Options) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), pgtest.DSN(t), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStore runs the suite every store must pass.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t, postgres.Options{}) })
}

// TestTimeline runs the timeline suite, with a plain handle on the database.
func TestTimeline(t *testing.T) {
	storetest.RunTimeline(t, func(t *testing.T) (storetest.Store, *sqlx.DB) {
		dsn := pgtest.DSN(t)
		db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		x, err := sqlx.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { x.Close() })
		return db, x
	})
}

func TestMigrateTwiceAndReady(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	for range 2 {
		db, err := postgres.Open(ctx, dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	if !postgres.IsDSN(dsn) || postgres.IsDSN("touchpoint.db") {
		t.Error("IsDSN")
	}
}

// TestImportIdempotent imports the demo data twice through COPY: the same
// rows both times, every vendor sample in place, nothing rejected.
func TestImportIdempotent(t *testing.T) {
	db := open(t, postgres.Options{})
	ctx := context.Background()
	org, _ := db.EnsureOrg(ctx, "demo")
	var buf bytes.Buffer
	demo.Write(&buf, demo.Options{Customers: 100})
	for i := range 2 {
		rep, err := importer.Import(ctx, bytes.NewReader(buf.Bytes()), db, org.ID, importer.Options{BatchSize: 500})
		if err != nil || rep.Rejected != 0 || rep.Customers != 103 {
			t.Fatalf("import %d: %+v %v", i, rep, err)
		}
	}
	sums, err := db.Summaries(ctx, org.ID, []int64{demo.ViberSample}, interaction.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, s := range sums {
		got[string(s.Type)] = s.Count
	}
	if got["viber"] != 3 || got["sms"] != 4 {
		t.Errorf("viber sample summaries = %v", got)
	}
}

func TestImportRejections(t *testing.T) {
	db := open(t, postgres.Options{})
	ctx := context.Background()
	org, _ := db.EnsureOrg(ctx, "acme")
	in := `{"record":"customer","id":1,"mobile":"91"}
{"record":"customer","id":2,"mobile":"91"}
{"record":"message","id":5,"customer_id":99,"network":"capillary","type":"sms","sent_at":"2025-01-01T00:00:00Z"}
{"record":"message","id":6,"customer_id":1,"network":"capillary","type":"sms","sent_at":"2025-01-01T00:00:00Z"}
{"record":"missed_call","id":1,"customer_id":98,"called_at":"2025-01-01T00:00:00Z"}
`
	rep, err := importer.Import(ctx, bytes.NewBufferString(in), db, org.ID, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Accepted != 2 || rep.Rejected != 3 {
		t.Fatalf("report = %+v", rep)
	}
	want := map[int]string{2: "already belongs", 3: "unknown customer 99", 5: "unknown customer 98"}
	for _, r := range rep.Rejections {
		if w, ok := want[r.Line]; !ok || !bytes.Contains([]byte(r.Reason), []byte(w)) {
			t.Errorf("rejection %+v", r)
		}
	}
}

func TestReadReplicaDSN(t *testing.T) {
	dsn := pgtest.DSN(t)
	db, err := postgres.Open(context.Background(), dsn, postgres.Options{ReadDSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.EnsureOrg(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.OrgByName(context.Background(), "x"); err != nil {
		t.Errorf("read through the replica pool: %v", err)
	}
}

// TestWarmPoolOpensWhole: a server's store (Options.Warm) opens its read
// pool whole before any query needs it, and a command's opens nothing
// beyond what it uses.
func TestWarmPoolOpensWhole(t *testing.T) {
	warm := open(t, postgres.Options{Warm: true})
	want := warm.Stats().MaxOpenConnections
	var got int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = warm.Stats().OpenConnections; got == want {
			break
		}
	}
	if got != want {
		t.Errorf("warm pool: %d connections open, want %d", got, want)
	}
	if n := open(t, postgres.Options{}).Stats().OpenConnections; n != 0 {
		t.Errorf("cold pool: %d connections open before a query, want 0", n)
	}
}
