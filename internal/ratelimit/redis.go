package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Limiter whose logs live in Redis, so several gateway replicas
// enforce one budget per key. It makes the same sliding-log decision as
// Memory (window.go): a Lua script drops a key's times a Window old,
// counts the rest and adds this request's only if it fits, atomically on
// the server, so replicas racing on one key can never both take its last
// request.
type Redis struct {
	client redis.UniversalClient
	prefix string
	// member makes each request's entry unique in its key's sorted set:
	// this limiter's random id and a sequence number.
	id  string
	seq atomic.Uint64
}

// NewRedis returns a limiter over client; keys are prefixed "touchpoint:rl:".
func NewRedis(client redis.UniversalClient) *Redis {
	b := make([]byte, 6)
	rand.Read(b)
	return &Redis{client: client, prefix: "touchpoint:rl:", id: hex.EncodeToString(b)}
}

// allowScript: KEYS[1] the key's sorted set of request times (scores, in
// microseconds); ARGV[1] now, ARGV[2] the window, ARGV[3] the limit,
// ARGV[4] this request's member. Returns {allowed, n, oldest, newest}: the
// log's size and bounds after this request. Times never go backwards in a
// log (see entries.decide).
var allowScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) > now then
  now = tonumber(newest[2])
end
local allowed = 0
if n < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  n = n + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
return {allowed, n, tonumber(oldest[2] or now), tonumber(newest[2] or now)}
`)

// Allow implements Limiter.
func (l *Redis) Allow(ctx context.Context, key string, limit int, now time.Time) (Decision, error) {
	if limit <= 0 {
		return Decision{Allowed: true, Reset: now}, nil
	}
	at := now.UnixMicro()
	member := l.id + ":" + strconv.FormatUint(l.seq.Add(1), 36)
	res, err := allowScript.Run(ctx, l.client, []string{l.prefix + key}, at, windowMicros, limit, member).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("ratelimit: redis: unexpected reply %v", res)
	}
	// The script takes a time behind the log's newest as the newest's, as
	// Memory does; the newest after the request is that time either way.
	return decision(limit, res[0] == 1, int(res[1]), res[2], res[3], max(at, res[3])), nil
}
