package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Limiter whose counts live in Redis, so several gateway
// replicas enforce one budget per key. It makes the same sliding-window
// decision as Memory (window.go): a Lua script reads the previous and
// current window counts and increments the current one only if the request
// fits, atomically on the server, so replicas racing on one key can never
// both take its last request.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis returns a limiter over client; keys are prefixed "touchpoint:rl:".
func NewRedis(client redis.UniversalClient) *Redis {
	return &Redis{client: client, prefix: "touchpoint:rl:"}
}

// allowScript: KEYS[1] the current window's counter, KEYS[2] the previous
// one's; ARGV[1] the limit, ARGV[2] the previous window's weight, ARGV[3]
// the counter's lifetime in seconds. Returns {allowed, prev, cur} with cur
// as it was before this request.
var allowScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local used = prev * tonumber(ARGV[2]) + cur
if used + 1 > tonumber(ARGV[1]) then
  return {0, prev, cur}
end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, prev, cur}
`)

// Allow implements Limiter.
func (l *Redis) Allow(ctx context.Context, key string, limit int, now time.Time) (Decision, error) {
	if limit <= 0 {
		return Decision{Allowed: true, Reset: now}, nil
	}
	start := now.Truncate(Window)
	weight := 1 - float64(now.Sub(start))/float64(Window)
	curKey := l.prefix + key + ":" + strconv.FormatInt(start.Unix(), 10)
	prevKey := l.prefix + key + ":" + strconv.FormatInt(start.Add(-Window).Unix(), 10)
	res, err := allowScript.Run(ctx, l.client, []string{curKey, prevKey}, limit, weight, int(2*Window/time.Second)).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("ratelimit: redis: unexpected reply %v", res)
	}
	// The same arithmetic as Memory, on the counts Redis saw.
	_, d := decide(counts{start: start, prev: int(res[1]), cur: int(res[2])}, limit, now)
	if d.Allowed != (res[0] == 1) {
		// Rounding can only differ at the exact boundary; Redis decided.
		d.Allowed = res[0] == 1
		if !d.Allowed {
			d.Remaining = 0
		}
	}
	return d, nil
}
