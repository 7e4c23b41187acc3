// Package postgres is Touchpoint's store for deployments that outgrow one
// machine: the same interaction.Reader and interaction.Admin (the shared
// queries of internal/sqlstore) over PostgreSQL through pgx's database/sql
// driver, with migrations serialised by an advisory lock so replicas never
// race, an optional read-replica pool, and bulk import through COPY.
//
// What differs from SQLite is kept here and in the Dialect: the join
// keyword of the page queries, how constraint violations are reported, the
// migrations (BOOLEAN for flags, identity keys, INCLUDE on the missed-call
// index) and the import path.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"

	"github.com/touchpoint/touchpoint/internal/coalesce"
	"github.com/touchpoint/touchpoint/internal/sqlcount"
	"github.com/touchpoint/touchpoint/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// IsDSN reports whether s names a PostgreSQL database.
func IsDSN(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Options tune Open.
type Options struct {
	// ReadDSN, when set, sends queries to a read replica; writes and
	// migrations always go to the primary.
	ReadDSN string
	// Warm opens the read pool whole at once and keeps it open through
	// quiet spells, for a server: opening a connection (a TCP handshake,
	// SCRAM's key derivation on both sides, the session's settings) took
	// 80 ms on a loaded 2-CPU machine, and a server that opened its
	// connections on demand made its first second of load wait on them,
	// at a p99 of 170-260 ms against 86 ms warm (wrk, 32 connections, the
	// one-customer question, the first 3 s after start). A command that
	// runs a few statements and exits opens what it uses.
	Warm bool
}

// maxConns bounds each pool (the writer's, the replica's database/sql pool
// and the read path's pgx pool): replicas × 3 × maxConns must stay under
// the server's max_connections.
const maxConns = 16

// DB is an open PostgreSQL store.
type DB struct {
	*sqlstore.Store
	w, r  *sqlx.DB
	read  *pgxpool.Pool // the read path's own pool: see read.go
	stmts atomic.Int64

	applied []string // the migrations Open (or Migrate) applied

	heads      *coalesce.Group[headsKey, []string, headsAnswer] // see coalesce.go
	versions   versionReads                                     // shared reads of data versions (version.go)
	creds      sqlstore.CredentialCache[uint64]                 // versioned by heard.gen
	heard      listenState
	listenDSN  string             // "" for no listener (see credentials.go)
	listenOnce sync.Once          // started by the first Credential
	stop       context.CancelFunc // ends the listener
	listening  chan struct{}      // closed when the listener has ended
	listenErr  func(error)
}

// genericPlans asks the server to plan each prepared statement once per
// connection. The read path's statements (prepared and cached by pgx) take
// arrays of keys and open bounds, whose generic plans are the index scans
// they are meant to be; left to choose, PostgreSQL kept re-planning them
// as custom plans on every execution, which was most of its CPU per
// request (0.69 ms, against 0.18 ms with generic plans, on the
// one-customer question). A setting in the DSN itself wins.
func genericPlans(dsn string) string {
	return withParam(dsn, "plan_cache_mode", "force_generic_plan")
}

// connectTimeout bounds establishing a connection (the dial and the
// start-up exchange) at 5 s, unless the DSN says otherwise. Requests
// connect under their own deadline; this bounds the connections
// database/sql opens in the background, and those of the commands.
func connectTimeout(dsn string) string { return withParam(dsn, "connect_timeout", "5") }

// WithStatementTimeout returns dsn asking the server to cancel any
// statement that runs longer than d (statement_timeout, which also bounds
// waits for locks), unless the DSN sets one itself or d is not positive.
// The server cancels the statement and frees its connection even when the
// client has already given up on it; the request's own deadline covers a
// server or network that does not answer at all. `serve` sets it; imports,
// whose large batches may legitimately take a while, do not.
func WithStatementTimeout(dsn string, d time.Duration) string {
	if d <= 0 || !IsDSN(dsn) {
		return dsn
	}
	return withParam(dsn, "statement_timeout", strconv.FormatInt(max(1, d.Milliseconds()), 10))
}

// withParam sets a run-time parameter in dsn (URL or keyword/value form)
// unless it already names it.
func withParam(dsn, param, value string) string {
	if strings.Contains(dsn, param) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn + " " + param + "=" + value // keyword/value form
	}
	q := u.Query()
	q.Set(param, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// advisoryLock is the key of the lock migrations run under.
const advisoryLock = 727368 // "touchpoint" on a phone keypad, roughly

// Open connects to the database at dsn and applies pending migrations
// (under the advisory lock, so replicas starting together are safe; a
// deployment may still run `touchpoint migrate` first, which leaves Open
// nothing to do).
func Open(ctx context.Context, dsn string, o Options) (*DB, error) {
	db := &DB{}
	db.heads = newHeadsGroup(db)
	pool := func(dsn string) *sqlx.DB {
		x := sqlx.NewDb(sql.OpenDB(sqlcount.NewConnector(stdlib.GetDefaultDriver(), connectTimeout(genericPlans(dsn)), "postgresql", &db.stmts)), "pgx")
		x.SetMaxOpenConns(maxConns)
		x.SetMaxIdleConns(maxConns)
		x.SetConnMaxIdleTime(5 * time.Minute)
		return x
	}
	db.w = pool(dsn)
	if err := db.w.PingContext(ctx); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := db.Migrate(ctx); err != nil {
		db.w.Close()
		return nil, err
	}
	db.r = db.w
	readDSN := dsn
	if o.ReadDSN != "" {
		db.r = pool(o.ReadDSN)
		readDSN = o.ReadDSN
	}
	cfg, err := pgxpool.ParseConfig(genericPlans(readDSN))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: read pool: %w", err)
	}
	cfg.MaxConns = maxConns
	cfg.MaxConnIdleTime = 5 * time.Minute
	if o.Warm {
		cfg.MinConns = maxConns
	}
	if db.read, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: read pool: %w", err)
	}
	if o.ReadDSN == "" { // see credentials.go
		db.listenDSN = dsn
	}
	db.Store = sqlstore.New(db.w, db.r, sqlstore.Dialect{Join: "JOIN", Violation: violation})
	return db, nil
}

// Migrate applies pending migrations while holding an advisory lock, so
// replicas starting together apply each migration once.
func (db *DB) Migrate(ctx context.Context) error {
	conn, err := db.w.Connx(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, advisoryLock); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, advisoryLock)
	applied, err := sqlstore.Migrate(ctx, db.w, migrations, "migrations")
	db.applied = append(db.applied, applied...)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// AppliedMigrations returns the versions of the migrations this DB applied,
// in order; none when the database was up to date (or another replica got
// there first).
func (db *DB) AppliedMigrations() []string { return db.applied }

// Migrations returns the versions of every migration this build knows, in
// order: the last is the schema a migrated database is at.
func Migrations() []string { return sqlstore.Versions(migrations, "migrations") }

// Ready reports whether the database answers and is fully migrated.
func (db *DB) Ready(ctx context.Context) error {
	if err := sqlstore.Ready(ctx, db.r, migrations, "migrations"); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

// Close closes the pools.
func (db *DB) Close() error {
	if db.Store != nil {
		db.Store.Close()
	}
	db.listenOnce.Do(func() {}) // no listener starts after Close
	if db.stop != nil {
		db.stop()
		<-db.listening
	}
	if db.read != nil {
		db.read.Close()
	}
	errs := []error{db.w.Close()}
	if db.r != db.w && db.r != nil {
		errs = append(errs, db.r.Close())
	}
	return errors.Join(errs...)
}

// Statements returns how many SQL statements this DB has executed.
func (db *DB) Statements() int64 { return db.stmts.Load() }

// SQLPools returns the database/sql pools by role, for metrics: the
// primary's, which the admin queries share unless they go to a read
// replica's pool of their own.
func (db *DB) SQLPools() map[string]*sql.DB {
	pools := map[string]*sql.DB{"writer": db.w.DB}
	if db.r != db.w {
		pools["admin"] = db.r.DB
	}
	return pools
}

// Stats reports the read path pool's statistics in database/sql's terms
// (it is a pgx pool, not a *sql.DB).
func (db *DB) Stats() sql.DBStats {
	st := db.read.Stat()
	return sql.DBStats{
		MaxOpenConnections: int(st.MaxConns()),
		OpenConnections:    int(st.TotalConns()),
		InUse:              int(st.AcquiredConns()),
		Idle:               int(st.IdleConns()),
		WaitCount:          st.EmptyAcquireCount(),
		WaitDuration:       st.EmptyAcquireWaitTime(),
		MaxIdleTimeClosed:  st.MaxIdleDestroyCount(),
		MaxLifetimeClosed:  st.MaxLifetimeDestroyCount(),
	}
}

// violation classifies PostgreSQL's constraint errors by SQLSTATE.
func violation(err error) sqlstore.Violation {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return sqlstore.None
	}
	switch pe.Code {
	case "23505":
		return sqlstore.Unique
	case "23503":
		return sqlstore.ForeignKey
	}
	return sqlstore.None
}
