package httpapi

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
)

// Listener wraps ln so that the edge knows each request's connection, and
// sets srv.ConnContext to tell it; serve srv on the listener it returns.
// The edge uses the connection for two things: to send an answer it
// writes whole in one write system call (below), and to give a request
// waiting for a turn its place by when its connection was last answered
// (turns.go).
//
// net/http writes a connection through a 4 KiB buffer: an answer larger
// than what is left of it after the headers goes out in two writes or
// more, and the client wakes for each. Every API handler writes its whole
// answer, with a Content-Length, before it returns; from such an answer's
// first byte the edge holds the connection's writes, and when the handler
// returns (where net/http would have flushed) it sends them as one. In a
// wrk profile at 32 connections, GraphQL over random customers (answers of
// 2-55 KB, half over 3.7 KB), the second write was 18 µs of a 266 µs
// request, and the client's second wake-up is on top.
//
// What is not held (TLS connections, answers without a Content-Length, or
// small enough to leave in one write) is written as net/http writes it.
func Listener(srv *http.Server, ln net.Listener) net.Listener {
	next := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if next != nil {
			ctx = next(ctx, c)
		}
		if hc, ok := c.(*heldConn); ok {
			ctx = context.WithValue(ctx, connKey{}, hc)
		}
		return ctx
	}
	return wholeListener{ln}
}

type wholeListener struct{ net.Listener }

func (l wholeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &heldConn{Conn: c, answered: answers.Load()}, nil
}

type connKey struct{}

func connFrom(ctx context.Context) *heldConn {
	c, _ := ctx.Value(connKey{}).(*heldConn)
	return c
}

// heldConn is a connection whose writes can be held and sent together.
// Only the connection's own goroutine writes it (HTTP/1.1 serves one
// request at a time), and it holds only while its handler writes.
type heldConn struct {
	net.Conn
	holding bool
	held    []byte
	// answered is the number of the connection's last answer (answers),
	// or the count when it was accepted: its place in the queue for a
	// turn (turns.go).
	answered uint64
}

// maxKeptHeld bounds the buffer a connection keeps between answers: a
// rare large answer's is let go.
const maxKeptHeld = 64 << 10

func (c *heldConn) Write(p []byte) (int, error) {
	if c.holding {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// hold starts holding the connection's writes.
func (c *heldConn) hold() { c.holding = true }

// send stops holding and writes what was held, in one write.
func (c *heldConn) send() error {
	c.holding = false
	if len(c.held) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.held)
	if cap(c.held) > maxKeptHeld {
		c.held = nil
	} else {
		c.held = c.held[:0]
	}
	return err
}

// CloseWrite lets net/http half-close the connection before it closes
// it, as it does a *net.TCPConn, so that a client is not reset before it
// reads an early answer (413 to a body too large).
func (c *heldConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps the connection's own ReadFrom (sendfile, splice) for
// net/http's copies of files and other readers. While writes are held it
// copies through Write instead, behind what is held: bytes written past
// the hold would overtake the answer's start.
func (c *heldConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok && !c.holding {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c}, r)
}

// holdAbove is the Content-Length above which an answer's writes are held:
// a smaller answer and its headers fit net/http's 4 KiB buffer and leave
// in one write anyway.
const holdAbove = 3 << 10

// holdIfWhole starts holding the connection's writes as the body of an
// answer of known length starts: the edge sends them in one write when
// the handler is done (sendHeld). It decides once an answer, at its first
// write: the headers are sent by then.
func (w *statusWriter) holdIfWhole() {
	if w.decided {
		return
	}
	w.decided = true
	c := w.info.conn
	if c == nil || c.holding {
		return
	}
	if n, err := strconv.Atoi(w.Header().Get("Content-Length")); err == nil && n > holdAbove {
		c.hold()
		w.holding = true
	}
}

// sendHeld flushes what net/http still buffers of the answer into the
// held connection and sends it all. It runs when the handler returns,
// whichever way: a connection left holding would swallow every later
// answer. A failed write is net/http's to find on the connection next.
func (w *statusWriter) sendHeld() {
	if !w.holding {
		return
	}
	w.holding = false
	http.NewResponseController(w.ResponseWriter).Flush()
	w.info.conn.send()
}
