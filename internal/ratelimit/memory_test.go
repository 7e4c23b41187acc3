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
		d, _ := m.Allow(ctx, "k", 10, start.Add(time.Duration(i)*time.Second))
		if !d.Allowed || d.Limit != 10 || d.Remaining != 9-i || !d.Reset.Equal(start.Add(time.Minute)) {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	d, _ := m.Allow(ctx, "k", 10, start.Add(30*time.Second))
	if d.Allowed || d.Remaining != 0 || d.RetryAfter != 30*time.Second {
		t.Fatalf("11th request: %+v", d)
	}
	// 15 s into the next window the previous one still weighs 3/4: 7.5 of
	// 10 used, so two more fit.
	next := start.Add(75 * time.Second)
	for i := range 3 {
		d, _ := m.Allow(ctx, "k", 10, next)
		if d.Allowed != (i < 2) {
			t.Fatalf("next window request %d: %+v", i, d)
		}
		if i == 2 && d.RetryAfter != 3*time.Second {
			t.Fatalf("retry after = %v, want 3s (when the old window weighs 0.7)", d.RetryAfter)
		}
	}
	// Two idle windows restore the whole budget.
	if d, _ := m.Allow(ctx, "k", 10, start.Add(3*time.Minute)); !d.Allowed || d.Remaining != 9 {
		t.Fatalf("after 3 min: %+v", d)
	}
	if d, _ := m.Allow(ctx, "k", 0, start); !d.Allowed {
		t.Fatalf("limit 0: %+v", d)
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
