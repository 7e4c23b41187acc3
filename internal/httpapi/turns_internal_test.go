package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// queued waits until n requests wait for a turn.
func (t *turns) queued(tb testing.TB, n int) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		t.mu.Lock()
		got := t.waiting.Len()
		t.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d requests waiting, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestTurnsGoToTheConnectionAnsweredLongestAgo: whatever order requests
// reach the wait in, freed turns go by key, smallest first; a request
// that gives up is skipped, and its turn is not lost.
func TestTurnsGoToTheConnectionAnsweredLongestAgo(t *testing.T) {
	tr := newTurns(1)
	if err := tr.wait(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	order := make(chan uint64, 8)
	start := func(ctx context.Context, key uint64) {
		go func() {
			if err := tr.wait(ctx, key); err != nil {
				order <- 1000 + key // gave up
				return
			}
			order <- key
			tr.done()
		}()
	}
	// Reaching the wait newest first, as a batch from the poller does.
	keys := []uint64{40, 10, 30, 20}
	for i, k := range keys {
		start(context.Background(), k)
		tr.queued(t, i+1)
	}
	gaveUp, cancel := context.WithCancel(context.Background())
	start(gaveUp, 5) // would go first, but gives up while waiting
	tr.queued(t, len(keys)+1)
	cancel()
	if got := <-order; got != 1005 {
		t.Fatalf("first to finish: %d, want the request that gave up (1005)", got)
	}
	tr.done()
	var got []uint64
	for range keys {
		got = append(got, <-order)
	}
	if want := []uint64{10, 20, 30, 40}; !slices.Equal(got, want) {
		t.Errorf("turns went in key order %v, want %v", got, want)
	}
	// Every turn came back: one is free again.
	if err := tr.wait(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.free != 0 || tr.waiting.Len() != 0 {
		t.Errorf("%d free, %d waiting after all were served; want 0, 0", tr.free, tr.waiting.Len())
	}
}

// TestFreeTurnGoesToTheOldestOfABatch: requests that queue while the
// first of them yields (a batch from the poller, read newest first) are
// all considered for a free turn, which goes to the smallest key, not to
// the request that reached the wait first.
func TestFreeTurnGoesToTheOldestOfABatch(t *testing.T) {
	tr := newTurns(1)
	keys := []uint64{40, 10, 30} // the order they reach the wait
	var yielded atomic.Int32
	// yieldedBy waits, up to a second, until n requests have yielded.
	yieldedBy := func(n int) {
		for deadline := time.Now().Add(time.Second); int(yielded.Load()) < n && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	tr.yield = func() {
		// Each yields until the whole batch has queued, as the scheduler's
		// global queue has it.
		yielded.Add(1)
		yieldedBy(len(keys))
	}
	order := make(chan uint64, len(keys))
	for i, k := range keys {
		go func() {
			if err := tr.wait(context.Background(), k); err != nil {
				order <- 1000 + k
				return
			}
			order <- k
			tr.done()
		}()
		yieldedBy(i + 1) // reaching the wait in this order
	}
	var got []uint64
	for range keys {
		got = append(got, <-order)
	}
	if want := []uint64{10, 30, 40}; !slices.Equal(got, want) {
		t.Errorf("turns went in order %v, want %v (smallest key first, though 40 came first)", got, want)
	}
}

// TestConnectionKeyAdvancesWithEachAnswer: a connection's key is the
// number of its last answer, so an answered connection queues behind every
// connection answered before it.
func TestConnectionKeyAdvancesWithEachAnswer(t *testing.T) {
	a, b := &heldConn{answered: answers.Load()}, &heldConn{answered: answers.Load()}
	s := &server{d: Deps{Logger: slog.New(slog.DiscardHandler)}}
	h := s.open("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	for _, c := range []*heldConn{a, b, a} {
		before := c.answered
		req := httptest.NewRequest("GET", "/", nil)
		h.ServeHTTP(httptest.NewRecorder(), req.WithContext(context.WithValue(req.Context(), connKey{}, c)))
		if c.answered <= before {
			t.Fatalf("key %d after an answer, was %d: want it to grow", c.answered, before)
		}
	}
	if !(b.answered < a.answered) {
		t.Errorf("keys a=%d b=%d: a was answered last, so b should go first", a.answered, b.answered)
	}
}
