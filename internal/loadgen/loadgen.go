// Package loadgen is a closed-loop HTTP load generator: a fixed number of
// workers each send a request, wait for the answer and send the next, for
// a bounded time after a warm-up. Closed-loop load measures what the
// server sustains at that concurrency without the coordinated-omission
// trap of piling requests onto a saturated server.
package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
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

// sample is one request's measurement.
type sample struct {
	lat   time.Duration
	err   bool
	bytes int64
}

// success says whether an answer's status is not an error.
func success(status int) bool { return status == http.StatusOK || status == http.StatusNotModified }

// hostOf is the host:port req goes to: only plain HTTP, which is what
// the generator speaks (an https URL is not sent as plain text to 443).
func hostOf(req *http.Request) (string, error) {
	if req.URL.Scheme != "http" {
		return "", fmt.Errorf("loadgen: %s: only http URLs", req.URL)
	}
	if req.URL.Port() == "" {
		return net.JoinHostPort(req.URL.Hostname(), "80"), nil
	}
	return req.URL.Host, nil
}

// summary is the Result of a run of duration that measured samples.
func summary(duration time.Duration, samples []sample) Result {
	r := Result{Elapsed: duration, Latencies: make([]time.Duration, 0, len(samples))}
	for _, s := range samples {
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
// The generator shares the machine with the server it measures: whatever
// CPU and scheduling it costs comes out of the server's, and shows up in
// the tail being measured. On Linux one goroutine drives every
// connection over epoll, as wrk does (loop_linux.go); elsewhere each
// worker has a goroutine (workers.go).
type Client struct {
	r runner
}

// runner is a Client's implementation.
type runner interface {
	run(ctx context.Context, warmup, duration time.Duration, next func(worker, n int) *http.Request) Result
	close()
}

// NewClient returns a client of concurrency workers; Close closes their
// connections.
func NewClient(concurrency int) *Client { return &Client{r: newRunner(concurrency)} }

// Close closes the client's connections.
func (c *Client) Close() { c.r.close() }

// Run is the package's Run on c's connections; a connection closed when
// ctx ends is dialled again by the next run.
func (c *Client) Run(ctx context.Context, warmup, duration time.Duration, next func(worker, n int) *http.Request) Result {
	return c.r.run(ctx, warmup, duration, next)
}
