// Package sqlite is Touchpoint's embedded store: the interaction.Reader and
// interaction.Admin contracts and the importer's sink over one SQLite file,
// through github.com/ncruces/go-sqlite3 (SQLite translated to pure Go, so
// `go run .` needs no C toolchain).
//
// Concurrency: one writer connection, a small pool of read-only
// database/sql connections for the admin queries (sqlx), and a pool of
// read-only connections (readpool.go) used directly, without database/sql,
// by the read path (read.go): database/sql boxes every column of every row
// into an interface and back, which cost more than SQLite's own work on a
// page of messages. SQLite allows one writer at a time anyway; funnelling writes
// through a single connection turns lock contention into a queue in Go,
// while WAL lets the readers go on reading the last committed snapshot
// during an import.
//
// Durability: journal_mode=WAL with synchronous=NORMAL. In WAL mode NORMAL
// syncs the WAL at checkpoints rather than at every commit. A process crash
// (kill -9) loses nothing that was committed, because committed frames are
// already in the WAL file the OS holds; only a power loss or kernel crash can
// roll back the last transactions before a checkpoint. That trade is what
// makes bulk imports fast, and a gateway that re-imports idempotently can
// afford it. The database is never corrupted either way.
//
// Layout (migrations/): messages are clustered by organisation, customer,
// network, type and newest first (messages_clustered), so a page is one
// contiguous range of one B-tree; their bodies, which no list renders
// unless asked, live apart (message_bodies); and the counts, newest times
// and used flags every answer starts with are kept per customer, type and
// network (interaction_counts), recomputed by the importer for every
// customer a batch touches (a trigger notes, in counts_stale, the
// customers records moved away from) in the same transaction as the rows
// they count.
//
// Credentials: every request reads its key, kept in memory between
// requests under a stamp of the committed state (the WAL-index header),
// which any commit by any process moves (credcache.go), so a revocation by
// `touchpoint keys revoke` is seen on the next request.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/ncruces/go-sqlite3"
	"github.com/ncruces/go-sqlite3/driver"

	"github.com/touchpoint/touchpoint/internal/sqlcount"
	"github.com/touchpoint/touchpoint/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// pragmas go in the DSN so that every connection gets them, not just the
// first one.
var pragmas = []string{
	"busy_timeout(5000)",
	"journal_mode(WAL)",
	"synchronous(NORMAL)",
	"foreign_keys(1)",
	// Each connection keeps a 16 MiB page cache (SQLite's default is
	// 2 MiB): with 200,000 messages the default made a one-customer
	// request a stream of page reads.
	"cache_size(-16384)",
}

// DB is an open Touchpoint database. The admin queries are the shared ones
// (sqlstore); this package owns opening, pooling, durability, the read path
// and the bulk import path.
type DB struct {
	*sqlstore.Store
	w     *sqlx.DB  // the one writer connection
	r     *sqlx.DB  // read-only pool for the admin queries
	reads *readPool // read-only connections for the read path
	stmts atomic.Int64

	// upserts are the importer's statements, prepared once on the writer
	// connection at Open (preparing inside a transaction would wait for
	// the one connection the transaction holds).
	upserts  map[stmtKey]*sqlx.Stmt
	creds    sqlstore.CredentialCache[stamp]
	versions versionCache // data versions read under a stamp (version.go)
	// index is the WAL-index header whose stamp versions creds and
	// versions (nil where it cannot be mapped: nothing is cached); anchor
	// is the connection that keeps the WAL-index open while it is mapped.
	index   *walIndex
	anchor  *sqlite3.Conn
	applied []string // the migrations Open applied
}

// Open opens (creating if missing) the database file at path and applies any
// pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	db := &DB{}
	drv := &driver.SQLite{}
	// The driver registers itself as "sqlite3", which sqlx binds with '?'.
	db.w = sqlx.NewDb(sql.OpenDB(sqlcount.NewConnector(drv, dsn(path, "_txlock=immediate"), "sqlite", &db.stmts)), "sqlite3")
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)

	if err := db.migrate(ctx); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := db.prepareUpserts(ctx); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	readOnly := dsn(path, "_pragma=query_only(1)")
	db.r = sqlx.NewDb(sql.OpenDB(sqlcount.NewConnector(drv, readOnly, "sqlite", &db.stmts)), "sqlite3")
	db.r.SetMaxOpenConns(4)
	db.r.SetMaxIdleConns(4)
	db.r.SetConnMaxIdleTime(5 * time.Minute)
	db.reads = newReadPool(readOnly, max(4, 2*runtime.GOMAXPROCS(0)), &db.stmts)
	db.Store = sqlstore.New(db.w, db.r, sqlstore.Dialect{Join: "CROSS JOIN", Violation: violation})
	db.mapIndex(ctx, path, readOnly)
	if db.index != nil {
		// Read transactions are kept across requests under the stamp
		// (readpool.go), and ended soon after any commit.
		db.reads.stamp, db.reads.scoped = db.takeStamp, db.scopedStamp
		db.reads.startSweep()
	}
	return db, nil
}

// mapIndex opens the anchor connection, has it read (which opens the
// WAL-index), and maps the index's header. Without it nothing is cached,
// which is slower, never wrong: an in-memory database has no index.
func (db *DB) mapIndex(ctx context.Context, path, dsn string) {
	c, err := sqlite3.OpenContext(ctx, dsn)
	if err != nil {
		return
	}
	if err := c.Exec(`SELECT count(*) FROM sqlite_schema`); err != nil {
		c.Close()
		return
	}
	x, err := openWALIndex(shmPath(path))
	if err != nil {
		c.Close()
		return
	}
	db.anchor, db.index = c, x
}

func dsn(path string, extra ...string) string {
	var b strings.Builder
	if !strings.HasPrefix(path, "file:") {
		b.WriteString("file:")
		b.WriteString((&url.URL{Path: path}).EscapedPath())
	} else {
		b.WriteString(path)
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for _, p := range pragmas {
		b.WriteString(sep + "_pragma=" + p)
		sep = "&"
	}
	for _, e := range extra {
		b.WriteString(sep + e)
	}
	return b.String()
}

// Close closes the pools.
func (db *DB) Close() error {
	var errs []error
	db.Store.Close()
	if db.reads != nil {
		errs = append(errs, db.reads.close())
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	for _, st := range db.upserts {
		errs = append(errs, st.Close())
	}
	errs = append(errs, db.w.Close())
	if db.index != nil {
		// The mapping first: once the anchor is gone, SQLite may
		// truncate the file under it.
		errs = append(errs, db.index.close(), db.anchor.Close())
	}
	return errors.Join(errs...)
}

// Statements returns how many SQL statements this DB has executed, counted at
// the driver. Tests compare deltas of it to prove loaders batch.
func (db *DB) Statements() int64 { return db.stmts.Load() }

// Stats reports the read path's pool statistics (for metrics).
func (db *DB) Stats() sql.DBStats { return db.reads.stats() }

// SQLPools returns the database/sql pools by role, for metrics: the one
// writer connection and the admin queries' read-only pool.
func (db *DB) SQLPools() map[string]*sql.DB {
	return map[string]*sql.DB{"writer": db.w.DB, "admin": db.r.DB}
}

// Ready reports whether the database answers and is fully migrated.
func (db *DB) Ready(ctx context.Context) error {
	if err := sqlstore.Ready(ctx, db.r, migrations, "migrations"); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

func (db *DB) migrate(ctx context.Context) error {
	var err error
	if db.applied, err = sqlstore.Migrate(ctx, db.w, migrations, "migrations"); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// AppliedMigrations returns the versions of the migrations Open applied,
// in order; none when the database was up to date.
func (db *DB) AppliedMigrations() []string { return db.applied }

// Migrations returns the versions of every migration this build knows, in
// order: the last is the schema a migrated database is at.
func Migrations() []string { return sqlstore.Versions(migrations, "migrations") }

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// CheckIntegrity runs SQLite's integrity check (for operations and the
// crash test): nil when the database file is sound.
func (db *DB) CheckIntegrity(ctx context.Context) error {
	var res []string
	if err := db.w.SelectContext(ctx, &res, `PRAGMA integrity_check`); err != nil {
		return fmt.Errorf("sqlite: integrity check: %w", err)
	}
	if len(res) != 1 || res[0] != "ok" {
		return fmt.Errorf("sqlite: integrity check failed: %v", res)
	}
	return nil
}

// Rows returns how many customers, messages, missed calls and surveys the
// database holds in all, for every organisation.
func (db *DB) Rows(ctx context.Context) (int64, error) {
	var n int64
	err := db.r.GetContext(ctx, &n, `SELECT (SELECT COUNT(*) FROM customers) + (SELECT COUNT(*) FROM messages)
		+ (SELECT COUNT(*) FROM missed_calls) + (SELECT COUNT(*) FROM surveys)`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count rows: %w", err)
	}
	return n, nil
}
