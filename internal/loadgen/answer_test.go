package loadgen

import (
	"strings"
	"testing"
)

// TestAnswer reads answers of every framing, whole and a byte at a time:
// the status, the body's size, whether the connection closes after it,
// and what is malformed.
func TestAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		head   bool   // the request was a HEAD
		in     string // the connection's bytes; with eof, then its end
		eof    bool
		status int
		body   int64
		close  bool
		bad    bool // malformed: an error
		whole  bool // false: the answer is not yet whole
	}{
		{name: "length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", status: 200, body: 5, whole: true},
		{name: "header names in any case", in: "HTTP/1.1 200 OK\r\ncontent-LENGTH:5\r\nCONNECTION: Close\r\n\r\nhello", status: 200, body: 5, close: true, whole: true},
		{name: "length zero", in: "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", status: 201, whole: true},
		{name: "length, body short", in: "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello", status: 200, body: 5},
		{name: "length, body short, then the end", in: "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello", eof: true, status: 200, body: 5},
		{name: "header block unfinished", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", status: 0},
		{name: "two equal lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", status: 200, body: 2, whole: true},
		{name: "two lengths differing", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", bad: true},
		{name: "length not a number", in: "HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok", bad: true},
		{name: "chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\na;ext=1\r\n0123456789\r\n0\r\n\r\n", status: 200, body: 15, whole: true},
		{name: "chunked over a length", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 99\r\n\r\n2\r\nok\r\n0\r\n\r\n", status: 200, body: 2, whole: true},
		{name: "chunked with trailers", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Sum: 1\r\n\r\n", status: 200, body: 2, whole: true},
		{name: "chunked, last chunk missing", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n", eof: true, status: 200, body: 2},
		{name: "chunk size not hex", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n", bad: true},
		{name: "chunk data overrun", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n0\r\n\r\n", bad: true},
		{name: "to the end", in: "HTTP/1.1 200 OK\r\n\r\nall of it", eof: true, status: 200, body: 9, close: true, whole: true},
		{name: "to the end, before it", in: "HTTP/1.1 200 OK\r\n\r\nall of it", status: 200, body: 9, close: true},
		{name: "HTTP/1.0 closes", in: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: 2, close: true, whole: true},
		{name: "HTTP/1.0 kept alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", status: 200, body: 2, whole: true},
		{name: "not modified has no body", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 90\r\n\r\n", status: 304, whole: true},
		{name: "no content has no body", in: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, whole: true},
		{name: "HEAD has no body", head: true, in: "HTTP/1.1 200 OK\r\nContent-Length: 90\r\n\r\n", status: 200, whole: true},
		{name: "an interim answer first", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: 2, whole: true},
		{name: "switching protocols", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", bad: true},
		{name: "bytes after the answer", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1", bad: true},
		{name: "not HTTP", in: "SSH-2.0-OpenSSH_9.2\r\n\r\n", bad: true},
		{name: "status not a number", in: "HTTP/1.1 2x0 OK\r\n\r\n", bad: true},
		{name: "header line without a colon", in: "HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\nok", bad: true},
	} {
		for _, step := range []int{len(tc.in), 1, 7} {
			var a answer
			a.pending = make([]byte, 0, 3) // a stale buffer is reused, never read
			a.reset(tc.head)
			var (
				done bool
				err  error
			)
			for i := 0; i < len(tc.in) && err == nil && !done; i += step {
				done, err = a.feed([]byte(tc.in[i:min(i+step, len(tc.in))]))
				if done && i+step < len(tc.in) {
					// The rest, after an answer the parser calls whole.
					_, err = a.feed([]byte(tc.in[i+step:]))
					done = err == nil
				}
			}
			if tc.eof && err == nil && !done {
				done = a.eof()
			}
			if (err != nil) != tc.bad {
				t.Errorf("%s, %d bytes at a time: error %v, want one: %v", tc.name, step, err, tc.bad)
				continue
			}
			if tc.bad {
				continue
			}
			if done != tc.whole || a.status != tc.status || a.body != tc.body || a.close != tc.close {
				t.Errorf("%s, %d bytes at a time: whole %v, status %d, body %d, close %v; want %v, %d, %d, %v",
					tc.name, step, done, a.status, a.body, a.close, tc.whole, tc.status, tc.body, tc.close)
			}
			if !a.started != (tc.in == "") {
				t.Errorf("%s: started %v", tc.name, a.started)
			}
		}
	}
}

// TestAnswerHeaderBound: a header block without end is an error once it
// is larger than any answer's, not a buffer that grows without bound.
func TestAnswerHeaderBound(t *testing.T) {
	var a answer
	line := []byte("X-Filler: " + strings.Repeat("x", 1000) + "\r\n")
	var err error
	for i := 0; i < 2*maxHeader/len(line) && err == nil; i++ {
		_, err = a.feed(line)
	}
	if err == nil {
		t.Errorf("%d bytes of headers and no error", len(a.pending))
	}
}
