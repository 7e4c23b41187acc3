package ratelimit

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/touchpoint/touchpoint/internal/logtest"
	"github.com/touchpoint/touchpoint/internal/redistest"
)

// workers is how many goroutines requests sends from.
const workers = 8

// requests sends n requests for key from workers goroutines at once and
// returns how many were allowed.
func requests(t *testing.T, l Limiter, key string, limit, n int) (allowed int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range n / workers {
				d, err := l.Allow(context.Background(), key, limit, time.Now())
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
				}
				mu.Lock()
				if d.Allowed {
					allowed++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return allowed
}

// commands counts what a Redis client sends: each command or pipeline,
// whether or not it is answered.
type commands struct{ n atomic.Int64 }

func (c *commands) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commands) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *commands) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

// TestSharedPausedRedis: with Redis paused (SIGSTOP), requests stop
// waiting on it (after the one that finds it gone, only a probe each
// RetryAfter does) and the limit is still enforced, on this replica alone;
// the outage is logged once, and its end once, when Redis resumes. What
// is counted is the commands sent to the paused Redis, each of which
// costs its caller up to the timeout, not their latency: the machine's
// load moves the one, never the other.
func TestSharedPausedRedis(t *testing.T) {
	srv := redistest.Start(t, "")
	addr := srv.Addr
	var logs logtest.Buffer
	const retryAfter = 200 * time.Millisecond
	s, err := NewShared(addr, SharedOptions{RetryAfter: retryAfter, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var sent commands
	s.client.AddHook(&sent)
	key := randomKey()
	if allowed := requests(t, s, key, 20, 16); allowed != 16 || !s.Up() {
		t.Fatalf("Redis up: %d of 16 allowed, up %v", allowed, s.Up())
	}
	srv.Pause()
	// Over a few probe periods: every request decided without waiting on
	// Redis but for those already asking it when it stopped (one a
	// worker) and one probe a period, and the key held to its limit by
	// this replica.
	before, start := sent.n.Load(), time.Now()
	allowed := 0
	for range 4 {
		allowed += requests(t, s, key, 20, 200)
		time.Sleep(100 * time.Millisecond)
	}
	periods := int64(time.Since(start)/retryAfter) + 1
	if n, most := sent.n.Load()-before, workers+periods; n > most {
		t.Errorf("%d commands sent to the paused Redis for 800 requests over %d retry periods, want at most %d", n, periods, most)
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
	if allowed := requests(t, s, randomKey(), 5, 40); allowed != 5 {
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
