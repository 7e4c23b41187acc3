package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is the in-process Limiter: GCRA (the generic cell rate algorithm,
// a leaky bucket kept as one timestamp per key). A key may spend its whole
// minute's budget at once, then earns one request back every Window/limit.
// State is sharded so keys rarely share a lock, and a key idle long enough
// to have earned its full budget back is forgotten, which bounds memory by
// the keys active in the last minute.
//
// A limit of zero or less means "no limit": every request is allowed.
type Memory struct {
	seed   maphash.Seed
	ops    atomic.Uint64
	shards [64]shard
}

type shard struct {
	mu  sync.Mutex
	tat map[string]time.Time // theoretical arrival time of the next request
}

// NewMemory returns an empty in-process limiter.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].tat = make(map[string]time.Time)
	}
	return m
}

// sweepEvery is how many decisions pass between sweeps of one shard's idle
// keys; the shards are swept in turn.
const sweepEvery = 256

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string, limit int, now time.Time) (Decision, error) {
	if limit <= 0 {
		return Decision{Allowed: true, Reset: now}, nil
	}
	interval := Window / time.Duration(limit)
	burst := Window // limit × interval: the whole budget at once
	if n := m.ops.Add(1); n%sweepEvery == 0 {
		m.sweep(&m.shards[(n/sweepEvery)%uint64(len(m.shards))], now)
	}
	s := &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	tat, ok := s.tat[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if next.Sub(now) > burst {
		// Over budget: one request frees up when next-burst is reached.
		return Decision{
			Allowed: false, Limit: limit, Remaining: 0, Reset: tat,
			RetryAfter: next.Add(-burst).Sub(now),
		}, nil
	}
	s.tat[key] = next
	return Decision{
		Allowed: true, Limit: limit,
		Remaining: int((burst - next.Sub(now)) / interval),
		Reset:     next,
	}, nil
}

// sweep forgets the shard's keys that have earned their whole budget back:
// a missing key and such a key get the same decision.
func (m *Memory) sweep(s *shard, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tat {
		if !t.After(now) {
			delete(s.tat, k)
		}
	}
}
