package gcfloor_test

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/gcfloor"
)

const mib = 1 << 20

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		name          string
		live, floor   uint64
		percent, want int
	}{
		{"nothing measured yet", 0, 64 * mib, 400, 400},
		{"small live heap: the floor", 4 * mib, 64 * mib, 400, 1500},
		{"tiny live heap: the floor", 64 * 1024, 64 * mib, 400, 102300},
		{"the proportional goal reaches the floor", 16 * mib, 80 * mib, 400, 400},
		{"just short of it", 16*mib - 1, 80 * mib, 400, 400},
		{"live heap above the floor", 100 * mib, 64 * mib, 400, 400},
		{"GOGC=100", 8 * mib, 64 * mib, 100, 700},
		{"GOGC=off stays off", 4 * mib, 64 * mib, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := gcfloor.Percent(tc.live, tc.floor, tc.percent)
			if got != tc.want {
				t.Fatalf("Percent(%d, %d, %d) = %d, want %d", tc.live, tc.floor, tc.percent, got, tc.want)
			}
			if goal := tc.live + tc.live*uint64(got)/100; tc.live > 0 && got >= 0 && goal+tc.live/100 < tc.floor {
				t.Fatalf("goal %d under the floor %d", goal, tc.floor)
			}
		})
	}
}

// TestKeep: with a floor far above this test's live heap, the heap goal
// reaches the floor after a collection; when the live heap grows, the
// goal is set again from it (near the floor, not the tiny heap's percent
// times the larger one); and it falls back under the floor once stopped,
// which it would not if the keeper of an earlier Keep (with a higher
// floor) were still running.
func TestKeep(t *testing.T) {
	const floor = 512 * mib
	goal := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	// waitGoal collects until the goal is in [lo, hi): the cleanup that
	// sets GOGC runs on its own goroutine after a cycle ends.
	waitGoal := func(lo, hi uint64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			runtime.GC()
			// The goal is read once the cycle's cleanups have had time to
			// run: read at once, it is still the one set before the cycle.
			time.Sleep(20 * time.Millisecond)
			if g := goal(); g >= lo && g < hi {
				return
			}
		}
		t.Fatalf("heap goal %d MiB; want it in [%d, %d) MiB", goal()/mib, lo/mib, hi/mib)
	}
	gcfloor.Keep(4*floor, 100) // replaced by the next
	stop := gcfloor.Keep(floor, 100)
	waitGoal(floor, 1<<62)
	live := make([]byte, 64*mib)
	waitGoal(floor, 2*floor)
	runtime.KeepAlive(live)
	stop()
	stop() // twice is harmless
	waitGoal(0, floor)
}
