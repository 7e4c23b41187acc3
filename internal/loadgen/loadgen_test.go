package loadgen

import (
	"context"
	"net/http"
	"net/http/httptest"
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

func TestSVG(t *testing.T) {
	var b strings.Builder
	if err := WriteSVG(&b, "t <1>", []string{"a", "b"}, "req/s", []Bar{{"x", []float64{1, 2}}, {"y", []float64{3, 0}}}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "<svg") || strings.Count(b.String(), "<rect") != 1+2+4 || !strings.Contains(b.String(), "t &lt;1&gt;") {
		t.Errorf("svg = %s", b.String())
	}
}
