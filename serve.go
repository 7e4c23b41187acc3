package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/touchpoint/touchpoint/graph"
	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/gcfloor"
	"github.com/touchpoint/touchpoint/internal/httpapi"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/logbuf"
	"github.com/touchpoint/touchpoint/internal/metrics"
	"github.com/touchpoint/touchpoint/internal/playground"
	"github.com/touchpoint/touchpoint/internal/ratelimit"
	"github.com/touchpoint/touchpoint/internal/respcache"
	"github.com/touchpoint/touchpoint/internal/rest"
	"github.com/touchpoint/touchpoint/internal/tracing"
	"github.com/touchpoint/touchpoint/postgres"
)

// The demo key is fixed so the README and the playground can show it. It
// belongs to the demo organisation, which holds only generated data, and
// is created only where no other organisation lives (see wantDemo); serve
// with --demo=false in any real deployment all the same.
const (
	demoKeyID  = "demo"
	demoSecret = "touchpoint-demo"
)

// shutdownGrace bounds how long a stopping server waits for in-flight
// requests to finish.
const shutdownGrace = 20 * time.Second

// serveOptions are serve's settings.
type serveOptions struct {
	db, readDB, addr, redis, debugAddr, logFormat string
	corsOrigins, trustedDocuments                 string
	demo                                          demoMode
	introspection, cache                          bool
	rateLimit, maxInFlight, cacheMiB              int
	redisTimeout, requestTimeout, stmtTimeout     time.Duration
}

// define defines serve's flags, one a line: name, environment variable
// ("" for none), default and meaning.
func (o *serveOptions) define(fs *pflag.FlagSet) {
	dbFlag(fs, &o.db)
	flagVar(fs, &o.readDB, "read-db", "TOUCHPOINT_READ_DB", "", "PostgreSQL read replica for queries")
	flagVar(fs, &o.addr, "addr", "TOUCHPOINT_ADDR", "127.0.0.1:8080", "listen address")
	demoFlag(fs, &o.demo, "demo", "TOUCHPOINT_DEMO", "load the demo organisation, its data and key: auto (only into a database holding no other organisation), true or false")
	flagVar(fs, &o.introspection, "introspection", "TOUCHPOINT_INTROSPECTION", true, "allow GraphQL introspection (off, it answers INTROSPECTION_DISABLED)")
	flagVar(fs, &o.redis, "redis", "TOUCHPOINT_REDIS", "", "Redis for rate limits shared by replicas: host:port or redis:// URL")
	flagVar(fs, &o.redisTimeout, "redis-timeout", "TOUCHPOINT_REDIS_TIMEOUT", ratelimit.DefaultRedisTimeout, "bound on each wait on Redis; a replica that cannot reach it in time enforces the rate limits alone until it answers")
	flagVar(fs, &o.requestTimeout, "request-timeout", "TOUCHPOINT_REQUEST_TIMEOUT", httpapi.DefaultConfig().RequestTimeout, "bound on an API request's work, store included; past it the answer is 503 with Retry-After (0 for none)")
	flagVar(fs, &o.stmtTimeout, "statement-timeout", "TOUCHPOINT_STATEMENT_TIMEOUT", 5*time.Second, "PostgreSQL statement_timeout of the server's connections, unless the DSN sets one (0 for none)")
	flagVar(fs, &o.debugAddr, "debug-addr", "TOUCHPOINT_DEBUG_ADDR", "", "serve Go's pprof profiles at /debug/pprof/ on this address, apart from the API; empty for none")
	flagVar(fs, &o.logFormat, "log-format", "TOUCHPOINT_LOG_FORMAT", "text", "log format: text or json")
	flagVar(fs, &o.corsOrigins, "cors-origins", "TOUCHPOINT_CORS_ORIGINS", "", "browser origins allowed to call the API, comma-separated, each exactly scheme://host[:port]; empty for none (no CORS headers)")
	flagVar(fs, &o.trustedDocuments, "trusted-documents", "TOUCHPOINT_TRUSTED_DOCUMENTS", "", "JSON manifest of the only GraphQL documents to run (SHA-256 hash to text, or an Apollo persisted-query manifest); empty runs any, with automatic persisted queries")
	flagVar(fs, &o.rateLimit, "rate-limit", "", httpapi.DefaultConfig().DefaultRateLimit, "requests a minute per API key unless the key or organisation says otherwise")
	flagVar(fs, &o.cache, "cache", "TOUCHPOINT_CACHE", true, "keep successful answers in memory under their organisation's data version, and answer If-None-Match with 304 (off: every request is computed)")
	flagVar(fs, &o.cacheMiB, "cache-size", "TOUCHPOINT_CACHE_SIZE", 128, "MiB of answers the cache holds, shared fairly between organisations")
	flagVar(fs, &o.maxInFlight, "max-in-flight", "TOUCHPOINT_MAX_IN_FLIGHT", -1, "API requests served at once, the rest queued; 0 for no bound, -1 to size it for the store: 1 per CPU on SQLite, 8 per CPU on PostgreSQL")
}

func serveCommand(env environment) *cobra.Command {
	var o serveOptions
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve GraphQL, the REST shims and the playground (the default command)",
		Long: `Serve opens the database (creating and migrating a SQLite file if missing),
listens, and serves GraphQL at /graphql, the REST shims, the playground at /,
/healthz, /readyz and /metrics until interrupted; SIGINT and SIGTERM drain
in-flight requests.

Demo data (the demo organisation, about 22,000 records and the key
demo:touchpoint-demo) goes only into a database that holds no other
organisation, unless --demo (or TOUCHPOINT_DEMO=true) asks for it; it is
loaded once the address is bound.`,
		Example: `  touchpoint serve
  touchpoint serve --addr :8080 --db postgres://touchpoint@db:5432/touchpoint --demo=false
  TOUCHPOINT_REDIS=redis:6379 touchpoint serve --introspection=false`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), o, env) },
	}
	o.define(c.Flags())
	return c
}

// demoMode is --demo: auto unless given. Given, by flag or environment, it
// is an explicit yes or no; --demo alone means yes.
type demoMode string

const (
	demoAuto demoMode = "auto"
	demoYes  demoMode = "true"
	demoNo   demoMode = "false"
)

func (d *demoMode) String() string { return string(*d) }
func (d *demoMode) Type() string   { return "auto|true|false" }
func (d *demoMode) Set(s string) error {
	if s == string(demoAuto) {
		*d = demoAuto
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want auto, true or false")
	}
	*d = demoNo
	if b {
		*d = demoYes
	}
	return nil
}

func demoFlag(fs *pflag.FlagSet, p *demoMode, name, key, usage string) {
	*p = demoAuto
	fs.Var(p, name, usage)
	fs.Lookup(name).NoOptDefVal = string(demoYes)
	bindEnv(fs, name, key)
}

func serve(ctx context.Context, o serveOptions, env environment) error {
	// The log is written in batches, a few milliseconds late: a line a
	// request, each its own system call, was a tenth of the CPU of the
	// cheapest answers. What is left is written when serve returns.
	logs := logbuf.New(env.stderr, logbuf.DefaultDelay)
	defer logs.Close()
	logger, err := newLogger(logs, o.logFormat)
	if err != nil {
		return usageErrorf("--log-format: %v", err)
	}
	corsOrigins, err := httpapi.ParseOrigins(o.corsOrigins)
	if err != nil {
		return usageErrorf("--cors-origins: %v", err)
	}
	gql := graph.HandlerConfig{Introspection: o.introspection}
	if o.trustedDocuments != "" {
		if gql.TrustedDocuments, err = readTrustedDocuments(o.trustedDocuments); err != nil {
			return err
		}
	}
	tuneGC(env.getenv)
	var cacheBytes int64
	if o.cache {
		if o.cacheMiB <= 0 {
			return usageErrorf("--cache-size: want a positive number of MiB, got %d (switch the cache off with --cache=false)", o.cacheMiB)
		}
		cacheBytes = int64(o.cacheMiB) << 20
	}

	tracingOn, stopTracing, err := tracing.Setup(ctx, env.getenv)
	if err != nil {
		return usageErrorf("%v", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := stopTracing(sctx); err != nil {
			logger.Warn("flushing traces", "err", err)
		}
	}()

	db, err := openStoreWith(ctx, postgres.WithStatementTimeout(o.db, o.stmtTimeout),
		postgres.Options{ReadDSN: postgres.WithStatementTimeout(o.readDB, o.stmtTimeout), Warm: true})
	if err != nil {
		return err
	}
	defer db.Close()
	for _, v := range db.AppliedMigrations() {
		logger.Info("applied migration", "version", v)
	}
	if pg, ok := db.(*postgres.DB); ok {
		pg.OnListenError(func(err error) {
			logger.Warn("credential changes unheard: reading every request's key until the listener reconnects", "err", err)
		})
	}
	cfg := httpapi.DefaultConfig()
	cfg.DefaultRateLimit = o.rateLimit
	cfg.RequestTimeout = o.requestTimeout
	cfg.MaxInFlight = o.maxInFlight
	cfg.CORSOrigins = corsOrigins
	if cfg.MaxInFlight < 0 {
		cfg.MaxInFlight = inFlightFor(o.db)
	}

	// Bind first: on a busy address serve fails before it writes anything.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	defer ln.Close()

	var demoCreds string
	if load, why, err := wantDemo(ctx, db, o.demo); err != nil {
		return err
	} else if load {
		if demoCreds, err = loadDemo(ctx, db, env.stderr); err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
	} else if why != "" {
		logger.Info("demo data not loaded: "+why, "demo", string(o.demo))
	}

	var limiter ratelimit.Limiter = ratelimit.NewMemory()
	if o.redis != "" {
		// Started whether Redis answers or not: until it does, this
		// replica enforces the limits alone (see ratelimit.Shared).
		shared, err := ratelimit.NewShared(o.redis, ratelimit.SharedOptions{Timeout: o.redisTimeout, Logger: logger})
		if err != nil {
			return usageErrorf("--redis: %v", err)
		}
		defer shared.Close()
		shared.Probe(ctx)
		limiter = shared
	}
	handler := newHandler(cfg, db, logger, limiter, time.Now, gql, demoCreds, cacheBytes)
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(env.stdout, "Touchpoint playground: %s/\nGraphQL endpoint:      %s/graphql\n", url, url)
	if demoCreds != "" {
		fmt.Fprintf(env.stdout, "Demo credentials:      %s (organisation %q; HTTP Basic)\n", demoCreds, demo.OrgName)
	}
	logger.Info("serving", "addr", ln.Addr().String(), "db", redact(o.db), "demo", demoCreds != "", "introspection", o.introspection, "tracing", tracingOn, "shared_rate_limits", o.redis != "", "cors_origins", corsOrigins, "trusted_documents", gql.TrustedDocuments.Len(), "cache_bytes", cacheBytes)

	if o.debugAddr != "" {
		stopDebug, err := serveDebug(o.debugAddr, logger)
		if err != nil {
			return fmt.Errorf("--debug-addr: %w", err)
		}
		defer stopDebug()
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(httpapi.Listener(srv, ln)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining in-flight requests", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// inFlightFor sizes the bound on requests served at once. On SQLite a
// request is CPU from end to end, so more of them at once than the CPUs can
// run only share the CPUs out: one per CPU. Measured at 32 connections on
// 2 CPUs, two per CPU had given REST v2 a p99 of 9-11 ms against 12-13 ms
// unbounded, at the same throughput; with turns given by when a connection
// was last answered (internal/httpapi/turns.go), one per CPU against two,
// alternated in one run: p99 0.79/0.87/0.88 of it for GraphQL over random
// customers at 1.05-1.23 times the rate, 0.90/0.96/0.89 for REST v2 over
// random customers at the same rate, 0.88/0.87 for the 50-customer
// dashboard at 1.04-1.11 times the rate. On PostgreSQL a request spends
// most of its time waiting, on the network and the database, or in postgres's coalescer
// for the statement it will share with the requests beside it, so more
// are under way: the more wait together, the fewer statements answer
// them. Measured with wrk at 32 connections on 2 CPUs beside the database
// (sidebyside.sh's data, one run, alternated), 8 per CPU against 4: one
// customer asked again and again 7,880-7,940 -> 9,330 req/s (p99 8.8-9.0
// ms both), random customers 4,130-4,310 -> 5,310-5,500 (p99 16-17 both),
// the 50-customer dashboard 2,190 -> 2,910 (p99 26 -> 24). (16 per CPU
// gained a little more, but the timeline, which shares no statements and
// whose tail on PostgreSQL is erratic at any bound, more often showed
// p99 beyond 100 ms.)
func inFlightFor(dsn string) int {
	if postgres.IsDSN(dsn) {
		return 8 * runtime.GOMAXPROCS(0)
	}
	return runtime.GOMAXPROCS(0)
}

// tuneGC sets the garbage collector for serving, unless GOGC or
// GOMEMLIMIT say otherwise. The live heap of a server is small (a few MiB
// under REST load, tens with the response cache) while every request
// allocates its answer, so at Go's default (GOGC=100) the collector ran
// dozens of times a second: measured on the dashboard question, GOGC=400
// served 1.6 times the requests, with a resident size of 70 MiB. Even at
// 400 it still ran twenty times a second under REST load (4 MiB live, a
// 20 MiB goal), so the goal is also kept at 64 MiB or more (gcfloor).
// Alternated under wrk against GOGC=400 alone: on REST v1.1 over random
// customers 4-24% more requests a second in 4 of 5 rounds, on GraphQL
// over random customers 3-7% more in 6 of 6 with p99 lower in all 6. The
// memory limit keeps a larger live heap from growing five-fold unchecked.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		gcfloor.Keep(gcFloor, 400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}

// gcFloor is the least heap goal tuneGC keeps.
const gcFloor = 64 << 20

// serveDebug serves the runtime's profiles on their own listener, so they
// are never reachable through the API's address, its authentication or its
// rate limits: bind it to loopback or an operator-only network.
func serveDebug(addr string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	logger.Info("serving profiles", "addr", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { srv.Close() }, nil
}

// readTrustedDocuments reads --trusted-documents. A manifest that does not
// verify stops the server: serving without it would run any document, and
// serving with part of it would refuse the dashboards it was made for.
func readTrustedDocuments(path string) (*graph.TrustedDocuments, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--trusted-documents: %w", err)
	}
	docs, err := graph.ParseTrustedDocuments(data)
	if err != nil {
		return nil, fmt.Errorf("--trusted-documents %s: %w", path, err)
	}
	return docs, nil
}

// newHandler wires the service: the HTTP edge around the GraphQL handler,
// the REST shims and the playground, all reading from db. now is the one
// clock that decides by time, the rate limits and key expiry (nil:
// time.Now; tests move it instead of waiting). gql holds the GraphQL
// settings serve's flags decide; the response cache holds cacheBytes when
// that is positive.
func newHandler(cfg httpapi.Config, db store, logger *slog.Logger, limiter ratelimit.Limiter, now func() time.Time, gql graph.HandlerConfig, demoCreds string, cacheBytes int64) http.Handler {
	m := metrics.New(db)
	var cache *respcache.Cache
	if cacheBytes > 0 {
		cache = respcache.New(cacheBytes)
		m.ResponseCache(func() metrics.CacheStats { return metrics.CacheStats(cache.Stats()) })
	}
	var degraded func() string
	if s, ok := limiter.(*ratelimit.Shared); ok {
		m.RedisUp(s.Up)
		degraded = s.Degraded
	}
	var scope func(context.Context) (context.Context, func())
	if sc, ok := db.(interface {
		Scope(context.Context) (context.Context, func())
	}); ok {
		scope = sc.Scope // sqlite: one WAL-index stamp and one read transaction a request
	}
	return httpapi.NewServer(cfg, httpapi.Deps{
		Scope:    scope,
		Degraded: degraded,
		Logger:   logger,
		Auth:     &auth.Authenticator{Admin: db, Now: now},
		Limiter:  limiter,
		Now:      now,
		Reader:   db,
		Ready:    db.Ready,
		Observer: m,
		Metrics:  m.Handler(),
		Cache:    cache,
		Versions: db,
		GraphQL: graph.NewHandler(graph.HandlerConfig{
			Introspection:    gql.Introspection,
			TrustedDocuments: gql.TrustedDocuments,
			Logger:           logger,
			OnError:          m.GraphQLError,
		}),
		GraphQLError: graph.WriteError,
		V11:          rest.V11(rest.Options{Logger: logger}),
		V2:           rest.V2(rest.Options{Logger: logger}),
		V11Error:     rest.WriteV11Error,
		V2Error:      rest.WriteV2Error,
		OpenAPI:      rest.OpenAPI(),
		Schema:       graph.SchemaHandler(gql.Introspection),
		Playground:   playground.Handler(playground.Options{Endpoint: "/graphql", DemoCredentials: demoCreds}),
	})
}

func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("unknown log format %q (want text or json)", format)
}

// wantDemo decides whether serve loads the demo data, and if not, why not
// ("" when nobody could have expected it). In auto mode only a database
// holding no organisation but the demo one gets it: the demo key is
// well known, and must never open a real database.
func wantDemo(ctx context.Context, db store, mode demoMode) (bool, string, error) {
	switch mode {
	case demoYes:
		return true, "", nil
	case demoNo:
		return false, "", nil
	}
	names, err := db.OrgNames(ctx)
	if err != nil {
		return false, "", err
	}
	for _, n := range names {
		if n != demo.OrgName {
			return false, fmt.Sprintf("the database holds organisation %q; --demo loads it anyway", n), nil
		}
	}
	return true, "", nil
}

// loadDemo imports the deterministic demo data set into the demo
// organisation (idempotent: importing it again changes nothing) and makes
// sure the demo key exists. It returns the demo credentials.
func loadDemo(ctx context.Context, db store, progress io.Writer) (string, error) {
	org, err := db.EnsureOrg(ctx, demo.OrgName)
	if err != nil {
		return "", err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(demo.Write(pw, demo.Options{})) }()
	rep, err := importer.Import(ctx, pr, db, org.ID, importer.Options{})
	pr.Close()
	if err != nil {
		return "", err
	}
	if rep.Rejected > 0 {
		return "", fmt.Errorf("demo data: %d records rejected (first: line %d: %s)", rep.Rejected, rep.Rejections[0].Line, rep.Rejections[0].Reason)
	}
	fmt.Fprintf(progress, "demo data: %d records in organisation %q\n", rep.Accepted, demo.OrgName)

	switch _, err := db.Key(ctx, demoKeyID); interaction.KindOf(err) {
	case interaction.KindNotFound:
		key := auth.KeyWithSecret(org.ID, demoKeyID, demoSecret, auth.KeySpec{Scopes: []interaction.Scope{interaction.ScopeRead}}, nowUTC())
		if err := db.CreateKey(ctx, key); err != nil {
			return "", err
		}
	default:
		if err != nil {
			return "", err
		}
	}
	return demoKeyID + ":" + demoSecret, nil
}

func nowUTC() time.Time { return time.Now().UTC() }

func loadLocation(name string) (*time.Location, error) { return time.LoadLocation(name) }
