package httpapi

import (
	"container/heap"
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// turns bounds the API requests served at once (Config.MaxInFlight). A
// request queues for a turn (see wait for when it looks for a free one),
// and a turn goes to the waiting request whose connection was answered
// longest ago.
//
// Why not first come, first served: the order requests reach the wait is
// not the order they arrived. Go's scheduler reads sockets only when a P
// runs out of runnable goroutines, so under load requests are read in
// batches, and a batch comes back from the poller newest first. The time
// a connection's last answer left is a lower bound on when its next
// request arrived: for a client that asks again as soon as it is answered,
// it orders requests by arrival; for one that pauses, it puts a connection
// that has waited longer for its turn ahead of one served a moment ago. No
// request is overtaken by more requests than there are connections: each
// connection has one request at a time, and an answered connection goes
// behind every waiting one.
//
// Measured with wrk at 32 connections on 2 CPUs, SQLite, against first
// come first served with as many turns (2), alternated in one run: p99
// 0.93/0.92/0.94/1.07 of it for GraphQL over random customers and
// 0.98/0.96/0.91 for the one-customer question, at the same rate.
type turns struct {
	mu      sync.Mutex
	free    int
	waiting waitHeap
	yield   func() // between queueing and looking for a free turn; runtime.Gosched but in tests
}

func newTurns(n int) *turns { return &turns{free: n, yield: runtime.Gosched} }

// answers numbers the answers the process has sent: a connection's key is
// the number of its last answer, or the count when it was accepted. (One
// counter for every server in the process: keys only need an order.)
var answers atomic.Uint64

// waiter is a request waiting for a turn. state is decided under the
// turns' mutex: granted when ready is closed, abandoned when the request
// gave up first (it is then skipped).
type waiter struct {
	key   uint64
	ready chan struct{}
	state int
}

const (
	waiting = iota
	granted
	abandoned
)

// wait takes a turn for a request from a connection with key, waiting if
// none is free. It returns nil with the turn, which the caller gives back
// with done, or ctx's error without one.
//
// A request queues before it looks for a free turn, and yields in
// between: a batch from the poller has its goroutines on a P's run queue,
// and a yield goes to the back of the scheduler's global queue, which a P
// takes from only once its own queue is empty. So by the time the yielder
// runs again, the rest of its batch has been read and queued too, and a
// free turn goes to the oldest of them rather than to whichever was read
// first (the newest: see above). Before, the yield came first and the
// first request back took a free turn. Measured against that with wrk at
// 32 connections on 2 CPUs, SQLite, alternated in one run, at the same
// rate: p99 0.73-0.88 of it for the one-customer question, 0.82-0.94 for
// REST v1.1 and 0.84-0.86 for GraphQL over random customers, 0.88-0.96
// for REST v2, 0.94-0.96 for the dashboard.
func (t *turns) wait(ctx context.Context, key uint64) error {
	w := &waiter{key: key, ready: make(chan struct{})}
	t.mu.Lock()
	heap.Push(&t.waiting, w)
	t.mu.Unlock()
	t.yield()
	t.mu.Lock()
	for t.free > 0 && t.grant() {
		t.free--
	}
	t.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	t.mu.Lock()
	if w.state == granted {
		// The turn came as ctx ended: passed on unused.
		t.mu.Unlock()
		t.done()
		return ctx.Err()
	}
	w.state = abandoned
	t.mu.Unlock()
	return ctx.Err()
}

// grant gives a turn to the waiter with the smallest key, if any waits.
// t.mu is held.
func (t *turns) grant() bool {
	for t.waiting.Len() > 0 {
		w := heap.Pop(&t.waiting).(*waiter)
		if w.state == waiting {
			w.state = granted
			close(w.ready)
			return true
		}
	}
	return false
}

// done gives a turn back: to the waiter with the smallest key, or free.
func (t *turns) done() {
	t.mu.Lock()
	if !t.grant() {
		t.free++
	}
	t.mu.Unlock()
}

// waitHeap is a min-heap of waiters by key; equal keys in no set order.
type waitHeap []*waiter

func (h waitHeap) Len() int           { return len(h) }
func (h waitHeap) Less(i, j int) bool { return h[i].key < h[j].key }
func (h waitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *waitHeap) Push(x any)        { *h = append(*h, x.(*waiter)) }
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return w
}
