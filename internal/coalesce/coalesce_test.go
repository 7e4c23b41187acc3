package coalesce

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is a Func that records its batches and, while gate is set,
// holds each batch until gate is closed.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	started chan struct{} // receives once per batch, when it starts
	gate    chan struct{}
	err     error
}

func newRecorder() *recorder {
	return &recorder{started: make(chan struct{}, 100), gate: make(chan struct{})}
}

func (r *recorder) run(ctx context.Context, key string, ins []int) ([]int, error) {
	r.mu.Lock()
	r.batches = append(r.batches, slices.Sorted(slices.Values(ins)))
	r.mu.Unlock()
	r.started <- struct{}{}
	<-r.gate
	if r.err != nil {
		return nil, r.err
	}
	outs := make([]int, len(ins))
	for i, in := range ins {
		outs[i] = in * 10
	}
	return outs, nil
}

func (r *recorder) seen() [][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

// waiting polls until n calls of key wait.
func waiting[K comparable, In, Out any](t *testing.T, g *Group[K, In, Out], key K, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		g.mu.Lock()
		got := 0
		if s := g.shapes[key]; s != nil {
			got = len(s.pending)
		}
		g.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls wait, want %d", got, n)
		}
	}
}

type result struct {
	in, out int
	err     error
}

// start calls g.Do(ctx, key, in) in a goroutine of its own.
func start(ctx context.Context, g *Group[string, int, int], key string, in int, into chan<- result) {
	go func() {
		out, err := g.Do(ctx, key, in)
		into <- result{in, out, err}
	}()
}

func TestAloneRunsAtOnce(t *testing.T) {
	r := newRecorder()
	close(r.gate)
	g := New(r.run, 1, 10)
	for i := range 3 {
		if out, err := g.Do(context.Background(), "k", i); err != nil || out != i*10 {
			t.Fatalf("Do(%d) = %d, %v", i, out, err)
		}
	}
	if got, want := r.seen(), [][]int{{0}, {1}, {2}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("batches %v, want %v", got, want)
	}
	if len(g.shapes) != 0 {
		t.Fatalf("shapes left behind: %v", g.shapes)
	}
}

func TestWaitersShareTheNextBatch(t *testing.T) {
	r := newRecorder()
	g := New(r.run, 1, 2)
	ctx := context.Background()
	results := make(chan result, 10)
	start(ctx, g, "k", 1, results)
	<-r.started
	for _, in := range []int{2, 3, 4} {
		start(ctx, g, "k", in, results)
	}
	waiting(t, g, "k", 3)
	close(r.gate)
	for range 4 {
		res := <-results
		if res.err != nil || res.out != res.in*10 {
			t.Errorf("call %d: %d, %v", res.in, res.out, res.err)
		}
	}
	// 1 alone, then the three waiting ones in batches of at most two.
	got := r.seen()
	if len(got) != 3 || !slices.Equal(got[0], []int{1}) || len(got[1]) != 2 || len(got[2]) != 1 {
		t.Fatalf("batches %v, want [1] then two of 2, 3, 4 and the third", got)
	}
	if all := slices.Sorted(slices.Values(slices.Concat(got[1], got[2]))); !slices.Equal(all, []int{2, 3, 4}) {
		t.Fatalf("batches %v", got)
	}
}

func TestKeysDoNotWaitForEachOther(t *testing.T) {
	r := newRecorder()
	g := New(r.run, 1, 10)
	results := make(chan result, 2)
	start(context.Background(), g, "a", 1, results)
	start(context.Background(), g, "b", 2, results)
	<-r.started
	<-r.started // both run although each key allows one under way
	close(r.gate)
	<-results
	<-results
}

func TestInFlightBound(t *testing.T) {
	r := newRecorder()
	g := New(r.run, 2, 10)
	results := make(chan result, 3)
	for in := range 2 {
		start(context.Background(), g, "k", in, results)
	}
	<-r.started
	<-r.started
	start(context.Background(), g, "k", 2, results)
	waiting(t, g, "k", 1)
	close(r.gate)
	for range 3 {
		if res := <-results; res.err != nil {
			t.Fatal(res.err)
		}
	}
}

func TestBatchFailures(t *testing.T) {
	boom := errors.New("boom")
	var pe *PanicError
	for name, c := range map[string]struct {
		run  Func[string, int, int]
		want func(error) bool
	}{
		"error": {func(context.Context, string, []int) ([]int, error) { return nil, boom }, func(err error) bool { return errors.Is(err, boom) }},
		"panic": {func(context.Context, string, []int) ([]int, error) { panic("oops") }, func(err error) bool { return errors.As(err, &pe) }},
		"count": {func(context.Context, string, []int) ([]int, error) { return []int{1, 2}, nil }, func(err error) bool { return errors.Is(err, errCount) }},
	} {
		t.Run(name, func(t *testing.T) {
			g := New(c.run, 1, 10)
			if _, err := g.Do(context.Background(), "k", 1); !c.want(err) {
				t.Fatalf("Do: %v", err)
			}
			if len(g.shapes) != 0 {
				t.Fatal("a failed batch left its key under way")
			}
		})
	}
}

func TestFailedBatchFailsEveryWaiter(t *testing.T) {
	r := newRecorder()
	r.err = errors.New("down")
	g := New(r.run, 1, 10)
	results := make(chan result, 3)
	start(context.Background(), g, "k", 1, results)
	<-r.started
	start(context.Background(), g, "k", 2, results)
	start(context.Background(), g, "k", 3, results)
	waiting(t, g, "k", 2)
	close(r.gate)
	for range 3 {
		if res := <-results; !errors.Is(res.err, r.err) {
			t.Fatalf("call %d: %v, want the batch's error", res.in, res.err)
		}
	}
}

func TestCancelledWaiterLeaves(t *testing.T) {
	r := newRecorder()
	g := New(r.run, 1, 10)
	results := make(chan result, 3)
	start(context.Background(), g, "k", 1, results)
	<-r.started
	ctx, cancel := context.WithCancel(context.Background())
	start(ctx, g, "k", 2, results)
	start(context.Background(), g, "k", 3, results)
	waiting(t, g, "k", 2)
	cancel()
	if res := <-results; res.in != 2 || !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled call: %+v", res)
	}
	waiting(t, g, "k", 1)
	close(r.gate)
	for range 2 {
		if res := <-results; res.err != nil || res.out != res.in*10 {
			t.Fatalf("call %d: %d, %v", res.in, res.out, res.err)
		}
	}
	if got := r.seen(); len(got) != 2 || !slices.Equal(got[1], []int{3}) {
		t.Fatalf("batches %v, want [1] [3]", got)
	}
}

// TestNextBatchOutlivesItsCaller: the batch of waiting calls runs under
// the first waiter's values, and that waiter's cancellation neither ends
// the batch the others wait on nor keeps the waiter waiting.
func TestNextBatchOutlivesItsCaller(t *testing.T) {
	type ctxKey struct{}
	first, second := make(chan struct{}), make(chan struct{})
	started := make(chan struct{}, 2)
	var seenValue any
	var seenErr error
	g := New(func(ctx context.Context, k string, ins []int) ([]int, error) {
		started <- struct{}{}
		if slices.Contains(ins, 0) {
			<-first
			return ins, nil
		}
		<-second
		seenValue, seenErr = ctx.Value(ctxKey{}), ctx.Err()
		return ins, nil
	}, 1, 10)
	results := make(chan result, 3)
	start(context.Background(), g, "k", 0, results)
	<-started
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "first"))
	start(ctx, g, "k", 1, results)
	waiting(t, g, "k", 1)
	start(context.Background(), g, "k", 2, results)
	waiting(t, g, "k", 2)
	close(first)
	<-results // 0
	<-started // the batch of 1 and 2 is under way
	cancel()
	if res := <-results; res.in != 1 || !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled call: %+v", res)
	}
	close(second)
	if res := <-results; res.in != 2 || res.err != nil || res.out != 2 {
		t.Fatalf("the other call: %+v", res)
	}
	if seenValue != "first" || seenErr != nil {
		t.Fatalf("batch ran with value %v and error %v", seenValue, seenErr)
	}
}
