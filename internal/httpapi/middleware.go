package httpapi

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/ratelimit"
	"github.com/touchpoint/touchpoint/internal/reqlog"
)

// RequestIDHeader is the vendor's request id header, set on every response.
const RequestIDHeader = "X-Cap-Requestid"

type server struct {
	cfg Config
	d   Deps
	// turns bounds the API requests served at once to cfg.MaxInFlight,
	// when set.
	turns *turns
}

var tracer = otel.Tracer("github.com/touchpoint/touchpoint/internal/httpapi")

// reqInfo is filled in as a request goes down the chain and read by the
// access log on the way back.
type reqInfo struct {
	line   *reqlog.Line
	id     string
	route  string
	org    string
	key    string
	status int
	bytes  int64
	// release lets go of what the store kept for the request's reads
	// (Deps.Scope); called once, when the answer starts to be written or
	// the handler returns, whichever is first.
	release func()
	// conn is the request's connection when its writes can be held
	// (Listener), else nil.
	conn *heldConn
}

// written is called as the answer starts: the reads are done by then.
func (i *reqInfo) written() {
	if r := i.release; r != nil {
		i.release = nil
		r()
	}
}

type infoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(infoKey{}).(*reqInfo)
	return i
}

// RequestID returns the request id of ctx, or "": the one reqlog holds
// for every transport's logs.
func RequestID(ctx context.Context) string { return reqlog.RequestID(ctx) }

var validID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// newID makes a request id: 24 hex digits, from math/rand/v2's ChaCha8
// (unpredictable, as an id a caller can quote should be, and seeded by the
// runtime), for a tenth of crypto/rand's system call.
func newID() string {
	var raw [12]byte
	binary.BigEndian.PutUint64(raw[:8], rand.Uint64())
	binary.BigEndian.PutUint32(raw[8:], rand.Uint32())
	return hex.EncodeToString(raw[:])
}

// statusWriter records the status and size for the access log.
type statusWriter struct {
	http.ResponseWriter
	info *reqInfo
	// decided: whether to hold the answer's writes was settled at its
	// first write; holding: the connection holds them (see conn.go).
	decided, holding bool
}

// WriteHeader also gives every 503 a Retry-After, whichever route's error
// writer wrote it.
func (w *statusWriter) WriteHeader(code int) {
	w.info.written()
	if w.info.status == 0 {
		w.info.status = code
	}
	if code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfterUnavailable)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.info.written()
	if w.info.status == 0 {
		w.info.status = http.StatusOK
	}
	w.holdIfWhole()
	n, err := w.ResponseWriter.Write(b)
	w.info.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// open wraps a route that needs no credentials: request id, access log and
// recovery. Applied twice (route and mux), the outer one does the work and
// the inner one only names the route.
func (s *server) open(route string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if info := infoFrom(r.Context()); info != nil {
			if route != "" {
				info.route = route
			}
			next.ServeHTTP(w, r)
			return
		}
		info := &reqInfo{id: r.Header.Get(RequestIDHeader), route: route, conn: connFrom(r.Context())}
		if !validID.MatchString(info.id) {
			info.id = newID()
		}
		w.Header().Set(RequestIDHeader, info.id)
		ctx, line := reqlog.NewContext(r.Context(), info.id)
		info.line = line
		ctx = context.WithValue(ctx, infoKey{}, info)
		// A span per request, joining the caller's trace (W3C traceparent);
		// the no-op tracer unless tracing is configured (internal/tracing).
		ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, "HTTP "+r.Method, trace.WithSpanKind(trace.SpanKindServer))
		sw := &statusWriter{ResponseWriter: w, info: info}
		start := time.Now()
		// Runs last: after a panic's error answer and the access log, when
		// net/http would have flushed the answer (see conn.go).
		defer sw.sendHeld()
		defer func() {
			defer func() {
				if !span.IsRecording() {
					span.End()
					return // the no-op tracer: no attributes to build
				}
				if info.route != "" {
					span.SetName(r.Method + " " + info.route)
				}
				span.SetAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path),
					attribute.String("http.route", info.route), attribute.Int("http.response.status_code", info.status),
					attribute.String("touchpoint.request_id", info.id), attribute.String("touchpoint.org", info.org))
				if info.status >= 500 {
					span.SetStatus(codes.Error, http.StatusText(info.status))
				}
				span.End()
			}()
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logInternal(ctx, "panic", "route", info.route, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if info.status == 0 {
					writeRouteError(sw, r.WithContext(ctx), info.route, s.errorWriter(info.route),
						interaction.Errorf(interaction.KindInternal, "panic"))
				}
			}
			// The server cancels a request's context when its client
			// hangs up: whatever failed after that failed for want of a
			// client, and is no server error.
			// (Its answer cannot have reached it either: the last of a
			// response is only flushed once the handler returns.)
			if r.Context().Err() != nil {
				info.status = StatusClientClosedRequest
			}
			s.log(ctx, r, info, time.Since(start))
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
		if info.conn != nil {
			info.conn.answered = answers.Add(1)
		}
	})
}

func (s *server) log(ctx context.Context, r *http.Request, info *reqInfo, d time.Duration) {
	if info.status == 0 {
		info.status = http.StatusOK
	}
	if s.d.Observer != nil && info.route != "" {
		s.d.Observer.ObserveRequest(info.route, info.status, d)
	}
	level := slog.LevelInfo
	switch {
	case info.status == http.StatusServiceUnavailable:
		level = slog.LevelWarn // a dependency's outage, already logged as such
	case info.status >= 500:
		level = slog.LevelError
	}
	h := s.d.Logger.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	// The record is built by hand, without the caller's program counter
	// (Logger.LogAttrs takes one from the stack on every call, for a source
	// the access log never shows): this runs once a request.
	rec := slog.NewRecord(time.Now(), level, "request", 0)
	// Never the Authorization header, never a query string's secrets: the
	// path and the route are enough to find a request.
	rec.AddAttrs(
		slog.String("request_id", info.id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("route", info.route), slog.String("org", info.org), slog.String("key", info.key),
		slog.Int("status", info.status), slog.Int64("bytes", info.bytes), slog.Duration("duration", d),
	)
	rec.AddAttrs(info.line.Attrs()...)
	h.Handle(ctx, rec)
}

// logInternal logs what failed inside the edge itself (a panic, the
// credential store, the rate limiter), with the request id: the one place
// the edge logs an internal error. What a transport's handler fails at,
// the transport logs.
func (s *server) logInternal(ctx context.Context, msg string, args ...any) {
	s.d.Logger.ErrorContext(ctx, msg, append([]any{"request_id", RequestID(ctx)}, args...)...)
}

// errorWriter is the route's transport's error writer.
func (s *server) errorWriter(route string) ErrorWriter {
	switch route {
	case "v1.1":
		return s.d.V11Error
	case "v2":
		return s.d.V2Error
	case "graphql":
		return s.d.GraphQLError
	}
	return writePlainError
}

// writeRouteError writes err with the route's writer, falling back to a
// plain JSON error when the route has none.
func writeRouteError(w http.ResponseWriter, r *http.Request, route string, ew ErrorWriter, err error) {
	if ew == nil {
		ew = writePlainError
	}
	ew(w, r, err)
}

// api wraps an authenticated API route.
func (s *server) api(route string, ew ErrorWriter, h http.Handler) http.Handler {
	if ew == nil {
		ew = writePlainError
	}
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.turns == nil {
			// A request yields once before its work, to the back of the
			// scheduler's global queue: under load Go's scheduler runs a P's
			// newest runnable goroutine first and polls the network only when
			// a P runs dry, so a handler that never blocks (SQLite is in the
			// process) let later requests overtake earlier ones. Measured
			// alternately at 32 connections on 2 CPUs, one customer on
			// SQLite: p99 14 ms without, 7.4-8.2 with, at the same rate.
			// With turns, the wait for one yields (turns.go).
			runtime.Gosched()
		}
		ctx := r.Context()
		info := infoFrom(ctx)
		if s.cfg.RequestTimeout > 0 {
			// Everything below, the store's statements included, runs
			// under the request's deadline; KindOf makes a deadline that
			// ran out a 503.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.cfg.RequestTimeout)
			defer cancel()
		}
		if r.ContentLength > s.cfg.MaxBodyBytes {
			ew(w, r, tooLarge(s.cfg.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		if s.d.Scope != nil {
			ctx, info.release = s.d.Scope(ctx)
			defer info.written()
		}
		p, err := s.d.Auth.Authenticate(ctx, r)
		if err != nil {
			switch interaction.KindOf(err) {
			case interaction.KindUnauthorized:
				w.Header().Set("WWW-Authenticate", `Basic realm="touchpoint", charset="UTF-8"`)
			case interaction.KindInternal:
				s.logInternal(ctx, "authentication failed", "err", err)
			}
			ew(w, r, err)
			return
		}
		info.org, info.key = p.Org.Name, p.KeyID
		limit := p.Org.RateLimit
		if limit <= 0 {
			limit = s.cfg.DefaultRateLimit
		}
		dec, err := s.d.Limiter.Allow(ctx, p.KeyID, limit, s.d.Now())
		if err != nil {
			// A limiter outage must not take the API down: log and serve.
			s.logInternal(ctx, "rate limiter failed; allowing", "err", err)
		} else {
			setRateHeaders(w.Header(), dec)
			if !dec.Allowed {
				secs := int((dec.RetryAfter + time.Second - 1) / time.Second)
				w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
				if s.d.Observer != nil {
					s.d.Observer.ObserveRateLimited(route)
				}
				ew(w, r, interaction.Errorf(interaction.KindRateLimited, "rate limit of %d requests a minute exceeded; retry in %d s", dec.Limit, max(1, secs)))
				return
			}
		}
		if s.turns != nil {
			// Keyed by when the connection was last answered (see turns.go);
			// a connection the edge does not know is keyed by now.
			var key uint64
			if info.conn != nil {
				key = info.conn.answered
			} else {
				key = answers.Load()
			}
			if err := s.turns.wait(ctx, key); err != nil {
				// The deadline passed while queued (503), or the client gave
				// up (nothing to write; logged as 499).
				if r.Context().Err() == nil {
					ew(w, r, interaction.Errorf(interaction.KindUnavailable, "the service is busy; retry later"))
				}
				return
			}
			defer s.turns.done()
		}
		h.ServeHTTP(w, r.WithContext(interaction.NewContext(ctx, p)))
	})
	return s.open(route, inner)
}

func setRateHeaders(h http.Header, d ratelimit.Decision) {
	if d.Limit <= 0 {
		return
	}
	// Assigned under their canonical names: Header.Set would canonicalise
	// each (it allocates a new string for a name not already canonical)
	// on every request.
	h[rateLimitHeader] = []string{strconv.Itoa(d.Limit)}
	h[rateRemainingHeader] = []string{strconv.Itoa(d.Remaining)}
	h[rateResetHeader] = []string{strconv.FormatInt(d.Reset.Unix(), 10)}
}

// The rate limit's headers (X-RateLimit-Limit and so on), as net/http
// sends them.
var (
	rateLimitHeader     = http.CanonicalHeaderKey("X-RateLimit-Limit")
	rateRemainingHeader = http.CanonicalHeaderKey("X-RateLimit-Remaining")
	rateResetHeader     = http.CanonicalHeaderKey("X-RateLimit-Reset")
)

func tooLarge(limit int64) error {
	return interaction.Errorf(interaction.KindTooLarge, "request body larger than %d bytes", limit)
}

// writePlainError is for routes without an error format of their own.
func writePlainError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(interaction.KindOf(err))
	writeJSON(w, status, map[string]any{"error": map[string]any{"status": status, "message": interaction.MessageOf(err)}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.d.Ready != nil {
		if err := s.d.Ready(ctx); err != nil {
			s.d.Logger.WarnContext(ctx, "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready\n")
			return
		}
	}
	io.WriteString(w, "ready\n")
	if s.d.Degraded != nil {
		if d := s.d.Degraded(); d != "" {
			io.WriteString(w, "degraded: "+d+"\n")
		}
	}
}
