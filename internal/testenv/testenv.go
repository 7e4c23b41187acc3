// Package testenv builds the fixtures the package tests share: a real
// database, loaded with the demo data through the importer. It is SQLite,
// or PostgreSQL when TOUCHPOINT_TEST_STORE=postgres (with
// TOUCHPOINT_TEST_POSTGRES naming the server), so the GraphQL and REST
// suites can run on either store.
package testenv

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/pgtest"
	"github.com/touchpoint/touchpoint/postgres"
	"github.com/touchpoint/touchpoint/sqlite"
)

// Store is what the package tests use of a store.
type Store interface {
	interaction.Reader
	interaction.Admin
	importer.Sink
	Statements() int64
	Close() error
}

// Open returns a fresh, empty store for t.
func Open(t testing.TB) Store {
	t.Helper()
	ctx := context.Background()
	var db Store
	var err error
	if os.Getenv("TOUCHPOINT_TEST_STORE") == "postgres" {
		db, err = postgres.Open(ctx, pgtest.DSN(t), postgres.Options{})
	} else {
		db, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// DemoDB opens a fresh store holding the demo organisation with the
// vendor-sample customers and n generated ones.
func DemoDB(t testing.TB, n int) (Store, interaction.Org) {
	t.Helper()
	ctx := context.Background()
	db := Open(t)
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
