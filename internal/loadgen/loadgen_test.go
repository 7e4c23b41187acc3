package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			w.WriteHeader(500)
		}
		w.Write([]byte("hello"))
	}))
	defer srv.Close()
	r := Run(context.Background(), srv.Client(), 4, 20*time.Millisecond, 100*time.Millisecond, func(int, int) *http.Request {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		return req
	})
	if r.Requests == 0 || r.Errors == 0 || r.Errors > r.Requests/5 || r.Bytes != int64(5*r.Requests) {
		t.Errorf("result = %d requests, %d errors, %d bytes", r.Requests, r.Errors, r.Bytes)
	}
	if r.Percentile(50) <= 0 || r.Percentile(99) < r.Percentile(50) || r.RPS() <= 0 {
		t.Errorf("p50 %v p99 %v rps %v", r.Percentile(50), r.Percentile(99), r.RPS())
	}
}

// TestAdd: two runs added are one run of both durations: rate from the
// sums, percentiles over both runs' latencies.
func TestAdd(t *testing.T) {
	ms := func(ds ...int) []time.Duration {
		out := make([]time.Duration, len(ds))
		for i, d := range ds {
			out[i] = time.Duration(d) * time.Millisecond
		}
		return out
	}
	var r Result
	r.Add(Result{Requests: 3, Errors: 1, Elapsed: time.Second, Latencies: ms(1, 5, 9), Bytes: 30})
	r.Add(Result{Requests: 1, Elapsed: time.Second, Latencies: ms(2), Bytes: 10})
	if r.Requests != 4 || r.Errors != 1 || r.Bytes != 40 || r.RPS() != 2 {
		t.Errorf("sum = %d requests, %d errors, %d bytes, %v req/s; want 4, 1, 40, 2", r.Requests, r.Errors, r.Bytes, r.RPS())
	}
	if got, want := r.Latencies, ms(1, 2, 5, 9); !slices.Equal(got, want) {
		t.Errorf("latencies %v, want %v (sorted)", got, want)
	}
	if p := r.Percentile(50); p != 2*time.Millisecond {
		t.Errorf("p50 %v, want 2ms", p)
	}
}

func TestSVG(t *testing.T) {
	var b strings.Builder
	if err := WriteSVG(&b, "t <1>", []string{"a", "b"}, "req/s", []Bar{{"x", []float64{1, 2}}, {"y", []float64{3, 0}}}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "<svg") || strings.Count(b.String(), "<rect") != 1+2+4 || !strings.Contains(b.String(), "t &lt;1&gt;") {
		t.Errorf("svg = %s", b.String())
	}
}
