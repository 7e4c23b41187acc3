//go:build linux

package loadgen

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"slices"
	"syscall"
	"time"
)

// loopConn is one worker's connection in the event loop.
type loopConn struct {
	worker, n int
	fd        int // -1 when closed
	host      string
	used      bool         // fd has carried an answer
	retried   bool         // the request in flight has been sent again once
	busy      bool         // a request is in flight
	sending   bool         // waiting for room to write the rest of out
	watched   uint64       // the run (loop.gen) whose epoll instance fd is registered in
	out       bytes.Buffer // the request's bytes
	sent      int
	t0        time.Time
	ans       answer
}

// loop drives all of a Client's connections from one goroutine, locked to
// its thread, over one epoll instance, as wrk drives its connections: a
// connection's answer is read as soon as epoll_wait returns it, and its
// next request written at once. With a goroutine a connection (workers),
// each answer woke its goroutine through Go's scheduler and net/http's
// reader parsed it. Against the same server, alternated with it on the
// same one-customer questions (5 s each, 32 connections, 2 CPUs), the loop
// cost 30-38 µs of the generator's CPU a request against 40-48, and the
// server sustained 0.96-1.24 times the rate with p99 0.72-0.99 of the
// workers' (REST v1.1, REST v2 and GraphQL); wrk, for scale, 0.96-1.18
// times the loop's rate.
type loop struct {
	conns []*loopConn
	addrs map[string]syscall.Sockaddr
	buf   []byte // the read buffer, shared: a read is parsed before the next
	gen   uint64 // the current run's number
}

func newRunner(concurrency int) runner { return newLoop(concurrency) }

func newLoop(concurrency int) *loop {
	l := &loop{conns: make([]*loopConn, concurrency), addrs: map[string]syscall.Sockaddr{}, buf: make([]byte, 64<<10)}
	for i := range l.conns {
		l.conns[i] = &loopConn{worker: i, fd: -1}
	}
	return l
}

func (l *loop) close() {
	for _, c := range l.conns {
		c.closeFD()
	}
}

func (c *loopConn) closeFD() {
	if c.fd >= 0 {
		syscall.Close(c.fd)
		c.fd = -1
	}
}

// run is Client.Run on the loop.
func (l *loop) run(ctx context.Context, warmup, duration time.Duration, next func(worker, n int) *http.Request) Result {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+duration)
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return Result{Elapsed: duration} // no requests: a rate of 0
	}
	defer syscall.Close(ep) // and with it every registration of this run
	l.gen++

	var (
		samples  []sample
		inFlight int
		free     = slices.Clone(l.conns) // connections with no request in flight
	)
	// finish ends c's request: a sample when it began and ended inside
	// the measured time.
	finish := func(c *loopConn, failed bool) {
		now := time.Now()
		s := sample{lat: now.Sub(c.t0), err: failed || !success(c.ans.status)}
		if !failed {
			s.bytes = c.ans.body
		}
		if !c.t0.Before(measureFrom) && now.Before(end) {
			samples = append(samples, s)
		}
		c.busy = false
		inFlight--
		free = append(free, c)
	}
	// fail ends c's request in error, or sends it once more on a new
	// connection when its answer never began on a connection which had
	// carried answers (as one the server has just closed for idleness
	// would), as net/http's Transport does.
	fail := func(c *loopConn) {
		used := c.used
		c.closeFD()
		if used && !c.ans.started && !c.retried && ctx.Err() == nil {
			c.retried, c.sent = true, 0
			if l.connect(ep, c) == nil && l.send(ep, c) {
				return
			}
			c.closeFD()
		}
		finish(c, true)
	}
	// begin sends c's next request, while the run lasts.
	begin := func(c *loopConn) {
		c.t0 = time.Now()
		if ctx.Err() != nil || !c.t0.Before(end) {
			return
		}
		req := next(c.worker, c.n)
		c.n++
		c.busy, c.retried = true, false
		inFlight++
		if err := l.prepare(c, req); err != nil {
			finish(c, true)
			return
		}
		if c.fd < 0 {
			if err := l.connect(ep, c); err != nil {
				c.closeFD()
				finish(c, true)
				return
			}
		} else if c.watched != l.gen {
			if err := l.watch(ep, c); err != nil {
				fail(c)
				return
			}
		}
		if !l.send(ep, c) {
			fail(c)
		}
	}
	// abandon ends the requests in flight in error, closing their
	// connections, to be dialled again by the next run.
	abandon := func() {
		for _, c := range l.conns {
			if c.busy {
				c.closeFD()
				finish(c, true)
			}
		}
	}

	events := make([]syscall.EpollEvent, len(l.conns))
	for {
		for len(free) > 0 {
			c := free[len(free)-1]
			free = free[:len(free)-1]
			begin(c)
		}
		if inFlight == 0 {
			break
		}
		if ctx.Err() != nil {
			abandon()
			break
		}
		// The timeout is how soon the end of ctx is noticed.
		n, err := syscall.EpollWait(ep, events, 100)
		if err != nil && !errors.Is(err, syscall.EINTR) {
			abandon()
			break
		}
		for _, ev := range events[:max(n, 0)] {
			c := l.conns[ev.Fd]
			switch {
			case !c.busy:
				// An idle connection readable: the server closed it.
				c.closeFD()
			case c.sending:
				if !l.send(ep, c) {
					fail(c)
				}
			default:
				done, ok := l.receive(c)
				switch {
				case !ok:
					fail(c)
				case done:
					c.used = true
					if c.ans.close {
						c.closeFD()
					}
					finish(c, false)
				}
			}
		}
	}
	return summary(duration, samples)
}

// prepare puts req's bytes in c.out, ready to send.
func (l *loop) prepare(c *loopConn, req *http.Request) error {
	host, err := hostOf(req)
	if err != nil {
		return err
	}
	if c.fd >= 0 && c.host != host {
		c.closeFD()
	}
	c.host = host
	c.out.Reset()
	if err := req.Write(&c.out); err != nil {
		return err
	}
	c.sent = 0
	c.ans.reset(req.Method == http.MethodHead)
	return nil
}

// connect opens a non-blocking connection for c to c.host; its first event
// (writable) says the connection is made.
func (l *loop) connect(ep int, c *loopConn) error {
	sa, ok := l.addrs[c.host]
	if !ok {
		a, err := net.ResolveTCPAddr("tcp", c.host)
		if err != nil {
			return err
		}
		if ip4 := a.IP.To4(); ip4 != nil {
			s := &syscall.SockaddrInet4{Port: a.Port}
			copy(s.Addr[:], ip4)
			sa = s
		} else {
			s := &syscall.SockaddrInet6{Port: a.Port}
			copy(s.Addr[:], a.IP.To16())
			sa = s
		}
		l.addrs[c.host] = sa
	}
	family := syscall.AF_INET
	if _, v6 := sa.(*syscall.SockaddrInet6); v6 {
		family = syscall.AF_INET6
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	if err := syscall.Connect(fd, sa); err != nil && !errors.Is(err, syscall.EINPROGRESS) {
		syscall.Close(fd)
		return err
	}
	c.fd, c.used, c.watched, c.sending = fd, false, 0, false
	return l.watch(ep, c)
}

// watch registers c's connection with ep for reading, and for writing
// while c.sending; a connection registered already is modified.
func (l *loop) watch(ep int, c *loopConn) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.worker)}
	if c.sending {
		ev.Events |= syscall.EPOLLOUT
	}
	op := syscall.EPOLL_CTL_MOD
	if c.watched != l.gen {
		op = syscall.EPOLL_CTL_ADD
	}
	if err := syscall.EpollCtl(ep, op, c.fd, &ev); err != nil {
		return err
	}
	c.watched = l.gen
	return nil
}

// send writes what is left of c's request, and asks for a writable event
// when the socket has no room (or, on a new connection, is not yet
// connected); it reports false when the connection failed.
func (l *loop) send(ep int, c *loopConn) bool {
	for out := c.out.Bytes(); c.sent < len(out); {
		n, err := syscall.Write(c.fd, out[c.sent:])
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.ENOTCONN) {
			if !c.sending {
				c.sending = true
				if l.watch(ep, c) != nil {
					return false
				}
			}
			return true
		}
		if err != nil || n <= 0 {
			return false
		}
		c.sent += n
	}
	if c.sending {
		c.sending = false
		return l.watch(ep, c) == nil
	}
	return true
}

// receive reads what has arrived for c: done when the answer is whole, and
// ok false when the connection failed or the answer is malformed.
func (l *loop) receive(c *loopConn) (done, ok bool) {
	n, err := syscall.Read(c.fd, l.buf)
	switch {
	case errors.Is(err, syscall.EAGAIN):
		return false, true
	case err != nil:
		return false, false
	case n == 0:
		// The end completes a body that runs to it (and closes); any
		// other answer is cut short.
		done := c.ans.eof()
		return done, done
	}
	done, err = c.ans.feed(l.buf[:n])
	return done, err == nil
}
