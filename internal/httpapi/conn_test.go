package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/touchpoint/touchpoint/internal/httpapi"
)

// countingListener counts the writes of the connections it accepts.
type countingListener struct {
	net.Listener
	mu     sync.Mutex
	writes int
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

func (l *countingListener) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writes
}

type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.l.mu.Lock()
	c.l.writes++
	c.l.mu.Unlock()
	return c.Conn.Write(p)
}

// wholeServer serves the edge with h as its v2 route, over Listener
// unless plain, and counts the writes of its connections.
func wholeServer(t testing.TB, h http.HandlerFunc, plain bool) (*fixture, *countingListener) {
	f := newFixture(t, 1000, func(d *httpapi.Deps) { d.V2 = h })
	srv := httptest.NewUnstartedServer(httpapi.NewServer(httpapi.DefaultConfig(), f.deps))
	cl := &countingListener{Listener: srv.Listener}
	srv.Listener = cl
	if !plain {
		srv.Listener = httpapi.Listener(srv.Config, cl)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	f.srv = srv
	return f, cl
}

// TestWholeAnswers: an answer with a Content-Length leaves in one write
// however many writes its handler makes and however large it is (net/http
// alone writes 4 KiB at a time); the bytes are the handler's, on a
// connection reused for answer after answer. Answers it does not hold
// (no Content-Length, small, a panic's) still arrive whole, and a
// connection is never left holding.
func TestWholeAnswers(t *testing.T) {
	body := func(n int) []byte { return bytes.Repeat([]byte("0123456789abcdef"), n/16) }
	tests := []struct {
		name       string
		size       int
		length     bool // set Content-Length
		pieces     int  // writes the handler makes
		panics     bool
		wantWrites int // per answer, or 0 for "not checked"
	}{
		{"large, one write", 64 << 10, true, 1, false, 1},
		{"large, in pieces", 12 << 10, true, 3, false, 1},
		{"just over the buffer", 5 << 10, true, 2, false, 1},
		{"small", 1 << 10, true, 1, false, 1},
		{"no length (chunked)", 12 << 10, false, 3, false, 0},
		{"panic mid-answer", 12 << 10, true, 2, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := body(tt.size)
			h := func(w http.ResponseWriter, r *http.Request) {
				if tt.length {
					w.Header().Set("Content-Length", strconv.Itoa(len(want)))
				}
				step := len(want) / tt.pieces
				for i := 0; i < tt.pieces; i++ {
					end := (i + 1) * step
					if i == tt.pieces-1 {
						end = len(want)
					}
					w.Write(want[i*step : end])
					if tt.panics {
						panic("mid-answer")
					}
				}
			}
			f, cl := wholeServer(t, h, false)
			user, pass, _ := strings.Cut(f.key, ":")
			get := func() ([]byte, error) {
				req, _ := http.NewRequest("GET", f.srv.URL+"/v2/customers/interaction", nil)
				req.SetBasicAuth(user, pass)
				resp, err := f.srv.Client().Do(req)
				if err != nil {
					return nil, err
				}
				defer resp.Body.Close()
				return io.ReadAll(resp.Body)
			}
			if tt.panics {
				// The answer is cut short (net/http closes the connection);
				// the next request, on a new connection, is served.
				get()
				tt.panics = false
				if got, err := get(); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("after a panic mid-answer: %d bytes, %v; want %d bytes", len(got), err, len(want))
				}
				return
			}
			const answers = 5
			for i := range answers {
				got, err := get()
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("answer %d: %d bytes, %v; want the handler's %d bytes", i, len(got), err, len(want))
				}
			}
			if tt.wantWrites > 0 {
				if got := cl.count(); got != answers*tt.wantWrites {
					t.Errorf("%d writes for %d answers, want %d each", got, answers, tt.wantWrites)
				}
			}
		})
	}
}

// TestWholeAnswersNeedsTheWrapper: without Listener, net/http writes a
// large answer in several writes (what the test above would count if
// holding stopped working).
func TestWholeAnswersNeedsTheWrapper(t *testing.T) {
	want := bytes.Repeat([]byte("x"), 12<<10)
	f, cl := wholeServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(want)))
		w.Write(want)
	}, true)
	user, pass, _ := strings.Cut(f.key, ":")
	req, _ := http.NewRequest("GET", f.srv.URL+"/v2/customers/interaction", nil)
	req.SetBasicAuth(user, pass)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if got := cl.count(); got < 2 {
		t.Errorf("net/http alone wrote a 12 KiB answer in %d write(s); the premise of holding is gone", got)
	}
}

// BenchmarkWholeAnswers: an 8 KiB answer through the edge over loopback
// TCP, with and without Listener.
func BenchmarkWholeAnswers(b *testing.B) {
	want := bytes.Repeat([]byte("x"), 8<<10)
	for _, plain := range []bool{true, false} {
		b.Run(fmt.Sprintf("plain=%v", plain), func(b *testing.B) {
			f, _ := wholeServer(b, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.Itoa(len(want)))
				w.Write(want)
			}, plain)
			user, pass, _ := strings.Cut(f.key, ":")
			client := f.srv.Client()
			for b.Loop() {
				req, _ := http.NewRequest("GET", f.srv.URL+"/v2/customers/interaction", nil)
				req.SetBasicAuth(user, pass)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
