package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestMemoryAccounting(t *testing.T) {
	m := NewMemory()
	ctx := context.Background()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		at := start.Add(time.Duration(i) * time.Second)
		d, _ := m.Allow(ctx, "k", 10, at)
		if !d.Allowed || d.Limit != 10 || d.Remaining != 9-i || !d.Reset.Equal(at.Add(time.Minute)) {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	// Full: one more fits when the first request (at +0s) is a minute old.
	d, _ := m.Allow(ctx, "k", 10, start.Add(30*time.Second))
	if d.Allowed || d.Remaining != 0 || d.RetryAfter != 30*time.Second || !d.Reset.Equal(start.Add(69*time.Second)) {
		t.Fatalf("11th request: %+v", d)
	}
	// At +60s the first has left the window (a request counts against
	// those made less than a minute after it), and exactly one fits.
	for i, want := range []bool{true, false} {
		if d, _ := m.Allow(ctx, "k", 10, start.Add(time.Minute)); d.Allowed != want {
			t.Fatalf("at +60s, request %d: %+v", i, d)
		}
	}
	// A clock that reads behind the newest request is taken as the newest.
	if d, _ := m.Allow(ctx, "k", 10, start.Add(30*time.Second)); d.Allowed || d.RetryAfter != time.Second {
		t.Fatalf("behind the log: %+v", d)
	}
	// A minute idle restores the whole budget.
	if d, _ := m.Allow(ctx, "k", 10, start.Add(3*time.Minute)); !d.Allowed || d.Remaining != 9 {
		t.Fatalf("after 3 min: %+v", d)
	}
	if d, _ := m.Allow(ctx, "k", 0, start); !d.Allowed {
		t.Fatalf("limit 0: %+v", d)
	}
}

// burst sends n requests for one key at even spacing from start over
// span and counts those allowed.
func burst(t *testing.T, l Limiter, key string, limit, n int, start time.Time, span time.Duration) int {
	t.Helper()
	allowed := 0
	for i := range n {
		d, err := l.Allow(context.Background(), key, limit, start.Add(span*time.Duration(i)/time.Duration(n)))
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			allowed++
		}
	}
	return allowed
}

// boundaryCases are bursts that straddle a minute boundary, where
// counting by fixed windows goes wrong: the limit holds exactly.
var boundaryCases = []struct {
	name         string
	offset, span time.Duration // from the boundary
	n, want      int
}{
	{"1,100 in 2 s across the boundary", -time.Second, 2 * time.Second, 1100, 1000},
	{"1,100 in 10 s, most before the boundary", -9 * time.Second, 10 * time.Second, 1100, 1000},
	{"2,000 in 59 s across the boundary", -30 * time.Second, 59 * time.Second, 2000, 1000},
	{"1,100 in 2 s at the start of a window", 0, 2 * time.Second, 1100, 1000},
}

// TestBurstAcrossBoundary: however a burst lines up with the clock's
// minutes, a key at 1,000 a minute gets exactly 1,000 of it.
func TestBurstAcrossBoundary(t *testing.T) {
	boundary := time.Date(2025, 1, 1, 0, 1, 0, 0, time.UTC)
	for _, tt := range boundaryCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := burst(t, NewMemory(), "k", 1000, tt.n, boundary.Add(tt.offset), tt.span); got != tt.want {
				t.Errorf("%d allowed, want %d", got, tt.want)
			}
		})
	}
}

// TestKeysAreIndependent: 1,100 requests in a minute on one key yield at
// least 100 rejections while a second key's requests all succeed.
func TestKeysAreIndependent(t *testing.T) {
	m := NewMemory()
	ctx := context.Background()
	start := time.Now()
	var mu sync.Mutex
	rejected := map[string]int{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 275 {
				key := "noisy"
				if i%5 == 0 {
					key = "quiet"
				}
				now := start.Add(time.Duration(w*275+i) * 50 * time.Millisecond / 2200)
				d, err := m.Allow(ctx, key, 1000, now)
				if err != nil {
					t.Error(err)
				}
				if !d.Allowed {
					mu.Lock()
					rejected[key]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	// 8×275 = 2200 requests: 440 quiet, 1760 noisy.
	if rejected["quiet"] != 0 || rejected["noisy"] < 100 {
		t.Errorf("rejections = %v", rejected)
	}
}

func TestIdleKeysForgotten(t *testing.T) {
	m := NewMemory()
	ctx := context.Background()
	now := time.Now()
	for i := range 5000 {
		m.Allow(ctx, fmt.Sprint("k", i), 100, now)
	}
	later := now.Add(3 * time.Minute)
	for range 2 * sweepEvery * len(m.shards) {
		m.Allow(ctx, "active", 1_000_000, later)
	}
	n := 0
	for i := range m.shards {
		n += len(m.shards[i].keys)
	}
	if n > 1 {
		t.Errorf("%d keys kept, want only the active one", n)
	}
}

func BenchmarkAllow(b *testing.B) {
	m := NewMemory()
	ctx := context.Background()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("key-", i)
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Allow(ctx, keys[i%len(keys)], 1000, time.Now())
			i++
		}
	})
}
