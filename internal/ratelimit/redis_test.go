package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisLimiters returns n limiters sharing one Redis, as n replicas would;
// the test is skipped unless TOUCHPOINT_TEST_REDIS names a server.
func redisLimiters(t *testing.T, n int) []*Redis {
	addr := os.Getenv("TOUCHPOINT_TEST_REDIS")
	if addr == "" {
		t.Skip("TOUCHPOINT_TEST_REDIS is not set (scripts/test starts a redis-server); skipping the Redis limiter test")
	}
	var out []*Redis
	for range n {
		c := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { c.Close() })
		if err := c.Ping(context.Background()).Err(); err != nil {
			t.Fatalf("redis at %s: %v", addr, err)
		}
		out = append(out, NewRedis(c))
	}
	return out
}

func randomKey() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "test-" + hex.EncodeToString(b)
}

// TestRedisMatchesMemory replays the same requests on both limiters: the
// decisions and headers must be the same.
func TestRedisMatchesMemory(t *testing.T) {
	r := redisLimiters(t, 1)[0]
	m := NewMemory()
	ctx := context.Background()
	key := randomKey()
	start := time.Now().Truncate(time.Second)
	for i, at := range []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 30 * time.Second, 59 * time.Second,
		60 * time.Second, 61 * time.Second, 61 * time.Second, 75 * time.Second, 70 * time.Second, 200 * time.Second} {
		now := start.Add(at)
		dm, _ := m.Allow(ctx, key, 3, now)
		dr, err := r.Allow(ctx, key, 3, now)
		if err != nil {
			t.Fatal(err)
		}
		if dm != dr {
			t.Errorf("request %d at +%v: redis %+v, memory %+v", i, at, dr, dm)
		}
	}
}

// TestRedisBurstAcrossBoundary: the limit holds exactly in Redis too.
func TestRedisBurstAcrossBoundary(t *testing.T) {
	r := redisLimiters(t, 1)[0]
	boundary := time.Now().Truncate(time.Minute).Add(-time.Hour)
	for _, tt := range boundaryCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := burst(t, r, randomKey(), 1000, tt.n, boundary.Add(tt.offset), tt.span); got != tt.want {
				t.Errorf("%d allowed, want %d", got, tt.want)
			}
		})
	}
}

// TestRedisSharedAcrossReplicas: two replicas hammering one key admit
// exactly its limit between them.
func TestRedisSharedAcrossReplicas(t *testing.T) {
	ls := redisLimiters(t, 2)
	key := randomKey()
	now := time.Now()
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for range 20 {
				d, err := ls[w%2].Allow(context.Background(), key, 50, now)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 50 {
		t.Errorf("%d of 160 requests allowed, want exactly 50", allowed)
	}
}
