// Package testenv builds the fixtures the package tests share: a real
// SQLite database in a test's temporary directory, loaded with the demo
// data through the importer.
package testenv

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/sqlite"
)

// DemoDB opens a fresh database holding the demo organisation with the
// vendor-sample customers and n generated ones.
func DemoDB(t testing.TB, n int) (*sqlite.DB, interaction.Org) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	org, err := db.EnsureOrg(ctx, demo.OrgName)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := demo.Write(&buf, demo.Options{Customers: n}); err != nil {
		t.Fatal(err)
	}
	if rep, err := importer.Import(ctx, &buf, db, org.ID, importer.Options{}); err != nil || rep.Rejected > 0 {
		t.Fatal(err, rep.Rejections)
	}
	return db, org
}
