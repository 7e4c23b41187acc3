// Package sqlcount wraps a database/sql driver so a store can say how many
// SQL statements it ran and trace each one. Both stores use it.
package sqlcount

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// The counting driver wraps a store's driver so the store can say how many SQL
// statements it ran. The GraphQL N+1 test (TestNoNPlusOne) and the
// statements-per-request metric read the counter, so it counts at the
// lowest level database/sql offers: every statement executed on a
// connection, prepared or not, whoever issued it. Transaction control
// (BEGIN/COMMIT) is not counted; it is not a query a loader could multiply.
// The same place opens a tracing span per statement (a no-op unless a
// request is traced).
//
// The read paths of both stores do not go through database/sql (SQLite's
// readPool, PostgreSQL's pgx pool): they add to the same counter
// themselves and open their spans with StartSpan, so the count covers
// every statement the store runs.

var tracer = otel.Tracer("github.com/touchpoint/touchpoint/internal/sqlcount")

// span starts a client span for one statement.
func (c *countingConn) span(ctx context.Context, op, query string) (context.Context, trace.Span) {
	return StartSpan(ctx, c.system, op, query)
}

// StartSpan starts a client span for one statement of database system
// (for a store that runs some statements without database/sql); finish it
// with End.
//
// A statement outside a recorded trace gets no span of its own: the
// request spans decide what is traced, and building a span's options cost
// a handful of allocations on every statement even with tracing off.
func StartSpan(ctx context.Context, system, op, query string) (context.Context, trace.Span) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, noSpan // ending it ends nothing
	}
	if len(query) > 1000 {
		query = query[:1000]
	}
	return tracer.Start(ctx, system+" "+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", system), attribute.String("db.query.text", query)))
}

// noSpan is a span that records nothing.
var noSpan = trace.SpanFromContext(context.Background())

// NewConnector returns a connector opening dsn with drv whose connections
// count every statement they execute in n, and trace it as system (for
// example "sqlite" or "postgresql").
func NewConnector(drv driver.Driver, dsn, system string, n *atomic.Int64) driver.Connector {
	c := &countingConnector{drv: drv, dsn: dsn, n: n, system: system}
	// A driver's own connector connects under the caller's context, so a
	// server that accepts connections but never answers cannot hold a
	// request past its deadline (driver.Driver's Open has no context).
	// A DSN it cannot parse is left to Open, to fail there.
	if dc, ok := drv.(driver.DriverContext); ok {
		if inner, err := dc.OpenConnector(dsn); err == nil {
			c.inner = inner
		}
	}
	return c
}

// End ends a statement's span, recording err.
func End(s trace.Span, err error) { end(s, err) }

func end(s trace.Span, err error) {
	if err != nil && !errors.Is(err, driver.ErrSkip) {
		s.SetStatus(codes.Error, err.Error())
	}
	s.End()
}

type countingConnector struct {
	drv    driver.Driver
	inner  driver.Connector // nil when drv has none
	dsn    string
	n      *atomic.Int64
	system string
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	var conn driver.Conn
	var err error
	if c.inner != nil {
		conn, err = c.inner.Connect(ctx)
	} else {
		conn, err = c.drv.Open(c.dsn)
	}
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, n: c.n, system: c.system}, nil
}

func (c *countingConnector) Driver() driver.Driver { return c.drv }

type countingConn struct {
	driver.Conn
	n      *atomic.Int64
	system string
}

// Unwrap returns the driver's own connection (for driver-specific work
// such as PostgreSQL's COPY through database/sql's Conn.Raw).
func (c *countingConn) Unwrap() driver.Conn { return c.Conn }

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return counted(c, ctx, "exec", query, args, driver.ExecerContext.ExecContext)
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return counted(c, ctx, "query", query, args, driver.QueryerContext.QueryContext)
}

// counted runs one statement straight on the connection, through the
// driver's interface I and its method run (a method expression, so no
// statement pays for a closure), in its span, and counts it unless the
// driver skipped it. Without I it is skipped: database/sql then prepares
// the statement, and the prepared statement counts it.
func counted[I, R any](c *countingConn, ctx context.Context, op, query string, args []driver.NamedValue,
	run func(I, context.Context, string, []driver.NamedValue) (R, error)) (R, error) {
	x, ok := c.Conn.(I)
	if !ok {
		var none R
		return none, driver.ErrSkip
	}
	ctx, sp := c.span(ctx, op, query)
	r, err := run(x, ctx, query, args)
	end(sp, err)
	if !errors.Is(err, driver.ErrSkip) {
		c.n.Add(1)
	}
	return r, err
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var (
		st  driver.Stmt
		err error
	)
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, n: c.n, query: query, system: c.system}, nil
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	//lint:ignore SA1019 the fallback for a driver without ConnBeginTx is its Begin; both stores' drivers have BeginTx
	return c.Conn.Begin()
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type countingStmt struct {
	driver.Stmt
	n      *atomic.Int64
	query  string
	system string
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return inSpan(ctx, s, "exec", args, driver.StmtExecContext.ExecContext, errNoStmtExec)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return inSpan(ctx, s, "query", args, driver.StmtQueryContext.QueryContext, errNoStmtQuery)
}

var (
	errNoStmtExec  = errors.New("sqlcount: the driver's statement does not support ExecContext")
	errNoStmtQuery = errors.New("sqlcount: the driver's statement does not support QueryContext")
)

// inSpan counts the prepared statement s and runs it, through the
// driver's interface I and its method run, in its span; a driver's
// statement without I fails with missing (both stores' drivers have I).
func inSpan[I, R any](ctx context.Context, s *countingStmt, op string, args []driver.NamedValue,
	run func(I, context.Context, []driver.NamedValue) (R, error), missing error) (R, error) {
	s.n.Add(1)
	x, ok := s.Stmt.(I)
	if !ok {
		var none R
		return none, missing
	}
	ctx, sp := StartSpan(ctx, s.system, op, s.query)
	r, err := run(x, ctx, args)
	end(sp, err)
	return r, err
}

// CheckNamedValue lets the driver's statement convert its own arguments
// (some drivers check arguments only on statements, not connections).
func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
