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
//
// Held snapshots. A statement outside a transaction is a read transaction
// of its own: SQLite takes a lock on the WAL-index and one on the database
// file, checks the index header and releases it all when the statement
// ends, about a tenth of a one-customer request's CPU (two fcntl calls
// each way, and the begin itself). Where the database's stamp can be read
// (stampOf: the WAL-index header, which every commit rewrites), a
// connection keeps its read transaction open between statements, tagged
// with the stamp read just before it began, and reuses it while the stamp
// is unchanged: no commit since, so its snapshot is the latest. When the
// stamp has moved, the transaction ends and a new one begins, so a
// statement never reads older data than it would have on its own. The
// snapshot began after the stamp was read, so it is never older than the
// stamp; a commit in between moves the stamp, and the next statement
// begins again. An idle connection's stale snapshot would keep SQLite
// from checkpointing the WAL past it, so release ends those every
// releaseEvery.
type readPool struct {
	dsn   string
	max   int
	free  chan *readConn
	open  chan struct{} // one token per open connection
	stmts *atomic.Int64 // statements run, shared with the database/sql pools

	// stampOf reads the database's committed state; nil where it cannot
	// be read, and then every statement is a transaction of its own.
	stampOf func() (stamp, bool)
	stop    chan struct{} // closed by close: release's goroutine ends
	stopped chan struct{} // closed when it has

	mu     sync.Mutex
	all    []*readConn
	closed bool

	waits    atomic.Int64
	waitTime atomic.Int64 // nanoseconds
}

// readConn is one connection and its prepared statements by text.
type readConn struct {
	c     *sqlite3.Conn
	stmts map[string]*sqlite3.Stmt
	// interned holds strings that repeat across rows (statuses, senders),
	// so a page does not allocate the same text once per message.
	interned map[string]string
	last     string // see same
	// held says that a read transaction is open on c, begun under the
	// stamp at (see readPool).
	held bool
	at   stamp
}

// maxStmtsPerConn bounds each connection's prepared statements. The read
// path's texts are a handful per kind of request; the bound only matters
// if some caller varies them without end.
const maxStmtsPerConn = 256

// maxInterned bounds each connection's interned strings.
const maxInterned = 4096

func newReadPool(dsn string, size int, stmts *atomic.Int64) *readPool {
	return &readPool{dsn: dsn, max: size, free: make(chan *readConn, size), open: make(chan struct{}, size), stmts: stmts}
}

// releaseEvery is how long an idle connection may hold a snapshot that a
// commit has made stale: while it does, checkpoints stop short of it and
// the WAL grows by what is written meanwhile.
const releaseEvery = 50 * time.Millisecond

// holdSnapshots lets connections keep their read transactions under the
// stamps stampOf reads (see readPool), and starts release.
func (p *readPool) holdSnapshots(stampOf func() (stamp, bool)) {
	p.stampOf = stampOf
	p.stop, p.stopped = make(chan struct{}), make(chan struct{})
	go p.release()
}

// release ends, every releaseEvery, the read transactions of idle
// connections whose stamp a commit has moved.
func (p *readPool) release() {
	defer close(p.stopped)
	t := time.NewTicker(releaseEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		s, ok := p.stampOf()
		for range len(p.free) {
			var rc *readConn
			select {
			case rc = <-p.free:
			default:
			}
			if rc == nil {
				break
			}
			if rc.held && (!ok || rc.at != s) {
				rc.end()
			}
			p.free <- rc
		}
	}
}

// snapshot readies rc for a statement: its held transaction if the stamp
// has not moved since it began, else a new one (or none, without a stamp).
func (p *readPool) snapshot(rc *readConn) error {
	if p.stampOf == nil {
		return nil
	}
	s, ok := p.stampOf()
	if rc.held {
		if ok && rc.at == s {
			return nil
		}
		rc.end()
	}
	if !ok {
		return nil // a writer is mid-header: this statement on its own
	}
	if err := rc.exec("BEGIN"); err != nil {
		return err
	}
	rc.held, rc.at = true, s
	return nil
}

// end ends rc's read transaction. A read-only transaction has nothing to
// commit, so COMMIT cannot fail on the data; should it fail all the same
// (a statement left running), ROLLBACK ends it, so that the next BEGIN
// never finds a transaction open.
func (rc *readConn) end() {
	if !rc.c.GetAutocommit() && rc.exec("COMMIT") != nil {
		rc.exec("ROLLBACK")
	}
	rc.held = false
}

// exec runs a statement without results (BEGIN, COMMIT), prepared once.
func (rc *readConn) exec(query string) error {
	st, err := rc.prepare(query)
	if err != nil {
		return err
	}
	return st.Exec()
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
// called for each result row with the statement positioned on it.
func (p *readPool) query(ctx context.Context, query string, bind func(*sqlite3.Stmt) error, row func(*readConn, *sqlite3.Stmt) error) (err error) {
	rc, err := p.get(ctx)
	if err != nil {
		return err
	}
	defer p.put(rc)
	p.stmts.Add(1)
	ctx, span := sqlcount.StartSpan(ctx, "sqlite", "query", query)
	defer func() { sqlcount.End(span, err) }()

	if err := p.snapshot(rc); err != nil {
		return err
	}
	defer func() {
		if err != nil && rc.held {
			// An interrupted or failed statement may have ended the
			// transaction, or left it in a state not worth reasoning
			// about: the next statement begins afresh.
			rc.end()
		}
	}()
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
	if p.stop != nil {
		close(p.stop)
		<-p.stopped
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var errs []error
	for _, rc := range p.all {
		for _, st := range rc.stmts {
			errs = append(errs, st.Close())
		}
		errs = append(errs, rc.c.Close())
	}
	p.all = nil
	return errors.Join(errs...)
}
