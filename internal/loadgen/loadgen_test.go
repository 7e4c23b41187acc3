package loadgen

import (
	"context"
	"io"
	"net"
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
	r := Run(context.Background(), 4, 20*time.Millisecond, 100*time.Millisecond, func(int, int) *http.Request {
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

// TestRunNewConnections: answers that close their connection, saying so
// or not, cost a new connection and no error; a POST sent again on it
// carries its whole body.
func TestRunNewConnections(t *testing.T) {
	const body = `{"query":"{ a }"}`
	var answers, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := io.ReadAll(r.Body)
		if err != nil || string(got) != body {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch answers.Add(1) % 3 {
		case 1: // says so
			w.Header().Set("Connection", "close")
			w.Write([]byte("closing"))
		case 2: // does not: the answer, then the connection closed under the client
			hj, _, _ := w.(http.Hijacker).Hijack()
			hj.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
			time.Sleep(time.Millisecond)
			hj.Close()
		default:
			w.Write([]byte("kept"))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	r := Run(context.Background(), 2, 0, 100*time.Millisecond, func(int, int) *http.Request {
		req, _ := http.NewRequest("POST", srv.URL, strings.NewReader(body))
		return req
	})
	if r.Requests < 10 || r.Errors != 0 {
		t.Fatalf("%d requests, %d errors; want some and none", r.Requests, r.Errors)
	}
	if c := conns.Load(); c < int64(r.Requests)/3 {
		t.Errorf("%d connections for %d requests, a third of which close theirs", c, r.Requests)
	}
}

// TestClientKeepsConnections: a client's runs share its connections, one
// a worker; the package's Run closes its own.
func TestClientKeepsConnections(t *testing.T) {
	var conns, closed atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			conns.Add(1)
		case http.StateClosed:
			closed.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	get := func(int, int) *http.Request {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		return req
	}
	c := NewClient(3)
	for range 3 {
		if r := c.Run(context.Background(), 0, 20*time.Millisecond, get); r.Requests == 0 || r.Errors != 0 {
			t.Fatalf("%d requests, %d errors", r.Requests, r.Errors)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("three runs of 3 workers opened %d connections, want 3", n)
	}
	c.Close()
	Run(context.Background(), 2, 0, 20*time.Millisecond, get)
	deadline := time.Now().Add(5 * time.Second)
	for closed.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n, c := conns.Load(), closed.Load(); n != 5 || c != 5 {
		t.Errorf("%d connections opened and %d closed, want 5 and 5", n, c)
	}
}

// TestRunStopsWithItsContext: a run whose server never answers ends when
// its context does, with the requests in flight counted as errors.
func TestRunStopsWithItsContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan Result)
	go func() {
		done <- Run(ctx, 3, 0, time.Hour, func(int, int) *http.Request {
			req, _ := http.NewRequest("GET", srv.URL, nil)
			return req
		})
	}()
	select {
	case r := <-done:
		if r.Requests == 0 || r.Errors != r.Requests {
			t.Errorf("%d requests, %d errors; want the ones in flight, all errors", r.Requests, r.Errors)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the run outlived its context by 10 s")
	}
}

// TestRunRefusesHTTPS: an https URL is an error, not a plain request to
// its host: the server here would answer one 200.
func TestRunRefusesHTTPS(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	r := Run(context.Background(), 1, 0, 20*time.Millisecond, func(int, int) *http.Request {
		req, _ := http.NewRequest("GET", "https://"+srv.Listener.Addr().String()+"/", nil)
		return req
	})
	if r.Requests == 0 || r.Errors != r.Requests {
		t.Errorf("%d requests, %d errors; want all errors", r.Requests, r.Errors)
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
