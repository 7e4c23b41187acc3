// Package loadgen is a closed-loop HTTP load generator: a fixed number of
// workers each send a request, wait for the answer and send the next, for
// a bounded time after a warm-up. Closed-loop load measures what the
// server sustains at that concurrency without the coordinated-omission
// trap of piling requests onto a saturated server.
package loadgen

import (
	"context"
	"io"
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

// Run drives client with requests from next (called concurrently, with
// the worker number and its request count) for warmup and then duration;
// only the latter is measured. A response is an error unless its status is
// 200, or 304 (the answer to a conditional request the client's copy
// satisfies).
func Run(ctx context.Context, client *http.Client, concurrency int, warmup, duration time.Duration, next func(worker, n int) *http.Request) Result {
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
	for w := range concurrency {
		wg.Go(func() {
			var local []sample
			for n := 0; ctx.Err() == nil; n++ {
				t0 := time.Now()
				if !t0.Before(end) {
					break
				}
				req := next(w, n).WithContext(ctx)
				resp, err := client.Do(req)
				s := sample{err: err != nil}
				if err == nil {
					s.bytes, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					s.err = resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotModified
				}
				s.lat = time.Since(t0)
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
