package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/touchpoint/touchpoint/internal/sqlcount"
)

// readPool is the read path's connections: read-only, used one goroutine
// at a time, each with its own prepared statements. It stands in for
// database/sql on the hot path, where database/sql's per-column interface
// boxing, conversions and locking cost more than SQLite's own work.
type readPool struct {
	dsn   string
	max   int
	free  chan *readConn
	open  chan struct{} // one token per open connection
	stmts *atomic.Int64 // statements run, shared with the database/sql pools

	mu     sync.Mutex
	all    []*readConn
	closed bool

	waits    atomic.Int64
	waitTime atomic.Int64 // nanoseconds

	// stamp is the database's stamp now, and scoped a request's (see
	// credcache.go); nil, or ok false, where there is none: then no read
	// transaction outlives its request (see keep).
	stamp    func() (stamp, bool)
	scoped   func(context.Context) (stamp, bool)
	stop     chan struct{}  // closed by close: ends sweep
	swept    sync.WaitGroup // the sweep running, which close waits out
	stopOnce sync.Once
	// writing is set by sweep while commits come (within quietAfter of
	// the last one it saw): then no transaction is kept.
	writing atomic.Bool
}

// readConn is one connection and its prepared statements by text.
type readConn struct {
	c *sqlite3.Conn
	// inTx: a read transaction is open on c, begun when the database's
	// stamp was at; kept across requests while nothing is committed (see
	// keep).
	inTx  bool
	at    stamp
	stmts map[string]*sqlite3.Stmt
	// interned holds strings that repeat across rows (statuses, senders),
	// so a page does not allocate the same text once per message.
	interned map[string]string
	last     string // see same
}

// maxStmtsPerConn bounds each connection's prepared statements. The read
// path's texts are a handful per kind of request; the bound only matters
// if some caller varies them without end.
const maxStmtsPerConn = 256

// maxInterned bounds each connection's interned strings.
const maxInterned = 4096

func newReadPool(dsn string, size int, stmts *atomic.Int64) *readPool {
	return &readPool{dsn: dsn, max: size, free: make(chan *readConn, size), open: make(chan struct{}, size), stmts: stmts, stop: make(chan struct{})}
}

// get takes an idle connection, opens one while under the bound, or waits.
func (p *readPool) get(ctx context.Context) (*readConn, error) {
	select {
	case rc := <-p.free:
		return rc, nil
	default:
	}
	start := time.Now()
	select {
	case rc := <-p.free:
		p.waited(start)
		return rc, nil
	case p.open <- struct{}{}:
		rc, err := p.dial(ctx)
		if err != nil {
			<-p.open
			return nil, err
		}
		return rc, nil
	case <-ctx.Done():
		p.waited(start)
		return nil, ctx.Err()
	}
}

func (p *readPool) waited(start time.Time) {
	p.waits.Add(1)
	p.waitTime.Add(int64(time.Since(start)))
}

func (p *readPool) dial(ctx context.Context) (*readConn, error) {
	c, err := sqlite3.OpenContext(ctx, p.dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open read connection: %w", err)
	}
	rc := &readConn{c: c, stmts: make(map[string]*sqlite3.Stmt), interned: make(map[string]string)}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return nil, errors.New("sqlite: database is closed")
	}
	p.all = append(p.all, rc)
	return rc, nil
}

func (p *readPool) put(rc *readConn) { p.free <- rc }

// query runs one read statement: bind sets its parameters, and row is
// called for each result row with the statement positioned on it. Within
// a request's snapshot (see snapshot) it runs on the snapshot's connection
// and in its transaction; otherwise on any idle connection, in a
// transaction of its own.
func (p *readPool) query(ctx context.Context, query string, bind func(*sqlite3.Stmt) error, row func(*readConn, *sqlite3.Stmt) error) (err error) {
	if sc := scopeOf(ctx); sc != nil {
		s := &sc.snap
		s.mu.Lock()
		if !s.done {
			defer s.mu.Unlock()
			if s.rc == nil {
				if s.rc, err = p.begin(ctx); err != nil {
					return err
				}
			}
			return p.run(ctx, s.rc, query, bind, row)
		}
		s.mu.Unlock() // released: reads after the answer began run unscoped
	}
	rc, err := p.get(ctx)
	if err != nil {
		return err
	}
	if rc.open() && !p.current(rc) {
		// A kept transaction the database has moved past: the read is
		// to see the latest commit.
		if err := p.end(rc); err != nil {
			return err
		}
	}
	defer p.put(rc)
	return p.run(ctx, rc, query, bind, row)
}

func (p *readPool) run(ctx context.Context, rc *readConn, query string, bind func(*sqlite3.Stmt) error, row func(*readConn, *sqlite3.Stmt) error) (err error) {
	p.stmts.Add(1)
	ctx, span := sqlcount.StartSpan(ctx, "sqlite", "query", query)
	defer func() { sqlcount.End(span, err) }()

	st, err := rc.prepare(query)
	if err != nil {
		return err
	}
	old := rc.c.SetInterrupt(ctx)
	defer rc.c.SetInterrupt(old)
	// Every run binds every parameter, so bindings are never cleared:
	// clearing them expires the statement (when a bound value can change
	// its plan) and SQLite would prepare it again on every run.
	if err := bind(st); err != nil {
		st.Reset()
		return err
	}
	for st.Step() {
		if err := row(rc, st); err != nil {
			st.Reset()
			return err
		}
	}
	if err := st.Err(); err != nil {
		st.Reset()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return st.Reset()
}

// snapshot is one request's read transaction. SQLite begins a read
// transaction for every statement run outside one: it takes a read mark
// in the WAL-index (two fcntl locks), checks the index header and the
// database's change counter, and lets it all go at the statement's end,
// a tenth of a one-customer request's CPU for its two statements. Within
// a snapshot the first read statement begins a transaction on a
// connection of its own (or carries on one an earlier request left open
// while nothing was committed; see begin and keep), and the request's
// later reads run in it, until release: every statement of the request
// sees the same commit (counts and pages can no longer straddle an
// import).
//
// A snapshot lasts a request's reads, not its answer: the edge releases
// it when the answer starts to be written, so a slow client never holds
// a connection behind it. A transaction kept open after release is an
// idle connection's, and never outlives a commit by more than a sweep
// (sweep): snapshots held across requests whatever was committed were
// tried and withdrawn, as the checkpoint could not keep up.
type snapshot struct {
	mu   sync.Mutex // statements of one request run one at a time
	rc   *readConn  // nil until the first statement
	done bool       // released: later reads run as if unscoped
}

// begin takes a connection and begins its read transaction (deferred:
// the snapshot is taken by the first read), or carries on the one it kept
// from an earlier request when nothing has been committed since: at is
// the request's stamp, taken before its first read, so a transaction
// begun now sees at least what at vouches for.
func (p *readPool) begin(ctx context.Context) (*readConn, error) {
	var at stamp
	ok := false
	if p.scoped != nil {
		at, ok = p.scoped(ctx)
	}
	rc, err := p.get(ctx)
	if err != nil {
		return nil, err
	}
	if rc.open() {
		if ok && rc.at == at {
			return rc, nil
		}
		if err := p.end(rc); err != nil {
			return nil, err
		}
	}
	if err := rc.exec("BEGIN"); err != nil {
		p.put(rc)
		return nil, fmt.Errorf("sqlite: begin read: %w", err)
	}
	// Without a stamp (ok false) at is zero, and release ends the
	// transaction.
	rc.inTx, rc.at = true, at
	return rc, nil
}

// release ends s's request's use of its connection. The transaction is
// kept open, for the next request to carry on, while the database's stamp
// is the one it began at: a BEGIN and a COMMIT a request (each a read
// mark taken or dropped with fcntl locks) were a tenth of a one-customer
// request's CPU. Otherwise it ends. A connection whose transaction would
// not end is closed rather than pooled, so no later request inherits an
// old snapshot.
func (p *readPool) release(s *snapshot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	rc := s.rc
	if rc == nil {
		return
	}
	s.rc = nil
	if p.keep(rc) {
		p.put(rc)
		return
	}
	if p.end(rc) == nil {
		p.put(rc)
	}
}

// keep reports whether rc's open transaction may stay open while idle:
// only while the database's stamp is still the one it began at. A kept
// transaction holds a read mark, which keeps a checkpoint from going past
// it; sweep ends the idle ones soon after any commit.
func (p *readPool) keep(rc *readConn) bool {
	return !p.writing.Load() && rc.at != (stamp{}) && rc.open() && p.current(rc)
}

// open reports whether rc's read transaction is open. (SQLite can end a
// transaction on its own, so inTx alone is not trusted.)
func (rc *readConn) open() bool {
	if rc.inTx && rc.c.GetAutocommit() {
		rc.inTx = false
	}
	return rc.inTx
}

// current reports whether rc's transaction began at the database's stamp
// now.
func (p *readPool) current(rc *readConn) bool {
	if p.stamp == nil {
		return false
	}
	now, ok := p.stamp()
	return ok && now == rc.at
}

// end commits rc's read transaction. A connection whose transaction would
// not end is closed (and its place freed) rather than pooled; then end
// returns an error.
func (p *readPool) end(rc *readConn) error {
	err := rc.exec("COMMIT")
	if err != nil && !rc.c.GetAutocommit() {
		rc.exec("ROLLBACK")
	}
	if !rc.c.GetAutocommit() {
		p.discard(rc)
		return fmt.Errorf("sqlite: end read: %w", errors.Join(err, errors.New("transaction still open")))
	}
	rc.inTx = false
	return nil
}

// sweepEvery is how often sweep looks for a commit: how long, at most, an
// idle connection's kept transaction holds a checkpoint back after one.
const sweepEvery = 10 * time.Millisecond

// quietAfter is how long after the last commit transactions are kept
// again. While commits come one after another (an import), a reader
// holding a read mark at almost every moment keeps the writer from ever
// restarting the WAL, which then grows: 68 MiB during a 200,000-record
// import under load, against 8 MiB when every request ends its own.
const quietAfter = time.Second

// startSweep starts sweep, until close.
func (p *readPool) startSweep() {
	p.swept.Add(1)
	go func() {
		defer p.swept.Done()
		p.sweep()
	}()
}

// sweep ends the kept transactions of idle connections once the database
// has moved past them, until close: a commit by any process (an import,
// `touchpoint keys`) must not find the checkpoint held back by readers
// that are not reading.
func (p *readPool) sweep() {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	var last stamp
	var changed time.Time
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		now, ok := p.stamp()
		if !ok {
			continue
		}
		if now == last {
			if p.writing.Load() && time.Since(changed) > quietAfter {
				p.writing.Store(false)
			}
			continue
		}
		last, changed = now, time.Now()
		p.writing.Store(true)
		var idle []*readConn
	drain:
		for {
			select {
			case rc := <-p.free:
				idle = append(idle, rc)
			default:
				break drain
			}
		}
		for _, rc := range idle {
			if rc.open() && rc.at != now && p.end(rc) != nil {
				continue // closed by end
			}
			p.put(rc)
		}
	}
}

// exec runs one statement without results, prepared once per connection.
func (rc *readConn) exec(query string) error {
	st, err := rc.prepare(query)
	if err != nil {
		return err
	}
	st.Step()
	return errors.Join(st.Err(), st.Reset())
}

// discard closes rc and frees its place under the bound.
func (p *readPool) discard(rc *readConn) {
	p.mu.Lock()
	for i, c := range p.all {
		if c == rc {
			p.all = append(p.all[:i], p.all[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	rc.close()
	<-p.open
}

// close closes rc's statements, then rc.
func (rc *readConn) close() error {
	errs := make([]error, 0, len(rc.stmts)+1)
	for _, st := range rc.stmts {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, rc.c.Close())...)
}

func (rc *readConn) prepare(query string) (*sqlite3.Stmt, error) {
	if st, ok := rc.stmts[query]; ok {
		return st, nil
	}
	if len(rc.stmts) >= maxStmtsPerConn {
		for q, st := range rc.stmts { // evict one, any one
			st.Close()
			delete(rc.stmts, q)
			break
		}
	}
	st, _, err := rc.c.Prepare(query)
	if err != nil {
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	rc.stmts[query] = st
	return st, nil
}

// same returns b as a string, the previous row's string when its bytes
// are the same (a customer's receiver repeats row after row, but across
// customers it is unique, so interning it would only fill the table).
func (rc *readConn) same(b []byte) string {
	if string(b) == rc.last {
		return rc.last
	}
	rc.last = string(b)
	return rc.last
}

// intern returns b as a string, shared with every earlier row that held
// the same bytes.
func (rc *readConn) intern(b []byte) string {
	if s, ok := rc.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(rc.interned) < maxInterned {
		rc.interned[s] = s
	}
	return s
}

func (p *readPool) stats() sql.DBStats {
	p.mu.Lock()
	open := len(p.all)
	p.mu.Unlock()
	idle := len(p.free)
	return sql.DBStats{
		MaxOpenConnections: p.max,
		OpenConnections:    open,
		InUse:              open - idle,
		Idle:               idle,
		WaitCount:          p.waits.Load(),
		WaitDuration:       time.Duration(p.waitTime.Load()),
	}
}

// close closes every connection. Connections in use are closed too: Close
// is for the end of the process, after the server has stopped.
func (p *readPool) close() error {
	p.stopOnce.Do(func() { close(p.stop) })
	p.swept.Wait() // no sweep ends a transaction on a closed connection
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var errs []error
	for _, rc := range p.all {
		errs = append(errs, rc.close())
	}
	p.all = nil
	return errors.Join(errs...)
}
