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
	return openAt(t, filepath.Join(t.TempDir(), "t.db"))
}

// openAt opens the store at path (a second handle on it stands for
// another process's), closed when t ends.
func openAt(t testing.TB, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
