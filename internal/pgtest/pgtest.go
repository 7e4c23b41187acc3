// Package pgtest gives tests a fresh PostgreSQL database of their own on
// the server named by TOUCHPOINT_TEST_POSTGRES (a DSN whose role may create
// databases), and skips them when the variable is unset, so `go test ./...`
// passes on a machine without PostgreSQL.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// Env is the variable naming the test server.
const Env = "TOUCHPOINT_TEST_POSTGRES"

// DSN creates an empty database for t, dropped when t ends, and returns
// its DSN. It skips t when Env is unset.
func DSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(Env)
	if admin == "" {
		t.Skip(Env + " is not set (scripts/test starts a PostgreSQL of its own); skipping the PostgreSQL test")
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "touchpoint_test_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		db.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		db.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
