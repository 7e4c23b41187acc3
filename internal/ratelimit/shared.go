package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"github.com/sony/gobreaker/v2"
)

// Shared is the Limiter of replicas that share their budgets through
// Redis, and keep enforcing them when Redis cannot be reached. Every call
// to Redis is bounded by the client's timeouts; a call that fails (Redis
// down, paused, or slower than the timeout) opens a circuit breaker, and
// while it is open no request waits on Redis at all: each replica enforces
// every key's limit on its own (Memory), so a key can get at most its
// limit from each replica, never an unlimited number. After RetryAfter one
// request probes Redis again; when it answers, the budgets are shared
// again. The outage is logged once when it starts and once when it ends.
type Shared struct {
	redis   *Redis
	local   *Memory
	client  *redis.Client
	breaker *gobreaker.CircuitBreaker[Decision]
	logger  *slog.Logger
	up      atomic.Bool
	since   atomic.Int64 // when the outage began, Unix nanoseconds
	lastErr atomic.Pointer[error]
}

// SharedOptions configure NewShared.
type SharedOptions struct {
	// Timeout bounds each wait on Redis: dialling, writing a command,
	// reading its answer, and waiting for a pooled connection. 0 means
	// DefaultRedisTimeout.
	Timeout time.Duration
	// RetryAfter is how long an outage leaves Redis alone before one
	// request probes it; 0 means one second.
	RetryAfter time.Duration
	// Logger receives the outage's start and end; nil logs nowhere.
	Logger *slog.Logger
}

// DefaultRedisTimeout bounds a wait on Redis. A limiter call answers in
// well under a millisecond on a healthy network; a request that would wait
// longer is better decided here, and the bound keeps a stalled Redis from
// adding more than this to the requests that notice it.
const DefaultRedisTimeout = 50 * time.Millisecond

// NewShared returns a limiter over the Redis at addr (host:port or a
// redis:// URL). It does not connect: the first request, or Probe, does,
// so a server starts without Redis and joins it when it comes.
func NewShared(addr string, o SharedOptions) (*Shared, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultRedisTimeout
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	opts := &redis.Options{Addr: addr}
	if strings.Contains(addr, "://") {
		var err error
		if opts, err = redis.ParseURL(addr); err != nil {
			return nil, err
		}
	}
	// One try per command and per dial, each bounded: the breaker, not
	// the client, decides when to try again.
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = o.Timeout, o.Timeout, o.Timeout, o.Timeout
	opts.ContextTimeoutEnabled = true
	opts.MaxRetries, opts.DialerRetries = -1, 1
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	// go-redis reports each failed dial on its own (process-wide) logger;
	// during an outage that is a line a probe. The outage is this type's
	// to report, once: the client's lines go to debug.
	redis.SetLogger(debugLogger{o.Logger})
	client := redis.NewClient(opts)
	s := &Shared{redis: NewRedis(client), local: NewMemory(), client: client, logger: o.Logger}
	s.up.Store(true)
	s.breaker = gobreaker.NewCircuitBreaker[Decision](gobreaker.Settings{
		Name:    "redis",
		Timeout: o.RetryAfter,
		// One failure is enough: each one cost a request up to Timeout,
		// and deciding locally is safe.
		ReadyToTrip: func(gobreaker.Counts) bool { return true },
		IsSuccessful: func(err error) bool {
			if err != nil {
				s.lastErr.Store(&err)
			}
			return err == nil
		},
		// A caller that left is not Redis's failure.
		IsExcluded:    func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: s.changed,
	})
	return s, nil
}

// Allow implements Limiter; it never fails.
func (s *Shared) Allow(ctx context.Context, key string, limit int, now time.Time) (Decision, error) {
	d, err := s.breaker.Execute(func() (Decision, error) { return s.redis.Allow(ctx, key, limit, now) })
	if err == nil {
		return d, nil
	}
	return s.local.Allow(ctx, key, limit, now)
}

// Probe asks Redis once, through the breaker, so that a server starting
// while Redis is down says so at once rather than on its first request.
func (s *Shared) Probe(ctx context.Context) {
	s.breaker.Execute(func() (Decision, error) { return Decision{}, s.client.Ping(ctx).Err() })
}

// Up reports whether the budgets are shared: Redis answered last time.
func (s *Shared) Up() bool { return s.up.Load() }

// Degraded describes the outage for /readyz, or is "" while Redis answers.
func (s *Shared) Degraded() string {
	if s.Up() {
		return ""
	}
	since := time.Unix(0, s.since.Load()).UTC().Format(time.RFC3339)
	return "rate limits: enforced by this replica alone; redis unreachable since " + since
}

// Close closes the Redis client.
func (s *Shared) Close() error { return s.client.Close() }

// changed logs the outage's start (the breaker opening from closed) and
// its end (closing); a failed probe, half-open back to open, is the same
// outage going on.
func (s *Shared) changed(_ string, from, to gobreaker.State) {
	switch {
	case from == gobreaker.StateClosed && to == gobreaker.StateOpen:
		s.since.Store(time.Now().UnixNano())
		s.up.Store(false)
		var cause string
		if err := s.lastErr.Load(); err != nil {
			cause = (*err).Error()
		}
		s.logger.Warn("redis unreachable: each replica enforces the rate limits on its own until it answers", "err", cause)
	case to == gobreaker.StateClosed:
		s.up.Store(true)
		s.logger.Info("redis reachable again: rate limits shared", "outage", time.Since(time.Unix(0, s.since.Load())).Round(time.Millisecond))
	}
}

// debugLogger is go-redis's logger writing to slog at debug level.
type debugLogger struct{ l *slog.Logger }

func (d debugLogger) Printf(ctx context.Context, format string, v ...any) {
	if d.l.Enabled(ctx, slog.LevelDebug) {
		d.l.DebugContext(ctx, fmt.Sprintf(format, v...))
	}
}
