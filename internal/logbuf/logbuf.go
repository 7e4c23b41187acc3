// Package logbuf batches a log's writes: the access log writes a line per
// request, and a system call a line was a tenth of the server's CPU on its
// cheapest answers (a 304 from the cache). Lines are written whole and in
// order, at most a short delay after they are logged, or as soon as a
// batch reaches maxBatch; Close writes what is left.
package logbuf

import (
	"io"
	"sync"
	"time"
)

// DefaultDelay is how long a line may wait for others: short beside what
// a person or a log shipper notices, long enough that under load one
// write carries tens of lines.
const DefaultDelay = 5 * time.Millisecond

// maxBatch bounds what waits: a batch this large is written at once.
const maxBatch = 64 << 10

// Writer is an io.Writer that batches writes to another. It is safe for
// concurrent use; each Write's bytes stay together.
type Writer struct {
	w     io.Writer
	delay time.Duration
	timer *time.Timer

	mu      sync.Mutex
	buf     []byte
	pending bool // the timer is set for buf
	closed  bool

	flushing sync.Mutex // one write to w at a time, in order
	spare    []byte     // the last batch's buffer, for the next
}

// New returns a Writer that writes to w at most delay after a Write.
func New(w io.Writer, delay time.Duration) *Writer {
	b := &Writer{w: w, delay: delay}
	b.timer = time.AfterFunc(time.Hour, func() { b.Flush() })
	b.timer.Stop()
	return b
}

// Write keeps a copy of p for the next batch; after Close it writes p at
// once. It never fails: a failure of the underlying writer is Flush's.
func (b *Writer) Write(p []byte) (int, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= maxBatch
	if !full && !b.pending {
		b.pending = true
		b.timer.Reset(b.delay)
	}
	b.mu.Unlock()
	if full {
		b.Flush()
	}
	return len(p), nil
}

// Flush writes what is waiting.
func (b *Writer) Flush() error {
	b.flushing.Lock()
	defer b.flushing.Unlock()
	b.mu.Lock()
	out := b.buf
	b.buf, b.pending = b.spare[:0], false
	b.mu.Unlock()
	if len(out) == 0 {
		b.spare = out
		return nil
	}
	_, err := b.w.Write(out)
	b.spare = out[:0]
	return err
}

// Close writes what is waiting; later writes go straight through.
func (b *Writer) Close() error {
	b.timer.Stop()
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return b.Flush()
}
