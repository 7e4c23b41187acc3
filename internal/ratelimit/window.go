package ratelimit

import (
	"slices"
	"time"
)

// Sliding-log counting: a key's budget is limit requests in any Window,
// exactly. Each allowed request's time is kept until it is a Window old; a
// request is allowed while fewer than limit are kept. Estimating the last
// Window from two fixed windows' counts (as this package once did) lets a
// burst that straddles a window boundary through a little over the limit
// (1,002 of 1,100 against 1,000 a minute); a log never does, at the cost
// of one int64 per request in the last Window for each active key (8 KB
// for a key at the default 1,000 a minute). Times are whole microseconds
// since the Unix epoch, in memory and in Redis alike, so the two decide
// alike to the microsecond.

// windowMicros is Window in microseconds.
const windowMicros = int64(Window / time.Microsecond)

// entries is a key's log: the times of its allowed requests of the last
// Window, oldest first.
type entries []int64

// expire drops the times that are a Window old at now: a request made at
// t counts against requests made before t+Window.
func (e entries) expire(now int64) entries {
	i, _ := slices.BinarySearch(e, now-windowMicros+1)
	return e[i:]
}

// decide records the request at now if it fits and says what the headers
// need. The log is kept in order even when callers' clocks race (a
// request read the time before another but took the lock after it): its
// time is taken as the newest's.
func (e entries) decide(limit int, now int64) (entries, Decision) {
	e = e.expire(now)
	if n := len(e); n > 0 && now < e[n-1] {
		now = e[n-1]
	}
	allowed := len(e) < limit
	if allowed {
		e = append(e, now)
	}
	oldest, newest := now, now
	if len(e) > 0 {
		oldest, newest = e[0], e[len(e)-1]
	}
	return e, decision(limit, allowed, len(e), oldest, newest, now)
}

// decision is the Decision for a key whose log, after this request (if
// allowed), holds n times from oldest to newest.
func decision(limit int, allowed bool, n int, oldest, newest, now int64) Decision {
	d := Decision{Allowed: allowed, Limit: limit, Remaining: max(0, limit-n), Reset: time.UnixMicro(newest + windowMicros)}
	if !allowed {
		// One more fits once the oldest time leaves the window.
		d.RetryAfter = max(time.Microsecond, time.Duration(oldest+windowMicros-now)*time.Microsecond)
	}
	return d
}
