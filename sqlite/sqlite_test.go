package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/ncruces/go-sqlite3/driver" // the plain handle of TestTimeline

	"github.com/touchpoint/touchpoint/internal/storetest"
	"github.com/touchpoint/touchpoint/sqlite"
)

func open(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestReopenAndReady(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	ctx := context.Background()
	for range 2 { // migrations are idempotent
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Ready(ctx); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
}

// TestStore runs the suite every store must pass.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t) })
}

// TestTimeline runs the timeline suite, with a plain handle on the file.
func TestTimeline(t *testing.T) {
	storetest.RunTimeline(t, func(t *testing.T) (storetest.Store, *sqlx.DB) {
		path := filepath.Join(t.TempDir(), "t.db")
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		x, err := sqlx.Open("sqlite3", "file:"+path+"?_pragma=query_only(1)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { x.Close() })
		return db, x
	})
}
