package loadgen

import (
	"context"
	"fmt"
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

// runners are the Client implementations this platform has; every test of
// a run runs on each (loop_linux_test.go adds the event loop).
var runners = []runnerCase{{"workers", func(n int) runner { return newWorkers(n) }}}

type runnerCase struct {
	name string
	new  func(concurrency int) runner
}

// eachRunner runs test on every runner, with a run function of the
// package's Run's signature on a new client of that runner.
func eachRunner(t *testing.T, test func(t *testing.T, newClient func(concurrency int) *Client)) {
	for _, rn := range runners {
		t.Run(rn.name, func(t *testing.T) {
			test(t, func(n int) *Client { return &Client{r: rn.new(n)} })
		})
	}
}

// runOn is the package's Run on a client newClient makes.
func runOn(ctx context.Context, newClient func(int) *Client, concurrency int, warmup, duration time.Duration, next func(worker, n int) *http.Request) Result {
	c := newClient(concurrency)
	defer c.Close()
	return c.Run(ctx, warmup, duration, next)
}

func TestRun(t *testing.T) { eachRunner(t, testRun) }

func testRun(t *testing.T, newClient func(int) *Client) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%10 == 0 {
			w.WriteHeader(500)
		}
		w.Write([]byte("hello"))
	}))
	defer srv.Close()
	r := runOn(context.Background(), newClient, 4, 20*time.Millisecond, 100*time.Millisecond, func(int, int) *http.Request {
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
func TestRunNewConnections(t *testing.T) { eachRunner(t, testRunNewConnections) }

func testRunNewConnections(t *testing.T, newClient func(int) *Client) {
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
	r := runOn(context.Background(), newClient, 2, 0, 100*time.Millisecond, func(int, int) *http.Request {
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
func TestClientKeepsConnections(t *testing.T) { eachRunner(t, testClientKeepsConnections) }

func testClientKeepsConnections(t *testing.T, newClient func(int) *Client) {
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
	c := newClient(3)
	for range 3 {
		if r := c.Run(context.Background(), 0, 20*time.Millisecond, get); r.Requests == 0 || r.Errors != 0 {
			t.Fatalf("%d requests, %d errors", r.Requests, r.Errors)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("three runs of 3 workers opened %d connections, want 3", n)
	}
	c.Close()
	runOn(context.Background(), newClient, 2, 0, 20*time.Millisecond, get)
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
func TestRunStopsWithItsContext(t *testing.T) { eachRunner(t, testRunStopsWithItsContext) }

func testRunStopsWithItsContext(t *testing.T, newClient func(int) *Client) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan Result)
	go func() {
		done <- runOn(ctx, newClient, 3, 0, time.Hour, func(int, int) *http.Request {
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
func TestRunRefusesHTTPS(t *testing.T) { eachRunner(t, testRunRefusesHTTPS) }

func testRunRefusesHTTPS(t *testing.T, newClient func(int) *Client) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	r := runOn(context.Background(), newClient, 1, 0, 20*time.Millisecond, func(int, int) *http.Request {
		req, _ := http.NewRequest("GET", "https://"+srv.Listener.Addr().String()+"/", nil)
		return req
	})
	if r.Requests == 0 || r.Errors != r.Requests {
		t.Errorf("%d requests, %d errors; want all errors", r.Requests, r.Errors)
	}
}

// TestRunFraming: a client reads answers framed every way a server
// frames them, larger than its read buffer and larger than a socket's,
// and sends requests larger than a socket's buffer, counting every body
// byte.
func TestRunFraming(t *testing.T) { eachRunner(t, testRunFraming) }

func testRunFraming(t *testing.T, newClient func(int) *Client) {
	big := strings.Repeat("x", 1<<20+17) // many reads, and many writes of the request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ := io.ReadAll(r.Body)
		if len(got) != len(big) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			io.WriteString(w, big)
		case "/chunked": // no length: net/http chunks it
			for range 5 {
				io.WriteString(w, big[:100<<10])
				w.(http.Flusher).Flush()
			}
		case "/eof": // no length and no chunks: the body runs to the close
			hj, _, _ := w.(http.Hijacker).Hijack()
			io.WriteString(hj, "HTTP/1.1 200 OK\r\n\r\n"+big[:3000])
			hj.Close()
		case "/not-modified":
			w.WriteHeader(http.StatusNotModified)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		path string
		body int64
	}{
		{"/length", int64(len(big))},
		{"/chunked", 5 * 100 << 10},
		{"/eof", 3000},
		{"/not-modified", 0},
	} {
		t.Run(tc.path, func(t *testing.T) {
			// An answer misread as unfinished is an error when this ends.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c := newClient(2)
			defer c.Close()
			r := c.Run(ctx, 0, 200*time.Millisecond, func(int, int) *http.Request {
				req, _ := http.NewRequest("POST", srv.URL+tc.path, strings.NewReader(big))
				return req
			})
			if r.Requests == 0 || r.Errors != 0 || r.Bytes != tc.body*int64(r.Requests) {
				t.Errorf("%d requests, %d errors, %d bytes; want some, none and %d a request", r.Requests, r.Errors, r.Bytes, tc.body)
			}
		})
	}
}

// TestRunIdleClose: connections the server closes while they are idle,
// between runs, are noticed or their request sent again: no errors.
func TestRunIdleClose(t *testing.T) { eachRunner(t, testRunIdleClose) }

func testRunIdleClose(t *testing.T, newClient func(int) *Client) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	srv.Config.IdleTimeout = 20 * time.Millisecond
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newClient(3)
	defer c.Close()
	get := func(int, int) *http.Request {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		return req
	}
	for i := range 3 {
		if r := c.Run(context.Background(), 0, 20*time.Millisecond, get); r.Requests == 0 || r.Errors != 0 {
			t.Fatalf("run %d: %d requests, %d errors", i, r.Requests, r.Errors)
		}
		time.Sleep(60 * time.Millisecond) // the server closes them
	}
	if n := conns.Load(); n != 9 {
		t.Errorf("%d connections, want 9: three a run", n)
	}
}

// TestRunRefused: a server that is not there is errors, not a hang.
func TestRunRefused(t *testing.T) { eachRunner(t, testRunRefused) }

func testRunRefused(t *testing.T, newClient func(int) *Client) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(2)
	defer c.Close()
	r := c.Run(context.Background(), 0, 20*time.Millisecond, func(int, int) *http.Request {
		req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
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
