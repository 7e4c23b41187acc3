// Package loadgen is a closed-loop HTTP load generator: a fixed number of
// workers each send a request, wait for the answer and send the next, for
// a bounded time after a warm-up. Closed-loop load measures what the
// server sustains at that concurrency without the coordinated-omission
// trap of piling requests onto a saturated server.
package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Result is one run's measurements.
type Result struct {
	Requests  int
	Errors    int
	Elapsed   time.Duration
	Latencies []time.Duration // sorted
	Bytes     int64
}

// Add adds o, another run's result, to r: as if the two had been one run
// of their two durations.
func (r *Result) Add(o Result) {
	r.Requests += o.Requests
	r.Errors += o.Errors
	r.Elapsed += o.Elapsed
	r.Bytes += o.Bytes
	r.Latencies = append(r.Latencies, o.Latencies...)
	slices.Sort(r.Latencies)
}

// RPS is requests (successful or not) per second.
func (r Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Percentile returns the p-th percentile latency (0 < p <= 100).
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p/100+0.5) - 1
	return r.Latencies[min(max(i, 0), len(r.Latencies)-1)]
}

// Run drives concurrency connections with requests from next (called
// concurrently, with the worker number and its request count) for warmup
// and then duration; only the latter is measured. A response is an error
// unless its status is 200, or 304 (the answer to a conditional request
// the client's copy satisfies). The connections are closed at the end;
// a Client keeps them for its next run.
func Run(ctx context.Context, concurrency int, warmup, duration time.Duration, next func(worker, n int) *http.Request) Result {
	c := NewClient(concurrency)
	defer c.Close()
	return c.Run(ctx, warmup, duration, next)
}

// Client is a closed-loop load's connections, one for each of its
// workers, kept from one run to the next as a browser or an HTTP client
// library keeps them: a run that follows another starts on connections
// the server already serves, and measures no connection set-up.
//
// Each worker speaks HTTP/1.1 on its connection: Request.Write puts the
// request on the wire and http.ReadResponse reads the answer, with no
// goroutine but the worker's. net/http's Transport hands every request
// between three goroutines (the caller's and the connection's reader and
// writer), which cost the generator twice the CPU per request of wrk; on
// a machine it shares with the server, that CPU comes out of the server's
// and its scheduling shows up in the tail being measured.
type Client struct {
	conns []*conn
}

// NewClient returns a client of concurrency workers; Close closes their
// connections.
func NewClient(concurrency int) *Client {
	c := &Client{conns: make([]*conn, concurrency)}
	for i := range c.conns {
		c.conns[i] = &conn{}
	}
	return c
}

// Close closes the client's connections.
func (c *Client) Close() {
	for _, cn := range c.conns {
		cn.close()
	}
}

// Run is the package's Run on c's connections; a connection closed when
// ctx ends is dialled again by the next run.
func (c *Client) Run(ctx context.Context, warmup, duration time.Duration, next func(worker, n int) *http.Request) Result {
	type sample struct {
		lat   time.Duration
		err   bool
		bytes int64
	}
	var (
		mu      sync.Mutex
		results []sample
		wg      sync.WaitGroup
	)
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+duration)
	for w, cn := range c.conns {
		wg.Go(func() {
			var local []sample
			cn.watch(ctx)
			defer cn.unwatch()
			for n := 0; ctx.Err() == nil; n++ {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				status, bytes, err := cn.do(ctx, next(w, n))
				s := sample{
					lat:   time.Since(t0),
					err:   err != nil || status != http.StatusOK && status != http.StatusNotModified,
					bytes: bytes,
				}
				if !t0.Before(measureFrom) && time.Now().Before(end) {
					local = append(local, s)
				}
			}
			mu.Lock()
			results = append(results, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	r := Result{Elapsed: duration, Latencies: make([]time.Duration, 0, len(results))}
	for _, s := range results {
		r.Requests++
		r.Bytes += s.bytes
		if s.err {
			r.Errors++
		}
		r.Latencies = append(r.Latencies, s.lat)
	}
	slices.Sort(r.Latencies)
	return r
}

// conn is one worker's connection, dialled at its first request and
// again after the server closes it or an exchange fails.
type conn struct {
	nc   net.Conn
	host string
	br   *bufio.Reader
	bw   *bufio.Writer
	stop func() bool // stops closing nc when the current run's context ends
	used bool        // nc has carried an answer
}

// watch closes c's connection when ctx, the current run's, ends: that
// ends a wait for an answer that will not come. Only nc.Close runs on
// another goroutine.
func (c *conn) watch(ctx context.Context) {
	c.unwatch()
	if nc := c.nc; nc != nil {
		c.stop = context.AfterFunc(ctx, func() { nc.Close() })
	}
}

// unwatch undoes watch, at the end of a run. A connection the run's end
// closed is let go, to be dialled again.
func (c *conn) unwatch() {
	if c.stop != nil {
		if !c.stop() {
			c.nc = nil
		}
		c.stop = nil
	}
}

// do sends req and reads its whole answer, returning its status and body
// size. A request whose answer never began, on a connection which has
// carried answers before (as one the server has just closed for idleness
// would), is sent once more on a new connection, as net/http's Transport
// does.
func (c *conn) do(ctx context.Context, req *http.Request) (int, int64, error) {
	reused := c.nc != nil && c.used
	status, n, err := c.exchange(ctx, req)
	if err == nil || !reused || status != 0 || ctx.Err() != nil {
		return status, n, err
	}
	if req.GetBody != nil {
		if req.Body, err = req.GetBody(); err != nil {
			return 0, 0, err
		}
	}
	return c.exchange(ctx, req)
}

func (c *conn) exchange(ctx context.Context, req *http.Request) (int, int64, error) {
	if req.URL.Scheme != "http" {
		return 0, 0, fmt.Errorf("loadgen: %s: only http URLs", req.URL)
	}
	host := req.URL.Host
	if req.URL.Port() == "" {
		host = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	if c.nc == nil || c.host != host {
		if err := c.dial(ctx, host); err != nil {
			return 0, 0, err
		}
	}
	if err := req.Write(c.bw); err != nil {
		c.close()
		return 0, 0, err
	}
	if err := c.bw.Flush(); err != nil {
		c.close()
		return 0, 0, err
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		c.close()
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.used = true
	if err != nil || resp.Close {
		c.close()
	}
	return resp.StatusCode, n, err
}

// dial replaces c's connection with a new one to host.
func (c *conn) dial(ctx context.Context, host string) error {
	c.close()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	c.nc, c.host, c.used = nc, host, false
	c.br, c.bw = bufio.NewReaderSize(nc, 16<<10), bufio.NewWriterSize(nc, 4<<10)
	c.watch(ctx)
	return nil
}

func (c *conn) close() {
	if nc := c.nc; nc != nil {
		c.unwatch()
		nc.Close()
		c.nc = nil
	}
}
