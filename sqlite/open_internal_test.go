package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
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

// openLoaded is openTemp with the records of ndjson imported into each of
// the organisations named, whose ids it returns in that order; any error
// or rejected record fails t.
func openLoaded(t testing.TB, ndjson string, orgs ...string) (*DB, []interaction.OrgID) {
	t.Helper()
	db := openTemp(t)
	ctx := context.Background()
	ids := make([]interaction.OrgID, len(orgs))
	for i, name := range orgs {
		org, err := db.EnsureOrg(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := importer.Import(ctx, strings.NewReader(ndjson), db, org.ID, importer.Options{}); err != nil || rep.Rejected > 0 {
			t.Fatal(err, rep.Rejections)
		}
		ids[i] = org.ID
	}
	return db, ids
}
