// Package gcfloor keeps the garbage collector's heap goal at or above a
// floor, growing with the live heap above it as GOGC does.
//
// Go's collector sets its next goal in proportion to the heap it found
// live. A server's live heap is a few MiB while every request allocates
// its answer, so even at GOGC=400 it collected about twenty times a second
// under load, and each cycle's marking, assists and fresh spans cost the
// requests of that moment. The runtime has a ceiling (GOMEMLIMIT) but no
// floor; Keep makes one by setting GOGC again after every collection.
package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Percent is the GOGC value that puts the next goal at floor for a live
// heap of live bytes, or percent when that already reaches it (or when
// nothing has been measured yet, live 0, or percent is negative: the
// collector off, which no floor turns on).
func Percent(live, floor uint64, percent int) int {
	if percent < 0 || live == 0 || live+live*uint64(percent)/100 >= floor {
		return percent
	}
	return int((floor - live) * 100 / live)
}

// Keep sets GOGC to Percent of the live heap now and after every
// collection, until stop, which puts back the GOGC it found. The
// collector is the process's, so there is one floor at a time: Keep stops
// the one an earlier call kept (a process that serves more than once, as
// tests do, does not pile up keepers). It does not touch the memory
// limit, which bounds the heap above whatever the goal.
func Keep(floor uint64, percent int) (stop func()) {
	kept.Lock()
	defer kept.Unlock()
	if kept.k != nil {
		kept.k.stop()
	}
	k := &keeper{floor: floor, percent: percent, sample: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	k.before = debug.SetGCPercent(percent)
	k.tune()
	kept.k = k
	return k.stop
}

// kept is the keeper in effect, if any.
var kept struct {
	sync.Mutex
	k *keeper
}

func (k *keeper) stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.stopped {
		k.stopped = true
		debug.SetGCPercent(k.before)
	}
}

type keeper struct {
	floor   uint64
	percent int
	before  int

	mu      sync.Mutex // a tune and stop, one at a time
	stopped bool
	sample  []metrics.Sample
}

// sentinel is the object whose collection marks a cycle's end. It holds a
// pointer so that it is not one of the tiny allocations that share a
// block, whose cleanups may never run.
type sentinel struct{ _ *int }

// tune sets GOGC for the live heap the last collection found, and arms
// itself for the next: a cleanup on a new unreachable object runs after
// the cycle that frees it. Cleanups run one at a time, on the runtime's
// cleanup goroutine.
func (k *keeper) tune() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopped {
		return
	}
	metrics.Read(k.sample)
	live := uint64(0)
	if k.sample[0].Value.Kind() == metrics.KindUint64 {
		live = k.sample[0].Value.Uint64()
	}
	debug.SetGCPercent(Percent(live, k.floor, k.percent))
	runtime.AddCleanup(&sentinel{}, func(k *keeper) { k.tune() }, k)
}
