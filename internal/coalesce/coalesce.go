// Package coalesce merges concurrent calls of the same shape into one batch,
// without a timer: a call runs at once while fewer than a bound of its shape
// are under way, and calls that arrive while the bound is reached wait and
// go together in the next batch, as soon as one under way returns. Under no
// load a call costs what it did alone; under load the batches grow with the
// load, and a store across a network answers many requests with one
// statement (one round trip, one plan started, one transaction) instead of
// one each. It is the dataloader's batching across requests, with the wait
// decided by the work under way rather than by a clock.
package coalesce

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// Func runs one batch: the shape key and the inputs of its calls, in the
// order they arrived, and returns one output per input. An error fails
// every call of the batch.
type Func[K comparable, In, Out any] func(ctx context.Context, key K, ins []In) ([]Out, error)

// Group coalesces calls of Func by key. Its zero value is not usable; see
// New.
type Group[K comparable, In, Out any] struct {
	run         Func[K, In, Out]
	maxInFlight int
	maxBatch    int

	mu     sync.Mutex
	shapes map[K]*shape[In, Out]
}

type shape[In, Out any] struct {
	inFlight int
	pending  []*call[In, Out]
}

type call[In, Out any] struct {
	ctx  context.Context
	in   In
	out  Out
	err  error
	done chan struct{} // closed when out and err are set
}

// New returns a Group that runs at most maxInFlight batches of one key at
// once, each of at most maxBatch calls.
func New[K comparable, In, Out any](run Func[K, In, Out], maxInFlight, maxBatch int) *Group[K, In, Out] {
	return &Group[K, In, Out]{
		run:         run,
		maxInFlight: max(maxInFlight, 1),
		maxBatch:    max(maxBatch, 1),
		shapes:      make(map[K]*shape[In, Out]),
	}
}

// Do returns the output of in, run alone when the key has room and with the
// calls waiting beside it otherwise. A call that waits returns ctx's error
// when ctx ends first; a batch under way is never cancelled by one of its
// callers, since the others wait on it.
func (g *Group[K, In, Out]) Do(ctx context.Context, key K, in In) (Out, error) {
	g.mu.Lock()
	s := g.shapes[key]
	if s == nil {
		s = &shape[In, Out]{}
		g.shapes[key] = s
	}
	if s.inFlight < g.maxInFlight {
		s.inFlight++
		g.mu.Unlock()
		c := &call[In, Out]{in: in}
		g.runBatch(ctx, key, s, []*call[In, Out]{c})
		return c.out, c.err
	}
	c := &call[In, Out]{ctx: ctx, in: in, done: make(chan struct{})}
	s.pending = append(s.pending, c)
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.out, c.err
	case <-ctx.Done():
		g.mu.Lock()
		for i, p := range s.pending {
			if p == c {
				s.pending = append(s.pending[:i], s.pending[i+1:]...)
				break
			}
		}
		g.mu.Unlock()
		var zero Out
		return zero, ctx.Err()
	}
}

// runBatch runs batch, hands each call its output and then starts the next
// batch of the key's waiting calls, if any, in a goroutine of its own (the
// caller that ran this one has its answer and goes on).
func (g *Group[K, In, Out]) runBatch(ctx context.Context, key K, s *shape[In, Out], batch []*call[In, Out]) {
	ins := make([]In, len(batch))
	for i, c := range batch {
		ins[i] = c.in
	}
	outs, err := g.safeRun(ctx, key, ins)
	for i, c := range batch {
		switch {
		case err != nil:
			c.err = err
		case i < len(outs):
			c.out = outs[i]
		}
		if c.done != nil {
			close(c.done)
		}
	}

	g.mu.Lock()
	if len(s.pending) == 0 {
		s.inFlight--
		if s.inFlight == 0 {
			delete(g.shapes, key)
		}
		g.mu.Unlock()
		return
	}
	n := min(len(s.pending), g.maxBatch)
	next := make([]*call[In, Out], n)
	copy(next, s.pending)
	s.pending = append(s.pending[:0], s.pending[n:]...)
	g.mu.Unlock()
	go func() {
		// The batch runs under its first caller's values (tracing) and
		// deadline, not its cancellation: the others wait on it too.
		first := next[0].ctx
		ctx, cancel := context.WithoutCancel(first), context.CancelFunc(func() {})
		if deadline, ok := first.Deadline(); ok {
			ctx, cancel = context.WithDeadline(ctx, deadline)
		}
		defer cancel()
		g.runBatch(ctx, key, s, next)
	}()
}

// safeRun is run, with a panic of run turned into the batch's error so
// that no caller waits for ever.
func (g *Group[K, In, Out]) safeRun(ctx context.Context, key K, ins []In) (outs []Out, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	outs, err = g.run(ctx, key, ins)
	if err == nil && len(outs) != len(ins) {
		err = errCount
	}
	return outs, err
}

// PanicError is the error of every call of a batch whose Func panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("coalesce: batch panicked: %v\n%s", e.Value, e.Stack)
}

var errCount = errors.New("coalesce: batch returned a different number of outputs than inputs")
