package loadgen

import (
	"bytes"
	"errors"
	"strconv"
)

// answer reads one HTTP/1.1 answer from the bytes of a connection as they
// arrive, in pieces of any size, keeping only what it cannot yet decide
// on (a partial header block or chunk-size line); the body is counted,
// not kept. It is the event loop's parser (loop_linux.go), which has no
// goroutine a connection to block in http.ReadResponse.
type answer struct {
	head    bool // the request was a HEAD: the answer has no body
	state   answerState
	pending []byte // undecided bytes: a partial header block or line
	status  int
	close   bool  // the server closes the connection after this answer
	remain  int64 // body bytes (or a chunk's) still to come
	body    int64 // body bytes so far
	started bool  // a byte of the answer has arrived
}

type answerState uint8

const (
	inHeader    answerState = iota
	inLength                // a body of Content-Length bytes
	inChunkSize             // a chunk-size line
	inChunk                 // a chunk's data
	inChunkEnd              // the CRLF after a chunk's data
	inTrailer               // trailer lines, up to an empty one
	inUntilEOF              // a body that ends with the connection
	answered
)

// maxHeader bounds a header block (net/http's default limit is 1 MiB, for
// requests; an answer's headers here are a few hundred bytes).
const maxHeader = 1 << 20

var errAnswer = errors.New("loadgen: malformed HTTP answer")

// reset readies a for the answer to a new request.
func (a *answer) reset(head bool) {
	*a = answer{head: head, pending: a.pending[:0]}
}

// feed takes the next bytes of the connection; done says the answer is
// whole. Bytes after a whole answer (which a server that is not pipelined
// to does not send) are an error.
func (a *answer) feed(p []byte) (done bool, err error) {
	if len(p) > 0 {
		a.started = true
	}
	if len(a.pending) > 0 {
		a.pending = append(a.pending, p...)
		p = a.pending
	}
	rest, err := a.advance(p)
	if err != nil {
		return false, err
	}
	if a.state == answered && len(rest) > 0 {
		return false, errAnswer
	}
	// Keep what is left for the next bytes; it may alias pending itself.
	a.pending = append(a.pending[:0], rest...)
	if a.state == inHeader && len(a.pending) > maxHeader {
		return false, errAnswer
	}
	return a.state == answered, nil
}

// eof is the connection's end: it completes an answer whose body runs to
// it, and is an error in any other answer not yet whole.
func (a *answer) eof() (done bool) {
	if a.state == inUntilEOF {
		a.state = answered
	}
	return a.state == answered
}

// advance consumes p as far as it can decide, returning what is left.
func (a *answer) advance(p []byte) ([]byte, error) {
	for {
		switch a.state {
		case inHeader:
			i := bytes.Index(p, []byte("\r\n\r\n"))
			if i < 0 {
				return p, nil
			}
			if err := a.header(p[:i+2]); err != nil {
				return nil, err
			}
			p = p[i+4:]
		case inLength, inChunk:
			k := min(a.remain, int64(len(p)))
			a.body += k
			a.remain -= k
			p = p[k:]
			if a.remain > 0 {
				return p, nil
			}
			if a.state == inLength {
				a.state = answered
			} else {
				a.state = inChunkEnd
			}
		case inChunkEnd:
			if len(p) < 2 {
				return p, nil
			}
			if p[0] != '\r' || p[1] != '\n' {
				return nil, errAnswer
			}
			p = p[2:]
			a.state = inChunkSize
		case inChunkSize, inTrailer:
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				if len(p) > 4<<10 {
					return nil, errAnswer
				}
				return p, nil
			}
			line := bytes.TrimSuffix(p[:i], []byte("\r"))
			p = p[i+1:]
			if a.state == inTrailer {
				if len(line) == 0 {
					a.state = answered
				}
				continue
			}
			if j := bytes.IndexByte(line, ';'); j >= 0 {
				line = line[:j] // chunk extensions
			}
			n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
			if err != nil || n < 0 {
				return nil, errAnswer
			}
			if n == 0 {
				a.state = inTrailer
			} else {
				a.remain, a.state = n, inChunk
			}
		case inUntilEOF:
			a.body += int64(len(p))
			return p[:0], nil
		default: // answered
			return p, nil
		}
	}
}

// header reads a header block (the status line and the header lines, each
// ending in CRLF) and decides how the body is framed, as RFC 9112 section
// 6.3 does for an answer.
func (a *answer) header(block []byte) error {
	line, block, _ := bytes.Cut(block, []byte("\r\n"))
	proto, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(rest) < 3 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) {
		return errAnswer
	}
	status, err := strconv.Atoi(string(rest[:3]))
	if err != nil || status < 100 {
		return errAnswer
	}
	a.status = status
	a.close = string(proto) == "HTTP/1.0"
	length, chunked := int64(-1), false
	for len(block) > 0 {
		line, block, _ = bytes.Cut(block, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return errAnswer
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "Content-Length"):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 || length >= 0 && n != length {
				return errAnswer
			}
			length = n
		case asciiEqualFold(name, "Transfer-Encoding"):
			chunked = hasToken(value, "chunked")
		case asciiEqualFold(name, "Connection"):
			if hasToken(value, "close") {
				a.close = true
			} else if hasToken(value, "keep-alive") {
				a.close = false
			}
		}
	}
	switch {
	case status < 200: // an interim answer: the real one follows
		if status == 101 {
			return errAnswer // a switch of protocols is not HTTP any more
		}
		a.state = inHeader
	case a.head || status == 204 || status == 304:
		a.state = answered
	case chunked:
		a.state = inChunkSize
	case length >= 0:
		a.remain, a.state = length, inLength
		if length == 0 {
			a.state = answered
		}
	default:
		a.state, a.close = inUntilEOF, true
	}
	return nil
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c, d := b[i], s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// hasToken reports whether the comma-separated list v holds token.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte(","))
		if asciiEqualFold(bytes.TrimSpace(t), token) {
			return true
		}
	}
	return false
}
