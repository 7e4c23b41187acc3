package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// openTemp opens a fresh, migrated store in t's temporary directory,
// closed when t ends.
func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
