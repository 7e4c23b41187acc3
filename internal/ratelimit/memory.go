package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// Memory is the in-process Limiter, keeping a sliding log per key (see
// window.go). State is sharded so keys rarely share a lock, and a key idle
// for a window is forgotten, which bounds memory by the requests allowed
// in the last minute.
//
// A limit of zero or less means "no limit": every request is allowed.
type Memory struct {
	seed   maphash.Seed
	ops    atomic.Uint64
	shards [64]shard
}

type shard struct {
	mu   sync.Mutex
	keys map[string]entries
}

// NewMemory returns an empty in-process limiter.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].keys = make(map[string]entries)
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
	if n := m.ops.Add(1); n%sweepEvery == 0 {
		m.sweep(&m.shards[(n/sweepEvery)%uint64(len(m.shards))], now)
	}
	s := &m.shards[maphash.String(m.seed, key)%uint64(len(m.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	e, d := s.keys[key].decide(limit, now.UnixMicro())
	s.keys[key] = e
	return d, nil
}

// sweep forgets the shard's keys idle for a window: a missing key and such
// a key get the same decision.
func (m *Memory) sweep(s *shard, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := now.UnixMicro()
	for k, e := range s.keys {
		if len(e.expire(at)) == 0 {
			delete(s.keys, k)
		}
	}
}
