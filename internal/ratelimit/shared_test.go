package ratelimit

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/logtest"
	"github.com/touchpoint/touchpoint/internal/redistest"
)

// requests sends n requests for key from 8 goroutines at once and returns
// how many were allowed and the 99th percentile of their latency.
func requests(t *testing.T, l Limiter, key string, limit, n int) (allowed int, p99 time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var took []time.Duration
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for range n / 8 {
				start := time.Now()
				d, err := l.Allow(context.Background(), key, limit, time.Now())
				el := time.Since(start)
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
				}
				mu.Lock()
				took = append(took, el)
				if d.Allowed {
					allowed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(took)
	return allowed, took[len(took)*99/100]
}

// TestSharedPausedRedis: with Redis paused (SIGSTOP), requests keep a p99
// under 100 ms and the limit is still enforced, on this replica alone;
// the outage is logged once, and its end once, when Redis resumes.
func TestSharedPausedRedis(t *testing.T) {
	srv := redistest.Start(t, "")
	addr := srv.Addr
	var logs logtest.Buffer
	s, err := NewShared(addr, SharedOptions{RetryAfter: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := randomKey()
	if allowed, _ := requests(t, s, key, 20, 16); allowed != 16 || !s.Up() {
		t.Fatalf("Redis up: %d of 16 allowed, up %v", allowed, s.Up())
	}
	srv.Pause()
	// Over a few probe periods: every request decided, quickly, and the
	// key held to its limit by this replica.
	allowed := 0
	var worst time.Duration
	for range 4 {
		n, p99 := requests(t, s, key, 20, 200)
		allowed += n
		worst = max(worst, p99)
		time.Sleep(100 * time.Millisecond)
	}
	if worst >= 100*time.Millisecond {
		t.Errorf("p99 latency %v with Redis paused, want under 100ms", worst)
	}
	if allowed != 20 {
		t.Errorf("%d requests allowed with Redis paused, want the limit, 20", allowed)
	}
	if s.Up() || !strings.Contains(s.Degraded(), "redis unreachable") {
		t.Errorf("up %v, degraded %q during the outage", s.Up(), s.Degraded())
	}
	srv.Resume()
	for deadline := time.Now().Add(5 * time.Second); !s.Up(); {
		if time.Now().After(deadline) {
			t.Fatal("Redis resumed but the limiter did not return to it")
		}
		requests(t, s, randomKey(), 20, 8)
		time.Sleep(50 * time.Millisecond)
	}
	if s.Degraded() != "" {
		t.Errorf("degraded %q after the outage", s.Degraded())
	}
	if n := strings.Count(logs.String(), "redis unreachable"); n != 1 {
		t.Errorf("outage logged %d times, want once:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "redis reachable again"); n != 1 {
		t.Errorf("recovery logged %d times, want once:\n%s", n, logs.String())
	}
}

// TestSharedStartsWithoutRedis: a limiter whose Redis is not there yet
// enforces limits locally and joins Redis when it starts.
func TestSharedStartsWithoutRedis(t *testing.T) {
	addr := redistest.FreeAddr(t)
	s, err := NewShared(addr, SharedOptions{RetryAfter: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Probe(context.Background())
	if s.Up() {
		t.Fatal("up with nothing listening")
	}
	if allowed, _ := requests(t, s, randomKey(), 5, 40); allowed != 5 {
		t.Errorf("%d of 40 allowed without Redis, want 5", allowed)
	}
	redistest.Start(t, addr)
	for deadline := time.Now().Add(5 * time.Second); !s.Up(); {
		if time.Now().After(deadline) {
			t.Fatal("did not join Redis once it started")
		}
		s.Allow(context.Background(), randomKey(), 5, time.Now())
		time.Sleep(20 * time.Millisecond)
	}
	// Shared now: a second replica sees the first one's requests.
	other, _ := NewShared(addr, SharedOptions{})
	defer other.Close()
	key := randomKey()
	requests(t, s, key, 5, 8)
	if d, _ := other.Allow(context.Background(), key, 5, time.Now()); d.Allowed {
		t.Error("a second replica allowed a request over the shared limit")
	}
}

func TestNewSharedBadURL(t *testing.T) {
	if _, err := NewShared("redis://:bad:port/x?y=%zz", SharedOptions{}); err == nil {
		t.Error("no error for a malformed URL")
	}
}
