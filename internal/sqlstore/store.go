// Package sqlstore is the SQL shared by Touchpoint's two stores (sqlite and
// postgres): the interaction.Reader and interaction.Admin queries, written
// once with '?' placeholders that sqlx rebinds for each driver, the
// prepared-statement cache and the ordered migrations runner. What differs
// between the dialects lives in Dialect; opening, pooling, durability and
// bulk import stay in each store's own package.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Dialect is what the shared SQL needs to know about a database.
type Dialect struct {
	// Join joins the ranked page ids to their table. SQLite wants
	// "CROSS JOIN", its way of pinning the join order; PostgreSQL has no
	// ON clause for CROSS JOIN and plans a plain JOIN well.
	Join string
	// Violation classifies a constraint violation the driver reported.
	Violation func(error) Violation
}

// Violation is the kind of constraint an error broke.
type Violation int

// Violations; None for errors that are not constraint violations.
const (
	None Violation = iota
	Unique
	ForeignKey
)

// Store runs the shared queries: reads on r, writes on w.
type Store struct {
	w, r      *sqlx.DB
	join      string
	violation func(error) Violation
	reads     *stmtCache
}

// New returns a Store over a writer and a reader pool (they may be the same).
func New(w, r *sqlx.DB, d Dialect) *Store {
	return &Store{w: w, r: r, join: d.Join, violation: d.Violation, reads: newStmtCache()}
}

// Close releases the prepared statements; the pools belong to the caller.
func (db *Store) Close() { db.reads.close() }

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: millis(*t), Valid: true}
}

func fromNullMillis(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := fromMillis(ms.Int64)
	return &t
}

// Migrations returns the names of the *.sql files in dir of fsys, in
// apply order (their numbered names sort lexically).
func Migrations(fsys fs.FS, dir string) ([]string, error) {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// Versions returns the versions (file names without ".sql") of the
// migrations in dir of fsys, in apply order.
func Versions(fsys fs.FS, dir string) []string {
	names, _ := Migrations(fsys, dir) // an embedded FS and a fixed pattern: no error
	for i, n := range names {
		names[i] = strings.TrimSuffix(strings.TrimPrefix(n, dir+"/"), ".sql")
	}
	return names
}

// Migrate applies the migrations in dir of fsys not yet recorded in
// schema_migrations, each in its own transaction, in order, and returns
// the versions it applied (so `touchpoint migrate` can say what it did).
func Migrate(ctx context.Context, w *sqlx.DB, fsys fs.FS, dir string) ([]string, error) {
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := Migrations(fsys, dir)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, name := range names {
		version := strings.TrimSuffix(strings.TrimPrefix(name, dir+"/"), ".sql")
		done, err := apply(ctx, w, fsys, version, name)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, version)
		}
	}
	return applied, nil
}

// apply applies one migration unless it is recorded already, and says
// whether it did.
func apply(ctx context.Context, w *sqlx.DB, fsys fs.FS, version, name string) (bool, error) {
	tx, err := w.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return false, fmt.Errorf("migration %s: %w", version, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`),
		version, time.Now().UnixMilli()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// pending returns how many migrations in dir of fsys are not applied; an
// error means the database does not answer.
func pending(ctx context.Context, r *sqlx.DB, fsys fs.FS, dir string) (int, error) {
	var applied int
	if err := r.GetContext(ctx, &applied, `SELECT COUNT(*) FROM schema_migrations`); err != nil {
		return 0, err
	}
	all, err := Migrations(fsys, dir)
	if err != nil {
		return 0, err
	}
	return max(0, len(all)-applied), nil
}

// Ready reports whether the database answers and has applied every
// migration in dir of fsys: a store's readiness, the same on both.
func Ready(ctx context.Context, r *sqlx.DB, fsys fs.FS, dir string) error {
	n, err := pending(ctx, r, fsys, dir)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("%d migrations pending", n)
	}
	return nil
}
