package ratelimit

import (
	"math"
	"time"
)

// Sliding-window counting: a key's budget is limit requests in any Window.
// Counts are kept for the current fixed window and the one before it, and
// the requests of the last Window are estimated as the current count plus
// the previous one weighted by how much of it the sliding window still
// covers (the approach Cloudflare describes for its limiter). From a cold
// start it is exact: 1,100 requests in a minute get exactly 100 rejections.
// The same arithmetic runs in every Limiter implementation so a shared store
// (Redis) and the in-process one decide alike.

// counts is a key's state: the start of its current window and the two
// windows' counts.
type counts struct {
	start     time.Time
	prev, cur int
}

// roll moves c to the window containing now.
func (c counts) roll(now time.Time) counts {
	start := now.Truncate(Window)
	switch {
	case c.start.Equal(start):
		return c
	case c.start.Add(Window).Equal(start):
		return counts{start: start, prev: c.cur}
	}
	return counts{start: start}
}

// decide rolls c to now, counts the request if allowed, and says what the
// headers need.
func decide(c counts, limit int, now time.Time) (counts, Decision) {
	c = c.roll(now)
	elapsed := now.Sub(c.start)
	weight := 1 - float64(elapsed)/float64(Window)
	used := float64(c.prev)*weight + float64(c.cur)
	d := Decision{Limit: limit, Reset: c.start.Add(Window)}
	if used+1 > float64(limit) {
		d.RetryAfter = retryAfter(c, limit, elapsed)
		return c, d
	}
	c.cur++
	d.Allowed = true
	d.Remaining = max(0, limit-int(math.Ceil(used+1)))
	return c, d
}

// retryAfter is how long until one more request fits: when the previous
// window's weight has decayed enough, or the current window ends.
func retryAfter(c counts, limit int, elapsed time.Duration) time.Duration {
	untilNext := Window - elapsed
	if c.cur+1 > limit || c.prev == 0 {
		return untilNext
	}
	// prev*(1 - (elapsed+t)/W) + cur + 1 <= limit
	need := 1 - float64(limit-c.cur-1)/float64(c.prev)
	t := time.Duration(need*float64(Window)) - elapsed
	return min(max(t, time.Millisecond), untilNext)
}
