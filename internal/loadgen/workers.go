package loadgen

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// workers is a Client with a goroutine a worker, each speaking HTTP/1.1
// on its connection: Request.Write puts the request on the wire and
// http.ReadResponse reads the answer, with no goroutine but the worker's.
// net/http's Transport hands every request between three goroutines (the
// caller's and the connection's reader and writer), which cost the
// generator twice the CPU per request of wrk.
type workers struct {
	conns []*conn
}

func newWorkers(concurrency int) *workers {
	c := &workers{conns: make([]*conn, concurrency)}
	for i := range c.conns {
		c.conns[i] = &conn{}
	}
	return c
}

func (c *workers) close() {
	for _, cn := range c.conns {
		cn.close()
	}
}

// run is Client.Run with a goroutine a worker.
func (c *workers) run(ctx context.Context, warmup, duration time.Duration, next func(worker, n int) *http.Request) Result {
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
					err:   err != nil || !success(status),
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
	return summary(duration, results)
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
	host, err := hostOf(req)
	if err != nil {
		return 0, 0, err
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
